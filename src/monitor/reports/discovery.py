"""Discovery: channels that watched channels forward from or mention, but that are not watched.

Ranked by how many different watched channels point at them (one channel quoting itself
a hundred times is weaker evidence than five channels quoting it once), then by how often.
Each row carries the exact command that adds it. A username only reaches that command after
matching Telegram's username rule, so a hostile name cannot smuggle shell syntax into it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from monitor.identity import display_name
from monitor.reports.periods import from_day
from monitor.store.ports import ReportReads as ReportSource
from monitor.reports.spec import CHANNEL_SCOPE, ReportSpec, refuse_unused, resolve
from monitor.reports.table import Report

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,31}$")
_PRIVATE = re.compile(r"^c/(\d{1,15})$")


def add_command(username: str | None, channel_id: int | None) -> str:
    if username and _USERNAME.fullmatch(username):
        return f"monitor channels add @{username}"
    if channel_id is not None:
        return f"monitor channels add {int(channel_id)}"
    return ""


async def discovery(store: ReportSource, spec: ReportSpec, *, limit: int = 50) -> Report:
    refuse_unused(spec, "discovery", CHANNEL_SCOPE,
                  "; it ranks the channels watched channels point at (scope: --channel, --label)")
    res = await resolve(store, spec)
    watched_ids = {cid for cid, info in res.channels.items() if info.watched}
    scope = watched_ids if res.channel_ids is None else watched_ids & set(res.channel_ids)
    watched_names = {(info.username or "").lower() for cid, info in res.channels.items() if info.watched}
    username_of = {cid: info.username.lower() for cid, info in res.channels.items() if info.username}
    id_of = {name: cid for cid, name in username_of.items()}
    ids = sorted(scope)
    cand: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"forwards": 0, "mentions": 0, "by": set(), "first": None, "last": None, "id": None,
                 "username": None}
    )

    def touch(key: str, *, cid: int | None, username: str | None, posts: int, by: int, first: int, last: int,
              kind: str) -> None:
        item = cand[key]
        item[kind] += posts
        item["by"].add(by)
        item["first"] = first if item["first"] is None else min(item["first"], first)
        item["last"] = last if item["last"] is None else max(item["last"], last)
        item["id"] = item["id"] or cid
        item["username"] = item["username"] or username

    if ids:
        for r in await store.report_forward_edges(since_day=res.since_day, until_day=res.until_day, channel_ids=ids):
            src = int(r["source"])
            if src in watched_ids:
                continue
            name = username_of.get(src)
            key = display_name(name, src)
            touch(key, cid=src, username=name, posts=int(r["posts"]), by=int(r["target"]),
                  first=int(r["first_day"]), last=int(r["last_day"]), kind="forwards")
        for r in await store.report_mentions(since_day=res.since_day, until_day=res.until_day, channel_ids=ids):
            target = str(r["target"])
            private = _PRIVATE.fullmatch(target)
            cid: int | None
            if private:
                cid = int(private.group(1))
                if cid in watched_ids:
                    continue
                name = username_of.get(cid)
                key = display_name(name, cid)
                username = name
            elif _USERNAME.fullmatch(target):
                username = target.lower()
                if username in watched_names:
                    continue
                cid = id_of.get(username)
                key = f"@{username}"
            else:
                continue  # invite links (+hash): private, nothing to add by name
            touch(key, cid=cid, username=username, posts=int(r["posts"]), by=int(r["channel_id"]),
                  first=int(r["first_day"]), last=int(r["last_day"]), kind="mentions")
    titles = await store.report_forward_names(sorted({int(v["id"]) for v in cand.values() if v["id"] is not None}))
    ranked = sorted(cand.items(), key=lambda kv: (-len(kv[1]["by"]), -(kv[1]["forwards"] + kv[1]["mentions"]), kv[0]))
    out = []
    for i, (key, v) in enumerate(ranked[:limit], start=1):
        info = res.channels.get(v["id"]) if v["id"] is not None else None
        title = (info.title if info else None) or (titles.get(v["id"]) if v["id"] is not None else None) or ""
        out.append((
            i, key, title, len(v["by"]), v["forwards"], v["mentions"], from_day(v["first"]).isoformat(),
            from_day(v["last"]).isoformat(), add_command(v["username"], v["id"]),
        ))
    return Report(
        name="discovery",
        columns=("rank", "candidate", "title", "referring_channels", "forwards", "mentions", "first_day",
                 "last_day", "command"),
        rows=out,
        meta=res.meta() | {"rank": "distinct watched channels referring, then forwards + mentions",
                           "watched_channels_searched": len(ids)},
    )
