"""The store's ports: every method a backend implements, in one place, grouped by the role that uses it.

Why roles: each caller depends on the smallest interface it needs (the pipeline on ``PostWrites``
and ``WatchList``, reports on ``ReportReads``, the alert engine on ``AlertHistory``, the delivery
worker on ``Outbox``), while a backend implements them all: ``Store`` is their union, and
``monitor.store.open_store`` returns one. A backend is finished when ``tests/store/`` (the
contract suite) passes against it; SQLiteStore is checked against ``Store`` by mypy.

Rules every backend keeps:
- Records in and out are the frozen records of ``monitor.models``; no library type crosses.
- Datetimes crossing the port are UTC-aware. A "day" is a UTC calendar day number (days since
  1970-01-01), the unit of the report and term-history APIs.
- No raw SQL and no file path is part of the port. Report meta names a logical source.
- Errors: every method may raise ``StoreClosedError`` when used before ``open()`` or after
  ``close()``, and ``StoreError`` when the database refuses; other exceptions are bugs.
- ``save_posts`` writes posts, tags, metric samples and the channel checkpoint in ONE
  transaction, so a crash at any moment loses nothing and a re-fetch stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict, Unpack

from monitor.models import (
    AccountState,
    Alert,
    AlertAck,
    AuditEntry,
    Channel,
    ChannelEvent,
    ChannelRef,
    ChannelSnapshot,
    Quarantined,
    DiscoveryLead,
    ClaimedDelivery,
    CollectorInfo,
    DiscoveredRow,
    Lease,
    MetricSample,
    PostKey,
    RuleNote,
    RuleRecord,
    Series,
    SaveResult,
    StoredAlert,
    StoredPost,
    Tags,
    TaggedPost,
    TaskState,
    TermRow,
    TermStat,
    WatchState,
    WebUser,
)

# A row of a report query: plain keys documented on each method (backends return the same keys).
ReportRow = dict[str, Any]


class PostFilters(TypedDict, total=False):
    """The filters every report over posts takes, as keyword arguments (what ``Resolved.filters()`` of
    ``monitor.reports.spec`` gives); absent, None or empty means all. A post passes ``tags`` when it carries any of the
    given values of each kind."""

    channel_ids: Sequence[int] | None
    tags: Mapping[str, Sequence[str]] | None
    langs: Sequence[tuple[str, str | None]]  # (language, script or None for any script)
    scripts: Sequence[str]


class Lifecycle(Protocol):
    """Opening and closing a store."""

    url: str

    async def open(self) -> None:
        """Connect and bring the schema up to date. Raises MigrationError, StoreError."""
        ...

    async def close(self) -> None:
        """Release connections; idempotent, never raises."""
        ...


class WatchList(Protocol):
    """The configured channels, their resolution, status, poll history and flood-wait parks."""

    async def sync_watchlist(self, refs: Sequence[ChannelRef], *, at: datetime) -> None:
        """Make the watch list equal the config: add new refs, update labels/intervals, unwatch removed ones."""
        ...

    async def add_watch(self, ref: ChannelRef, *, at: datetime) -> bool:
        """Watch one channel; False when it was already watched."""
        ...

    async def remove_watch(self, key: str) -> bool:
        """Stop watching (state and posts stay); False when ``key`` was not watched."""
        ...

    async def watch_states(self, *, include_unwatched: bool = False) -> list[WatchState]:
        """Every watched channel (and unwatched ones on request), ordered by key."""
        ...

    async def set_resolved(self, key: str, channel: Channel, *, at: datetime) -> None:
        """Record what ``key`` resolved to; the channel becomes 'active'."""
        ...

    async def set_watch_status(
        self,
        key: str,
        status: str,
        *,
        reason: str | None = None,
        retry_at: datetime | None = None,
        at: datetime,
        error: str | None = None,
    ) -> None:
        """Set a channel's status (parked, private, not_found, ...) with why and when to retry."""
        ...

    async def record_poll(self, key: str, *, at: datetime, error: str | None = None) -> None:
        """Note a poll attempt; without ``error`` it also counts as the last success."""
        ...

    async def park(self, scope: str, until: datetime, reason: str = "") -> None:
        """Nothing of ``scope`` ("account" or a watch key) may be asked for until ``until``."""
        ...

    async def parks(self, *, now: datetime) -> dict[str, datetime]:
        """Parks still in force at ``now``: scope -> until."""
        ...


class PostWrites(Protocol):
    """Saving posts and keeping them: the one write path of collection, import and retag."""

    async def save_posts(
        self,
        channel_id: int,
        posts: Sequence[TaggedPost],
        *,
        at: datetime,
        checkpoint: int | None = None,
        store_text: bool = False,
        source: str = "telegram",
        evaluate: Evaluate | None = None,
    ) -> SaveResult:
        """Upsert a batch by (channel_id, message_id) with tags, samples and checkpoint in ONE transaction.

        Inserted posts are counted in ``inserted_keys``; edits and metric changes of stored posts
        in ``updated``. The checkpoint only moves forward. Raises StoreError for a post of another
        channel (nothing is written).

        ``evaluate`` (the alert engine) runs INSIDE that transaction when posts were inserted, with a
        ``History`` bound to it, so a post is stored if and only if it was evaluated: a crash can never
        leave saved posts unevaluated, and a replayed batch inserts (and evaluates) nothing. If it
        raises, its writes are rolled back (a savepoint), the posts still commit, and the error is
        returned in ``SaveResult.evaluation_error``.
        """
        ...

    async def record_samples(self, samples: Sequence[MetricSample]) -> None:
        """Append views/forwards samples of stored posts (samples of unknown posts are dropped)."""
        ...

    async def resample_candidates(self, channel_id: int, *, since: datetime) -> list[int]:
        """Message ids of posts newer than ``since``, whose views are still re-sampled."""
        ...

    async def purge_text(self, *, before: datetime) -> int:
        """Drop full text of posts published before ``before``; metadata, hashes and tags stay."""
        ...

    async def posts_for_retag(
        self, *, after: PostKey | None, limit: int, stale_only_version: str | None = None
    ) -> list[StoredPost]:
        """A page of stored posts in key order after ``after``; with ``stale_only_version``, only posts
        tagged by another tagger version."""
        ...

    async def count_for_retag(self, *, after: PostKey | None, stale_only_version: str | None = None) -> int:
        """How many posts ``posts_for_retag`` would page through."""
        ...

    async def update_tags(self, items: Sequence[tuple[PostKey, Tags, str]]) -> None:
        """Replace the tags (and tagger version) of stored posts, aggregates included, in one transaction."""
        ...

    async def get_post(self, key: PostKey) -> StoredPost | None:
        """One stored post, or None."""
        ...


class DaemonState(Protocol):
    """What ``monitor status`` reads of the daemon and the database."""

    async def heartbeat(self, *, pid: int, started_at: datetime, at: datetime) -> None:
        """The daemon is alive at ``at``."""
        ...

    async def last_heartbeat(self) -> tuple[int, datetime, datetime] | None:
        """(pid, started_at, beat_at) of the last daemon, or None."""
        ...

    async def counts(self) -> Mapping[str, int]:
        """Row counts for status: posts, channels, watched, samples, edits, texts_kept."""
        ...


class ReportReads(Protocol):
    """The read-only report queries; ``since_day``/``until_day`` are inclusive UTC day numbers."""

    async def report_day_range(self) -> tuple[int, int] | None:
        """First and last day holding posts, or None for an empty store."""
        ...

    async def report_channels(self) -> list[ReportRow]:
        """Every known channel: id, username, title, watched, labels, keys."""
        ...

    async def report_volume(
        self, *, since_day: int, until_day: int, every: str, dims: Sequence[str], **filters: Unpack[PostFilters]
    ) -> tuple[list[ReportRow], str]:
        """Posts, views, forwards per bucket and dims, and the logical source that answered
        ("daily aggregates", "posts", ...). Raises ValueError for an unknown dimension.

        Row keys: ``bucket`` (first day of the period), then ``channel_id``, ``tag_<kind>``,
        ``lang``/``script`` as asked, and ``posts``, ``views``, ``forwards``. A post with two
        tags of a grouped kind counts once under each; filters on a tag kind keep posts with
        any of the given values, counted once.
        """
        ...

    async def report_top_posts(
        self, *, since_day: int, until_day: int, order: str, limit: int, include_deleted: bool = True,
        **filters: Unpack[PostFilters],
    ) -> list[ReportRow]:
        """The ``limit`` posts with most ``order`` ("views" or "forwards"); ``deleted_at`` (epoch seconds)
        is set on posts found gone from their channel, which ``include_deleted=False`` leaves out."""
        ...

    async def report_pairs(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None, limit: int = 20
    ) -> list[ReportRow]:
        """Groups named together in one post: a, b, posts."""
        ...

    async def report_samples(
        self, *, since_day: int, until_day: int, dims: Sequence[str] = (), **filters: Unpack[PostFilters]
    ) -> list[ReportRow]:
        """Views samples with the post's age, for reach curves."""
        ...

    async def report_fingerprints(
        self, *, since_day: int, until_day: int, min_length: int, **filters: Unpack[PostFilters]
    ) -> list[ReportRow]:
        """Content hash and SimHash of posts at least ``min_length`` long, for spread."""
        ...

    async def report_forward_edges(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[ReportRow]:
        """Forward edges: source, target, posts, first and last day."""
        ...

    async def report_forward_names(self, channel_ids: Sequence[int]) -> dict[int, str]:
        """Newest forward-header name of each source channel id."""
        ...

    async def report_mentions(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[ReportRow]:
        """Channels mentioned or linked by posts, for discovery."""
        ...

    async def report_posts(
        self, *, since_day: int, until_day: int, limit: int, offset: int = 0, **filters: Unpack[PostFilters]
    ) -> list[ReportRow]:
        """The posts behind a report cell, oldest first (posted_at, channel_id, message_id), a page of
        ``limit`` after ``offset``: channel_id, message_id, posted_at, views, forwards, lang, script,
        groups, people, keywords, matches, links (JSON texts), text (None when not kept), username, title."""
        ...

    async def quarantined(self, *, include_accepted: bool = False) -> list[Quarantined]:
        """Channels in quarantine (and those accepted from it on request), ordered by key."""
        ...


class ChannelHistory(Protocol):
    """Channels that die and come back (``monitor.lifecycle``): state changes, profile history,
    deleted posts, out-links and analysts' discovery decisions. Writes are idempotent upserts."""

    async def add_channel_event(self, event: ChannelEvent) -> None:
        """Record one lifecycle change (the same key, moment and state twice is stored once)."""
        ...

    async def channel_events(
        self, *, keys: Sequence[str] | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> list[ChannelEvent]:
        """Lifecycle changes in [since, until) (all when None), oldest first, of ``keys`` (all when None)."""
        ...

    async def add_channel_snapshot(self, snapshot: ChannelSnapshot) -> None:
        """Record a channel's profile at one moment (a second sample at the same moment replaces it)."""
        ...

    async def channel_snapshots(self, channel_id: int, *, since: datetime | None = None) -> list[ChannelSnapshot]:
        """A channel's profile samples observed at or after ``since``, oldest first."""
        ...

    async def mark_deleted(self, channel_id: int, message_ids: Sequence[int], *, at: datetime, kind: str) -> int:
        """Give stored posts that are gone a deleted time and kind ("deleted", or "expired" for the
        channel's auto-delete timer); the rows and their text stay. Posts already marked keep their
        first mark. Returns the posts marked now."""
        ...

    async def report_deletions(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[ReportRow]:
        """Posts marked gone, by channel and day of publication: channel_id, day, deleted, expired, posts."""
        ...

    async def report_links(
        self, *, since_day: int, until_day: int, include_deleted: bool = True, **filters: Unpack[PostFilters]
    ) -> list[ReportRow]:
        """Out-links of posts: channel_id, message_id, day, url, domain, lang, script, groups (a list),
        preview_title, preview_site, deleted (bool)."""
        ...

    async def report_references(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[ReportRow]:
        """Posts that forward from a channel or mention/link one, oldest first: channel_id, message_id,
        day, posted_at (epoch seconds), fwd_channel_id, fwd_name, mentions (a list), lang, script,
        groups (a list); no text (the successor search reads the few texts it needs with
        ``report_posts``). The discovery queue's evidence."""
        ...

    async def set_discovery_decision(self, ref: str, decision: str, *, at: datetime, note: str | None = None) -> None:
        """Remember an analyst's "accepted" or "rejected" for a discovered channel (the last one counts)."""
        ...

    async def discovery_decisions(self) -> dict[str, tuple[str, datetime, str | None]]:
        """ref -> (decision, when, note) of every decision made."""
        ...

    async def add_quarantine(self, key: str, ref: str, priority: float, *, at: datetime) -> bool:
        """Poll ``key`` in quarantine: a quarantine row and an unwatched watch row (an unwatched one that
        exists is kept). False, and nothing written, when ``key`` is watched or already in quarantine."""
        ...

    async def accept_quarantined(self, key: str, *, at: datetime) -> bool:
        """End ``key``'s quarantine: its posts count as watched from now on. False when it was not in one."""
        ...

    async def add_discovery_leads(self, leads: Sequence[DiscoveryLead]) -> None:
        """Store what Telegram pointed to; the same (ref, via, basis) again updates hits, title, seen_at."""
        ...

    async def discovery_leads(self) -> list[DiscoveryLead]:
        """Every lead, ordered by ref, via, basis."""
        ...


class HistoryReads(Protocol):
    """The alert engine's reads of its history (inside its transaction, or on a reader)."""

    async def term_stats(self, terms: Sequence[str]) -> Mapping[str, TermStat]:
        """First sighting and total posts of each known term (unknown terms are absent)."""
        ...

    async def term_days(self, terms: Sequence[str], first_day: int, last_day: int) -> dict[str, dict[int, int]]:
        """term -> day -> posts, for days in [first_day, last_day]."""
        ...

    async def history_start(self) -> datetime | None:
        """When the oldest post the term history counted was published (survives pruning)."""
        ...

    async def discovered(self, refs: Sequence[str]) -> dict[str, int]:
        """Hits counted so far of each referenced channel (unknown refs are absent)."""
        ...

    async def rule_records(self) -> Mapping[str, RuleRecord]:
        """Stored state of every rule by name."""
        ...

    async def alert_exists(self, dedup_key: str) -> bool:
        """Whether an alert with this dedup key is stored."""
        ...

    async def series_counts(self, series: Series, windows: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """Posts of one series (on "group", "language" or "channel") in each (start, end] window."""
        ...

    async def posts_start(self) -> datetime | None:
        """Publication time of the oldest stored post."""
        ...

    async def watched_refs(self) -> frozenset[str]:
        """Every way a watched channel can be referred to: watch key, "id:<id>", username."""
        ...

    async def channel_labels(self, channel_id: int) -> dict[str, str]:
        """The analyst's labels of a channel ({} when unknown)."""
        ...

    async def channel_ids_with_labels(self, labels: Sequence[tuple[str, Sequence[str]]]) -> list[int]:
        """Channels whose labels match every (key, allowed values)."""
        ...

    async def channel_ids_for_keys(self, keys: Sequence[str]) -> list[int]:
        """Channel ids of watch keys, usernames or "id:N" keys."""
        ...


class History(HistoryReads, Protocol):
    """Reads plus the writes of one evaluated batch, all inside one store transaction."""

    async def add_terms(self, rows: Sequence[TermRow]) -> None:
        """Count NEW posts into the term history (added to what is there)."""
        ...

    async def seed_terms(self, rows: Sequence[TermRow]) -> None:
        """Set the history of the given terms from a retro-hunt (replaces, never double-counts)."""
        ...

    async def add_discovered(self, rows: Sequence[DiscoveredRow], *, seed: bool = False) -> None:
        """Count channel references (``seed``: replace the hits with the recounted ones)."""
        ...

    async def prune_term_days(self, before_day: int) -> int:
        """Drop per-day term counts before ``before_day``; returns rows dropped."""
        ...

    async def note_rule(self, note: RuleNote) -> None:
        """Record that a rule fired, was held back by its cool-down, or was seeded."""
        ...

    async def insert_alert(self, alert: Alert, sinks: Sequence[str], *, now: datetime) -> Alert | None:
        """Store an alert and one pending delivery per sink; None when its dedup key is already stored."""
        ...


class AlertHistory(Protocol):
    """What the alert engine, retro-hunts and ``monitor alerts`` need of a store."""

    def alert_transaction(self) -> AbstractAsyncContextManager[History]:
        """One write transaction over the history: committed on exit, rolled back on error."""
        ...

    def alert_reader(self) -> HistoryReads:
        """History reads that never take the write lock (dry-runs)."""
        ...

    async def replay_posts(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[int, int, int] | None = None,
        limit: int = 1000,
        text_only: bool = False,
        stored_before: datetime | None = None,
    ) -> list[tuple[TaggedPost, str | None]]:
        """Stored posts in publication order as TaggedPosts (text '' when not kept) with the channel
        username. ``after`` is the page cursor: (posted_at epoch seconds, channel_id, message_id)."""
        ...

    async def replay_stored(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[int, int] | None = None,
        limit: int = 1000,
    ) -> list[tuple[TaggedPost, str | None, datetime, int]]:
        """Posts published in [since, until) in the order the collector stored them, each with its
        channel username, the moment it was stored (first_seen_at) and a tie-breaking sequence number.
        ``after`` is the page cursor: (stored_at epoch seconds, sequence) of the last row seen."""
        ...

    async def newest_post_at(self) -> datetime | None:
        """Publication time of the newest stored post (None for an empty store)."""
        ...

    async def tagged_posts(
        self, kind: str, values: Sequence[str], *, limit: int = 100_000, stored_before: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Posts tagged with any of ``values`` of ``kind``: channel_id, message_id, posted_at, day, ..."""
        ...

    async def referencing_posts(
        self,
        *,
        after: tuple[int, int] | None = None,
        limit: int = 5000,
        stored_before: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Posts that forward or link another channel, in key order after ``after``."""
        ...

    async def list_alerts(
        self, *, since: datetime | None = None, rule: str | None = None, limit: int = 200
    ) -> list[StoredAlert]:
        """Stored alerts, newest first, with each sink's delivery state."""
        ...

    async def rule_states(self) -> dict[str, RuleRecord]:
        """Stored state of every rule by name (read-only connection)."""
        ...


class Outbox(Protocol):
    """The delivery outbox the alert engine fills and the deliverer drains."""

    async def claim_deliveries(
        self, sink: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[ClaimedDelivery]:
        """Claim due pending rows of ``sink`` ('sending', attempts + 1) in a committed transaction."""
        ...

    async def claim_digest(
        self, sink: str, *, now: datetime, period_seconds: int, lease_until: datetime, limit: int
    ) -> tuple[datetime, list[ClaimedDelivery]] | None:
        """Claim the due pending rows of the oldest *ended* digest period of ``sink`` (UTC-aligned periods
        of ``fired_at``), now 'sending': (period start, claims); None when no period is complete yet."""
        ...

    async def mark_delivered(
        self, sink: str, items: Sequence[tuple[int, int]], *, at: datetime, digested: bool = False
    ) -> int:
        """(alert_id, attempt) claims -> 'delivered' (or 'digested'); returns rows changed."""
        ...

    async def mark_retry(
        self, sink: str, items: Sequence[tuple[int, int]], *, next_attempt_at: datetime, error: str
    ) -> int:
        """Claims back to 'pending', not before ``next_attempt_at``; returns rows changed."""
        ...

    async def mark_failed(self, sink: str, items: Sequence[tuple[int, int]], *, at: datetime, error: str) -> int:
        """Claims -> 'failed' for good; returns rows changed."""
        ...

    async def recover_in_doubt(self, *, now: datetime, resend: bool, max_attempts: int) -> int:
        """Resolve 'sending' rows whose lease expired before ``now``; returns rows changed.

        resend=True (at-least-once): back to 'pending', due now, unless ``max_attempts`` is used up;
        resend=False (at-most-once): 'failed', to be re-queued by hand.
        """
        ...

    async def requeue_failed(self, *, at: datetime, sink: str | None = None) -> int:
        """Give 'failed' rows a fresh start; returns rows changed."""
        ...

    async def delivery_counts(self) -> dict[tuple[str, str], int]:
        """(sink, state) -> rows."""
        ...

    async def pending_sinks(self) -> list[str]:
        """Sinks with pending or in-flight rows."""
        ...


# The alert step of save_posts: called with the transaction's History and what the save did.
Evaluate = Callable[[History, SaveResult], Awaitable[None]]


class WebAccess(Protocol):
    """The web dashboard's users, its audit trail and alert acknowledgements (``monitor web``).

    Why writes carry their audit entry: the change and the record of who made it commit in ONE
    transaction, so no write through the dashboard or ``monitor users`` goes unrecorded.
    """

    async def web_user(self, name: str) -> WebUser | None:
        """One user by login name, or None."""
        ...

    async def web_users(self) -> list[WebUser]:
        """Every user, by name."""
        ...

    async def save_web_user(self, user: WebUser, *, audit: AuditEntry) -> bool:
        """Add or replace a user (hash, role, updated_at; created_at kept) and record ``audit``; True when added."""
        ...

    async def remove_web_user(self, name: str, *, audit: AuditEntry) -> bool:
        """Remove a user and record ``audit``; False (and nothing recorded) when there was none."""
        ...

    async def record_audit(self, entry: AuditEntry) -> None:
        """Append one entry to the audit trail."""
        ...

    async def audit_log(self, *, limit: int = 200) -> list[AuditEntry]:
        """The newest audit entries first, with their ids."""
        ...

    async def acknowledge_alert(self, alert_id: int, *, actor: str, at: datetime) -> AlertAck | None:
        """Acknowledge an alert (audited as ``alert.ack``); an alert acknowledged before keeps its first
        acknowledgement, which is returned; None when there is no such alert."""
        ...

    async def alert_acks(self, alert_ids: Sequence[int]) -> dict[int, AlertAck]:
        """The acknowledgements of those alerts that have one."""
        ...


class Leases(Protocol):
    """Team mode: collectors, their leases on watched channels, and the accounts' health and sessions.

    A channel is polled by the collector holding its unexpired lease. Claims skip rows another
    collector is claiming at the same moment (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's one
    writer serialises them), so two claims never both win. Times are the caller's (a virtual clock
    in tests); every collector sharing a database must keep its clock in sync (NTP).
    """

    async def register_collector(self, info: CollectorInfo) -> None:
        """Insert or replace the collector's row (a restart under the same id clears ``stopped_at``)."""
        ...

    async def collector_beat(self, collector_id: str, *, at: datetime, taking: bool = True) -> None:
        """Move the collector's heartbeat to ``at``; ``taking`` False = it can take no channels now."""
        ...

    async def collector_stopped(self, collector_id: str, *, at: datetime) -> int:
        """A clean shutdown: release every lease of the collector at once and set ``stopped_at``;
        returns the number of leases released."""
        ...

    async def collectors(self) -> list[CollectorInfo]:
        """Every collector row, newest heartbeat first."""
        ...

    async def claim_leases(
        self, collector_id: str, keys: Sequence[str], *, at: datetime, expiry: float, limit: int
    ) -> list[str]:
        """Take up to ``limit`` of ``keys`` (watched channels, or in open quarantine) that have no lease or an expired
        one, for ``expiry`` seconds from ``at``; rows locked by a concurrent claim are skipped.
        Returns the keys taken, in the order of ``keys``."""
        ...

    async def renew_leases(self, collector_id: str, *, at: datetime, expiry: float) -> list[str]:
        """Extend every lease the collector still holds (expired but not taken over counts) to
        ``at + expiry``; returns the keys held, sorted. A lease another collector took is gone."""
        ...

    async def release_leases(self, collector_id: str, keys: Sequence[str]) -> int:
        """Give back some of the collector's leases at once (rebalancing, an account lost)."""
        ...

    async def set_lease_accounts(self, collector_id: str, accounts: Mapping[str, str | None]) -> None:
        """Record which of the collector's accounts polls each of its leased channels."""
        ...

    async def leases(self) -> list[Lease]:
        """Every lease row (expired ones too, until taken over), sorted by key."""
        ...

    async def set_account_state(self, state: AccountState) -> None:
        """Store an account's health (state, reason, since, until, method); the session hold and
        request count are left as they are (a new account starts with none)."""
        ...

    async def account_states(self) -> list[AccountState]:
        """Every account, sorted by name."""
        ...

    async def hold_account(
        self,
        name: str,
        holder: str,
        *,
        at: datetime,
        expiry: float,
        requests_hour: int = 0,
        steal_from: str | None = None,
    ) -> str | None:
        """Take or renew the session of ``name`` for ``holder`` until ``at + expiry`` and record its
        requests of the last hour: None on success, else the id of the collector holding it.
        ``steal_from`` takes it from that holder even unexpired (a dead process on this host)."""
        ...

    async def release_account(self, name: str, holder: str) -> bool:
        """Give the session back at once; False when ``holder`` did not hold it."""
        ...

    async def hold_task(self, name: str, collector_id: str, *, at: datetime, expiry: float) -> TaskState | None:
        """Take or renew the team round ``name`` for ``collector_id`` until ``at + expiry``: its row
        when held, None while another collector's unexpired hold stands (two takers never both win)."""
        ...

    async def release_tasks(self, collector_id: str, names: Sequence[str]) -> int:
        """Give some team rounds back at once (the account parked or lost); returns how many."""
        ...

    async def start_task(self, name: str, collector_id: str, *, at: datetime, due_before: datetime) -> bool:
        """Record that ``collector_id`` starts round ``name`` at ``at``, only while it holds it unexpired and
        the last round started at or before ``due_before`` (or never finished: its collector died in it).
        False: not held, or not due (another collector ran it): the caller does not run it."""
        ...

    async def finish_task(self, name: str, collector_id: str, *, at: datetime) -> None:
        """Record the end of the round ``collector_id`` started."""
        ...

    async def tasks(self) -> list[TaskState]:
        """Every team round, sorted by name."""
        ...

    async def recommendations_asked(self, keys: Sequence[str]) -> dict[str, datetime]:
        """When Telegram's similar channels were last asked for each of ``keys`` (absent: never)."""
        ...

    async def set_recommendations_asked(self, keys: Sequence[str], *, at: datetime) -> None:
        """Record that similar channels were asked for ``keys`` at ``at``."""
        ...


class Store(
    Lifecycle,
    WatchList,
    PostWrites,
    DaemonState,
    ReportReads,
    AlertHistory,
    Outbox,
    ChannelHistory,
    WebAccess,
    Leases,
    Protocol,
):
    """Everything a backend implements: the union of the roles above."""


# -- bulk copy between backends (``monitor db copy``) and schema maintenance (``monitor db``) ---------


@dataclass(frozen=True, slots=True)
class CopyTable:
    """One table ``monitor db copy`` moves: its columns (the same on every backend) and its key.

    ``key`` orders the export and is the upsert key of the import. When ``unique`` is False the key
    does not identify a row (post_edits: several edits of one post): a chunk then holds whole key
    groups, and the import replaces each group, which is just as idempotent.
    """

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    unique: bool = True


# Parents before children (posts before their tags, alerts before their deliveries). The report
# aggregates are not copied: the destination's triggers build them from posts and post_tags. The
# daemon heartbeat is not copied either: it says which process is alive, and none is on the copy.
COPY_TABLES: tuple[CopyTable, ...] = (
    CopyTable("channels", ("id", "username", "title", "access_hash", "checkpoint", "first_seen_at", "updated_at"),
              ("id",)),
    CopyTable("watch", ("key", "channel_id", "labels", "poll_interval", "watched", "status", "status_reason",
                        "retry_at", "last_poll_at", "last_success_at", "last_error", "added_at"), ("key",)),
    CopyTable("posts", ("channel_id", "message_id", "posted_at", "day", "edited_at", "edit_count", "views",
                        "forwards", "replies", "reactions", "fwd_channel_id", "fwd_name", "fwd_message_id",
                        "fwd_date", "reply_to_id", "grouped_id", "media_kind", "author", "links", "mentions",
                        "text_length", "content_hash", "prev_content_hash", "simhash", "lang", "script",
                        "lang_confidence", "groups", "people", "keywords", "matches", "tagger_version", "text",
                        "source", "first_seen_at", "updated_at", "deleted_at", "deleted_kind"),
              ("channel_id", "message_id")),
    CopyTable("post_tags", ("channel_id", "message_id", "kind", "value", "day"),
              ("channel_id", "message_id", "kind", "value")),
    CopyTable("post_edits", ("channel_id", "message_id", "edited_at", "seen_at", "old_hash", "new_hash"),
              ("channel_id", "message_id"), unique=False),
    CopyTable("metric_samples", ("channel_id", "message_id", "sampled_at", "views", "forwards", "replies",
                                 "reactions"), ("channel_id", "message_id", "sampled_at")),
    CopyTable("parks", ("scope", "until", "reason"), ("scope",)),
    CopyTable("alerts", ("id", "rule", "kind", "dedup_key", "fired_at", "summary", "details", "channel_id",
                         "message_id", "channel_username", "link"), ("id",)),
    CopyTable("deliveries", ("alert_id", "sink", "state", "attempts", "next_attempt_at", "last_error",
                             "delivered_at"), ("alert_id", "sink")),
    CopyTable("terms", ("term", "kind", "first_seen_at", "first_channel_id", "first_message_id", "total"),
              ("term",)),
    CopyTable("term_days", ("term", "day", "count"), ("term", "day")),
    CopyTable("discovered_channels", ("ref", "name", "via", "first_seen_at", "first_channel_id",
                                      "first_message_id", "hits"), ("ref",)),
    CopyTable("alert_rules", ("name", "kind", "detection_hash", "seeded_at", "last_fired_at", "suppressed",
                              "updated_at"), ("name",)),
    CopyTable("channel_events", ("key", "channel_id", "state", "at", "reason"), ("key", "at", "state")),
    CopyTable("channel_snapshots", ("channel_id", "observed_at", "title", "username", "about", "subscribers",
                                    "restriction", "ttl_period"), ("channel_id", "observed_at")),
    CopyTable("post_links", ("channel_id", "message_id", "url", "domain", "day", "preview_title", "preview_site"),
              ("channel_id", "message_id", "url")),
    CopyTable("discovery_decisions", ("ref", "decision", "at", "note"), ("ref",)),
    CopyTable("quarantine", ("key", "ref", "priority", "since", "accepted_at"), ("key",)),
    CopyTable("discovery_leads", ("ref", "via", "basis", "username", "channel_id", "title", "hits", "seen_at"),
              ("ref", "via", "basis")),
    CopyTable("web_users", ("name", "password_hash", "role", "created_at", "updated_at"), ("name",)),
    CopyTable("web_audit", ("id", "at", "actor", "action", "target", "detail"), ("id",)),
    CopyTable("alert_acks", ("alert_id", "actor", "at"), ("alert_id",)),
)
COPY_TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in COPY_TABLES)

# The report aggregates every backend keeps with triggers; ``monitor db check`` recounts them.
AGGREGATE_TABLES: tuple[str, ...] = (
    "agg_channel_day", "agg_lang_day", "agg_lang_day_all", "agg_tag_day", "agg_tag_day_all", "agg_tag_month",
    "agg_tag_week", "agg_pair_day", "agg_forward_day", "agg_mention_day",
)

# The resume cursor of a copy: table -> (last key copied or None, rows copied, finished).
CopyCursor = tuple[tuple[Any, ...] | None, int, bool]


class BulkCopy(Protocol):
    """Whole-table access for ``monitor db copy`` and ``monitor db check`` (not for collection).

    Why a port of its own: copying a deployment between backends moves every row of every table in
    ``COPY_TABLES`` in key order, which no role above needs. Each backend implements it over its
    opened store (``monitor.store.open_bulk``). The resume cursor lives in the DESTINATION and is
    written in the same transaction as the chunk it follows, so a copy killed at any moment resumes
    exactly where its last committed chunk ended; imports are idempotent upserts on top of that.
    """

    url: str

    async def schema_version(self) -> int:
        """The version of the newest migration applied."""
        ...

    async def table_counts(self, tables: Sequence[str]) -> dict[str, int]:
        """Rows per table."""
        ...

    async def export_rows(self, table: str, after: tuple[Any, ...] | None, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows (key groups for a non-unique key) with key > ``after``, in key order,
        as tuples in ``CopyTable.columns`` order."""
        ...

    async def import_rows(
        self, table: str, rows: Sequence[tuple[Any, ...]], *, job: str, cursor: tuple[Any, ...] | None, copied: int
    ) -> None:
        """Upsert ``rows`` and record the resume cursor of ``job`` in ONE transaction."""
        ...

    async def copy_progress(self, job: str) -> dict[str, CopyCursor]:
        """The resume cursors of ``job`` by table ({} when it never started here)."""
        ...

    async def copy_jobs(self) -> list[str]:
        """Every copy job recorded here (their sources, masked)."""
        ...

    async def finish_table(self, table: str, *, job: str) -> None:
        """Mark a table copied (after its last chunk); backends fix what the import skipped (sequences)."""
        ...

    async def aggregate_drift(self) -> list[str]:
        """Aggregate tables that differ from a recount over posts and post_tags (empty when exact)."""
        ...


__all__ = [
    "AGGREGATE_TABLES",
    "COPY_TABLES",
    "COPY_TABLE_NAMES",
    "AlertHistory",
    "BulkCopy",
    "ChannelHistory",
    "CopyCursor",
    "CopyTable",
    "DaemonState",
    "Evaluate",
    "History",
    "HistoryReads",
    "Leases",
    "Lifecycle",
    "Outbox",
    "PostFilters",
    "PostWrites",
    "ReportReads",
    "ReportRow",
    "Store",
    "WatchList",
    "WebAccess",
]
