"""SQLite adapter of the Store: one aiosqlite writer connection in WAL mode, a read-only reader.

Why this shape (after datasette's database.py): SQLite allows one writer at a time,
so every write goes through one connection, serialised by an asyncio lock and
wrapped in ``BEGIN IMMEDIATE`` so it never fails half-way on a lock upgrade. Reports
read through a separate ``mode=ro`` connection and never block collection.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from monitor.errors import MigrationError, StoreClosedError, StoreError
from monitor.fingerprint import content_hash
from monitor.models import (
    Channel,
    ChannelRef,
    MetricSample,
    PostKey,
    SaveResult,
    StoredPost,
    Tags,
    TaggedPost,
)
from monitor.store.ports import Evaluate, Store
from monitor.store.common.postrows import fingerprints, jdump, post_row, tag_row_changes, tag_values
from monitor.store.common.postrows import tag_rows as post_tag_rows
from monitor.store.common.store import Batch, PostSaving, SharedStoreQueries, park_times, tag_updates
from monitor.store.epoch import dt, ts
from monitor.store.sqlite.migrate import CREATE_LEDGER, load_migrations
from monitor.store.sqlite.alerts import AlertQueries, AlertTx
from monitor.store.sqlite.delivery import DeliveryQueries
from monitor.store.sqlite.leases import LeaseQueries
from monitor.store.sqlite.readonly import read_only_uri
from monitor.store.sqlite.reports import ReportQueries
from monitor.store.sqlite.lifecycle import _UPSERT_LINKS, LifecycleQueries
from monitor.store.linkrows import link_rows
from monitor.store.sqlite.web import WebQueries

_CHUNK = 400  # keys per IN (...) list; well under SQLite's variable limit


_TAG_SET = "lang = ?, script = ?, lang_confidence = ?, groups = ?, people = ?, keywords = ?, matches = ?"


async def _replace_tag_rows(conn: aiosqlite.Connection, channel_id: int, message_id: int, day: int, tags: Tags) -> None:
    """A post's rows in post_tags, made equal to ``tags``."""
    await conn.execute("DELETE FROM post_tags WHERE channel_id = ? AND message_id = ?", (channel_id, message_id))
    await conn.executemany(
        "INSERT OR IGNORE INTO post_tags (channel_id, message_id, kind, value, day) VALUES (?, ?, ?, ?, ?)",
        post_tag_rows(channel_id, message_id, day, tags),
    )


async def _diff_tag_rows(conn: aiosqlite.Connection, posts: Sequence[tuple[PostKey, int, Tags]]) -> None:
    """Make each post's post_tags rows equal to its tags, deleting and inserting only the rows that differ."""
    cursor = await conn.execute(
        "SELECT t.channel_id, t.message_id, t.kind, t.value FROM json_each(?) j JOIN post_tags t"
        " ON t.channel_id = json_extract(j.value, '$[0]') AND t.message_id = json_extract(j.value, '$[1]')",
        (jdump([[k.channel_id, k.message_id] for k, _, _ in posts]),),
    )
    gone, added = tag_row_changes(await cursor.fetchall(), posts)
    if gone:
        await conn.executemany(
            "DELETE FROM post_tags WHERE channel_id = ? AND message_id = ? AND kind = ? AND value = ?", gone
        )
    if added:
        await conn.executemany(
            "INSERT OR IGNORE INTO post_tags (channel_id, message_id, kind, value, day) VALUES (?, ?, ?, ?, ?)",
            added,
        )


_POST_COLUMNS = (
    "channel_id, message_id, posted_at, day, edited_at, views, forwards, replies, reactions,"
    " fwd_channel_id, fwd_name, fwd_message_id, fwd_date, reply_to_id, grouped_id, media_kind, author,"
    " links, mentions, text_length, content_hash, simhash, lang, script, lang_confidence,"
    " groups, people, keywords, matches, tagger_version, text, source, first_seen_at, updated_at"
)
_INSERT_POST = f"INSERT INTO posts ({_POST_COLUMNS}) VALUES ({', '.join('?' * 34)})"


async def _evaluate_in(conn: aiosqlite.Connection, evaluate: Evaluate, result: SaveResult) -> SaveResult:
    """Run the alert step inside the save transaction, under a savepoint so its failure undoes only itself."""
    await conn.execute("SAVEPOINT evaluate")
    try:
        await evaluate(AlertTx(conn), result)
    except Exception as exc:  # noqa: BLE001 - reported in the result; the posts must still commit
        await conn.execute("ROLLBACK TO SAVEPOINT evaluate")
        await conn.execute("RELEASE SAVEPOINT evaluate")
        return replace(result, evaluation_error=repr(exc))
    await conn.execute("RELEASE SAVEPOINT evaluate")
    return result


class SQLiteStore(
    ReportQueries, AlertQueries, DeliveryQueries, LifecycleQueries, WebQueries, LeaseQueries, SharedStoreQueries,
    PostSaving, Store
):
    """The SQLite Store. ``path`` must be in an existing directory: a typo must not scatter databases."""

    def __init__(
        self, path: Path, *, create_dir: bool = False, busy_timeout_ms: int = 30_000, read_only: bool = False
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.url = f"sqlite:///{self.path}"
        self._create_dir = create_dir
        self._busy_timeout_ms = busy_timeout_ms
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._ro_uri: str | None = None  # how a read-only store opened the file (also its reader)
        self._lock = asyncio.Lock()
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------
    async def open(self) -> None:
        if self._writer is not None:
            return
        if self._closed:
            raise StoreClosedError("store was closed")
        if self.read_only:
            await self._open_read_only()
            return
        parent = self.path.parent
        if not parent.is_dir():
            if self._create_dir:
                parent.mkdir(parents=True, exist_ok=True)
            else:
                raise StoreError(f"database directory does not exist: {parent}")
        try:
            self._writer = await aiosqlite.connect(self.path, isolation_level=None)
            await self._writer.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            mode = await (await self._writer.execute("PRAGMA journal_mode = WAL")).fetchone()
            await self._writer.execute("PRAGMA synchronous = NORMAL")
            await self._writer.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            await self._drop_writer()
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        if mode is None or str(mode[0]).lower() != "wal":
            await self._drop_writer()
            raise StoreError(f"{self.path}: WAL mode is not available (on a network file system?)")
        try:
            await self._migrate()
        except sqlite3.Error as exc:  # a damaged file is found here, when the schema is first read
            await self._drop_writer()
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        except BaseException:
            await self._drop_writer()
            raise

    async def _open_read_only(self) -> None:
        """For commands that only read: mode=ro, never created, never migrated; the schema must be current."""
        if not self.path.is_file():
            raise StoreError(f"no database at {self.path}")
        self._ro_uri = read_only_uri(self.path)  # mode=ro, or immutable=1 on a read-only directory (readonly.py)
        try:
            self._writer = await aiosqlite.connect(self._ro_uri, uri=True)
            await self._writer.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            exists = await (
                await self._writer.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'")
            ).fetchone()
            version = await self.schema_version() if exists else 0
        except sqlite3.Error as exc:
            await self._drop_writer()
            raise StoreError(f"cannot open database {self.path} read-only: {exc}") from exc
        newest = max((m.version for m in load_migrations()), default=0)
        problem = None
        if version == 0:
            problem = f"{self.path} is not a monitor database (no schema)"
        elif version > newest:
            problem = (f"{self.path} has schema version {version}, newer than this monitor knows ({newest});"
                       " upgrade monitor instead of downgrading the database")
        elif version < newest:
            problem = (f"{self.path} has schema version {version}, older than this monitor ({newest}):"
                       " run `monitor db migrate` (or start `monitor run`) first")
        if problem is not None:
            await self._drop_writer()
            raise MigrationError(problem)

    async def _drop_writer(self) -> None:
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    async def close(self) -> None:
        self._closed = True
        for conn in (self._reader, self._writer):
            if conn is not None:
                try:
                    await conn.close()
                except (sqlite3.Error, ValueError):
                    pass
        self._reader = None
        self._writer = None

    async def __aenter__(self) -> SQLiteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _conn(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise StoreClosedError("store is not open" if not self._closed else "store was closed")
        return self._writer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on the writer, rolled back on any error."""
        conn = self._conn()
        if self.read_only:  # a clear refusal, as PostgreSQL's read-only transactions give, not SQLite's own error
            raise StoreError(f"{self.path} is open read-only: this command cannot write to it")
        async with self._lock:
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot start a write on {self.path}: {exc}") from exc
            try:
                yield conn
            except BaseException:
                try:
                    await conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise
            else:
                try:
                    await conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    raise StoreError(f"commit failed on {self.path}: {exc}") from exc

    async def _migrate(self) -> None:
        conn = self._conn()
        await conn.execute(CREATE_LEDGER)
        rows = await (await conn.execute("SELECT version FROM schema_migrations")).fetchall()
        applied = {int(r[0]) for r in rows}
        known = load_migrations()
        newest = max((m.version for m in known), default=0)
        if applied and max(applied) > newest:
            raise MigrationError(
                f"{self.path} has schema version {max(applied)}, newer than this monitor knows ({newest});"
                " upgrade monitor instead of downgrading the database"
            )
        for migration in known:
            if migration.version in applied:
                continue
            script = (
                "BEGIN IMMEDIATE;\n"
                + migration.sql
                + f"\n;INSERT INTO schema_migrations (version, name, applied_at) VALUES"
                f" ({migration.version}, '{migration.name}', CAST(strftime('%s','now') AS INTEGER));\nCOMMIT;"
            )
            try:
                await conn.executescript(script)
            except sqlite3.Error as exc:
                try:
                    await conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} failed on {self.path}: {exc}"
                ) from exc

    async def schema_version(self) -> int:
        row = await (await self._conn().execute("SELECT max(version) FROM schema_migrations")).fetchone()
        return int(row[0] or 0) if row else 0

    # -- reading --------------------------------------------------------------------
    async def _read_conn(self) -> aiosqlite.Connection:
        self._conn()  # raises when closed
        if self._reader is None:
            uri = self._ro_uri or f"{self.path.resolve().as_uri()}?mode=ro"
            self._reader = await aiosqlite.connect(uri, uri=True)
            await self._reader.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            self._reader.row_factory = aiosqlite.Row
        return self._reader

    async def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        conn = await self._read_conn()
        try:
            cursor = await conn.execute(sql, params)
            rows = await cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"query failed: {exc}") from exc
        return [dict(row) for row in rows]

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        conn = self._conn()
        async with self._lock:
            cursor = await conn.execute(sql, params)
            return list(await cursor.fetchall())

    async def _statement(self, sql: str, params: Sequence[Any]) -> None:
        async with self.transaction() as conn:
            await conn.execute(sql, params)

    # -- watch list -----------------------------------------------------------------
    async def sync_watchlist(self, refs: Sequence[ChannelRef], *, at: datetime) -> None:
        now = ts(at)
        keys = [r.key for r in refs]
        async with self.transaction() as conn:
            for ref in refs:
                await conn.execute(
                    "INSERT INTO watch (key, labels, poll_interval, watched, added_at) VALUES (?, ?, ?, 1, ?)"
                    " ON CONFLICT(key) DO UPDATE SET labels = excluded.labels,"
                    " poll_interval = excluded.poll_interval, watched = 1",
                    (ref.key, jdump(dict(ref.labels)), ref.poll_interval, now),
                )
                if ref.channel_id is not None:
                    await conn.execute(
                        "UPDATE watch SET channel_id = coalesce(channel_id, ?) WHERE key = ?",
                        (ref.channel_id, ref.key),
                    )
            placeholders = ",".join("?" * len(keys))
            if keys:
                await conn.execute(f"UPDATE watch SET watched = 0 WHERE key NOT IN ({placeholders})", keys)
            else:
                await conn.execute("UPDATE watch SET watched = 0")

    async def add_watch(self, ref: ChannelRef, *, at: datetime) -> bool:
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO watch (key, channel_id, labels, poll_interval, watched, added_at)"
                " VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT(key) DO UPDATE SET watched = 1 WHERE watch.watched = 0",
                (ref.key, ref.channel_id, jdump(dict(ref.labels)), ref.poll_interval, ts(at)),
            )
            return cursor.rowcount > 0

    async def remove_watch(self, key: str) -> bool:
        async with self.transaction() as conn:
            cursor = await conn.execute("UPDATE watch SET watched = 0 WHERE key = ? AND watched = 1", (key,))
            return cursor.rowcount > 0

    async def set_resolved(self, key: str, channel: Channel, *, at: datetime) -> None:
        now = ts(at)
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO channels (id, username, title, access_hash, first_seen_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET username = excluded.username,"
                " title = excluded.title, access_hash = coalesce(excluded.access_hash, channels.access_hash),"
                " updated_at = excluded.updated_at",
                (channel.id, channel.username, channel.title, channel.access_hash, now, now),
            )
            await conn.execute(
                "UPDATE watch SET channel_id = ?, status = CASE WHEN status IN ('new', 'error') THEN 'active'"
                " ELSE status END WHERE key = ?",
                (channel.id, key),
            )

    async def park(self, scope: str, until: datetime, reason: str = "") -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO parks (scope, until, reason) VALUES (?, ?, ?) ON CONFLICT(scope) DO UPDATE"
                " SET until = max(parks.until, excluded.until), reason = excluded.reason",
                (scope, ts(until), reason),
            )

    async def parks(self, *, now: datetime) -> dict[str, datetime]:
        rows = await self._fetch("SELECT scope, until FROM parks WHERE until > ?", (ts(now),))
        return park_times(rows)

    # -- posts ----------------------------------------------------------------------
    async def _save_batch(self, batch: Batch) -> SaveResult:
        channel_id, now, store_text = batch.channel_id, batch.now, batch.store_text
        inserted: list[PostKey] = []
        updated = unchanged = 0
        async with self.transaction() as conn:
            existing: dict[int, tuple[Any, ...]] = {}
            ids = list(batch.posts)
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                cursor = await conn.execute(
                    "SELECT message_id, content_hash, views, forwards, replies, reactions, edited_at,"
                    " tagger_version, text IS NOT NULL, edit_count"
                    f" FROM posts WHERE channel_id = ? AND message_id IN ({','.join('?' * len(chunk))})",
                    [channel_id, *chunk],
                )
                for row in await cursor.fetchall():
                    existing[int(row[0])] = tuple(row)
            new_rows: list[tuple[Any, ...]] = []
            tag_rows: list[tuple[Any, ...]] = []
            samples: list[tuple[Any, ...]] = []
            for tagged in batch.posts.values():
                post = tagged.post
                old = existing.get(post.message_id)
                if old is None:
                    new_row = post_row(tagged, now=now, store_text=store_text, source=batch.source)
                    new_rows.append(new_row)
                    tag_rows += post_tag_rows(channel_id, post.message_id, new_row[3], tagged.tags)
                    if post.views is not None or post.forwards is not None:
                        samples.append(
                            (channel_id, post.message_id, now, post.views, post.forwards,
                             post.replies, post.reactions)
                        )
                    inserted.append(post.key)
                    continue
                changed = await self._update_existing(conn, tagged, old, now=now, store_text=store_text)
                metrics_changed = (post.views, post.forwards) != (old[2], old[3])
                if metrics_changed:
                    samples.append(
                        (channel_id, post.message_id, now, post.views, post.forwards,
                         post.replies, post.reactions)
                    )
                if changed or metrics_changed:
                    updated += 1
                else:
                    unchanged += 1
            if new_rows:
                await conn.executemany(_INSERT_POST, new_rows)
            if tag_rows:
                await conn.executemany(
                    "INSERT OR IGNORE INTO post_tags (channel_id, message_id, kind, value, day)"
                    " VALUES (?, ?, ?, ?, ?)",
                    tag_rows,
                )
            if samples:
                await conn.executemany(
                    "INSERT OR REPLACE INTO metric_samples"
                    " (channel_id, message_id, sampled_at, views, forwards, replies, reactions)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    samples,
                )
            links = link_rows(channel_id, list(batch.posts.values()))
            if links:
                await conn.executemany(_UPSERT_LINKS, links)
            if batch.checkpoint is not None:
                await conn.execute(
                    "UPDATE channels SET checkpoint = max(checkpoint, ?), updated_at = ? WHERE id = ?",
                    (batch.checkpoint, now, channel_id),
                )
            result = SaveResult(
                inserted=len(inserted), updated=updated, unchanged=unchanged, inserted_keys=tuple(inserted)
            )
            if batch.evaluate is not None and inserted:
                result = await _evaluate_in(conn, batch.evaluate, result)
        return result

    async def _update_existing(
        self,
        conn: aiosqlite.Connection,
        tagged: TaggedPost,
        old: tuple[Any, ...],
        *,
        now: int,
        store_text: bool,
    ) -> bool:
        """Apply what changed to a stored post; True when content or tags changed."""
        post, tags = tagged.post, tagged.tags
        chash = tagged.content_hash if tagged.content_hash is not None else content_hash(post.text)
        old_hash = old[1]
        content_edit = chash != old_hash
        params: dict[str, Any] = {
            "cid": post.channel_id,
            "mid": post.message_id,
            "views": post.views,
            "forwards": post.forwards,
            "replies": post.replies,
            "reactions": post.reactions,
            "edited_at": ts(post.edited_at),
            "now": now,
        }
        await conn.execute(
            "UPDATE posts SET views = coalesce(:views, views), forwards = coalesce(:forwards, forwards),"
            " replies = coalesce(:replies, replies), reactions = coalesce(:reactions, reactions),"
            " edited_at = coalesce(:edited_at, edited_at), updated_at = :now"
            " WHERE channel_id = :cid AND message_id = :mid",
            params,
        )
        if not content_edit:
            return False
        _, shash = fingerprints(tagged)  # SimHash only for real edits: refreshes are frequent
        posted = ts(post.posted_at)
        assert posted is not None
        day = posted // 86400
        await conn.execute(
            "INSERT INTO post_edits (channel_id, message_id, edited_at, seen_at, old_hash, new_hash)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (post.channel_id, post.message_id, ts(post.edited_at), now, old_hash, chash),
        )
        await conn.execute(
            "UPDATE posts SET prev_content_hash = content_hash, content_hash = ?, simhash = ?,"
            " text_length = ?, edit_count = edit_count + 1, links = ?, mentions = ?,"
            f" text = CASE WHEN ? THEN ? ELSE NULL END, {_TAG_SET},"
            " tagger_version = ? WHERE channel_id = ? AND message_id = ?",
            (
                chash,
                shash,
                len(post.text),
                jdump(list(post.links)),
                jdump(list(post.mentions)),
                1 if store_text and post.text else 0,
                post.text,
                *tag_values(tags),
                tagged.tagger_version,
                post.channel_id,
                post.message_id,
            ),
        )
        await _replace_tag_rows(conn, post.channel_id, post.message_id, day, tags)
        return True

    async def record_samples(self, samples: Sequence[MetricSample]) -> None:
        if not samples:
            return
        async with self.transaction() as conn:
            # only samples of stored posts, as the port says and PostgreSQL does (metric_samples has no foreign key)
            await conn.executemany(
                "INSERT OR REPLACE INTO metric_samples"
                " (channel_id, message_id, sampled_at, views, forwards, replies, reactions)"
                " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7"
                " WHERE EXISTS (SELECT 1 FROM posts WHERE channel_id = ?1 AND message_id = ?2)",
                [
                    (s.channel_id, s.message_id, ts(s.sampled_at), s.views, s.forwards, s.replies, s.reactions)
                    for s in samples
                ],
            )

    async def resample_candidates(self, channel_id: int, *, since: datetime) -> list[int]:
        rows = await self._fetch(
            "SELECT message_id FROM posts WHERE channel_id = ? AND posted_at >= ? AND deleted_at IS NULL"
            " ORDER BY message_id",
            (channel_id, ts(since)),
        )
        return [int(r[0]) for r in rows]

    async def purge_text(self, *, before: datetime) -> int:
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE posts SET text = NULL WHERE text IS NOT NULL AND posted_at < ?", (ts(before),)
            )
            return cursor.rowcount

    def _stored(self, r: sqlite3.Row | tuple[Any, ...]) -> StoredPost:
        posted = dt(r[2])
        assert posted is not None
        return StoredPost(
            channel_id=r[0],
            message_id=r[1],
            posted_at=posted,
            text=r[3],
            lang=r[4],
            script=r[5],
            groups=tuple(json.loads(r[6])),
            people=tuple(json.loads(r[7])),
            keywords=tuple(json.loads(r[8])),
            tagger_version=r[9],
            views=r[10],
            forwards=r[11],
            channel_username=r[12],
        )

    _STORED_SELECT = (
        "SELECT p.channel_id, p.message_id, p.posted_at, p.text, p.lang, p.script, p.groups, p.people,"
        " p.keywords, p.tagger_version, p.views, p.forwards, c.username"
        " FROM posts p LEFT JOIN channels c ON c.id = p.channel_id"
    )

    @staticmethod
    def _retag_where(after: PostKey | None, stale_only_version: str | None) -> tuple[str, list[Any]]:
        where = ["(p.channel_id, p.message_id) > (?, ?)"]
        params: list[Any] = [after.channel_id if after else -(2**62), after.message_id if after else -(2**62)]
        if stale_only_version is not None:
            where.append("p.tagger_version != ?")
            params.append(stale_only_version)
        return " AND ".join(where), params

    async def count_for_retag(self, *, after: PostKey | None, stale_only_version: str | None = None) -> int:
        """How many posts ``posts_for_retag`` would page through (for a progress bar's total)."""
        where, params = self._retag_where(after, stale_only_version)
        rows = await self._fetch(f"SELECT count(*) FROM posts p WHERE {where}", params)
        return int(rows[0][0])

    async def posts_for_retag(
        self, *, after: PostKey | None, limit: int, stale_only_version: str | None = None
    ) -> list[StoredPost]:
        where, params = self._retag_where(after, stale_only_version)
        rows = await self._fetch(
            f"{self._STORED_SELECT} WHERE {where} ORDER BY p.channel_id, p.message_id LIMIT ?",
            (*params, limit),
        )
        return [self._stored(r) for r in rows]

    async def update_tags(self, items: Sequence[tuple[PostKey, Tags, str]]) -> None:
        """New tags for stored posts, batched; a post whose tags did not change gets only its version.

        Why: a retag after a version bump mostly recomputes the same tags, and rewriting them
        ran every post_tags row through the aggregate triggers (delete, then insert) for nothing.
        The stored tag columns are read for the whole batch in one query and compared; changed
        posts get their columns rewritten and only the post_tags rows that differ.
        """
        if not items:
            return
        async with self.transaction() as conn:
            current = await self._tag_columns(conn, [key for key, _, _ in items])
            version_only, changed, regrouped = tag_updates(items, current, tag_values)
            if version_only:
                await conn.executemany(
                    "UPDATE posts SET tagger_version = ? WHERE channel_id = ? AND message_id = ?", version_only
                )
            if changed:
                await conn.executemany(
                    f"UPDATE posts SET {_TAG_SET}, tagger_version = ? WHERE channel_id = ? AND message_id = ?",
                    changed,
                )
            if regrouped:
                await _diff_tag_rows(conn, regrouped)

    @staticmethod
    async def _tag_columns(
        conn: aiosqlite.Connection, keys: Sequence[PostKey]
    ) -> dict[tuple[int, int], tuple[Any, ...]]:
        """(day, the seven tag columns in tag_values order, tagger_version) of each stored key."""
        cursor = await conn.execute(
            "SELECT p.channel_id, p.message_id, p.day, p.lang, p.script, p.lang_confidence, p.groups, p.people,"
            " p.keywords, p.matches, p.tagger_version FROM json_each(?) j JOIN posts p"
            " ON p.channel_id = json_extract(j.value, '$[0]') AND p.message_id = json_extract(j.value, '$[1]')",
            (jdump([[k.channel_id, k.message_id] for k in keys]),),
        )
        return {(int(r[0]), int(r[1])): tuple(r[2:]) for r in await cursor.fetchall()}

    async def get_post(self, key: PostKey) -> StoredPost | None:
        rows = await self._fetch(
            f"{self._STORED_SELECT} WHERE p.channel_id = ? AND p.message_id = ?", (key.channel_id, key.message_id)
        )
        return self._stored(rows[0]) if rows else None

    # -- daemon -----------------------------------------------------------------------
    async def heartbeat(self, *, pid: int, started_at: datetime, at: datetime) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO heartbeat (id, pid, started_at, beat_at) VALUES (1, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at,"
                " beat_at = excluded.beat_at",
                (pid, ts(started_at), ts(at)),
            )

__all__ = ["SQLiteStore", "dt", "post_row", "ts"]
