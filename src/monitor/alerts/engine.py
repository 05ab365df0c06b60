"""The alert engine: after each saved batch, evaluate the rules over the NEW posts and store what fires.

Flow per batch (``prepare`` before the save, ``evaluate`` inside it, ``after`` once committed):

1. keep only posts the store just inserted (a re-fetched post never alerts twice);
2. in the SAME store transaction that saves the posts (``Store.save_posts(evaluate=...)``):
   read the history the rules need, count the batch into the term and discovered-channel
   history, decide, and write each alert with one 'pending' delivery row per sink (the
   delivery worker takes it from there). A post is therefore stored if and only if it was
   evaluated: a crash after the commit leaves nothing unevaluated, and the re-fetch after a
   crash before it inserts, and evaluates, the batch once;
3. posts older than ``max_post_age`` (first-sight backfill, imports) only feed history.

Cool-down is per rule: while it runs, alerts of the rule are counted as suppressed
(and the next alert says how many), not stored. De-duplication is the store's
UNIQUE dedup_key: per rule+post for match, rule+term(+day) for terms,
rule+series+window for spikes, rule+channel for new channels.

A failing engine never breaks collection: its writes are undone, the posts still commit
(``SaveResult.evaluation_error``), and the hooks log it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple


from monitor.alerts.config import AlertRule, AlertsConfig
from monitor.models import DiscoveredRow, RuleNote, Series, TermRow
from monitor.store.ports import AlertHistory, History
from monitor.alerts.retro import RetroHuntReport, TextTagger, retro_hunt
from monitor.alerts.rules import (
    DAY,
    ChannelContext,
    ChannelReference,
    NewTerm,
    channel_references,
    evaluate_match,
    in_cooldown,
    new_channel_alert,
    new_term_fires,
    new_terms_alert,
    rising_days,
    rising_verdict,
    spike_alert,
    spike_series,
    spike_verdict,
    spike_windows,
    term_alert,
)
from monitor.alerts.terms import TermHit, context, extract_terms
from monitor.clock import Clock
from monitor.models import Alert, Channel, PostKey, TaggedPost
from monitor.logger import get_logger

log = get_logger("monitor.alerts")

TERM_RULES = ("new_term", "rising_term")
MIN_TERM_DAYS = (
    35  # per-day term counts kept even without rising_term rules: enough for a retro-hunt to add one
)


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _at(value: int) -> datetime:
    """Epoch seconds (the engine's arithmetic) -> the aware datetime the store port takes."""
    return datetime.fromtimestamp(value, UTC)


class _Batch(NamedTuple):
    """One ``evaluate`` call, as its rule kinds read it: the history (bound to the save's transaction),
    the channel, the new posts, those fresh enough to fire, and the time."""

    history: History
    channel: ChannelContext
    posts: Sequence[TaggedPost]
    fresh: Sequence[TaggedPost]
    now: datetime


@dataclass
class _TermAgg:
    kind: str
    days: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    first: tuple[int, TaggedPost, TermHit] | None = None  # earliest (posted_at, post, hit)
    posts: list[tuple[TaggedPost, TermHit]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.days.values())


class Evaluator:
    """Decides and records the alerts of one batch against a History (the store's or an in-memory one)."""

    def __init__(self, config: AlertsConfig, rules: Sequence[AlertRule] | None = None) -> None:
        self.config = config
        self.rules = tuple(r for r in (rules if rules is not None else config.rules) if r.enabled)
        self._term_rules = [r for r in self.rules if r.kind in TERM_RULES]
        self._term_kinds = sorted({k for r in self._term_rules for k in r.term_kinds})
        self._term_min_length = min((r.min_length for r in self._term_rules), default=4)
        self._channel_rules = [r for r in self.rules if r.kind == "new_channel"]

    def post_terms(self, tagged: TaggedPost) -> list[TermHit]:
        """The terms the term rules count in one post (CPU work: folding and stemming)."""
        return extract_terms(
            tagged.post.text,
            tagged.tags.lang,
            mentions=tagged.post.mentions,
            kinds=self._term_kinds,
            min_length=self._term_min_length,
        )

    def batch_terms(self, posts: Sequence[TaggedPost]) -> dict[PostKey, list[TermHit]]:
        """Every post's terms, or {} when no term rule needs them."""
        if not self._term_rules:
            return {}
        return {p.post.key: self.post_terms(p) for p in posts}

    async def evaluate(
        self,
        history: History,
        channel: ChannelContext,
        posts: Sequence[TaggedPost],
        *,
        now: datetime,
        fresh_since: datetime,
        terms: Mapping[PostKey, Sequence[TermHit]] | None = None,
    ) -> list[Alert]:
        """Count ``posts`` (all new) into the history and store the alerts the fresh ones fire.

        ``terms``: each post's terms from ``extract_batch_terms``, computed before the save (off the
        event loop, outside the store's write transaction); posts missing from it are extracted here."""
        fresh = [p for p in posts if fresh_since <= p.post.posted_at <= now + timedelta(minutes=10)]
        batch = _Batch(history, channel, posts, fresh, now)
        candidates: list[tuple[AlertRule, Alert]] = []
        if self._term_rules:
            candidates += await self._terms(batch, terms or {})
        if self._channel_rules:
            candidates += await self._channels(batch)
        for rule in self.rules:
            if rule.kind == "match":
                for tagged in fresh:
                    alert = evaluate_match(rule, channel, tagged.post, tagged.tags, at=now)
                    if alert is not None:
                        candidates.append((rule, alert))
            elif rule.kind == "spike" and fresh:
                candidates += await self._spikes(batch, rule)
        return await self._record(history, candidates, now)

    # -- recording with dedup and cool-down ---------------------------------------------------
    async def _record(
        self, history: History, candidates: list[tuple[AlertRule, Alert]], now: datetime
    ) -> list[Alert]:
        if not candidates:
            return []
        records = dict(await history.rule_records())
        stored: list[Alert] = []
        last_fired: dict[str, datetime | None] = {}
        suppressed: dict[str, int] = defaultdict(int)
        for rule, alert in candidates:
            if await history.alert_exists(alert.dedup_key):
                continue
            if rule.name not in last_fired:
                rec = records.get(rule.name)
                last_fired[rule.name] = rec.last_fired_at if rec else None
                suppressed[rule.name] = rec.suppressed if rec else 0
            if in_cooldown(rule, last_fired[rule.name], now):
                suppressed[rule.name] += 1
                await history.note_rule(RuleNote(rule.name, rule.kind, now, suppressed=1))
                continue
            if suppressed[rule.name]:
                alert = replace(
                    alert, details={**alert.details, "suppressed_by_cooldown": suppressed[rule.name]}
                )
            saved = await history.insert_alert(alert, rule.sinks, now=now)
            if saved is None:
                continue
            stored.append(saved)
            last_fired[rule.name] = now
            suppressed[rule.name] = 0
            await history.note_rule(RuleNote(rule.name, rule.kind, now, fired=True))
        return stored

    # -- terms -----------------------------------------------------------------------------------
    async def _terms(
        self, batch: _Batch, extracted: Mapping[PostKey, Sequence[TermHit]]
    ) -> list[tuple[AlertRule, Alert]]:
        history, channel, posts, fresh, now = batch
        agg: dict[str, _TermAgg] = {}
        fresh_keys = {p.post.key for p in fresh}
        for tagged in posts:
            known = extracted.get(tagged.post.key)
            hits = known if known is not None else self.post_terms(tagged)
            posted = _ts(tagged.post.posted_at)
            for hit in hits:
                a = agg.setdefault(hit.key, _TermAgg(kind=hit.kind))
                a.days[posted // DAY] += 1
                if a.first is None or posted < a.first[0]:
                    a.first = (posted, tagged, hit)
                if tagged.post.key in fresh_keys:
                    a.posts.append((tagged, hit))
        if not agg:
            return []
        terms = sorted(agg)
        prior = await history.term_stats(terms)
        known_start = await history.history_start()
        start = None if known_start is None else _ts(known_start)
        batch_start = min(a.first[0] for a in agg.values() if a.first)
        start = batch_start if start is None else min(start, batch_start)
        rows = []
        for term in terms:
            a = agg[term]
            assert a.first is not None
            for day, count in a.days.items():
                rows.append(
                    TermRow(
                        term,
                        a.kind,
                        day,
                        count,
                        _at(a.first[0]),
                        a.first[1].post.channel_id,
                        a.first[1].post.message_id,
                    )
                )
        await history.add_terms(rows)
        out: list[tuple[AlertRule, Alert]] = []
        at = _ts(now)
        for rule in self._term_rules:
            passing = {t.post.key for t in fresh if _passes(rule, channel, t)}
            if not passing:
                continue
            new_by_post: dict[PostKey, list[NewTerm]] = defaultdict(list)
            posts_by_key: dict[PostKey, TaggedPost] = {}
            rising: list[tuple[str, TermHit, TaggedPost]] = []
            for term in terms:
                a = agg[term]
                first_usable = next(
                    (
                        (t, h)
                        for t, h in a.posts
                        if t.post.key in passing and h.kind in rule.term_kinds and _long_enough(h, rule)
                    ),
                    None,
                )
                if first_usable is None:
                    continue
                tagged, hit = first_usable
                if rule.kind == "rising_term":
                    rising.append((term, hit, tagged))
                    continue
                stat = prior.get(term)
                prior_total = stat.total if stat else 0
                first_seen = _ts(stat.first_seen_at) if stat else None
                if new_term_fires(
                    rule,
                    prior_total=prior_total,
                    new_total=prior_total + a.count,
                    first_seen_at=first_seen,
                    at=at,
                    history_start=start,
                ):
                    posts_by_key[tagged.post.key] = tagged
                    new_by_post[tagged.post.key].append(
                        NewTerm(
                            term=term,
                            surface=hit.surface,
                            context=_ctx(tagged, hit),
                            posts_before=prior_total,
                            posts_now=prior_total + a.count,
                            first_seen_at=first_seen
                            if first_seen is not None
                            else (a.first[0] if a.first else at),
                        )
                    )
            for key, found in new_by_post.items():
                out.append(
                    (rule, new_terms_alert(rule, found, at=now, channel=channel, post=posts_by_key[key].post))
                )
            if rising:
                out += await self._rising(history, rule, rising, channel, now, start)
        return out

    async def _rising(
        self,
        history: History,
        rule: AlertRule,
        candidates: Sequence[tuple[str, TermHit, TaggedPost]],
        channel: ChannelContext,
        now: datetime,
        history_start: int,
    ) -> list[tuple[AlertRule, Alert]]:
        """Each candidate term's recent count against its own earlier periods (one query for all)."""
        width = rising_days(rule)
        today = _ts(now) // DAY
        first_day = today - width * (rule.history_days // width + 1) + 1
        all_days = await history.term_days([c[0] for c in candidates], first_day, today)
        start_day = history_start // DAY
        out: list[tuple[AlertRule, Alert]] = []
        for term, hit, tagged in candidates:
            days = all_days.get(term, {})
            current = sum(days.get(d, 0) for d in range(today - width + 1, today + 1))
            if current < rule.effective_min_count:
                continue
            blocks: list[int] = []
            end = today - width
            while end - width + 1 >= first_day and end - width + 1 >= start_day:
                blocks.append(sum(days.get(d, 0) for d in range(end - width + 1, end + 1)))
                end -= width
            if len(blocks) < rule.min_history:
                continue
            verdict = rising_verdict(rule, current, blocks)
            if not verdict.fired:
                continue
            b = verdict.baseline
            out.append(
                (
                    rule,
                    term_alert(
                        rule,
                        term=term,
                        surface=hit.surface,
                        ctx=_ctx(tagged, hit),
                        at=now,
                        channel=channel,
                        post=tagged.post,
                        counts={
                            **b.as_dict(),
                            "window_days": width,
                            "factor": rule.factor,
                            "threshold": rule.threshold,
                        },
                        why=f"{hit.surface!r} (folded: {term}) is in {current} posts in the last {width}"
                        f" day(s) against a median of {b.median:g} over {len(blocks)} earlier periods"
                        f" (robust z {b.z:.2f} >= {rule.threshold:g}, >= {rule.factor:g}x median)",
                        period=str(today),
                    ),
                )
            )
        return out

    # -- spikes ------------------------------------------------------------------------------------
    async def _spikes(self, batch: _Batch, rule: AlertRule) -> list[tuple[AlertRule, Alert]]:
        history, channel, _, fresh, now = batch
        series: dict[tuple[str, str], TaggedPost] = {}
        for tagged in fresh:
            for s in spike_series(rule, channel, tagged.tags):
                if s not in series or tagged.post.posted_at > series[s].post.posted_at:
                    series[s] = tagged
        if not series:
            return []
        channel_ids: list[int] | None = None
        if rule.channels:
            channel_ids = await history.channel_ids_for_keys(rule.channels)
        if rule.labels:
            labelled = await history.channel_ids_with_labels(rule.labels)
            channel_ids = labelled if channel_ids is None else sorted(set(channel_ids) & set(labelled))
        oldest = await history.posts_start()
        posts_start = None if oldest is None else _ts(oldest)
        out: list[tuple[AlertRule, Alert]] = []
        for (on, value), tagged in sorted(series.items()):
            end = min(_ts(tagged.post.posted_at), _ts(now))
            current, base = spike_windows(rule, end)
            watched = Series(on, value, None if channel_ids is None else tuple(channel_ids),
                             tuple(rule.languages) if on != "language" else ())
            counts = await history.series_counts(watched, [(_at(lo), _at(hi)) for lo, hi in (current, *base)])
            known = sum(1 for w in base if posts_start is not None and w[0] >= posts_start)
            verdict = spike_verdict(rule, counts[0], counts[1:], known)
            if verdict.fired:
                label = (channel.username or channel.title) if on == "channel" else None
                out.append(
                    (
                        rule,
                        spike_alert(
                            rule,
                            (on, value),
                            verdict,
                            window=current,
                            at=now,
                            channel=channel,
                            post=tagged.post,
                            series_label=label,
                        ),
                    )
                )
        return out

    # -- new channels -----------------------------------------------------------------------------
    async def _channels(self, batch: _Batch) -> list[tuple[AlertRule, Alert]]:
        history, channel, posts, fresh, now = batch
        counting = replace(self._channel_rules[0], via=("forward", "link"), ignore_bots=False)
        hits: dict[str, int] = defaultdict(int)
        first: dict[str, tuple[TaggedPost, ChannelReference]] = {}
        for tagged in posts:
            for ref in channel_references(counting, channel, tagged.post):
                hits[ref.ref] += 1
                if ref.ref not in first or tagged.post.posted_at < first[ref.ref][0].post.posted_at:
                    first[ref.ref] = (tagged, ref)
        if not hits:
            return []
        prior = await history.discovered(sorted(hits))
        await history.add_discovered(
            [
                DiscoveredRow(
                    r,
                    first[r][1].name,
                    first[r][1].via,
                    first[r][0].post.posted_at,
                    first[r][0].post.channel_id,
                    first[r][0].post.message_id,
                    n,
                )
                for r, n in sorted(hits.items())
            ]
        )
        watched = await history.watched_refs()
        out: list[tuple[AlertRule, Alert]] = []
        for rule in self._channel_rules:
            for tagged in fresh:
                if not _passes(rule, channel, tagged):
                    continue
                for ref in channel_references(rule, channel, tagged.post):
                    if ref.ref in watched:
                        continue
                    before, after = prior.get(ref.ref, 0), prior.get(ref.ref, 0) + hits[ref.ref]
                    if before < rule.effective_min_count <= after:
                        out.append(
                            (
                                rule,
                                new_channel_alert(
                                    rule, ref, hits=after, at=now, channel=channel, post=tagged.post
                                ),
                            )
                        )
        return out


def _passes(rule: AlertRule, channel: ChannelContext, tagged: TaggedPost) -> bool:
    from monitor.alerts.rules import passes_filters

    return passes_filters(rule, channel, tagged.tags)


def _long_enough(hit: TermHit, rule: AlertRule) -> bool:
    return hit.kind != "word" or hit.letters >= rule.min_length


def _ctx(tagged: TaggedPost, hit: TermHit) -> str:
    return context(tagged.post.text, hit.start, hit.end) if hit.start >= 0 else ""


class AlertEngine:
    """Evaluates rules as posts arrive. ``store`` is a SQLiteStore with the AlertQueries mixin."""

    def __init__(
        self,
        config: AlertsConfig,
        store: AlertHistory,
        clock: Clock,
        *,
        tagger: TextTagger | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.tagger = tagger
        self._evaluator = Evaluator(config)
        self._synced = False
        self._sync_lock = asyncio.Lock()
        self._started_at = clock.now()  # posts stored from now on are counted live, not by retro-hunts
        self._pruned_at: datetime | None = None

    def term_days_kept(self) -> int:
        """Days of per-day term counts the rising_term rules need (the terms table is kept for ever)."""
        need = [r.history_days + rising_days(r) + 2 for r in self._evaluator.rules if r.kind == "rising_term"]
        return max([MIN_TERM_DAYS, *need])

    async def prune(self, now: datetime | None = None) -> int:
        """Drop per-day term counts older than the rules need; at most once a day from on_saved."""
        now = now or self.clock.now()
        self._pruned_at = now
        async with self.store.alert_transaction() as history:
            return await history.prune_term_days(_ts(now) // DAY - self.term_days_kept())

    def detection_hash(self, rule: AlertRule) -> str:
        """What a rule detects: its own fields and, for match rules, the lexicon and keywords the tagger
        was built from (tagger.version "lang=...;lex=..."), so a new group alias or keyword re-hunts."""
        version = str(getattr(self.tagger, "version", "") or "")
        if rule.kind != "match" or not version:
            return rule.detection_hash()
        lexicon = next((p for p in version.split(";") if p.startswith("lex=")), version)
        return f"{rule.detection_hash()}+{lexicon}"

    async def sync_rules(self, *, exclude: Collection[PostKey] = ()) -> list[RetroHuntReport]:
        """Retro-hunt every rule that is new or whose detection changed since the last run, and seed its
        history; the daemon calls this at start and after a config reload (else the first on_saved does,
        leaving its own batch out)."""
        self._synced = True
        records = await self.store.alert_reader().rule_records()
        reports = []
        for rule in self._evaluator.rules:
            rec = records.get(rule.name)
            wanted = self.detection_hash(rule)
            if rec is not None and rec.detection_hash == wanted:
                continue
            report = await retro_hunt(
                rule,
                self.store,
                self.tagger,
                at=self.clock.now(),
                exclude=exclude,
                stored_before=self._started_at,
                detection_hash=wanted,
            )
            log.info(
                "alerts.retro_hunt",
                rule=rule.name,
                kind=rule.kind,
                occurrences=report.total,
                seeded_terms=report.seeded_terms,
                seeded_channels=report.seeded_channels,
                reason="new rule" if rec is None else "rule changed",
            )
            reports.append(report)
        return reports

    def reload(self, config: AlertsConfig) -> None:
        """Take a new config; the next on_saved retro-hunts rules that changed."""
        self.config = config
        self._evaluator = Evaluator(config)
        self._synced = False
        self._started_at = self.clock.now()

    async def prepare(self, exclude: Collection[PostKey] = ()) -> None:
        """Retro-hunt rules that are new or changed, once, BEFORE a batch is saved (the retro-hunt takes
        its own transactions, so it cannot run inside the save). Never raises."""
        if self._synced or not self._evaluator.rules:
            return
        async with self._sync_lock:  # concurrent batches: one retro-hunt
            if not self._synced:
                try:
                    await self.sync_rules(exclude=exclude)
                except Exception:  # a failed retro-hunt must not stop alerting
                    self._synced = True
                    log.exception("alerts.retro_hunt_failed")

    async def evaluate(
        self,
        history: History,
        channel: Channel,
        posts: Sequence[TaggedPost],
        inserted_keys: Collection[PostKey],
        *,
        fire: bool = True,
        terms: Mapping[PostKey, Sequence[TermHit]] | None = None,
    ) -> list[Alert]:
        """Evaluate the rules over the newly inserted posts of a batch, with ``history`` of the transaction
        that saves them (``Store.save_posts(evaluate=...)``) or of its own. Raises what the history raises.

        ``fire=False`` (imports, unless ``alerts.fire_on_import``): the posts feed the term history and
        discovery like any other, but none of them may fire."""
        keys = set(inserted_keys)
        new = [p for p in posts if p.post.key in keys]
        if not new or not self._evaluator.rules:
            return []
        now = self.clock.now()
        labels = await history.channel_labels(channel.id)
        ctx = ChannelContext(id=channel.id, username=channel.username, title=channel.title, labels=labels)
        # nothing is "fresh" when the batch may not fire: every post then only feeds history
        fresh_since = now - timedelta(seconds=self.config.max_post_age) if fire else datetime.max.replace(tzinfo=UTC)
        return await self._evaluator.evaluate(history, ctx, new, now=now, fresh_since=fresh_since, terms=terms)

    async def batch_terms(self, posts: Sequence[TaggedPost]) -> dict[PostKey, list[TermHit]]:
        """Extract a batch's terms in a worker thread BEFORE the save, so the CPU work neither blocks the
        event loop nor runs under the store's write lock (every other channel's save waits on that)."""
        if not self._evaluator.rules:
            return {}
        return await asyncio.to_thread(self._evaluator.batch_terms, posts)

    async def after(self, alerts: Sequence[Alert]) -> None:
        """After the batch committed: log what fired, prune old term days at most once a day. Never raises."""
        try:
            now = self.clock.now()
            if self._evaluator.rules and (self._pruned_at is None or now - self._pruned_at >= timedelta(days=1)):
                dropped = await self.prune(now)
                if dropped:
                    log.info("alerts.term_days_pruned", rows=dropped, kept_days=self.term_days_kept())
            for alert in alerts:
                log.info("alerts.fired", rule=alert.rule, kind=alert.kind, alert_id=alert.id, link=alert.link)
        except Exception:
            log.exception("alerts.after_batch_failed")

    async def on_saved(
        self, channel: Channel, posts: Sequence[TaggedPost], inserted_keys: Collection[PostKey]
    ) -> list[Alert]:
        """Evaluate an already saved batch in a transaction of its own (tests, tools); never raises.
        The daemon and imports evaluate inside the save instead (``AlertHooks.evaluator``)."""
        try:
            keys = set(inserted_keys)
            if not any(p.post.key in keys for p in posts) or not self._evaluator.rules:
                return []
            await self.prepare(exclude=keys)
            async with self.store.alert_transaction() as history:
                alerts = await self.evaluate(history, channel, posts, keys)
            await self.after(alerts)
            return alerts
        except Exception:
            log.exception("alerts.engine_failed", channel_id=getattr(channel, "id", None), posts=len(posts))
            return []
