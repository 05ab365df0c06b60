"""Volume and trend: the chart page, its downloads, and the link from each bar to its posts.

The numbers are ``monitor report volume`` and ``monitor report trend`` for the same spec (the same
functions), so the chart, the table and the CSV agree with the CLI. Spikes come from the trend
report (robust z over the baseline) and are marked on the chart with their baseline and z.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor.reports.periods import buckets, from_day, label, next_bucket
from monitor.reports.spec import NONE, ReportSpec, Resolved, resolve
from monitor.reports.table import Report
from monitor.reports.trend import trend
from monitor.reports.volume import volume
from monitor.store.ports import ReportReads as ReportSource
from monitor.web.common import User, download, page, render, store_of
from monitor.web.pagereads import PageReads
from monitor.web.query import FILTERS, Params, View, spec_from, spec_items, url, view_from, with_filter
from monitor.web.svg import Flag, Series, chart

MAX_SERIES = 12
# --by dimension -> the URL filter that narrows a chart point to its series
_DIM_FILTER = {"group": "group", "keyword": "keyword", "person": "person", "language": "lang", "script": "script",
               "channel": "channel"}


def _filter_for(res: Resolved, dim: str, value: str) -> tuple[str, str] | None:
    """The URL filter (name, value) selecting a series' value of ``dim``; None when no filter can."""
    if value == NONE:
        return None
    if dim.startswith("label:"):
        return "label", f"{dim[6:]}={value}"
    if dim == "channel":
        for cid, info in res.channels.items():
            if info.name == value:
                return "channel", f"@{info.username}" if info.username else str(cid)
        return None
    return _DIM_FILTER[dim], value


def point_links(res: Resolved, combos: Sequence[tuple[str, ...]]) -> tuple[list[str], dict[tuple[str, ...], list[str | None]]]:
    """Period labels in order and, per series, the posts URL of each period (same filters, the period's
    days, the series' values)."""
    every = res.spec.period
    starts = buckets(res.since_day, res.until_day, every)
    periods = [label(b, every) for b in starts]
    base = spec_items(res.spec, dates=False)
    base = [(k, v) for k, v in base if k not in ("by", "every")]
    # url("/posts", [since, until, *filters]) for every point: the days part is encoded once per period
    # and the filters once per series (a 200-week chart of 12 series has 3,144 links)
    days = []
    for start in starts:
        first = max(start, res.since_day)
        last = min(next_bucket(start, every) - 1, res.until_day)
        days.append(url("/posts", [("since", from_day(first).isoformat()), ("until", from_day(last).isoformat())]))
    links: dict[tuple[str, ...], list[str | None]] = {}
    for combo in combos:
        overrides: dict[str, list[str]] = defaultdict(list)
        ok = True
        for dim, value in zip(res.by, combo, strict=True):
            chosen = _filter_for(res, dim, value)
            if chosen is None:
                ok = False
                break
            overrides[chosen[0]].append(chosen[1])
        if not ok:
            links[combo] = [None] * len(starts)
            continue
        rest = url("", with_filter(base, overrides))
        links[combo] = [f"{period}&{rest[1:]}" if rest else period for period in days]
    return periods, links


def _narrowed(res: Resolved, spec: ReportSpec, combos: Sequence[tuple[str, ...]]) -> ReportSpec:
    """``spec`` with each --by dimension filtered to the values of ``combos``: the trend of a series
    depends only on its own counts, so the drawn series get the same z as in the whole report, and a
    200-channel chart scores 12 series, not 200. The spec itself when some value cannot be a filter."""
    chosen: dict[str, list[str]] = defaultdict(list)
    for combo in combos:
        for dim, value in zip(res.by, combo, strict=True):
            item = _filter_for(res, dim, value)
            if item is None:
                return spec
            if item[1] not in chosen[item[0]]:
                chosen[item[0]].append(item[1])
    fields = {FILTERS[name]: tuple(values) for name, values in chosen.items()}
    if "labels" in fields:  # a label filter on another key than the --by ones still applies
        keys = {dim[6:] for dim in res.by if dim.startswith("label:")}
        fields["labels"] = tuple(v for v in spec.labels if v.partition("=")[0].strip() not in keys) + fields["labels"]
    return replace(spec, **fields) if fields else spec  # type: ignore[arg-type]  # only tuple fields of ReportSpec


def _ranked(res: Resolved, vol: Report, view: View) -> tuple[list[tuple[str, ...]], dict[tuple[str, ...], dict[str, float]]]:
    width = len(res.by)
    column = view.metric + ("_share" if view.show == "shares" else "")
    at = vol.columns.index(column)
    values: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)
    for row in vol.rows:
        values[tuple(str(v) for v in row[1:1 + width])][str(row[0])] = float(row[at] or 0)
    return sorted(values, key=lambda c: (-sum(values[c].values()), c)), values


def _series(res: Resolved, vol: Report, tr: Report, view: View, ranked: Sequence[tuple[str, ...]],
            values: dict[tuple[str, ...], dict[str, float]]) -> tuple[list[str], list[Series]]:
    width = len(res.by)
    shown = list(ranked[:MAX_SERIES])
    periods, links = point_links(res, shown)
    flags: dict[tuple[str, ...], dict[str, Flag]] = defaultdict(dict)
    z_at, flag_at, base_at = tr.columns.index("z"), tr.columns.index("flag"), tr.columns.index("baseline_median")
    for row in tr.rows:
        if row[flag_at]:
            flags[tuple(str(v) for v in row[1:1 + width])][str(row[0])] = Flag(
                kind=str(row[flag_at]), z=float(row[z_at]), baseline=float(row[base_at] or 0))
    series = []
    for combo in shown:
        by_period = values[combo]
        series.append(Series(
            name=" / ".join(combo) or view.metric,
            values=[by_period.get(p, 0.0) for p in periods],
            links=links.get(combo, []),
            flags={i: flags[combo][p] for i, p in enumerate(periods) if p in flags.get(combo, {})},
        ))
    return periods, series


async def _largest(store: ReportSource, res: Resolved, metric: str) -> list[tuple[str, ...]]:
    """Every series of the view, largest total ``metric`` first: one grouped read of the whole range
    (as ``monitor report top`` ranks), to choose the series worth drawing before computing them."""
    rows, _source = await store.report_volume(since_day=res.since_day, until_day=res.until_day, every="all",
                                              dims=res.sql_dims, **res.filters())
    totals: dict[tuple[str, ...], int] = defaultdict(int)
    for row in rows:
        totals[res.dim_values(row)] += int(row[metric] or 0)
    return sorted(totals, key=lambda c: (-totals[c], c))


def _largest_in(res: Resolved, vol: Report, metric: str) -> list[tuple[str, ...]]:
    """What ``_largest`` reads, from the volume report of the whole view: the series with posts in the
    range, largest total ``metric`` first (the same integers summed per period instead of at once)."""
    width = len(res.by)
    at, posts_at = vol.columns.index(metric), vol.columns.index("posts")
    totals: dict[tuple[str, ...], int] = defaultdict(int)
    posted: set[tuple[str, ...]] = set()
    for row in vol.rows:
        combo = tuple(row[1:1 + width])
        totals[combo] += int(row[at] or 0)
        if row[posts_at]:
            posted.add(combo)
    return sorted(posted, key=lambda c: (-totals[c], c))


async def _reports(request: Request) -> tuple[Resolved, Report, Report, View, list[tuple[str, ...]],
                                              dict[tuple[str, ...], dict[str, float]], int]:
    """The volume and trend reports of the drawn series. With more series than ``MAX_SERIES``, both are
    computed for the largest ones only (the spec narrowed to their values): a series' counts, shares
    and z do not depend on the other series (see ``_narrowed``), and a 200-channel view costs 12.

    Which series are largest: by channel (or label) there are usually many, and one grouped read of
    the range picks them before anything is computed; by tag, language or script there are usually
    few, so the volume report of the whole view comes first and ranks them itself (when it shows more
    than ``MAX_SERIES`` after all, the narrowed one is computed too). All reads go through one
    ``PageReads``, so the trend reads only its baseline periods beyond what the volume report read."""
    params = Params(request.query_params.multi_items())
    spec = spec_from(params)
    view = view_from(params)
    store = cast(ReportSource, PageReads(store_of(request)))
    res = await resolve(store, spec)
    drawn, hidden = res.spec, 0
    vol: Report | None = None
    if res.by:
        if any(dim == "channel" or dim.startswith("label:") for dim in res.by):
            largest = await _largest(store, res, view.metric)
        else:
            vol = await volume(store, res.spec)
            largest = _largest_in(res, vol, view.metric)
        if len(largest) > MAX_SERIES:
            narrowed = _narrowed(res, res.spec, largest[:MAX_SERIES])
            if narrowed is not res.spec:
                drawn, hidden = narrowed, len(largest) - MAX_SERIES
                vol = None
    if vol is None:
        vol = await volume(store, drawn)
    ranked, values = _ranked(res, vol, view)
    if hidden:  # a union of values per dimension may add combinations: keep the largest ones
        keep = set(largest[:MAX_SERIES])
        ranked = [c for c in ranked if c in keep] + [c for c in ranked if c not in keep]
    tr = await trend(store, drawn, metric=view.metric)
    return res, vol, tr, view, ranked, values, hidden or max(len(ranked) - MAX_SERIES, 0)


def data_rows(periods: Sequence[str], series: Sequence[Series], *, share: bool) -> Markup:
    """The rows of the data table under the chart, a period per row and a linked cell per series: built
    here rather than in a template loop (a weekly chart of 12 series has 3,000 cells), every text and link
    escaped as the template would."""
    out: list[str] = []
    for i, period in enumerate(periods):
        cells = [f"<tr><td>{escape(period)}</td>"]
        for s in series:
            shown = f"{s.values[i] * 100:.1f}%" if share else f"{s.values[i]:,.0f}"
            link = s.links[i]
            if link:
                cells.append(f'<td class="num"><a href="{escape(link)}">{escape(shown)}</a></td>')
            else:
                cells.append(f'<td class="num">{escape(shown)}</td>')
        cells.append("</tr>\n")
        out.append("".join(cells))
    return Markup("".join(out))


async def volume_page(request: Request, user: User) -> Response:
    res, vol, tr, view, ranked, values, hidden = await _reports(request)
    periods, series = _series(res, vol, tr, view, ranked, values)
    svg = chart(periods, series, share=view.show == "shares", label=view.metric)
    query = request.url.query
    permalink = url("/volume", [*spec_items(res.spec), ("metric", view.metric), ("show", view.show)])
    flagged = [(s.name, periods[i], f) for s in series for i, f in sorted(s.flags.items())]
    context: dict[str, Any] = {
        "svg": svg, "spec": res.spec, "meta": vol.meta, "view": view, "periods": periods, "series": series,
        "hidden": hidden, "flagged": flagged, "permalink": permalink, "query": query,
        "data_rows": data_rows(periods, series, share=view.show == "shares"),
        "by_options": ("group", "language", "script", "channel", "keyword", "person"),
        "dims": ",".join(res.spec.by),
        "filters": {name: list(getattr(res.spec, field)) for name, field in
                    (("group", "groups"), ("lang", "langs"), ("script", "scripts"), ("channel", "channels"),
                     ("label", "labels"), ("keyword", "keywords"), ("person", "people"))},
        "channels": sorted((info.name for info in res.channels.values()), key=str.lower),
    }
    return render(request, "volume.html", context, user=user)


def _download(name: str, fmt: str) -> Any:
    async def handler(request: Request, user: User) -> Response:
        params = Params(request.query_params.multi_items())
        spec = spec_from(params)
        store = store_of(request)
        if name == "volume":
            report = await volume(store, spec)
        else:
            report = await trend(store, spec, metric=view_from(params).metric)
        return download(report, fmt, name)

    return page(handler)


routes = [
    Route("/volume", page(volume_page)),
    Route("/volume.csv", _download("volume", "csv")),
    Route("/volume.json", _download("volume", "json")),
    Route("/trend.csv", _download("trend", "csv")),
    Route("/trend.json", _download("trend", "json")),
]
