"""Successor candidates of channels that disappeared, each with its evidence.

When a watched channel is taken down (banned, deleted, restricted, private, or its username freed),
its audience is usually pointed to a replacement. Three kinds of evidence are gathered:

* announced: channels its own last posts (the two weeks before it went) mentioned or linked in a post
  that says so ("new channel", "backup", "запасной канал", "резервный", "zaxira kanal", "захира",
  "yangi kanal", "канали нав"); when the text is not kept every such mention counts, marked so;
* followers: channels that pointed at it before (its followers) and, within two weeks after, start
  forwarding from or linking a channel no other watched channel pointed at before;
* resemblance: a known or referenced channel whose username or title is close to the lost one's
  (rapidfuzz ratio at least ``RESEMBLANCE``; e.g. ``ozod_ovoz`` -> ``ozod_ovoz_2``).

Pure reading: the evidence goes into the discovery queue (``monitor.reports.queue``); nothing is watched
until an analyst accepts it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from rapidfuzz import fuzz

from monitor.lifecycle import TAKEDOWN_STATES
from monitor.reports.periods import to_day

ANNOUNCE = re.compile(
    r"(?i)(new channel|backup|reserve channel|запасн\w*|резервн\w*|новый канал|новый адрес|zaxira|zahira|"
    r"yangi kanal|захира|канали нав|канали захиравӣ)"
)
BEFORE = timedelta(days=14)  # the last posts looked at for announcements
AFTER = timedelta(days=14)  # how soon after the takedown the followers' new references count
RESEMBLANCE = 80  # rapidfuzz ratio (0-100) of usernames or titles
_PAGE = 1000  # posts per read of a lost channel's last two weeks
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


def _ref(username: str | None, cid: int | None) -> str | None:
    if username and _USERNAME.fullmatch(username):
        return f"@{username.lower()}"
    return f"id:{int(cid)}" if cid is not None else None


def _targets(row: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> list[str]:
    out = []
    if row["fwd_channel_id"] is not None:
        fid = int(row["fwd_channel_id"])
        ref = _ref((by_id.get(fid) or {}).get("username"), fid)
        if ref:
            out.append(ref)
    for mention in row["mentions"]:
        if _USERNAME.fullmatch(str(mention)):
            out.append(f"@{str(mention).lower()}")
    return out


async def successor_evidence(
    store: Any,
    *,
    refs_rows: list[dict[str, Any]],
    by_id: dict[int, dict[str, Any]],
    name_of: dict[int, str],
    watched_refs: set[str],
) -> dict[str, tuple[set[str], list[str]]]:
    """candidate ref -> (the lost channels it may succeed, evidence lines)."""
    events = await store.channel_events()
    by_key: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        by_key[event.key].append(event)
    lost: list[tuple[int, str, datetime]] = []  # (channel id, shown name, when it went): every episode
    for key, evs in by_key.items():
        cid = next((e.channel_id for e in evs if e.channel_id is not None), None)
        down = False
        for event in evs:
            gone = event.state == "username_freed" or event.state in TAKEDOWN_STATES
            if gone and not down and cid is not None:
                lost.append((cid, name_of.get(cid, f"@{key}"), event.at))
            if event.state in TAKEDOWN_STATES:
                down = True
            elif event.state == "active":
                down = False
    if not lost:  # nothing went: no successor to look for (the rest walks every reference)
        return {}
    found: dict[str, tuple[set[str], list[str]]] = defaultdict(lambda: (set(), []))

    def note(ref: str, of: str, line: str) -> None:
        if ref in watched_refs:
            return
        entry = found[ref]
        entry[0].add(of)
        entry[1].append(line)

    # every name we could propose: referenced usernames and known channels
    names: dict[str, str] = {}
    for r in refs_rows:
        for ref in _targets(r, by_id):
            names.setdefault(ref, ref[1:] if ref.startswith("@") else "")
    for cid, row in by_id.items():
        known = _ref(row.get("username"), cid)
        if known:
            names.setdefault(known, row.get("username") or "")
    # the wording of a lost channel's own last posts: read for those two weeks only (the references
    # carry no text: a month of them is tens of thousands of posts whose text nothing else needs)
    texts: dict[tuple[int, int], str | None] = {}
    for cid, _shown, went in lost:
        texts.update(await _texts(store, cid, went - BEFORE, went))
    for cid, shown, went in lost:
        own = by_id.get(cid) or {}
        username = (own.get("username") or "").lower()
        title = own.get("title") or ""
        own_refs = {r for r in (_ref(username, cid), f"id:{cid}") if r}
        since, until = (went - BEFORE).timestamp(), (went + AFTER).timestamp()
        followers: set[int] = set()
        seen_before: set[str] = set()  # every channel another watched channel pointed at before it went
        for r in refs_rows:
            at = int(r["posted_at"])
            src = int(r["channel_id"])
            targets = _targets(r, by_id)
            if at < went.timestamp():
                if src != cid:  # what the lost channel itself announced is the point, not noise
                    seen_before.update(targets)
                if own_refs & set(targets):
                    followers.add(src)
            if src == cid and since <= at <= went.timestamp():
                text = texts.get((src, int(r["message_id"])))
                said = ANNOUNCE.search(text) if text else None
                if text and said is None:
                    continue  # a source it cites, not an announcement
                for ref in targets:
                    if ref in own_refs:
                        continue
                    why = f" saying {said.group(0)!r}" if said else " (text not kept: the wording is not checked)"
                    day = datetime.fromtimestamp(at, UTC).date().isoformat()
                    note(ref, shown, f"{day} announced by {shown} in post {r['message_id']}{why}, before it went")
        for r in refs_rows:
            at = int(r["posted_at"])
            src = int(r["channel_id"])
            if src not in followers or not went.timestamp() <= at <= until:
                continue
            for ref in _targets(r, by_id):
                if ref in own_refs or ref in seen_before:
                    continue  # only a channel new to the watched set counts
                days = (at - went.timestamp()) / 86400
                note(ref, shown, f"{name_of.get(src, f'id:{src}')}, a follower of {shown}, points at it"
                                 f" {days:.1f} days after {shown} went (post {r['message_id']})")
        for ref, name in names.items():
            if ref in own_refs or not name or not username:
                continue
            score = fuzz.ratio(username, name.lower())
            if score >= RESEMBLANCE:
                note(ref, shown, f"username {name} resembles {shown} (similarity {score:.0f})")
        if title:
            for ocid, row in by_id.items():
                other = _ref(row.get("username"), ocid)
                if ocid == cid or not other or not row.get("title"):
                    continue
                score = fuzz.ratio(title.lower(), str(row["title"]).lower())
                if score >= RESEMBLANCE:
                    note(other, shown, f"title {row['title']!r} resembles {title!r} (similarity {score:.0f})")
    return dict(found)


async def _texts(store: Any, cid: int, since: datetime, until: datetime) -> dict[tuple[int, int], str | None]:
    """(channel, message) -> stored text (None when not kept) of one channel's posts between two times."""
    out: dict[tuple[int, int], str | None] = {}
    offset = 0
    while True:
        rows = await store.report_posts(since_day=to_day(since), until_day=to_day(until), limit=_PAGE,
                                        offset=offset, channel_ids=[cid])
        for r in rows:
            out[(cid, int(r["message_id"]))] = r["text"]
        if len(rows) < _PAGE:
            return out
        offset += _PAGE


__all__ = ["ANNOUNCE", "successor_evidence"]
