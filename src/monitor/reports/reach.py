"""Reach: how views grew after publication, from the re-sampled series (metric_samples).

Views at age h of a post = its latest sample taken at most h hours after publication,
counted only when the post was still being sampled at or after h (otherwise we do not know
what it reached by then). Share of latest = that value over the latest views stored on the post.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from monitor.store.ports import ReportReads as ReportSource
from monitor.reports.spec import POST_FILTERS, ReportSpec, refuse_unused, resolve
from monitor.reports.table import Report

DEFAULT_AGES = (1, 6, 24, 48, 168)  # hours after publication


def views_at_ages(posted_at: int, samples: Sequence[tuple[int, int]], ages: Sequence[int]) -> dict[int, int]:
    """age -> views, for the ages the samples (sampled_at, views; oldest first) cover."""
    out: dict[int, int] = {}
    if not samples:
        return out
    last_time = samples[-1][0]
    for age in ages:
        limit = posted_at + age * 3600
        if last_time < limit:
            continue
        best = None
        for when, views in samples:
            if when <= limit:
                best = views
            else:
                break
        if best is not None:
            out[age] = best
    return out


async def reach(store: ReportSource, spec: ReportSpec, *, ages: Sequence[int] = DEFAULT_AGES) -> Report:
    refuse_unused(spec, "reach", POST_FILTERS | {"by"}, "; it follows posts by hours after publication")
    res = await resolve(store, spec)
    rows = await store.report_samples(
        since_day=res.since_day, until_day=res.until_day, dims=res.sql_dims, **res.filters()
    )
    # a post naming ISKP and IMU passes --group ISKP; grouped by group, only the ISKP row is asked for
    wanted = {i: set(res.tags[name]) for i, name in enumerate(res.by) if name in res.tags}
    posts: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        combo = res.dim_values(r)
        if any(combo[i] not in values for i, values in wanted.items()):
            continue
        key = (combo, r["channel_id"], r["message_id"])
        item = posts.setdefault(key, {"posted_at": int(r["posted_at"]), "latest": r["latest_views"], "samples": []})
        item["samples"].append((int(r["sampled_at"]), int(r["views"])))
    per: dict[tuple[tuple[str, ...], int], list[tuple[int, float | None]]] = defaultdict(list)
    for (combo, _cid, _mid), item in posts.items():
        for age, views in views_at_ages(item["posted_at"], item["samples"], ages).items():
            latest = item["latest"]
            share = views / latest if latest else None
            per[(combo, age)].append((views, share))
    out: list[tuple[Any, ...]] = []
    for (combo, age) in sorted(per):
        values = per[(combo, age)]
        seen = [v for v, _ in values]
        shares = [s for _, s in values if s is not None]
        out.append((
            *combo, age, len(values), statistics.median(seen), round(statistics.fmean(seen), 1),
            round(statistics.median(shares), 4) if shares else None,
        ))
    return Report(
        name="reach",
        columns=(*res.by, "age_hours", "posts", "median_views", "mean_views", "median_share_of_latest"),
        rows=out,
        meta=res.meta() | {"ages_hours": list(ages), "source": "metric_samples",
                           "rule": "latest sample at or before the age; posts not sampled that long are left out"},
    )
