"""What the alert engine needs of a store, as Protocols, and the rows it hands over.

Why Protocols here: ``alerts`` and ``store`` are sibling layers that must not import
each other. The SQLite adapter (``monitor.store.sqlite_alerts``) satisfies these
structurally; the dry-run of ``monitor alerts test`` satisfies them in memory.
Times are integer epoch seconds, as in the schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from monitor.models import Alert, TaggedPost


@dataclass(frozen=True, slots=True)
class TermRow:
    """One term's posts on one day from one batch (or recomputed by a seed)."""

    term: str
    kind: str
    day: int
    count: int
    first_seen_at: int
    channel_id: int | None
    message_id: int | None


@dataclass(frozen=True, slots=True)
class DiscoveredRow:
    ref: str
    name: str | None
    via: str
    seen_at: int
    channel_id: int | None
    message_id: int | None
    hits: int


class TermStatLike(Protocol):
    @property
    def first_seen_at(self) -> int: ...
    @property
    def total(self) -> int: ...


class RuleRecordLike(Protocol):
    @property
    def detection_hash(self) -> str | None: ...
    @property
    def last_fired_at(self) -> int | None: ...
    @property
    def suppressed(self) -> int: ...


class HistoryReads(Protocol):
    async def term_stats(self, terms: Sequence[str]) -> Mapping[str, TermStatLike]: ...
    async def term_days(
        self, terms: Sequence[str], first_day: int, last_day: int
    ) -> dict[str, dict[int, int]]: ...
    async def history_start(self) -> int | None: ...
    async def discovered(self, refs: Sequence[str]) -> dict[str, int]: ...
    async def rule_records(self) -> Mapping[str, RuleRecordLike]: ...
    async def alert_exists(self, dedup_key: str) -> bool: ...
    async def series_counts(
        self,
        on: str,
        value: str,
        windows: Sequence[tuple[int, int]],
        *,
        channel_ids: Sequence[int] | None = None,
        languages: Sequence[str] = (),
    ) -> list[int]: ...
    async def posts_start(self) -> int | None: ...
    async def watched_refs(self) -> frozenset[str]: ...
    async def channel_labels(self, channel_id: int) -> dict[str, str]: ...
    async def channel_ids_with_labels(self, labels: Sequence[tuple[str, Sequence[str]]]) -> list[int]: ...
    async def channel_ids_for_keys(self, keys: Sequence[str]) -> list[int]: ...


class History(HistoryReads, Protocol):
    """Reads plus the writes of one evaluated batch (all inside one transaction in the store)."""

    async def add_terms(self, rows: Sequence[TermRow]) -> None: ...
    async def seed_terms(self, rows: Sequence[TermRow]) -> None: ...
    async def add_discovered(self, rows: Sequence[DiscoveredRow], *, seed: bool = False) -> None: ...
    async def prune_term_days(self, before_day: int) -> int: ...
    async def note_rule(
        self,
        name: str,
        kind: str,
        *,
        now: int,
        fired: bool = False,
        suppressed: int = 0,
        detection_hash: str | None = None,
        seeded: bool = False,
    ) -> None: ...
    async def insert_alert(self, alert: Alert, sinks: Sequence[str], *, now: int) -> Alert | None: ...


class AlertStore(Protocol):
    """The store methods the engine, retro-hunt and CLI use (SQLiteStore with the AlertQueries mixin)."""

    def alert_transaction(self) -> AbstractAsyncContextManager[History]: ...
    def alert_reader(self) -> HistoryReads: ...
    async def replay_posts(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[int, int, int] | None = None,
        limit: int = 1000,
        text_only: bool = False,
        stored_before: datetime | None = None,
    ) -> list[tuple[TaggedPost, str | None]]: ...
    async def replay_stored(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[int, int] | None = None,
        limit: int = 1000,
    ) -> list[tuple[TaggedPost, str | None, datetime, int]]: ...
    async def newest_post_at(self) -> datetime | None: ...
    async def tagged_posts(
        self, kind: str, values: Sequence[str], *, limit: int = 100_000, stored_before: datetime | None = None
    ) -> list[dict[str, Any]]: ...
    async def referencing_posts(
        self,
        *,
        after: tuple[int, int] | None = None,
        limit: int = 5000,
        stored_before: datetime | None = None,
    ) -> list[dict[str, Any]]: ...
