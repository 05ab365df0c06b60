"""Reach in context: views per subscriber, where the channel's subscriber count is known.

The subscriber count comes from the lifecycle's profile samples (GetFullChannel, every
``polling.profile_every``); a post is set against the sample nearest to its date, a channel over a
range against its latest sample in the range (else its nearest one). Without a sample the cells
are empty, never zero.

Caution, kept in the report's meta: Telegram counts a view once per account session and device
over a while, not per person, and views can be bought or inflated by bots; views per subscriber
above 1 are common for posts forwarded into other channels. Compare channels with it, do not read
it as a share of people.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.reports.periods import from_day
from monitor.reports.spec import Resolved
from monitor.reports.table import Report

CAUTION = ("Telegram counts views per session and device, not per person, and views can be inflated;"
           " compare channels with views per subscriber, do not read it as a share of people")


def _nearest(samples: list[Any], moment: datetime) -> int | None:
    known = [s for s in samples if s.subscribers is not None]
    if not known:
        return None
    return int(min(known, key=lambda s: abs((s.observed_at - moment).total_seconds())).subscribers)


async def with_subscribers(store: Any, res: Resolved, report: Report) -> Report:
    """top channels or posts-by-views with ``subscribers`` and ``views_per_subscriber`` appended."""
    cache: dict[int, list[Any]] = {}

    async def samples(cid: int) -> list[Any]:
        if cid not in cache:
            cache[cid] = await store.channel_snapshots(cid)
        return cache[cid]

    name_to_id = {info.name: cid for cid, info in res.channels.items()}
    until = datetime.combine(from_day(res.until_day), datetime.max.time(), UTC)
    rows = []
    cols = report.columns
    for row in report.rows:
        item = dict(zip(cols, row, strict=True))
        cid = name_to_id.get(str(item.get("channel")))
        subs: int | None = None
        if cid is not None:
            if "date" in item:  # a post
                moment = datetime.fromisoformat(str(item["date"])).replace(tzinfo=UTC)
                subs = _nearest(await samples(cid), moment)
            else:
                subs = _nearest(await samples(cid), until)
        per: float | None = None
        views = item.get("views")
        if subs and views is not None:
            per_post = views / item["posts"] if "posts" in item and item["posts"] else views
            per = round(float(per_post) / subs, 4)
        rows.append((*row, subs, per))
    meta = dict(report.meta) | {"views_per_subscriber": "views per post over the subscriber count nearest in time",
                                "caution": CAUTION}
    return Report(name=report.name, columns=(*cols, "subscribers", "views_per_subscriber"), rows=rows, meta=meta)
