"""Charts of reports with matplotlib's Agg renderer: PNG or SVG by file suffix.

One picture per report where a picture helps: volume and trend as lines over time (stacked
shares or a heat map on request), top lists as bars, reach as curves of views by hours after
publication, spread as a timeline of clusters, the forward network as a drawing.

What makes a chart trustworthy here: every series has its own colour (a fixed qualitative
palette of twelve; beyond twelve series, small multiples, one panel per series, never a
recycled colour); trend charts mark the flagged periods and say the threshold; every title
says the date range, the filters and the data source. SVG keeps text as text
(``svg.fonttype = none``), so a reader can search and copy names.

Why Figure() and not pyplot: no global state and no display backend, so charts render on a
server without a screen and from any thread. Labels are attacker-controlled (group terms,
channel titles): they are sanitized like terminal text and '$' is escaped so matplotlib's
mathtext never parses them.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from monitor.errors import ConfigError, Problem
from monitor.escape import terminal
from monitor.reports.table import Report

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ChartKind = Literal["lines", "stacked", "heatmap"]
CHART_KINDS: tuple[ChartKind, ...] = ("lines", "stacked", "heatmap")
_SUFFIXES = {".png": "png", ".svg": "svg"}
MAX_SERIES = 12  # one panel beyond this: a thirteenth colour would repeat or be indistinguishable
MAX_PANELS = 36  # small multiples; the smallest series beyond this are summed into one "other" panel
# a qualitative palette of twelve distinguishable colours (matplotlib's tab10, then black and olive-gold)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#000000", "#b8860b")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
SPIKE_COLOUR, DROP_COLOUR = "#d62728", "#1f77b4"


class ChartPathError(ConfigError, ValueError):
    """A chart file that cannot be written: a usage error (exit 2), raised before any report work."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(Problem(f"--chart {str(path)!r}", message))


def _label(text: object) -> str:
    return terminal(str(text)).replace("$", r"\$")


def chart_format(path: Path) -> str:
    """The chart format for ``path`` ('png' or 'svg'); ConfigError (a one-line usage error) when the name,
    the folder or the permissions would make the chart fail after the report's work is done."""
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ChartPathError(path, "a chart file name ends in .png or .svg")
    if path.is_dir():
        raise ChartPathError(path, "is a folder; give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ChartPathError(path, f"no folder {str(folder)!r}")
    if (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK | os.X_OK):
        raise ChartPathError(path, "cannot write there (permission denied)")
    return fmt


def _filters_text(meta: Mapping[str, Any]) -> str:
    filters = meta.get("filters") or {}
    parts = [f"{k}={'|'.join(str(v) for v in vals)}" for k, vals in filters.items()]
    return "filters: " + (", ".join(parts) if parts else "none")


def chart_title(report: Report, headline: str, source: str | None = None, *, periodic: bool = True) -> str:
    """Two lines: what is drawn; then the date range, period, filters and data source."""
    meta = report.meta
    facts = []
    if meta.get("since") and meta.get("until"):
        facts.append(f"{meta['since']} to {meta['until']} (UTC)")
    if periodic and report.name in ("volume", "trend") and meta.get("every"):
        facts.append(f"per {meta['every']}")
    facts.append(_filters_text(meta))
    if source:
        facts.append(f"data: {source}")
    return _label(headline) + "\n" + _label("; ".join(facts))


def _new_figure(width: float = 11, height: float = 6) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(fig: Figure, path: Path) -> None:
    import matplotlib

    fmt = chart_format(path)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "monitor"}):
        fig.savefig(path, format=fmt, dpi=100, metadata={"Date": None} if fmt == "svg" else None)


# -- time series: volume and trend ---------------------------------------------------------------------


def _dims(report: Report, metric: str) -> list[str]:
    start = 1 if report.columns and report.columns[0] == "period" else 0
    end = report.columns.index(metric)
    return list(report.columns[start:end])


def _series(report: Report, metric: str) -> tuple[list[str], dict[str, dict[str, float]]]:
    """periods in order; series name -> period -> value, largest series first."""
    dims = _dims(report, metric)
    p = report.columns.index("period")
    m = report.columns.index(metric)
    idx = [report.columns.index(d) for d in dims]
    periods: list[str] = []
    data: dict[str, dict[str, float]] = defaultdict(dict)
    for row in report.rows:
        period = str(row[p])
        if period not in periods:
            periods.append(period)
        name = " / ".join(str(row[i]) for i in idx) or metric
        data[name][period] = data[name].get(period, 0.0) + float(row[m] or 0)
    order = sorted(data, key=lambda k: (-sum(data[k].values()), k))
    return periods, {k: data[k] for k in order}


def _flags(report: Report) -> dict[str, dict[str, str]]:
    """Trend reports: series name -> period -> 'spike' | 'drop'."""
    if "flag" not in report.columns:
        return {}
    metric = report.meta.get("metric", "posts")
    dims = _dims(report, metric)
    idx = [report.columns.index(d) for d in dims]
    p, f = report.columns.index("period"), report.columns.index("flag")
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for row in report.rows:
        if row[f]:
            out[" / ".join(str(row[i]) for i in idx) or metric][str(row[p])] = str(row[f])
    return out


def _period_ticks(ax: Axes, periods: Sequence[str], *, fontsize: str | None = None) -> None:
    xs = list(range(len(periods)))
    step = max(1, math.ceil(len(periods) / 24))
    ax.set_xticks(xs[::step], [_label(p) for p in periods[::step]], rotation=45, ha="right", fontsize=fontsize)
    ax.set_xlim(-0.5, max(len(periods) - 0.5, 0.5))


def _mark_flags(ax: Axes, periods: Sequence[str], values: Mapping[str, float], flags: Mapping[str, str],
                counted: dict[str, int]) -> None:
    for flag, colour, marker in (("spike", SPIKE_COLOUR, "^"), ("drop", DROP_COLOUR, "v")):
        xs = [i for i, p in enumerate(periods) if flags.get(p) == flag]
        if xs:
            counted[flag] = counted.get(flag, 0) + len(xs)
            ax.scatter(xs, [values.get(periods[i], 0.0) for i in xs], s=110, marker=marker, facecolors="none",
                       edgecolors=colour, linewidths=2, zorder=5)


def _threshold_line(ax: Axes, report: Report, name: str, periods: Sequence[str], colour: str) -> None:
    """Trend reports: the level a period had to reach to be flagged a spike (from its own baseline)."""
    need = {"baseline_median", "baseline_mad", "period"}
    if report.name != "trend" or not need <= set(report.columns):
        return
    from monitor.reports.trend import MAD_SCALE

    metric = report.meta.get("metric", "posts")
    threshold = float(report.meta.get("threshold", 0))
    idx = [report.columns.index(d) for d in _dims(report, metric)]
    c = {k: report.columns.index(k) for k in need}
    level: dict[str, float] = {}
    for row in report.rows:
        if (" / ".join(str(row[i]) for i in idx) or metric) == name and row[c["baseline_median"]] is not None:
            scale = max(MAD_SCALE * float(row[c["baseline_mad"]]), 1.0)
            level[str(row[c["period"]])] = float(row[c["baseline_median"]]) + threshold * scale
    xs = [i for i, p in enumerate(periods) if p in level]
    if xs:
        ax.step(xs, [level[periods[i]] for i in xs], where="mid", color=colour, linestyle="--", linewidth=1,
                alpha=0.6, label=_label(f"{name}: spike threshold (baseline median + {threshold:g} x 1.4826 MAD)"))


def _flag_legend(ax: Axes, report: Report, counted: Mapping[str, int]) -> list[Any]:
    from matplotlib.lines import Line2D

    threshold = report.meta.get("threshold")
    handles = []
    for flag, colour, marker, sign in (("spike", SPIKE_COLOUR, "^", "≥"), ("drop", DROP_COLOUR, "v", "≤ -")):
        if counted.get(flag):
            handles.append(Line2D([], [], linestyle="none", marker=marker, markersize=10, markerfacecolor="none",
                                  markeredgecolor=colour, markeredgewidth=2,
                                  label=f"{flag} ({counted[flag]}): robust z {sign} {threshold}"))
    return handles


def write_chart(report: Report, path: Path, *, kind: ChartKind = "lines", metric: str = "posts",
                source: str | None = None) -> None:
    """Draw a volume or trend report (columns: period, dims..., metric, ...) to ``path`` (.png or .svg)."""
    chart_format(path)
    if kind not in CHART_KINDS:
        raise ValueError(f"chart kind must be one of {CHART_KINDS}")
    if metric not in report.columns or "period" not in report.columns:
        raise ValueError(f"a {kind} chart needs the columns period and {metric}")
    if kind == "heatmap":
        fig = _heatmap(report, metric, source)
    elif kind == "stacked":
        fig = _stacked(report, metric, source)
    else:
        fig = _lines(report, metric, source)
    _save(fig, path)


def _lines(report: Report, metric: str, source: str | None) -> Figure:
    periods, data = _series(report, metric)
    flags = _flags(report)
    counted: dict[str, int] = {}
    what = f"{report.name}: {metric}"
    if report.name == "trend":
        what += f" per {report.meta.get('every', 'period')}, flagged periods marked"
    title = chart_title(report, what, source)
    names = list(data)
    if len(names) <= MAX_SERIES:
        fig = _new_figure()
        ax = fig.add_subplot()
        for i, name in enumerate(names):
            values = data[name]
            ax.plot(range(len(periods)), [values.get(p, 0.0) for p in periods], color=PALETTE[i],
                    marker=_MARKERS[i], markersize=4, linewidth=1.6, label=_label(name))
            _mark_flags(ax, periods, values, flags.get(name, {}), counted)
            if len(names) <= 3:
                _threshold_line(ax, report, name, periods, PALETTE[i])
        _period_ticks(ax, periods)
        ax.set_ylabel(_label(metric))
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        handles, _ = ax.get_legend_handles_labels()
        handles += _flag_legend(ax, report, counted)
        if len(handles) > 1 or counted:
            ax.legend(handles=handles, loc="upper left", fontsize="small", ncols=2 if len(handles) > 6 else 1)
        ax.set_title(title, fontsize="medium", loc="left")
        return fig
    return _small_multiples(report, periods, data, flags, metric, title)


def _fold_rest(data: dict[str, dict[str, float]], most: int) -> dict[str, dict[str, float]]:
    """At most ``most`` series: past that, the last ones are summed into one "other (n series)"."""
    names = list(data)
    if len(names) <= most:
        return data
    keep, rest = names[: most - 1], names[most - 1 :]
    other: dict[str, float] = defaultdict(float)
    for name in rest:
        for p, v in data[name].items():
            other[p] += v
    return {n: data[n] for n in keep} | {f"other ({len(rest)} series)": dict(other)}


def _small_multiples(report: Report, periods: Sequence[str], data: dict[str, dict[str, float]],
                     flags: Mapping[str, Mapping[str, str]], metric: str, title: str) -> Figure:
    data = _fold_rest(data, MAX_PANELS)
    names = list(data)
    cols = 4 if len(names) > 9 else 3
    rows = math.ceil(len(names) / cols)
    fig = _new_figure(12, 1.9 * rows + 1.2)
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    counted: dict[str, int] = {}
    for i, ax in enumerate(axes.flat):
        if i >= len(names):
            ax.set_visible(False)
            continue
        values = data[names[i]]
        ax.plot(range(len(periods)), [values.get(p, 0.0) for p in periods], color=PALETTE[0], linewidth=1.4)
        _mark_flags(ax, periods, values, flags.get(names[i], {}), counted)
        ax.set_title(_label(names[i]), fontsize="small", loc="left")
        ax.grid(axis="y", alpha=0.3)
        ax.set_ylim(bottom=0)
        if i // cols == rows - 1 or i + cols >= len(names):
            _period_ticks(ax, periods, fontsize="x-small")
            ax.tick_params(labelbottom=True)
    handles = _flag_legend(axes.flat[0], report, counted)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", fontsize="small", ncols=len(handles))
    fig.suptitle(title + "\n" + _label(f"{len(names)} panels, one per series, same scale ({metric})"),
                 fontsize="medium", x=0.01, ha="left")
    return fig


def _stacked(report: Report, metric: str, source: str | None) -> Figure:
    periods, data = _series(report, metric)
    data = _fold_rest(data, MAX_SERIES)  # shares of a whole: the smallest are summed, the whole stays whole
    names = list(data)
    fig = _new_figure()
    ax = fig.add_subplot()
    totals = [sum(data[n].get(p, 0.0) for n in names) for p in periods]
    shares = [[(data[n].get(p, 0.0) / t if t else 0.0) for p, t in zip(periods, totals, strict=True)]
              for n in names]
    if names:
        ax.stackplot(range(len(periods)), shares, labels=[_label(n) for n in names],
                     colors=PALETTE[: len(names)])
        handles, labels = ax.get_legend_handles_labels()  # top of the stack first, as drawn
        fig.legend(handles[::-1], labels[::-1], loc="outside right upper", fontsize="small")
    ax.set_ylim(0, 1)
    ax.set_xlim(0, max(len(periods) - 1, 1))
    # a post naming two groups counts in both series: the whole is the drawn series' sum, not all posts
    ax.set_ylabel(_label(f"share of the drawn series' {metric}"))
    _period_ticks(ax, periods)
    ax.set_title(chart_title(report, f"{report.name}: share of {metric}", source), fontsize="medium", loc="left")
    return fig


def _heatmap(report: Report, metric: str, source: str | None) -> Figure:
    dims = _dims(report, metric)
    if len(dims) < 2:
        raise ValueError("a heat map needs two --by dimensions, e.g. --by group,channel")
    a, b = report.columns.index(dims[0]), report.columns.index(dims[1])
    m = report.columns.index(metric)
    cells: dict[tuple[str, str], float] = defaultdict(float)
    for row in report.rows:
        cells[(str(row[a]), str(row[b]))] += float(row[m] or 0)
    row_names = sorted({k[0] for k in cells})
    col_names = sorted({k[1] for k in cells})
    grid = [[cells.get((y, x), 0.0) for x in col_names] for y in row_names]
    fig = _new_figure(11, max(4.0, 0.32 * len(row_names) + 2.5))
    ax = fig.add_subplot()
    image = ax.imshow(grid or [[0.0]], aspect="auto", cmap="viridis")
    ax.set_yticks(range(len(row_names)), [_label(y) for y in row_names])
    ax.set_xticks(range(len(col_names)), [_label(x) for x in col_names], rotation=45, ha="right")
    ax.set_xlabel(_label(dims[1]))
    ax.set_ylabel(_label(dims[0]))
    fig.colorbar(image, ax=ax, label=_label(f"{metric}, whole range"))
    if len(row_names) * len(col_names) <= 400:  # small enough to print every number
        top = max((v for r in grid for v in r), default=0.0) or 1.0
        for y, r in enumerate(grid):
            for x, v in enumerate(r):
                ax.text(x, y, f"{v:,.0f}", ha="center", va="center", fontsize="x-small",
                        color="black" if v > 0.6 * top else "white")
    ax.set_title(chart_title(report, f"{report.name}: {metric} over the whole range, {dims[0]} x {dims[1]}",
                             source, periodic=False), fontsize="medium", loc="left")
    return fig


# -- top lists: bars -----------------------------------------------------------------------------------


def write_top_chart(report: Report, path: Path, *, source: str | None = None) -> None:
    """Horizontal bars, rank 1 at the top: posts (or views/forwards for the post lists)."""
    chart_format(path)
    cols = report.columns
    if report.name == "top-pairs":
        names = [f"{r[cols.index('group_a')]} + {r[cols.index('group_b')]}" for r in report.rows]
        metric = "posts"
    elif report.name in ("top-posts-by-views", "top-posts-by-forwards"):
        metric = "views" if report.name.endswith("views") else "forwards"
        names = [f"{r[cols.index('channel')]}/{r[cols.index('message_id')]} ({r[cols.index('date')]})"
                 for r in report.rows]
    else:
        metric = "posts"
        names = [str(r[1]) for r in report.rows]  # the ranked column follows "rank"
    values = [float(r[cols.index(metric)] or 0) for r in report.rows]
    fig = _new_figure(11, max(3.5, 0.3 * len(names) + 2))
    ax = fig.add_subplot()
    ys = list(range(len(names)))
    bars = ax.barh(ys, values, color=PALETTE[0])
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=3, fontsize="small")
    ax.set_yticks(ys, [_label(n) for n in names], fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel(_label(metric))
    ax.margins(x=0.12)
    ax.grid(axis="x", alpha=0.3)
    what = {"top-pairs": "groups named together"}.get(report.name, report.name.removeprefix("top-"))
    ax.set_title(chart_title(report, f"top {what} by {metric}", source), fontsize="medium", loc="left")
    _save(fig, path)


# -- reach: curves -------------------------------------------------------------------------------------


def write_reach_chart(report: Report, path: Path, *, source: str | None = None) -> None:
    """Median views by hours after publication, one curve per --by combination."""
    chart_format(path)
    cols = report.columns
    a = cols.index("age_hours")
    dims = list(cols[:a])
    curves: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for r in report.rows:
        name = " / ".join(str(r[cols.index(d)]) for d in dims) or "all posts"
        curves[name].append((float(r[a]), float(r[cols.index("median_views")] or 0), int(r[cols.index("posts")])))
    names = sorted(curves, key=lambda n: -max((v for _, v, _ in curves[n]), default=0))[:MAX_SERIES]
    fig = _new_figure()
    ax = fig.add_subplot()
    for i, name in enumerate(names):
        points = sorted(curves[name])
        ax.plot([p[0] for p in points], [p[1] for p in points], color=PALETTE[i], marker=_MARKERS[i],
                label=_label(name))
    ages = sorted({p[0] for n in names for p in curves[n]})
    if ages:
        ax.set_xscale("log")
        ax.set_xticks(ages, [f"{a:g} h" for a in ages])
        ax.minorticks_off()
    ax.set_xlabel("hours after publication (log scale)")
    ax.set_ylabel("median views")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if names:
        ax.legend(loc="upper left", fontsize="small")
    note = f" (the {MAX_SERIES} largest of {len(curves)})" if len(curves) > MAX_SERIES else ""
    ax.set_title(chart_title(report, f"reach: median views by age{note}", source), fontsize="medium", loc="left")
    _save(fig, path)


# -- spread: a timeline of clusters ---------------------------------------------------------------------


def write_spread_chart(report: Report, path: Path, *, source: str | None = None) -> None:
    """One row per cluster: from its first to its last appearance, dot size by channels reached."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    chart_format(path)
    cols = report.columns
    rows = list(report.rows)[:40]
    fig = _new_figure(11, max(3.5, 0.32 * len(rows) + 2))
    ax = fig.add_subplot()
    ys = list(range(len(rows)))
    for y, r in zip(ys, rows, strict=True):
        first = datetime.fromisoformat(str(r[cols.index("first_at")]).replace("Z", "+00:00"))
        last = datetime.fromisoformat(str(r[cols.index("last_at")]).replace("Z", "+00:00"))
        channels = int(r[cols.index("channels")])
        ax.plot([first, last], [y, y], color=PALETTE[0], linewidth=2, solid_capstyle="round")  # type: ignore[arg-type]  # matplotlib's date converter plots datetimes; its stubs list numbers only
        ax.scatter([first], [y], s=30 + 25 * channels, color=PALETTE[1], zorder=3, edgecolors="black",  # type: ignore[arg-type]  # matplotlib's date converter plots datetimes; its stubs list numbers only
                   linewidths=0.5)
        ax.scatter([last], [y], s=18, color=PALETTE[0], zorder=3)  # type: ignore[arg-type]  # matplotlib's date converter plots datetimes; its stubs list numbers only
    labels = [f"#{r[cols.index('cluster')]} {r[cols.index('first_channel')]}: {r[cols.index('posts')]} posts,"
              f" {r[cols.index('channels')]} ch." for r in rows]
    ax.set_yticks(ys, [_label(t) for t in labels], fontsize="small")
    ax.invert_yaxis()
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("first appearance (large dot, size by channels reached) to last appearance (UTC)")
    more = f" (first {len(rows)} of {len(report.rows)})" if len(report.rows) > len(rows) else ""
    ax.set_title(chart_title(report, f"spread: the same item in several channels{more}", source),
                 fontsize="medium", loc="left")
    _save(fig, path)


# -- network: a drawing ---------------------------------------------------------------------------------


def write_network_chart(report: Report, nodes: Mapping[int, Mapping[str, Any]], path: Path, *,
                        source: str | None = None) -> None:
    """Who forwards whom: arrows source -> forwarding channel, width by forwards; watched channels filled."""
    import networkx as nx

    chart_format(path)
    graph = nx.DiGraph()
    for cid in nodes:
        graph.add_node(cid)
    for src, _s, dst, _t, weight, _first, _last in report.rows:
        graph.add_edge(int(src), int(dst), weight=int(weight))
    fig = _new_figure(11, 8)
    ax = fig.add_subplot()
    ax.set_axis_off()
    if graph.number_of_nodes():
        watched = [n for n in graph.nodes if nodes.get(n, {}).get("watched")]
        others = [n for n in graph.nodes if n not in watched]
        # watched channels on an inner ring, the channels they forward from on an outer one: every arrow
        # stays visible and the ring says which side a channel is on
        if graph.number_of_nodes() <= 60:
            shells = [s for s in (sorted(watched), sorted(others)) if s]
            pos = nx.shell_layout(graph, nlist=shells, scale=1.0)
        else:
            pos = nx.spring_layout(graph, seed=7, k=1.6 / math.sqrt(graph.number_of_nodes()), iterations=200)
        weights = [graph.edges[e]["weight"] for e in graph.edges]
        top = max(weights, default=1)
        degree = dict(graph.degree(weight="weight"))
        most = max(max(degree.values(), default=1), 1)
        size = {n: 300 + 1400 * degree.get(n, 0) / most for n in graph.nodes}
        nx.draw_networkx_edges(graph, pos, width=[0.6 + 5 * w / top for w in weights], edge_color="#555555",
                               arrowsize=12, alpha=0.55, ax=ax, node_size=[size[n] for n in graph.nodes],
                               connectionstyle="arc3,rad=0.12")
        nx.draw_networkx_nodes(graph, pos, nodelist=watched, node_size=[size[n] for n in watched],
                               node_color=PALETTE[0], ax=ax, label="watched channel")
        nx.draw_networkx_nodes(graph, pos, nodelist=others, node_size=[size[n] for n in others],
                               node_color="white", edgecolors=PALETTE[1], linewidths=2, ax=ax,
                               label="not watched (forwarded from)")
        if len(weights) <= 15:
            nx.draw_networkx_edge_labels(graph, pos, font_size=7, ax=ax, connectionstyle="arc3,rad=0.12",
                                         edge_labels={e: str(graph.edges[e]["weight"]) for e in graph.edges})
        for n, (x, y) in pos.items():
            name = str(nodes.get(n, {}).get("label") or n)
            name = f"id:{name}" if name.lstrip("-").isdigit() else name
            ax.annotate(_label(f"{name} ({degree.get(n, 0)})"), (x, y), xytext=(0, 14), textcoords="offset points",
                        ha="center", fontsize=8, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                                                       "alpha": 0.8})
        ax.margins(0.12)
        ax.legend(loc="lower left", fontsize="small", markerscale=0.5)
    ax.set_title(chart_title(report, "network: arrow from a channel to the channel that forwarded its posts"
                             " (width: forwards; in brackets: forwards in and out)", source),
                 fontsize="medium", loc="left")
    _save(fig, path)
