"""Retro-hunt: when a rule is added or changed, where did it already occur, and seed its history.

Why: an analyst who adds a keyword or a group alias wants to know where it already
appeared, and does not want the backlog to fire as if it were news. The engine
notices a changed rule by its detection hash (``AlertRule.detection_hash``, plus for match
rules the tagger's lexicon version, so a new group alias counts as a change) and calls
``retro_hunt``, which

* finds occurrences by the stored tags (indexed) and, for posts whose text is still
  stored, by re-tagging the text with the current tagger (a keyword added today is
  not in yesterday's tags);
* seeds history with max-merges, so seeding twice or over live counts never
  double-counts: term counts per day from stored texts (new_term, rising_term, and a
  match rule's own keywords, so new_term does not call them new), and channels
  referenced by stored posts (new_channel).

Reading goes through the store's read-only connection; each seed write is a short
transaction, so a retro-hunt never holds the writer for long.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from monitor.alerts.config import AlertRule
from monitor.models import DiscoveredRow, RuleNote, TermRow
from monitor.store.ports import AlertHistory
from monitor.alerts.rules import DAY, ChannelContext, channel_references, evaluate_match, post_link
from monitor.alerts.terms import extract_terms
from monitor.identity import is_id_key
from monitor.models import ForwardOrigin, Post, PostKey, Tags

_PAGE = 1000
_FLUSH_AT = 200_000  # (term, day) pairs held before a seed write


class TextTagger(Protocol):
    """What retro-hunt needs of ``monitor.tagging.Tagger``."""

    def tag(self, text: str) -> Tags: ...



def _at(value: int) -> datetime:
    """Epoch seconds (the store rows' posted_at) -> the aware datetime the history port takes."""
    return datetime.fromtimestamp(value, UTC)

@dataclass(frozen=True, slots=True, kw_only=True)
class Occurrence:
    channel_id: int
    message_id: int
    posted_at: datetime
    link: str
    via: str  # "tags", "text", "tags+text"; "references" for new_channel (the first post naming the channel)
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetroHuntReport:
    rule: str
    kind: str
    detection_hash: str
    total: int  # occurrences found (for new_channel: unwatched channels already referenced)
    by_tags: int
    by_text: int
    occurrences: tuple[Occurrence, ...]  # the oldest ``limit`` of them
    texts_scanned: int
    seeded_terms: int
    seeded_channels: int
    notes: tuple[str, ...] = ()


async def retro_hunt(
    rule: AlertRule,
    store: AlertHistory,
    tagger: TextTagger | None = None,
    *,
    at: datetime | None = None,
    limit: int = 200,
    seed: bool = True,
    exclude: Collection[PostKey] = (),
    stored_before: datetime | None = None,
    detection_hash: str | None = None,
) -> RetroHuntReport:
    """Report where ``rule`` already occurred in stored posts and (``seed``) seed its history.

    ``exclude``: posts the live engine is about to count itself (the batch that triggered a
    lazy retro-hunt); they are neither reported nor seeded. ``stored_before``: only posts the store
    took in before this moment (the engine passes its start: later posts go through ``on_saved`` and
    are counted live, so seeding them too would count them twice). ``detection_hash`` is recorded
    as the rule's (default ``rule.detection_hash()``; the engine adds the tagger's lexicon version).
    """
    recorded_hash = detection_hash or rule.detection_hash()
    skip = set(exclude)
    now = at or datetime.now(UTC)
    reader = store.alert_reader()
    found: dict[tuple[int, int], Occurrence] = {}
    tag_hits = text_hits = texts = seeded_terms = seeded_channels = 0
    notes: list[str] = []
    labels_cache: dict[int, dict[str, str]] = {}

    async def ctx_for(channel_id: int, username: str | None) -> ChannelContext:
        if channel_id not in labels_cache:
            labels_cache[channel_id] = await reader.channel_labels(channel_id)
        return ChannelContext(id=channel_id, username=username, labels=labels_cache[channel_id])

    def add(
        cid: int, mid: int, posted: datetime, username: str | None, via: str, matched: Iterable[str]
    ) -> None:
        key = (cid, mid)
        old = found.get(key)
        if old is None:
            found[key] = Occurrence(
                channel_id=cid,
                message_id=mid,
                posted_at=posted,
                link=post_link(cid, username, mid),
                via=via,
                matched=tuple(sorted(set(matched))),
            )
        elif via not in old.via.split("+"):
            found[key] = Occurrence(
                channel_id=cid,
                message_id=mid,
                posted_at=posted,
                link=old.link,
                via=f"{old.via}+{via}",
                matched=tuple(sorted(set(old.matched) | set(matched))),
            )

    # (term, day) -> [posts, first posted_at, first channel, first message]: a match rule's own keywords
    keyword_rows: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    keyword_counted: set[tuple[int, int]] = set()
    extra: list[Occurrence] = []

    if rule.kind == "match":
        for kind, values in (("group", rule.groups), ("person", rule.people), ("keyword", rule.keywords)):
            for row in await store.tagged_posts(kind, values, stored_before=stored_before):
                if (row["channel_id"], row["message_id"]) in skip:
                    continue
                ctx = await ctx_for(row["channel_id"], row["username"])
                tags = Tags(
                    lang=row["lang"],
                    groups=(row["value"],) if kind == "group" else (),
                    people=(row["value"],) if kind == "person" else (),
                    keywords=(row["value"],) if kind == "keyword" else (),
                )
                post = Post(
                    channel_id=row["channel_id"],
                    message_id=row["message_id"],
                    posted_at=datetime.fromtimestamp(row["posted_at"], UTC),
                )
                if evaluate_match(rule, ctx, post, tags, at=now) is None:
                    continue
                tag_hits += 1
                add(post.channel_id, post.message_id, post.posted_at, row["username"], "tags", [row["value"]])
                if kind == "keyword":
                    _count_keyword(keyword_rows, row["value"], row["lang"], post)
                    keyword_counted.add(post.key)
        after = None
        while True:
            page = await store.replay_posts(
                after=after, limit=_PAGE, text_only=True, stored_before=stored_before
            )
            if not page:
                break
            fresh_tags = await retag_page(tagger, [t.post.text for t, _ in page])
            for index, (tagged, username) in enumerate(page):
                if tagged.post.key in skip:
                    continue
                texts += 1
                post = tagged.post
                tags = fresh_tags[index] if fresh_tags is not None else tagged.tags
                ctx = await ctx_for(post.channel_id, username)
                alert = evaluate_match(rule, ctx, post, tags, at=now)
                if alert is None:
                    continue
                text_hits += 1
                matched = sorted(
                    (set(rule.groups) & set(tags.groups))
                    | (set(rule.people) & set(tags.people))
                    | (set(rule.keywords) & set(tags.keywords))
                )
                add(post.channel_id, post.message_id, post.posted_at, username, "text", matched)
                if post.key not in keyword_counted:  # each post counts once, found by tags or by text
                    keyword_counted.add(post.key)
                    for kw in set(rule.keywords) & set(tags.keywords):
                        _count_keyword(keyword_rows, kw, tags.lang, post)
            last = page[-1][0].post
            after = (int(last.posted_at.timestamp()), last.channel_id, last.message_id)
        if tagger is None:
            notes.append("no tagger given: stored texts were matched by their stored tags only")
        if seed and keyword_rows:
            rows = [TermRow(t, "word", d, v[0], _at(v[1]), v[2], v[3]) for (t, d), v in keyword_rows.items()]
            async with store.alert_transaction() as tx:
                await tx.seed_terms(rows)
            seeded_terms = len({t for t, _ in keyword_rows})
    elif rule.kind in ("new_term", "rising_term"):
        seeded_terms, texts = await _seed_terms(rule, store, seed, skip, stored_before)
        if texts == 0:
            notes.append(
                "no post text is stored (store_text off or past retention): nothing to seed; the rule's"
                " warm-up keeps it quiet until its history is long enough"
            )
    elif rule.kind == "new_channel":
        seeded_channels, unwatched = await _seed_channels(rule, store, seed, skip, stored_before)
        for ref, (cid, mid, posted) in sorted(unwatched.items(), key=lambda kv: kv[1][2]):
            extra.append(
                Occurrence(
                    channel_id=cid,
                    message_id=mid,
                    posted_at=datetime.fromtimestamp(posted, UTC),
                    link=post_link(cid, None, mid),
                    via="references",
                    matched=(ref,),
                )
            )
        tag_hits = len(unwatched)
    else:
        notes.append("a spike rule's history is the posts table itself: nothing to seed")
    if seed:
        async with store.alert_transaction() as tx:
            await tx.note_rule(RuleNote(rule.name, rule.kind, now, detection_hash=recorded_hash, seeded=True))
    ordered = sorted([*found.values(), *extra], key=lambda o: (o.posted_at, o.channel_id, o.message_id))
    return RetroHuntReport(
        rule=rule.name,
        kind=rule.kind,
        detection_hash=recorded_hash,
        total=len(ordered),
        by_tags=tag_hits,
        by_text=text_hits,
        occurrences=tuple(ordered[:limit]),
        texts_scanned=texts,
        seeded_terms=seeded_terms,
        seeded_channels=seeded_channels,
        notes=tuple(notes),
    )


async def retag_page(tagger: TextTagger | None, texts: list[str]) -> list[Tags] | None:
    """Tag a page of stored texts in a worker thread: the tagger is CPU-bound and the loop is shared."""
    if tagger is None:
        return None
    return await asyncio.to_thread(lambda: [tagger.tag(text) for text in texts])


def _count_keyword(rows: dict[tuple[str, int], list[int]], keyword: str, lang: str, post: Post) -> None:
    posted = int(post.posted_at.timestamp())
    for hit in extract_terms(keyword, lang, kinds=("word", "hashtag", "mention"), min_length=1):
        slot = rows[(hit.key, posted // DAY)]
        if slot[0] == 0 or posted < slot[1]:
            slot[1], slot[2], slot[3] = posted, post.channel_id, post.message_id
        slot[0] += 1


@dataclass(slots=True)
class _Pending:
    kind: str
    count: int
    first_seen_at: int
    channel_id: int
    message_id: int


async def _seed_terms(
    rule: AlertRule, store: AlertHistory, seed: bool, skip: set[PostKey], stored_before: datetime | None
) -> tuple[int, int]:
    """Recompute term counts per day from stored posts (words from kept texts, @names from every post's
    mentions) and max-merge them into the history."""
    pending: dict[tuple[str, int], _Pending] = {}
    seeded: set[str] = set()
    texts = 0
    current_day: int | None = None

    async def flush(upto_day: int | None) -> None:
        done = [k for k in pending if upto_day is None or k[1] < upto_day]
        if not done:
            return
        rows = [
            TermRow(t, p.kind, d, p.count, _at(p.first_seen_at), p.channel_id, p.message_id)
            for (t, d) in done
            for p in (pending[(t, d)],)
        ]
        if seed:
            async with store.alert_transaction() as tx:
                await tx.seed_terms(rows)
        seeded.update(t for t, _ in done)
        for k in done:
            del pending[k]

    after = None
    while True:
        page = await store.replay_posts(after=after, limit=_PAGE, stored_before=stored_before)
        if not page:
            break
        page_terms = await asyncio.to_thread(  # CPU-bound on a large backlog: off the event loop
            lambda page=page: [  # type: ignore[misc]  # the default argument binds this page into the lambda; mypy rejects the default's type
                extract_terms(
                    t.post.text,
                    t.tags.lang,
                    mentions=t.post.mentions,
                    kinds=rule.term_kinds,
                    min_length=rule.min_length,
                )
                for t, _ in page
            ]
        )
        for (tagged, _username), hits in zip(page, page_terms, strict=True):
            if tagged.post.key in skip:
                continue
            post = tagged.post
            texts += 1 if post.text else 0
            posted = int(post.posted_at.timestamp())
            day = posted // DAY
            if current_day is not None and day != current_day and len(pending) >= _FLUSH_AT:
                await flush(day)  # days before this one are complete: pages come in time order
            current_day = day
            for hit in hits:
                slot = pending.get((hit.key, day))
                if slot is None:
                    pending[(hit.key, day)] = _Pending(hit.kind, 1, posted, post.channel_id, post.message_id)
                else:
                    slot.count += 1
        last = page[-1][0].post
        after = (int(last.posted_at.timestamp()), last.channel_id, last.message_id)
    await flush(None)
    return len(seeded), texts


async def _seed_channels(
    rule: AlertRule, store: AlertHistory, seed: bool, skip: set[PostKey], stored_before: datetime | None
) -> tuple[int, dict[str, tuple[int, int, int]]]:
    """Count posts referencing each channel (forwards, links) and max-merge into discovered_channels."""
    counting = AlertRule(name=rule.name, kind=rule.kind, via=("forward", "link"), ignore_bots=False)
    hits: dict[str, int] = defaultdict(int)
    first: dict[str, tuple[int, int, int, str | None, str]] = {}
    after = None
    while True:
        page = await store.referencing_posts(after=after, limit=5000, stored_before=stored_before)
        if not page:
            break
        for row in page:
            if (row["channel_id"], row["message_id"]) in skip:
                continue
            post = Post(
                channel_id=row["channel_id"],
                message_id=row["message_id"],
                posted_at=datetime.fromtimestamp(row["posted_at"], UTC),
                forward=ForwardOrigin(channel_id=row["fwd_channel_id"], name=row["fwd_name"])
                if row["fwd_channel_id"] is not None
                else None,
                mentions=tuple(json.loads(row["mentions"] or "[]")),
            )
            for ref in channel_references(counting, ChannelContext(id=post.channel_id), post):
                hits[ref.ref] += 1
                if ref.ref not in first or row["posted_at"] < first[ref.ref][2]:
                    first[ref.ref] = (post.channel_id, post.message_id, row["posted_at"], ref.name, ref.via)
        after = (page[-1]["channel_id"], page[-1]["message_id"])
    if seed and hits:
        async with store.alert_transaction() as tx:
            await tx.add_discovered(
                [
                    DiscoveredRow(r, first[r][3], first[r][4], _at(first[r][2]), first[r][0], first[r][1], n)
                    for r, n in hits.items()
                ],
                seed=True,
            )
    watched = await store.alert_reader().watched_refs()
    unwatched = {
        r: (first[r][0], first[r][1], first[r][2])
        for r in hits
        if r not in watched
        and not (rule.ignore_bots and not is_id_key(r) and r.endswith("bot"))
        and (first[r][4] in rule.via)
    }
    return len(hits), unwatched
