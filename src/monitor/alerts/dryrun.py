"""Dry-run a rule over stored posts: what would it have sent? Nothing is written.

Why replay rather than query: the live engine's decisions depend on history as it
was when each post arrived (was the term new then? was the rule cooling down?).
The dry-run replays stored posts in publication order through the same ``Evaluator``
against an in-memory history; facts that the posts table already holds (window
counts for spikes, the watch list, labels) are read from the store's read-only
connection. Posts before ``since`` (a look-back sized to the rule) only build history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from monitor.alerts.config import AlertRule, AlertsConfig
from monitor.alerts.engine import Evaluator
from monitor.models import DiscoveredRow, RuleRecord, TermRow, TermStat
from monitor.store.ports import AlertHistory, HistoryReads
from monitor.alerts.retro import TextTagger, retag_page
from monitor.alerts.rules import DAY, ChannelContext
from monitor.models import Alert


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
        self.alerts: list[Alert] = []

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

    async def note_rule(
        self,
        name: str,
        kind: str,
        *,
        now: datetime,
        fired: bool = False,
        suppressed: int = 0,
        detection_hash: str | None = None,
        seeded: bool = False,
    ) -> None:
        rec = self._rules.setdefault(name, _Record(kind=kind))
        if fired:
            rec.last_fired_at, rec.suppressed = now, 0
        else:
            rec.suppressed += suppressed

    async def alert_exists(self, dedup_key: str) -> bool:
        return dedup_key in self._dedup

    async def insert_alert(self, alert: Alert, sinks: Sequence[str], *, now: datetime) -> Alert | None:
        if alert.dedup_key in self._dedup:
            return None
        self._dedup.add(alert.dedup_key)
        self.alerts.append(alert)
        return alert

    # facts the posts table already holds: read-only from the store
    async def series_counts(
        self,
        on: str,
        value: str,
        windows: Sequence[tuple[datetime, datetime]],
        *,
        channel_ids: Sequence[int] | None = None,
        languages: Sequence[str] = (),
    ) -> list[int]:
        return await self._reads.series_counts(
            on, value, windows, channel_ids=channel_ids, languages=languages
        )

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


def lookback(rule: AlertRule) -> timedelta | None:
    """How far before ``since`` the replay starts to build history; None = from the first post."""
    if rule.kind == "new_term":
        return timedelta(seconds=max(rule.warmup, rule.within))
    if rule.kind == "rising_term":
        return timedelta(seconds=rule.history_days * DAY + rule.window)
    if rule.kind == "new_channel":
        return None
    return timedelta(0)


async def dry_run(
    rule: AlertRule,
    config: AlertsConfig,
    store: AlertHistory,
    *,
    since: datetime,
    until: datetime | None = None,
    tagger: TextTagger | None = None,
    page: int = 1000,
) -> DryRunResult:
    """Replay stored posts through ``rule`` (see module docstring); returns the alerts it would have sent."""
    until = until or datetime.now(UTC)
    rule = replace(rule, enabled=True)
    evaluator = Evaluator(config, [rule])
    history = MemoryHistory(store.alert_reader())
    back = lookback(rule)
    start = None if back is None else since - back
    replayed = evaluated = texts = 0
    after = None
    while True:
        rows = await store.replay_posts(since=start, until=until, after=after, limit=page)
        if not rows:
            break
        fresh_tags = await retag_page(tagger, [t.post.text for t, _ in rows])
        for index, (tagged, username) in enumerate(rows):
            post = tagged.post
            replayed += 1
            if post.text:
                texts += 1
                if fresh_tags is not None:
                    tagged = replace(tagged, tags=fresh_tags[index])
            if post.posted_at >= since:
                evaluated += 1
            ctx = ChannelContext(
                id=post.channel_id, username=username, labels=await history.channel_labels(post.channel_id)
            )
            await evaluator.evaluate(history, ctx, [tagged], now=post.posted_at, fresh_since=since)
        last = rows[-1][0].post
        after = (int(last.posted_at.timestamp()), last.channel_id, last.message_id)
    notes = []
    if rule.kind in ("new_term", "rising_term") and texts == 0:
        notes.append("no stored post text in range: term rules cannot be replayed (store_text is off?)")
    if rule.kind == "match" and tagger is None:
        notes.append("matched against the stored tags (re-tag with the current lexicon via `monitor retag`)")
    return DryRunResult(
        rule=rule,
        since=since,
        until=until,
        alerts=tuple(history.alerts),
        posts_replayed=replayed,
        posts_evaluated=evaluated,
        texts=texts,
        notes=tuple(notes),
    )
