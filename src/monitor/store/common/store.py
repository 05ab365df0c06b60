"""The half of the store's watch-list, daemon and retag methods that both backends share: reads whose SQL is
the same in both dialects (but for PostgreSQL's ``COLLATE "C"``, so keys sort by code point as in SQLite),
their rows rebuilt as records, and which retagged posts need which write."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.errors import StoreError
from monitor.models import Channel, PostKey, SaveResult, TaggedPost, Tags, WatchState
from monitor.store.epoch import dt, ts
from monitor.store.ports import Evaluate


def _watch_state(r: Sequence[Any]) -> WatchState:
    channel = (
        Channel(id=r[1], username=r[11], title=r[12] or "", access_hash=r[13])
        if r[1] is not None and r[12] is not None
        else None
    )
    return WatchState(
        key=r[0],
        channel=channel,
        labels=json.loads(r[2] or "{}"),
        poll_interval=r[3],
        watched=bool(r[4]),
        status=r[5],
        status_reason=r[6],
        retry_at=dt(r[7]),
        last_poll_at=dt(r[8]),
        last_success_at=dt(r[9]),
        last_error=r[10],
        checkpoint=int(r[14]),
        posts=int(r[15]),
        newest_posted_at=dt(r[16]),
    )


class SharedStoreQueries:
    """Mixed into both stores, which provide ``_fetch(sql, params)``, ``_statement(sql, params)`` (one write
    statement in its own transaction, written with ``?`` placeholders) and ``_COLLATE`` ('' or
    ' COLLATE "C"')."""

    _COLLATE = ""

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def _statement(self, sql: str, params: Sequence[Any]) -> None:
        raise NotImplementedError

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
        await self._statement(
            "UPDATE watch SET status = ?, status_reason = ?, retry_at = ?, last_poll_at = ?,"
            " last_error = coalesce(?, last_error) WHERE key = ?",
            (status, reason, ts(retry_at), ts(at), error, key),
        )

    async def record_poll(self, key: str, *, at: datetime, error: str | None = None) -> None:
        now = ts(at)
        if error is None:
            await self._statement(
                "UPDATE watch SET last_poll_at = ?, last_success_at = ?, status = 'active',"
                " status_reason = NULL, retry_at = NULL WHERE key = ?",
                (now, now, key),
            )
        else:
            await self._statement("UPDATE watch SET last_poll_at = ?, last_error = ? WHERE key = ?", (now, error, key))

    async def watch_states(self, *, include_unwatched: bool = False) -> list[WatchState]:
        where = "" if include_unwatched else "WHERE w.watched = 1"
        rows = await self._fetch(
            "SELECT w.key, w.channel_id, w.labels, w.poll_interval, w.watched, w.status, w.status_reason,"
            " w.retry_at, w.last_poll_at, w.last_success_at, w.last_error,"
            " c.username, c.title, c.access_hash, coalesce(c.checkpoint, 0),"
            " coalesce(a.posts, 0),"
            # Telegram numbers a channel's messages in publication order: the newest post is the one with
            # the highest id, one primary-key probe (max(posted_at) read every post of the channel)
            " (SELECT p.posted_at FROM posts p WHERE p.channel_id = w.channel_id ORDER BY p.message_id DESC LIMIT 1)"
            " FROM watch w LEFT JOIN channels c ON c.id = w.channel_id"
            # posts per channel from the aggregate the triggers keep equal to a count (one grouped scan)
            " LEFT JOIN (SELECT channel_id, sum(posts) AS posts FROM agg_channel_day GROUP BY channel_id) a"
            f" ON a.channel_id = w.channel_id {where} ORDER BY w.key{self._COLLATE}"
        )
        return [_watch_state(r) for r in rows]

    async def last_heartbeat(self) -> tuple[int, datetime, datetime] | None:
        rows = await self._fetch("SELECT pid, started_at, beat_at FROM heartbeat WHERE id = 1")
        if not rows:
            return None
        started, beat = dt(rows[0][1]), dt(rows[0][2])
        assert started is not None and beat is not None
        return int(rows[0][0]), started, beat

    async def counts(self) -> Mapping[str, int]:
        rows = await self._fetch(
            "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM channels),"
            " (SELECT count(*) FROM watch WHERE watched = 1), (SELECT count(*) FROM metric_samples),"
            " (SELECT count(*) FROM post_edits), (SELECT count(*) FROM posts WHERE text IS NOT NULL)"
        )
        r = rows[0]
        names = ("posts", "channels", "watched", "samples", "edits", "texts_kept")
        return {name: int(value) for name, value in zip(names, r, strict=True)}

    async def all_post_keys(self) -> list[PostKey]:
        """Every stored key; for tests and consistency checks."""
        rows = await self._fetch("SELECT channel_id, message_id FROM posts ORDER BY channel_id, message_id")
        return [PostKey(int(r[0]), int(r[1])) for r in rows]


@dataclass(frozen=True, slots=True)
class Batch:
    """A checked ``save_posts`` batch: every post is of ``channel_id``, one per message id (the first
    given), in the order given."""

    channel_id: int
    posts: Mapping[int, TaggedPost]
    now: int  # epoch seconds of the save
    checkpoint: int | None
    store_text: bool
    source: str
    evaluate: Evaluate | None


class PostSaving:
    """``save_posts`` of the port, its checks written once; each backend writes the checked batch in
    ONE transaction in ``_save_batch``."""

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
        for tagged in posts:
            if tagged.post.channel_id != channel_id:
                raise StoreError(
                    f"post {tagged.post.key} does not belong to channel {channel_id}; refusing the batch"
                )
        now = ts(at)
        assert now is not None
        batch: dict[int, TaggedPost] = {}
        for tagged in posts:
            batch.setdefault(tagged.post.message_id, tagged)  # the same id twice in one batch: keep the first
        return await self._save_batch(Batch(channel_id, batch, now, checkpoint, store_text, source, evaluate))

    async def _save_batch(self, batch: Batch) -> SaveResult:
        raise NotImplementedError


def park_times(rows: Sequence[Sequence[Any]]) -> dict[str, datetime]:
    """(scope, until epoch) rows of ``parks`` as scope -> until."""
    result: dict[str, datetime] = {}
    for scope, until in rows:
        moment = dt(until)
        assert moment is not None
        result[scope] = moment
    return result


def tag_updates(
    items: Sequence[tuple[PostKey, Tags, str]],
    current: Mapping[tuple[int, int], Sequence[Any]],
    tag_values: Callable[[Tags], tuple[Any, ...]],
) -> tuple[list[tuple[str, int, int]], list[tuple[Any, ...]], list[tuple[PostKey, int, Tags]]]:
    """Which retagged posts need which write, from ``current`` (key -> day, the seven tag columns in
    ``tag_values`` order, tagger_version): (version only, changed tag columns + version + key, and the
    changed ones whose groups, people or keywords differ, with their day)."""
    version_only: list[tuple[str, int, int]] = []
    changed: list[tuple[Any, ...]] = []
    regrouped: list[tuple[PostKey, int, Tags]] = []
    for key, tags, version in items:
        row = current.get((key.channel_id, key.message_id))
        if row is None:
            continue  # deleted meanwhile
        values = tag_values(tags)
        if values == tuple(row[1:8]):
            if row[8] != version:
                version_only.append((version, key.channel_id, key.message_id))
            continue
        changed.append((*values, version, key.channel_id, key.message_id))
        if values[3:6] != tuple(row[4:7]):  # groups, people or keywords differ
            regrouped.append((key, int(row[0]), tags))
    return version_only, changed, regrouped


__all__ = ["Batch", "PostSaving", "SharedStoreQueries", "park_times", "tag_updates"]
