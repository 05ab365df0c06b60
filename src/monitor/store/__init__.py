"""The store: one small interface over the database, so SQLite can give way to PostgreSQL.

Everything SQL lives below this package. Callers hand in and get back the frozen
records of `monitor.models`; ``open_store(url)`` picks the adapter from the URL
(a path or ``sqlite:///path`` today, ``postgresql://`` next) and imports it lazily.

Write rules every adapter keeps:
- ``save_posts`` writes posts, their tags, their metric samples and the channel
  checkpoint in ONE transaction, so a crash at any moment loses nothing and a
  re-fetch after restart stores nothing twice (the upsert is keyed by
  (channel_id, message_id)).
- one writer; readers never block it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from monitor.models import (
    Channel,
    ChannelRef,
    MetricSample,
    PostKey,
    SaveResult,
    StoredPost,
    Tags,
    TaggedPost,
    WatchState,
)


class Store(Protocol):
    url: str

    async def open(self) -> None:
        """Connect and bring the schema up to date (runs pending migrations)."""
        ...

    async def close(self) -> None:
        """Idempotent."""
        ...

    # -- watch list and channels -------------------------------------------------
    async def sync_watchlist(self, refs: Sequence[ChannelRef], *, at: datetime) -> None:
        """Make the watch list equal the config: add new refs, update labels, unwatch removed ones."""
        ...

    async def add_watch(self, ref: ChannelRef, *, at: datetime) -> bool: ...

    async def remove_watch(self, key: str) -> bool: ...

    async def watch_states(self, *, include_unwatched: bool = False) -> list[WatchState]: ...

    async def set_resolved(self, key: str, channel: Channel, *, at: datetime) -> None: ...

    async def set_watch_status(
        self,
        key: str,
        status: str,
        *,
        reason: str | None = None,
        retry_at: datetime | None = None,
        at: datetime,
        error: str | None = None,
    ) -> None: ...

    async def record_poll(self, key: str, *, at: datetime, error: str | None = None) -> None: ...

    async def park(self, scope: str, until: datetime, reason: str = "") -> None: ...

    async def parks(self, *, now: datetime) -> dict[str, datetime]:
        """Parks still in force at ``now``: scope -> until."""
        ...

    # -- posts ----------------------------------------------------------------------
    async def save_posts(
        self,
        channel_id: int,
        posts: Sequence[TaggedPost],
        *,
        at: datetime,
        checkpoint: int | None = None,
        store_text: bool = False,
        source: str = "telegram",
    ) -> SaveResult: ...

    async def record_samples(self, samples: Sequence[MetricSample]) -> None: ...

    async def resample_candidates(self, channel_id: int, *, since: datetime) -> list[int]:
        """Message ids of posts newer than ``since``, whose views are still re-sampled."""
        ...

    async def purge_text(self, *, before: datetime) -> int:
        """Drop full text of posts published before ``before``; metadata, hashes and tags stay."""
        ...

    async def posts_for_retag(
        self, *, after: PostKey | None, limit: int, stale_only_version: str | None = None
    ) -> list[StoredPost]: ...

    async def count_for_retag(self, *, after: PostKey | None, stale_only_version: str | None = None) -> int: ...

    async def update_tags(self, items: Sequence[tuple[PostKey, Tags, str]]) -> None: ...

    async def get_post(self, key: PostKey) -> StoredPost | None: ...

    # -- daemon -----------------------------------------------------------------------
    async def heartbeat(self, *, pid: int, started_at: datetime, at: datetime) -> None: ...

    async def last_heartbeat(self) -> tuple[int, datetime, datetime] | None:
        """(pid, started_at, beat_at) of the last daemon, or None."""
        ...

    async def counts(self) -> Mapping[str, int]: ...

    async def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        """Read-only escape hatch for store-side report code; never takes post text into the SQL."""
        ...


def sqlite_path(url: str) -> Path:
    """The file path of a SQLite store URL (a bare path or sqlite:///path)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite://"):
        return Path(url.removeprefix("sqlite://"))
    return Path(url)


def open_store(url: str | Path, **options: Any) -> Store:
    """Pick the adapter for ``url``; the returned store still needs ``await store.open()``."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from monitor.errors import StoreError

        raise StoreError("the PostgreSQL backend is not built yet; use a SQLite path")
    from monitor.store.sqlite import SQLiteStore

    return SQLiteStore(sqlite_path(text), **options)
