"""Volume: posts, views (latest value) and forwards per period and dimension, with shares.

Share semantics: a row's share is its posts (views, forwards) over ALL posts (views,
forwards) of the same channels in the same period. "The same channels" are the channels in
scope after --channel/--label filters, narrowed to the row's channel or label value when the
report is grouped by channel or label. Group, language, script and keyword filters do not
shrink the denominator: that is what makes "IS was 12% of these channels' output" readable.
A post naming two groups counts under both, so group shares can add up to more than 1.
Every period of the range appears for every combination seen, with zeros where nothing was posted.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from itertools import product
from operator import itemgetter
from typing import Any

from monitor.reports.periods import buckets, label
from monitor.store.ports import ReportReads as ReportSource
from monitor.reports.spec import ReportSpec, Resolved, parse_lang, resolve
from monitor.reports.table import Report

METRICS = ("posts", "views", "forwards")
_ROW_DIMS = ("channel_id", "tag_group", "tag_keyword", "tag_person", "lang", "script")


def _is_channelish(name: str) -> bool:
    return name == "channel" or name.startswith("label:")


def _filter_combos(res: Resolved) -> set[tuple[str, ...]]:
    """Combinations named by filters, so a filtered value with no posts still gets zero rows."""
    spec = res.spec
    options: list[Iterable[str]] = []
    for name in res.by:
        if name == "group" and spec.groups:
            options.append(spec.groups)
        elif name == "keyword" and spec.keywords:
            options.append(spec.keywords)
        elif name == "person" and spec.people:
            options.append(spec.people)
        elif name == "script" and spec.scripts:
            options.append(res.scripts)
        elif name == "language" and spec.langs and all(parse_lang(v)[1] for v in spec.langs):
            options.append([f"{lang}-{script}" for lang, script in res.langs])
        elif name == "channel" and res.channel_ids is not None:
            options.append([res.channel_name(c) for c in res.channel_ids])
        else:
            return set()
    return set(product(*options)) if options else set()


async def volume_data(
    store: ReportSource, res: Resolved, *, every: str | None = None, denominators: bool = True
) -> tuple[dict[tuple[str, ...], dict[int, list[int]]], dict[tuple[int, tuple[str, ...]], list[int]], list[int], str]:
    """Series per combination: combo -> bucket -> [posts, views, forwards]; denominators (empty unless
    asked: only shares need them, and they cost a second read); buckets; table used."""
    period = every or res.spec.period
    channel_dims = tuple(i for i, name in enumerate(res.by) if _is_channelish(name))
    total_dims = ("channel",) if channel_dims else ()
    unfiltered = not (res.tags or res.langs or res.scripts)
    same = unfiltered and tuple(res.sql_dims) == total_dims  # then every post of the channels in scope
    rows, table = await store.report_volume(
        since_day=res.since_day, until_day=res.until_day, every=period, dims=res.sql_dims, **res.filters()
    )
    whole: asyncio.Task[tuple[list[dict[str, Any]], str]] | None = None
    if denominators and not same:
        # Why a task: the database computes the denominators (a GROUP BY in the store's thread, which
        # releases the GIL) while the rows above are folded here; a 120,000-row heat map saves ~0.2 s.
        whole = asyncio.create_task(store.report_volume(
            since_day=res.since_day, until_day=res.until_day, every=period, dims=total_dims,
            channel_ids=res.channel_ids,
        ))
        await asyncio.sleep(0)  # let the task hand its query to the store before the CPU-bound fold
    # The fold runs once per stored row (97,000 for the monthly heat map): one C-level pick of the row's
    # values, names resolved once per distinct raw key, plain dicts (no defaultdict factories).
    series: dict[tuple[str, ...], dict[int, list[int]]] = {}
    keys = [k for k in _ROW_DIMS if rows and k in rows[0]]
    n = len(keys)
    pick = itemgetter(*keys, "bucket", *METRICS)
    shown: dict[tuple[Any, ...], dict[int, list[int]]] = {}  # raw dims -> their combination's series
    for values in map(pick, rows):
        raw = values[:n]
        by_bucket = shown.get(raw)
        if by_bucket is None:
            combo = res.dim_values(dict(zip(keys, raw, strict=True)))
            by_bucket = shown[raw] = series.setdefault(combo, {})
        bucket = int(values[n])
        cell = by_bucket.get(bucket)
        if cell is None:
            by_bucket[bucket] = [int(values[n + 1] or 0), int(values[n + 2] or 0), int(values[n + 3] or 0)]
        else:
            cell[0] += int(values[n + 1] or 0)
            cell[1] += int(values[n + 2] or 0)
            cell[2] += int(values[n + 3] or 0)
    periods = buckets(res.since_day, res.until_day, period)  # type: ignore[arg-type]  # the resolved range has both days set once a report has rows
    totals: dict[tuple[int, tuple[str, ...]], list[int]] = defaultdict(lambda: [0, 0, 0])
    if not denominators:
        return series, totals, periods, table
    totals_rows = rows if whole is None else (await whole)[0]
    channel_by = tuple(name for name in res.by if _is_channelish(name))
    sub = Resolved(
        spec=res.spec, since_day=res.since_day, until_day=res.until_day, by=channel_by, sql_dims=(),
        channel_ids=res.channel_ids, channels=res.channels, tags={}, langs=(), scripts=(),
    )
    for row in totals_rows:
        cell = totals[(int(row["bucket"]), sub.dim_values(row))]
        for i, metric in enumerate(METRICS):
            cell[i] += int(row[metric] or 0)
    return series, totals, periods, table


async def volume(store: ReportSource, spec: ReportSpec) -> Report:
    res = await resolve(store, spec)
    series, totals, periods, table = await volume_data(store, res)
    combos = set(series) | _filter_combos(res)
    if not res.by:
        combos = {()}
    channel_idx = [i for i, name in enumerate(res.by) if _is_channelish(name)]
    out: list[tuple[Any, ...]] = []
    # A heat map has 120,000 cells: per-cell work here is most of its time. So the combinations are
    # sorted once, each with its series and the index of its channel key; per period, the channel
    # totals are looked up once per channel key; an empty cell is its combination's zero row.
    channel_keys: dict[tuple[str, ...], int] = {}
    ordered = []
    for combo in sorted(combos):
        key = channel_keys.setdefault(tuple([combo[i] for i in channel_idx]), len(channel_keys))
        ordered.append((combo, key, series.get(combo, {}), (*combo, 0, 0.0, 0, 0.0, 0, 0.0)))
    zero = [0, 0, 0]
    for bucket in periods:
        shown = label(bucket, spec.period)
        wholes = [totals.get((bucket, channel_key), zero) for channel_key in channel_keys]
        for combo, key, by_bucket, empty in ordered:
            cell = by_bucket.get(bucket)
            if cell is None:
                out.append((shown, *empty))
                continue
            posts, views, forwards = cell
            whole_posts, whole_views, whole_forwards = wholes[key]
            out.append((
                shown,
                *combo,
                posts, round(posts / whole_posts, 6) if whole_posts else 0.0,  # share; 0 when no posts
                views, round(views / whole_views, 6) if whole_views else 0.0,
                forwards, round(forwards / whole_forwards, 6) if whole_forwards else 0.0,
            ))
    meta = res.meta() | {
        "source": table,
        "share": "of all posts (views, forwards) of the same channels in the same period",
        "views": "latest value stored on each post",
    }
    columns = ("period", *res.by, "posts", "posts_share", "views", "views_share", "forwards", "forwards_share")
    return Report(name="volume", columns=columns, rows=out, meta=meta)
