"""The discovery queue analysts control: candidate channels with their evidence and a priority.

Candidates come from what the watched channels' posts point at (forwards, @mentions, t.me links)
and from successor detection (``monitor.reports.successors``: a channel taken down gets the channels
that look like its replacement). Each candidate carries every piece of evidence, so ``monitor
discovery why`` can show why it is there, and a priority that orders the queue:

    priority = (3 x referring channels + 0.5 x references (at most 20) + 2 x share of referring posts in
                the watched languages + 2 x share naming a group + 1 per distinct group (at most 3)
                + 5 when it is a successor candidate + 2 per watched channel Telegram finds it similar to
                (at most 3) + 1 per searched hashtag it posted (at most 3)) / distance

``distance`` is one more than the smallest distance of a channel pointing at it (a configured channel
is at 0; a channel accepted from the queue keeps the distance it was accepted at in its
``discovery_depth`` label); candidates beyond the depth limit are left out. A rejected candidate
stays out of the queue (the decision is stored), an accepted one is watched from then on.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from monitor.reports.periods import from_day
from monitor.reports.successors import successor_evidence

DEFAULT_LANGS = ("ru", "tg", "uz")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_PRIVATE = re.compile(r"^c/(\d{1,15})$")


@dataclass(slots=True)
class Candidate:
    ref: str  # "@username" or "id:N"
    username: str | None = None
    channel_id: int | None = None
    title: str | None = None
    referrers: set[str] = field(default_factory=set)
    forwards: int = 0
    mentions: int = 0
    langs: Counter[str] = field(default_factory=Counter)
    groups: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    grouped_posts: int = 0
    distance: int = 99  # set from the referrers; 99 = not yet known
    first_day: int | None = None
    last_day: int | None = None
    successor_of: set[str] = field(default_factory=set)
    recommended_for: set[str] = field(default_factory=set)  # watched channels Telegram finds it similar to
    hashtags: set[str] = field(default_factory=set)  # searched hashtags it posted
    lead_title: str | None = None
    evidence: list[str] = field(default_factory=list)
    decision: str | None = None
    quarantined: bool = False  # polled in quarantine, not yet accepted (monitor.quarantine)
    priority: float = 0.0

    def source_label(self) -> str:
        """What the watch-list label says about where the channel came from."""
        if self.successor_of:
            return "successor of " + ", ".join(sorted(self.successor_of))
        if not self.referrers and self.recommended_for:
            return "recommended by Telegram for " + ", ".join(sorted(self.recommended_for)[:5])
        if not self.referrers and self.hashtags:
            return "hashtag search " + ", ".join(sorted(self.hashtags)[:5])
        kinds = [k for k, n in (("forwarded", self.forwards), ("mentioned", self.mentions)) if n]
        return f"{' and '.join(kinds) or 'referenced'} by " + ", ".join(sorted(self.referrers)[:5])


def candidate_ref(username: str | None, channel_id: int | None) -> str | None:
    if username and _USERNAME.fullmatch(username):
        return f"@{username.lower()}"
    if channel_id is not None:
        return f"id:{int(channel_id)}"
    return None


def _watched(rows: list[dict[str, Any]]) -> tuple[dict[int, int], set[str], dict[int, dict[str, Any]]]:
    """Watched channel id -> distance; every ref of a watched channel; id -> channel row."""
    depth: dict[int, int] = {}
    refs: set[str] = set()
    by_id: dict[int, dict[str, Any]] = {}
    for r in rows:
        if r["id"] is not None:
            by_id[int(r["id"])] = r
        if not r["watched"]:
            continue
        for key in r["keys"]:
            refs.add(f"@{key.lower()}" if not key.startswith("id:") else key)
        if r["id"] is None:
            continue
        refs.add(f"id:{int(r['id'])}")
        if r["username"]:
            refs.add(f"@{str(r['username']).lower()}")
        try:
            depth[int(r["id"])] = max(0, int(r["labels"].get("discovery_depth", 0)))
        except (TypeError, ValueError):
            depth[int(r["id"])] = 0
    return depth, refs, by_id


async def build_queue(
    store: Any,
    *,
    since_day: int | None = None,
    until_day: int | None = None,
    depth_limit: int = 2,
    langs: tuple[str, ...] = DEFAULT_LANGS,
    include_decided: bool = False,
) -> list[Candidate]:
    """Every candidate within ``depth_limit`` of the watched set, highest priority first."""
    span = await store.report_day_range()
    lo = since_day if since_day is not None else (span[0] if span else 0)
    hi = until_day if until_day is not None else (span[1] if span else 0)
    rows = await store.report_channels()
    depth, watched_refs, by_id = _watched(rows)
    name_of = {cid: (f"@{r['username']}" if r["username"] else (r["title"] or f"id:{cid}")) for cid, r in by_id.items()}
    queue: dict[str, Candidate] = {}

    def get(ref: str, username: str | None, cid: int | None) -> Candidate:
        cand = queue.get(ref)
        if cand is None:
            cand = queue[ref] = Candidate(ref=ref, username=username, channel_id=cid)
        cand.username = cand.username or username
        cand.channel_id = cand.channel_id if cand.channel_id is not None else cid
        return cand

    refs_rows = await store.report_references(since_day=lo, until_day=hi, channel_ids=sorted(depth)) if depth else []
    dates: dict[int, str] = {}  # day -> ISO date, for the evidence lines (a month has 31 days, 21,000 references)
    for r in refs_rows:
        src = int(r["channel_id"])
        src_name = name_of.get(src, f"id:{src}")
        targets: list[tuple[str, str | None, int | None, str]] = []
        fid = None if r["fwd_channel_id"] is None else int(r["fwd_channel_id"])
        if fid is not None and fid not in depth:  # a watched source is no candidate (as the check below says)
            known = by_id.get(fid)
            username = known["username"] if known else None
            ref = candidate_ref(username, fid)
            if ref:
                targets.append((ref, username, fid, "forward"))
        for mention in r["mentions"]:
            private = _PRIVATE.fullmatch(str(mention))
            if private:
                ref = f"id:{int(private.group(1))}"
                targets.append((ref, None, int(private.group(1)), "mention"))
            elif _USERNAME.fullmatch(str(mention)):
                targets.append((f"@{str(mention).lower()}", str(mention).lower(), None, "mention"))
        for ref, username, cid, kind in targets:
            if ref in watched_refs or (cid is not None and cid in depth):
                continue
            cand = get(ref, username, cid)
            cand.referrers.add(src_name)
            if kind == "forward":
                cand.forwards += 1
            else:
                cand.mentions += 1
            cand.posts += 1
            cand.langs[str(r["lang"])] += 1
            if r["groups"]:
                cand.grouped_posts += 1
                cand.groups.update(str(g) for g in r["groups"])
            day = int(r["day"])
            date = dates.get(day)
            if date is None:
                date = dates[day] = from_day(day).isoformat()
            cand.first_day = day if cand.first_day is None else min(cand.first_day, day)
            cand.last_day = day if cand.last_day is None else max(cand.last_day, day)
            cand.distance = min(cand.distance, depth.get(src, 0) + 1)
            cand.evidence.append(
                f"{date} {src_name} post {r['message_id']}: {'forwarded from' if kind == 'forward' else 'mentions or links'} {ref}"
            )
    for ref, (of, lines) in (await successor_evidence(store, refs_rows=refs_rows, by_id=by_id, name_of=name_of,
                                                      watched_refs=watched_refs)).items():
        cand = get(ref, ref[1:] if ref.startswith("@") else None, int(ref[3:]) if ref.startswith("id:") else None)
        cand.successor_of |= of
        cand.evidence.extend(lines)
        cand.distance = min(cand.distance, 1 + min((depth.get(c, 0) for c in by_id if name_of.get(c) in of), default=0))
    for lead in await store.discovery_leads():
        if lead.ref in watched_refs or (lead.channel_id is not None and lead.channel_id in depth):
            continue
        cand = get(lead.ref, lead.username.lower() if lead.username else None, lead.channel_id)
        cand.lead_title = cand.lead_title or lead.title
        seen = lead.seen_at.date().isoformat()
        if lead.via == "recommended":
            cand.recommended_for.add(lead.basis)
            cand.evidence.append(f"{seen} Telegram recommends it as similar to {lead.basis}")
            basis_depth = min((depth.get(c, 0) for c in by_id if name_of.get(c) == lead.basis and c in depth),
                              default=0)
            cand.distance = min(cand.distance, basis_depth + 1)
        else:
            cand.hashtags.add(lead.basis)
            cand.evidence.append(f"{seen} {lead.hits} public post(s) with {lead.basis} (hashtag search)")
            cand.distance = min(cand.distance, 1)  # the analysts chose the hashtag: as near as a reference
    forwarded = await store.report_forward_names(sorted({c.channel_id for c in queue.values() if c.channel_id is not None}))
    for cand in queue.values():
        known = by_id.get(cand.channel_id) if cand.channel_id is not None else None
        cand.title = (known["title"] if known else None) or (
            forwarded.get(cand.channel_id) if cand.channel_id is not None else None) or cand.lead_title
        cand.priority = priority(cand, langs)
    decisions = await store.discovery_decisions()
    in_quarantine = {q.ref for q in await store.quarantined()}
    out = []
    for cand in queue.values():
        if cand.distance > depth_limit:
            continue
        decided = decisions.get(cand.ref)
        cand.decision = decided[0] if decided else None
        cand.quarantined = cand.ref in in_quarantine
        if decided and not include_decided:
            continue
        out.append(cand)
    out.sort(key=lambda c: (-c.priority, c.ref))
    return out


def priority(cand: Candidate, langs: tuple[str, ...]) -> float:
    posts = max(cand.posts, 1)
    score = 3 * len(cand.referrers) + 0.5 * min(cand.forwards + cand.mentions, 20)
    score += 2 * sum(n for lang, n in cand.langs.items() if lang in langs) / posts
    score += 2 * cand.grouped_posts / posts + min(len(cand.groups), 3)
    score += 5 if cand.successor_of else 0
    score += 2 * min(len(cand.recommended_for), 3) + min(len(cand.hashtags), 3)
    return round(score / max(cand.distance, 1), 2)


def find(queue: list[Candidate], ref: str) -> Candidate | None:
    """The candidate an analyst named: @name, name, t.me/name or id:N (case-insensitive)."""
    text = ref.strip()
    for prefix in ("https://", "http://", "t.me/", "telegram.me/"):
        text = text.removeprefix(prefix)
    text = text.strip("/").lower()
    wanted = text if text.startswith(("@", "id:")) else (f"id:{text}" if text.isdigit() else f"@{text}")
    return next((c for c in queue if c.ref == wanted), None)


__all__ = ["Candidate", "build_queue", "candidate_ref", "find", "priority"]
