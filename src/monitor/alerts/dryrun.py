"""Dry-run a rule over stored posts: what would it have sent? Nothing is written.

Why replay rather than query: the live engine's decisions depend on history as it
was when each post arrived (was the term new then? was the rule cooling down?).
The dry-run replays stored posts through the same ``Evaluator`` against an in-memory
history, and on the daemon's clock: in the order the collector stored them, each
stored batch evaluated at the moment it was stored (``first_seen_at``), with the
same ``max_post_age`` cut. Replaying at publication times instead (as this module
once did) moves every cool-down: the daemon sees a morning's posts together at the
next poll, so a 12-hour cool-down started by the first of them suppresses others
that, spaced by their publication times, would have fired, and the reverse.
Spike windows are counted over the posts replayed so far, up to and including the batch
being judged: what the collector's posts table held inside the transaction that saved and
judged it (counting the whole table would include posts a later batch brought in). The watch
list and labels are read from the store's read-only connection. Posts before
``since`` (a look-back sized to the rule, its cool-down and its spike baseline) only
build history; alerts they fire only set the cool-down, as they did in the collector.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from monitor.alerts.config import AlertRule, AlertsConfig
from monitor.alerts.engine import Evaluator
from monitor.models import DiscoveredRow, RuleNote, RuleRecord, Series, TermRow, TermStat
from monitor.store.ports import AlertHistory, HistoryReads
from monitor.alerts.retro import TextTagger, retag_page
from monitor.alerts.rules import DAY, WEEK, ChannelContext
from monitor.models import Alert, TaggedPost


@dataclass(slots=True)
class _Stat:
    first_seen_at: datetime
    total: int


@dataclass(slots=True)
class _Record:
    kind: str = ""
    detection_hash: str | None = None
    last_fired_at: datetime | None = None
    suppressed: int = 0


class MemoryHistory:
    """A History that keeps everything it learns in memory and reads store facts read-only."""

    def __init__(self, reads: HistoryReads) -> None:
        self._reads = reads
        self._terms: dict[str, _Stat] = {}
        self._days: dict[str, dict[int, int]] = defaultdict(dict)
        self._discovered: dict[str, int] = {}
        self._rules: dict[str, _Record] = {}
        self._dedup: set[str] = set()
        self._labels: dict[int, dict[str, str]] = {}
        self._watched: frozenset[str] | None = None
        self._posts_start: datetime | None = None
        self._posts_start_known = False
        # series -> (posted_at, channel_id, lang) of the posts replayed so far, by posted_at: what the
        # collector's posts table held when it judged a batch (posts stored later are not counted)
        self._series: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
        self.alerts: list[Alert] = []

    def record(self, posts: Sequence[TaggedPost]) -> None:
        """Count a stored batch into the spike series, as saving it did in the collector's database."""
        for tagged in posts:
            post, tags = tagged.post, tagged.tags
            item = (int(post.posted_at.timestamp()), post.channel_id, tags.lang)
            keys = [("group", g) for g in tags.groups] + [("language", tags.lang), ("channel", str(post.channel_id))]
            for key in keys:
                insort(self._series[key], item)

    async def term_stats(self, terms: Sequence[str]) -> Mapping[str, TermStat]:
        return {t: TermStat(self._terms[t].first_seen_at, self._terms[t].total) for t in terms if t in self._terms}

    async def term_days(
        self, terms: Sequence[str], first_day: int, last_day: int
    ) -> dict[str, dict[int, int]]:
        return {
            t: {d: c for d, c in self._days[t].items() if first_day <= d <= last_day}
            for t in terms
            if t in self._days
        }

    async def history_start(self) -> datetime | None:
        return min((s.first_seen_at for s in self._terms.values()), default=None)

    async def add_terms(self, rows: Sequence[TermRow]) -> None:
        for r in rows:
            self._days[r.term][r.day] = self._days[r.term].get(r.day, 0) + r.count
            stat = self._terms.get(r.term)
            if stat is None:
                self._terms[r.term] = _Stat(r.first_seen_at, r.count)
            else:
                stat.total += r.count
                stat.first_seen_at = min(stat.first_seen_at, r.first_seen_at)

    async def seed_terms(self, rows: Sequence[TermRow]) -> None:
        await self.add_terms(rows)

    async def prune_term_days(self, before_day: int) -> int:
        return 0  # a replay is short; nothing to prune

    async def discovered(self, refs: Sequence[str]) -> dict[str, int]:
        return {r: self._discovered[r] for r in refs if r in self._discovered}

    async def add_discovered(self, rows: Sequence[DiscoveredRow], *, seed: bool = False) -> None:
        for r in rows:
            self._discovered[r.ref] = self._discovered.get(r.ref, 0) + r.hits

    async def rule_records(self) -> Mapping[str, RuleRecord]:
        return {
            name: RuleRecord(name, r.kind, r.detection_hash, None, r.last_fired_at, r.suppressed)
            for name, r in self._rules.items()
        }

    async def note_rule(self, note: RuleNote) -> None:
        rec = self._rules.setdefault(note.name, _Record(kind=note.kind))
        if note.fired:
            rec.last_fired_at, rec.suppressed = note.now, 0
        else:
            rec.suppressed += note.suppressed

    async def alert_exists(self, dedup_key: str) -> bool:
        return dedup_key in self._dedup

    async def insert_alert(self, alert: Alert, sinks: Sequence[str], *, now: datetime) -> Alert | None:
        if alert.dedup_key in self._dedup:
            return None
        self._dedup.add(alert.dedup_key)
        self.alerts.append(alert)
        return alert

    async def series_counts(self, series: Series, windows: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """Posts of one series in each (start, end] window by posted_at, among the posts replayed so far."""
        items = self._series.get((series.on, series.value), [])
        ids = None if series.channel_ids is None else set(series.channel_ids)
        langs = set(series.languages)
        out = []
        for start, end in windows:
            lo = bisect_right(items, (int(start.timestamp()), 1 << 62, "\uffff"))
            hi = bisect_right(items, (int(end.timestamp()), 1 << 62, "\uffff"))
            out.append(sum(1 for _, cid, lang in items[lo:hi]
                           if (ids is None or cid in ids) and (not langs or lang in langs)))
        return out

    # facts the posts table already holds: read-only from the store

    async def posts_start(self) -> datetime | None:
        if not self._posts_start_known:
            self._posts_start = await self._reads.posts_start()
            self._posts_start_known = True
        return self._posts_start

    async def watched_refs(self) -> frozenset[str]:
        if self._watched is None:
            self._watched = await self._reads.watched_refs()
        return self._watched

    async def channel_labels(self, channel_id: int) -> dict[str, str]:
        if channel_id not in self._labels:
            self._labels[channel_id] = await self._reads.channel_labels(channel_id)
        return self._labels[channel_id]

    async def channel_ids_with_labels(self, labels: Sequence[tuple[str, Sequence[str]]]) -> list[int]:
        return await self._reads.channel_ids_with_labels(labels)

    async def channel_ids_for_keys(self, keys: Sequence[str]) -> list[int]:
        return await self._reads.channel_ids_for_keys(keys)


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRunResult:
    rule: AlertRule
    since: datetime
    until: datetime
    alerts: tuple[Alert, ...]
    posts_replayed: int  # including the look-back that only built history
    posts_evaluated: int
    texts: int
    notes: tuple[str, ...] = field(default=())


DEFAULT_WINDOW = timedelta(days=30)


def lookback(rule: AlertRule) -> timedelta | None:
    """How far before ``since`` the replay starts to build history (term counts, cool-down, dedup);
    None = from the first post."""
    cooldown = timedelta(seconds=rule.cooldown or 0)
    if rule.kind == "new_term":
        return max(timedelta(seconds=max(rule.warmup, rule.within)), cooldown)
    if rule.kind == "rising_term":
        return max(timedelta(seconds=rule.history_days * DAY + rule.window), cooldown)
    if rule.kind == "new_channel":
        return None
    if rule.kind == "spike":  # every baseline window is replayed: spike counts come from the replay
        step = WEEK if rule.baseline == "weekly" else DAY
        return max(timedelta(seconds=rule.baseline_periods * step + rule.window), cooldown)
    return cooldown


async def dry_run(
    rule: AlertRule,
    config: AlertsConfig,
    store: AlertHistory,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    tagger: TextTagger | None = None,
    page: int = 1000,
    as_published: bool = False,
) -> DryRunResult:
    """Replay stored posts through ``rule`` (see module docstring); returns the alerts it would have sent.

    The window defaults to the 30 days up to the newest stored post (the data, not today's date).
    Posts are replayed as the daemon saw them: in the order they were stored, each batch evaluated at the
    moment it was stored (cool-downs and alert times run on that clock), and a post stored more than
    ``max_post_age`` after publication (backfill, import) only builds history. ``as_published`` instead
    replays every post as if it had been seen the moment it was published.
    """
    newest = await store.newest_post_at()
    anchor = newest or datetime.now(UTC)
    until = until or anchor + timedelta(seconds=1)  # exclusive: the newest post is in
    since = since or anchor - DEFAULT_WINDOW
    rule = replace(rule, enabled=True)
    evaluator = Evaluator(config, [rule])
    history = MemoryHistory(store.alert_reader())
    back = lookback(rule)
    start = None if back is None else since - back
    max_age = timedelta(seconds=config.max_post_age)
    counts = {"replayed": 0, "evaluated": 0, "texts": 0, "late": 0}

    async def rows() -> AsyncIterator[tuple[TaggedPost, str | None, datetime]]:
        """Stored posts in the order of the replay, re-tagged with ``tagger`` when given, counted."""
        after: tuple[int, int] | None = None
        published_after: tuple[int, int, int] | None = None
        while True:
            if as_published:
                plain = await store.replay_posts(since=start, until=until, after=published_after, limit=page)
                page_rows = [(t, u, t.post.posted_at, 0) for t, u in plain]
            else:
                page_rows = await store.replay_stored(since=start, until=until, after=after, limit=page)
            if not page_rows:
                return
            fresh_tags = await retag_page(tagger, [row[0].post.text for row in page_rows])
            for index, (tagged, username, stored_at, _seq) in enumerate(page_rows):
                post = tagged.post
                counts["replayed"] += 1
                if post.text:
                    counts["texts"] += 1
                    if fresh_tags is not None:
                        tagged = replace(tagged, tags=fresh_tags[index])
                if post.posted_at >= since:
                    counts["evaluated"] += 1
                    if stored_at - post.posted_at > max_age:
                        counts["late"] += 1
                yield tagged, username, stored_at
            last = page_rows[-1]
            after = (int(last[2].timestamp()), last[3])
            published_after = (int(last[0].post.posted_at.timestamp()), last[0].post.channel_id,
                               last[0].post.message_id)

    if as_published:
        async for tagged, username, _stored in rows():
            history.record([tagged])
            await _evaluate(evaluator, history, [tagged], tagged.post.channel_id, username,
                            now=tagged.post.posted_at, fresh_since=since)
    else:
        # one tick of the collector at a time: its batches, one per channel in stored order, each judged
        # with the posts stored before it and its own (see _judge_tick)
        tick: list[tuple[TaggedPost, str | None]] = []
        moment: datetime | None = None
        async for tagged, username, stored_at in rows():
            if tick and stored_at != moment:
                assert moment is not None
                await _judge_tick(evaluator, history, tick, moment, max_age)
                tick = []
            moment = stored_at
            tick.append((tagged, username))
        if tick and moment is not None:
            await _judge_tick(evaluator, history, tick, moment, max_age)
    replayed, evaluated, texts, late = counts["replayed"], counts["evaluated"], counts["texts"], counts["late"]
    # alerts on posts of the look-back only built cool-down and dedup state, as they did in the daemon
    alerts = tuple(a for a in history.alerts if _posted_at(a) is None or _posted_at(a) >= since)  # type: ignore[operator]  # the walrus-free filter calls _posted_at twice; the first call proved it is not None
    notes = []
    if rule.kind in ("new_term", "rising_term") and texts == 0:
        notes.append("no stored post text in range: term rules cannot be replayed (store_text is off?)")
    if rule.kind == "match" and tagger is None:
        notes.append("matched against the stored tags (re-tag with the current lexicon via `monitor retag`)")
    if late and not as_published:
        notes.append(
            f"{late} post(s) were stored more than max_post_age after publication (backfill or import):"
            " the daemon does not alert on them, so neither does this prediction; --as-published replays"
            " every post as if it had been seen when published"
        )
    return DryRunResult(
        rule=rule,
        since=since,
        until=until,
        alerts=alerts,
        posts_replayed=replayed,
        posts_evaluated=evaluated,
        texts=texts,
        notes=tuple(notes),
    )


def _posted_at(alert: Alert) -> datetime | None:
    value = alert.details.get("posted_at") if alert.details else None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


async def _judge_tick(evaluator: Evaluator, history: MemoryHistory, tick: list[tuple[TaggedPost, str | None]],
                      moment: datetime, max_age: timedelta) -> None:
    batch: list[TaggedPost] = []
    for index, (tagged, username) in enumerate(tick):
        batch.append(tagged)
        following = tick[index + 1][0].post.channel_id if index + 1 < len(tick) else None
        if following != tagged.post.channel_id:
            # the collector judges a batch inside the transaction that saves it: its own posts are in the
            # table, the batches of other channels saved later in the same tick are not yet
            history.record(batch)
            await _evaluate(evaluator, history, batch, tagged.post.channel_id, username,
                            now=moment, fresh_since=moment - max_age)
            batch = []


async def _evaluate(
    evaluator: Evaluator,
    history: MemoryHistory,
    posts: list[TaggedPost],
    channel_id: int,
    username: str | None,
    *,
    now: datetime,
    fresh_since: datetime,
) -> None:
    ctx = ChannelContext(id=channel_id, username=username, labels=await history.channel_labels(channel_id))
    await evaluator.evaluate(history, ctx, posts, now=now, fresh_since=fresh_since)
