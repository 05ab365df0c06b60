"""Charts of a volume (or trend) report with matplotlib's Agg renderer: PNG or SVG by file suffix.

Why Figure() and not pyplot: no global state and no display backend, so charts render on a
server without a screen and from any thread. Labels are attacker-controlled (group terms,
channel titles): they are sanitized like terminal text and '$' is escaped so matplotlib's
mathtext never parses them.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Literal

from monitor.escape import terminal
from monitor.reports.table import Report

ChartKind = Literal["lines", "stacked", "heatmap"]
CHART_KINDS: tuple[ChartKind, ...] = ("lines", "stacked", "heatmap")
_SUFFIXES = {".png": "png", ".svg": "svg"}
_MAX_SERIES = 12


def _label(text: object) -> str:
    return terminal(str(text)).replace("$", r"\$")


def _dims(report: Report, metric: str) -> list[str]:
    start = 1 if report.columns and report.columns[0] == "period" else 0
    end = report.columns.index(metric)
    return list(report.columns[start:end])


def _series(report: Report, metric: str) -> tuple[list[str], dict[str, dict[str, float]]]:
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
    # keep the largest series readable; the rest are summed as "other"
    totals = sorted(data, key=lambda k: -sum(data[k].values()))
    if len(totals) > _MAX_SERIES:
        other: dict[str, float] = defaultdict(float)
        for name in totals[_MAX_SERIES - 1 :]:
            for period, v in data.pop(name).items():
                other[period] += v
        data["other"] = dict(other)
    return periods, data


def write_chart(report: Report, path: Path, *, kind: ChartKind = "lines", metric: str = "posts") -> None:
    """Draw ``report`` (columns: period, dims..., metric, ...) to ``path`` (.png or .svg)."""
    from matplotlib.figure import Figure

    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: a chart file name ends in .png or .svg")
    if kind not in CHART_KINDS:
        raise ValueError(f"chart kind must be one of {CHART_KINDS}")
    if metric not in report.columns or "period" not in report.columns:
        raise ValueError(f"a {kind} chart needs the columns period and {metric}")
    fig = Figure(figsize=(11, 6), layout="constrained")
    ax = fig.add_subplot()
    title = f"{report.name}: {metric}"
    if kind == "heatmap":
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
        image = ax.imshow(grid or [[0.0]], aspect="auto", cmap="viridis")
        ax.set_yticks(range(len(row_names)), [_label(y) for y in row_names])
        ax.set_xticks(range(len(col_names)), [_label(x) for x in col_names], rotation=45, ha="right")
        ax.set_xlabel(_label(dims[1]))
        ax.set_ylabel(_label(dims[0]))
        fig.colorbar(image, ax=ax, label=_label(metric))
        title = f"{report.name}: {metric}, {dims[0]} x {dims[1]}"
    else:
        periods, data = _series(report, metric)
        xs = list(range(len(periods)))
        names = list(data)
        if kind == "lines":
            for name in names:
                ax.plot(xs, [data[name].get(p, 0.0) for p in periods], marker="o", markersize=3, label=_label(name))
            ax.set_ylabel(_label(metric))
        else:
            totals = [sum(data[n].get(p, 0.0) for n in names) for p in periods]
            shares = [[(data[n].get(p, 0.0) / t if t else 0.0) for p, t in zip(periods, totals, strict=True)]
                      for n in names]
            if names:
                ax.stackplot(xs, shares, labels=[_label(n) for n in names])
            ax.set_ylim(0, 1)
            ax.set_ylabel(_label(f"share of {metric}"))
            title = f"{report.name}: share of {metric}"
        step = max(1, len(periods) // 24)
        ax.set_xticks(xs[::step], [_label(p) for p in periods[::step]], rotation=45, ha="right")
        if names:
            ax.legend(loc="upper left", fontsize="small", ncols=2)
    ax.set_title(_label(title))
    fig.savefig(path, format=fmt)
