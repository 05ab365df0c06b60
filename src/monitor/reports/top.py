"""Top lists over a range: channels, posts by views or forwards, groups, keywords, groups seen together."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from typing import Any, Literal

from monitor import identity
from monitor.reports.periods import from_day
from monitor.store.ports import ReportReads as ReportSource
from monitor.reports.spec import CHANNEL_SCOPE, POST_FILTERS, ReportSpec, Resolved, refuse_unused, resolve
from monitor.reports.table import Report

TopWhat = Literal["channels", "posts-by-views", "posts-by-forwards", "groups", "keywords", "people", "pairs"]
TOP_WHAT: tuple[TopWhat, ...] = (
    "channels", "posts-by-views", "posts-by-forwards", "groups", "keywords", "people", "pairs",
)


def post_link(username: str | None, channel_id: int, message_id: int) -> str:
    """https://t.me/<name>/<id> for public channels, the t.me/c/<id>/<msg> form otherwise."""
    return identity.post_link(message_id, username=username, channel_id=channel_id) or ""


async def _ranked(store: ReportSource, res: Resolved, by: str, limit: int) -> Report:
    sub = replace(res, by=(by,), sql_dims=({"group": "group", "keyword": "keyword", "person": "person"}.get(by, "channel"),))
    rows, table = await store.report_volume(
        since_day=res.since_day, until_day=res.until_day, every="all", dims=sub.sql_dims, **res.filters()
    )
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        cell = sums[sub.dim_values(row)[0]]
        cell[0] += int(row["posts"])
        cell[1] += int(row["views"] or 0)
        cell[2] += int(row["forwards"] or 0)
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:limit]
    out = [(i, name, p, v, f) for i, (name, (p, v, f)) in enumerate(ranked, start=1)]
    return Report(name=f"top-{by}", columns=("rank", by, "posts", "views", "forwards"), rows=out,
                  meta=res.meta() | {"source": table, "order": "posts, then views"})


async def top(store: ReportSource, spec: ReportSpec, *, what: TopWhat = "channels", limit: int = 20,
              deleted: str = "include") -> Report:
    """``deleted`` (posts-by-views/forwards): "include" posts found deleted from their channel, "exclude"
    them, or "mark" them in a ``deleted`` column."""
    if what not in TOP_WHAT:
        raise ValueError(f"top what must be one of {TOP_WHAT}")
    why = "; it ranks the whole --since/--until range by what --what names"
    refuse_unused(spec, f"top {what}", CHANNEL_SCOPE if what == "pairs" else POST_FILTERS, why)
    res = await resolve(store, spec)
    if what == "channels":
        return await _ranked(store, res, "channel", limit)
    if what in ("groups", "keywords", "people"):
        return await _ranked(store, res, {"groups": "group", "keywords": "keyword", "people": "person"}[what], limit)
    if what == "pairs":
        rows = await store.report_pairs(
            since_day=res.since_day, until_day=res.until_day, channel_ids=res.channel_ids, limit=limit
        )
        pairs = [(i, r["a"], r["b"], int(r["posts"]), int(r["channels"])) for i, r in enumerate(rows, start=1)]
        return Report(name="top-pairs", columns=("rank", "group_a", "group_b", "posts", "channels"), rows=pairs,
                      meta=res.meta() | {"source": "agg_pair_day", "note": "posts naming both groups"})
    order = "views" if what == "posts-by-views" else "forwards"
    rows = await store.report_top_posts(
        since_day=res.since_day, until_day=res.until_day, order=order, limit=limit,
        include_deleted=deleted != "exclude", **res.filters()
    )
    out: list[tuple[Any, ...]] = []
    for i, r in enumerate(rows, start=1):
        text = r["text"]
        out.append((
            i, res.channel_name(r["channel_id"]), int(r["message_id"]),
            from_day(int(r["posted_at"]) // 86400).isoformat(), r["views"], r["forwards"],
            f"{r['lang']}-{r['script']}" if r["script"] else r["lang"],
            json.loads(r["groups"] or "[]"), text, post_link(r["username"], r["channel_id"], r["message_id"]),
            *((r.get("deleted_at") is not None,) if deleted == "mark" else ()),
        ))
    return Report(
        name=f"top-{what}",
        columns=("rank", "channel", "message_id", "date", "views", "forwards", "language", "groups", "text", "link",
                 *(("deleted",) if deleted == "mark" else ())),
        rows=out,
        meta=res.meta() | {"order": f"{order}, latest value stored on each post"},
    )
