"""The PostgreSQL Store: lifecycle, watch list, post writes and daemon state; reads come from the mixins.

Why this shape: PostgreSQL takes many writers at once, so there is no write lock as in SQLite;
each write is one transaction on a pooled connection (``Database.run``), retried from the start
when the connection is lost, which is safe because every write is an upsert keyed by
(channel, message). A batch of posts goes in as ONE ``INSERT ... SELECT FROM unnest(...)`` per
table: the statement-level triggers of migration 0001 then update every report aggregate once per
batch instead of once per row. The schema's units are SQLite's (epoch seconds, JSON text lists),
so both backends hold the same values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

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
from monitor.store.ports import Evaluate, History
from monitor.store.postgres.alerts import PostgresAlertQueries, PostgresAlertTx
from monitor.store.postgres.connection import Database, mask_url
from monitor.store.common.postrows import fingerprints, jdump, post_row, tag_row_changes, tag_values
from monitor.store.common.postrows import tag_rows as post_tag_rows
from monitor.store.common.store import Batch, PostSaving, SharedStoreQueries, park_times, tag_updates
from monitor.store.epoch import dt, ts
from monitor.store.postgres.delivery import PostgresDeliveryQueries
from monitor.store.postgres.leases import PostgresLeaseQueries
from monitor.store.postgres.reports import PostgresReportQueries
from monitor.store.postgres.lifecycle import UPSERT_LINKS, PostgresLifecycleQueries
from monitor.store.linkrows import link_rows
from monitor.store.postgres.web import PostgresWebQueries


# (column, PostgreSQL type) of the posts table in insert order; the types type the unnest arrays.
_POST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("channel_id", "bigint"), ("message_id", "bigint"), ("posted_at", "bigint"), ("day", "integer"),
    ("edited_at", "bigint"), ("views", "bigint"), ("forwards", "bigint"), ("replies", "bigint"),
    ("reactions", "bigint"), ("fwd_channel_id", "bigint"), ("fwd_name", "text"), ("fwd_message_id", "bigint"),
    ("fwd_date", "bigint"), ("reply_to_id", "bigint"), ("grouped_id", "bigint"), ("media_kind", "text"),
    ("author", "text"), ("links", "text"), ("mentions", "text"), ("text_length", "integer"),
    ("content_hash", "text"), ("simhash", "bigint"), ("lang", "text"), ("script", "text"),
    ("lang_confidence", "double precision"), ("groups", "text"), ("people", "text"), ("keywords", "text"),
    ("matches", "text"), ("tagger_version", "text"), ("text", "text"), ("source", "text"),
    ("first_seen_at", "bigint"), ("updated_at", "bigint"),
)


def _unnest_insert(table: str, columns: Sequence[tuple[str, str]], tail: str = "") -> str:
    """One INSERT of a whole batch: column arrays in, one statement (so one trigger run) per batch."""
    names = ", ".join(c for c, _ in columns)
    arrays = ", ".join(f"${i}::{t}[]" for i, (_, t) in enumerate(columns, start=1))
    return f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {tail}"


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows -> one list per column (the unnest arguments)."""
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


_INSERT_POSTS = _unnest_insert("posts", _POST_COLUMNS, "ON CONFLICT (channel_id, message_id) DO NOTHING"
                               " RETURNING message_id")
_TAG_COLUMNS = (("channel_id", "bigint"), ("message_id", "bigint"), ("kind", "text"), ("value", "text"),
                ("day", "integer"))
_INSERT_TAGS = _unnest_insert("post_tags", _TAG_COLUMNS, "ON CONFLICT DO NOTHING")
_SAMPLE_COLUMNS = (("channel_id", "bigint"), ("message_id", "bigint"), ("sampled_at", "bigint"),
                   ("views", "bigint"), ("forwards", "bigint"), ("replies", "bigint"), ("reactions", "bigint"))
# INSERT OR REPLACE of SQLite; DISTINCT ON keeps one row per key (ON CONFLICT refuses a key twice).
_UPSERT_SAMPLES = (
    "INSERT INTO metric_samples (channel_id, message_id, sampled_at, views, forwards, replies, reactions)"
    " SELECT DISTINCT ON (c, m, s) c, m, s, v, f, r, x FROM unnest($1::bigint[], $2::bigint[], $3::bigint[],"
    " $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(c, m, s, v, f, r, x)"
    " ON CONFLICT (channel_id, message_id, sampled_at) DO UPDATE SET views = excluded.views,"
    " forwards = excluded.forwards, replies = excluded.replies, reactions = excluded.reactions"
)
# Keep only samples of stored posts (SQLite drops them through its foreign key).
_UPSERT_KNOWN_SAMPLES = _UPSERT_SAMPLES.replace(
    "AS u(c, m, s, v, f, r, x)",
    "AS u(c, m, s, v, f, r, x) WHERE EXISTS (SELECT 1 FROM posts p WHERE p.channel_id = u.c AND p.message_id = u.m)",
)
_TAG_SET = "lang = $1, script = $2, lang_confidence = $3, groups = $4, people = $5, keywords = $6, matches = $7"


# One transaction-scoped advisory lock for the writes that move report aggregates (saves, retags).
# Why: a save is several statements (posts, then tags, then alert history), and each statement's
# trigger locks aggregate rows in key order, but two statements of two collectors can still take
# the same rows in opposite orders and deadlock. Taking turns at the start of the transaction, before
# any row lock, makes concurrent collectors write one batch at a time, as SQLite's single writer
# does; a save holds it for milliseconds, and polls spend their time waiting on Telegram, not here.
# The lock is keyed by the schema too: two deployments in two schemas of one database do not wait
# on each other.
_WRITER_LOCK = 0x6D6F6E77  # "monw", the first of the two int4 keys; the second hashes the search_path


async def _writer_turn(conn: Any) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1::int4, hashtext(current_setting('search_path')))", _WRITER_LOCK)


async def _replace_tag_rows(conn: Any, channel_id: int, message_id: int, day: int, tags: Tags) -> None:
    """A post's rows in post_tags made equal to ``tags`` (DELETE and INSERT: the triggers need no UPDATE)."""
    await conn.execute("DELETE FROM post_tags WHERE channel_id = $1 AND message_id = $2", channel_id, message_id)
    rows = post_tag_rows(channel_id, message_id, day, tags)
    if rows:
        await conn.execute(_INSERT_TAGS, *_columns(rows, 5))


async def _diff_tag_rows(conn: Any, posts: Sequence[tuple[PostKey, int, Tags]]) -> None:
    """Make each post's post_tags rows equal to its tags, deleting and inserting only the rows that differ."""
    rows = await conn.fetch(
        "SELECT t.channel_id, t.message_id, t.kind, t.value FROM unnest($1::bigint[], $2::bigint[]) AS k(c, m)"
        " JOIN post_tags t ON t.channel_id = k.c AND t.message_id = k.m",
        [k.channel_id for k, _, _ in posts], [k.message_id for k, _, _ in posts],
    )
    gone, added = tag_row_changes(rows, posts)
    if gone:
        await conn.execute(
            "DELETE FROM post_tags t USING unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])"
            " AS g(c, m, k, v) WHERE t.channel_id = g.c AND t.message_id = g.m AND t.kind = g.k AND t.value = g.v",
            *_columns(gone, 4),
        )
    if added:
        await conn.execute(_INSERT_TAGS, *_columns(added, 5))


async def _evaluate_in(conn: Any, evaluate: Evaluate, result: SaveResult) -> SaveResult:
    """Run the alert step inside the save transaction, under a savepoint so its failure undoes only itself."""
    savepoint = conn.transaction()  # nested in the save's transaction: a SAVEPOINT
    await savepoint.start()
    try:
        await evaluate(cast(History, PostgresAlertTx(conn)), result)
    except Exception as exc:  # noqa: BLE001 - reported in the result; the posts must still commit
        await savepoint.rollback()  # a lost connection raises here, and the whole save is retried
        return replace(result, evaluation_error=repr(exc))
    await savepoint.commit()
    return result


_STORED_SELECT = (
    "SELECT p.channel_id, p.message_id, p.posted_at, p.text, p.lang, p.script, p.groups, p.people,"
    " p.keywords, p.tagger_version, p.views, p.forwards, c.username"
    " FROM posts p LEFT JOIN channels c ON c.id = p.channel_id"
)


def _stored(r: Any) -> StoredPost:
    posted = dt(r[2])
    assert posted is not None
    return StoredPost(
        channel_id=r[0], message_id=r[1], posted_at=posted, text=r[3], lang=r[4], script=r[5],
        groups=tuple(json.loads(r[6])), people=tuple(json.loads(r[7])), keywords=tuple(json.loads(r[8])),
        tagger_version=r[9], views=r[10], forwards=r[11], channel_username=r[12],
    )


def _retag_where(after: PostKey | None, stale_only_version: str | None) -> tuple[str, list[Any]]:
    where = ["(p.channel_id, p.message_id) > ($1, $2)"]
    params: list[Any] = [after.channel_id if after else -(2**62), after.message_id if after else -(2**62)]
    if stale_only_version is not None:
        where.append("p.tagger_version <> $3")
        params.append(stale_only_version)
    return " AND ".join(where), params


class PostgresStore(
    PostgresReportQueries,
    PostgresAlertQueries,
    PostgresDeliveryQueries,
    PostgresLifecycleQueries,
    PostgresWebQueries,
    PostgresLeaseQueries,
    SharedStoreQueries,
    PostSaving,
):
    """One database shared by a team: collectors write, analysts read through read-only connections.

    ``url`` is shown with its password masked (the real one stays inside the pool). ``read_only``
    opens every connection with default_transaction_read_only and never migrates: the schema must
    already be there, at a version this code knows.
    """

    _COLLATE = ' COLLATE "C"'

    def __init__(self, url: str, *, read_only: bool = False, **options: Any) -> None:
        self.url = mask_url(url)
        self.read_only = read_only
        self.db = Database(url, read_only=read_only, **options)

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r})"

    # -- lifecycle ------------------------------------------------------------------
    async def open(self) -> None:
        if self.db._pool is not None:  # noqa: SLF001 - idempotent open
            return
        await self.db.open()
        try:
            if self.read_only:
                await self.db.check_schema()
            else:
                await self.db.migrate()
        except BaseException:
            await self.db.close()
            self.db._closed = False  # noqa: SLF001 - a failed open may be retried
            raise

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        return await self.db.schema_version()

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        async def work(conn: Any) -> list[Any]:
            return list(await conn.fetch(sql, *args))

        return await self.db.run(work, write=False)

    async def _statement(self, sql: str, params: Sequence[Any]) -> None:
        """A shared statement (``?`` placeholders) in asyncpg's ``$n`` style: the n-th ``?`` is ``$n``."""
        parts = sql.split("?")
        numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
        await self._execute(numbered, *params)

    async def _execute(self, sql: str, *args: Any) -> str:
        """One write statement in its own transaction; returns the status tag ("UPDATE 3")."""
        async def work(conn: Any) -> str:
            return str(await conn.execute(sql, *args))

        return await self.db.run(work)

    # -- watch list -----------------------------------------------------------------
    async def sync_watchlist(self, refs: Sequence[ChannelRef], *, at: datetime) -> None:
        now = ts(at)
        unique = list({r.key: r for r in refs}.values())

        async def work(conn: Any) -> None:
            if unique:
                await conn.execute(
                    "INSERT INTO watch (key, labels, poll_interval, watched, added_at, channel_id)"
                    " SELECT k, l, i, 1, $4, c FROM unnest($1::text[], $2::text[], $3::float8[], $5::bigint[])"
                    " AS u(k, l, i, c) ORDER BY k"
                    " ON CONFLICT (key) DO UPDATE SET labels = excluded.labels,"
                    " poll_interval = excluded.poll_interval, watched = 1,"
                    " channel_id = coalesce(watch.channel_id, excluded.channel_id)",
                    [r.key for r in unique],
                    [jdump(dict(r.labels)) for r in unique],
                    [r.poll_interval for r in unique],
                    now,
                    [r.channel_id for r in unique],
                )
            await conn.execute(
                "UPDATE watch SET watched = 0 WHERE watched <> 0 AND NOT (key = ANY($1::text[]))",
                [r.key for r in unique],
            )

        await self.db.run(work)

    async def add_watch(self, ref: ChannelRef, *, at: datetime) -> bool:
        async def work(conn: Any) -> bool:
            # xmax = 0 on the returned row: it was inserted, not updated
            row = await conn.fetchrow(
                "INSERT INTO watch (key, channel_id, labels, poll_interval, watched, added_at)"
                " VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (key) DO UPDATE SET watched = 1"
                " WHERE watch.watched = 0 RETURNING key",
                ref.key, ref.channel_id, jdump(dict(ref.labels)), ref.poll_interval, ts(at),
            )
            return row is not None

        return await self.db.run(work)

    async def remove_watch(self, key: str) -> bool:
        status = await self._execute("UPDATE watch SET watched = 0 WHERE key = $1 AND watched = 1", key)
        return status != "UPDATE 0"

    async def set_resolved(self, key: str, channel: Channel, *, at: datetime) -> None:
        now = ts(at)

        async def work(conn: Any) -> None:
            await conn.execute(
                "INSERT INTO channels (id, username, title, access_hash, first_seen_at, updated_at)"
                " VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO UPDATE SET username = excluded.username,"
                " title = excluded.title, access_hash = coalesce(excluded.access_hash, channels.access_hash),"
                " updated_at = excluded.updated_at",
                channel.id, channel.username, channel.title, channel.access_hash, now,
            )
            await conn.execute(
                "UPDATE watch SET channel_id = $1, status = CASE WHEN status IN ('new', 'error') THEN 'active'"
                " ELSE status END WHERE key = $2",
                channel.id, key,
            )

        await self.db.run(work)

    async def park(self, scope: str, until: datetime, reason: str = "") -> None:
        await self._execute(
            "INSERT INTO parks (scope, until, reason) VALUES ($1, $2, $3) ON CONFLICT (scope) DO UPDATE"
            " SET until = greatest(parks.until, excluded.until), reason = excluded.reason",
            scope, ts(until), reason,
        )

    async def parks(self, *, now: datetime) -> dict[str, datetime]:
        rows = await self._fetch("SELECT scope, until FROM parks WHERE until > $1", ts(now))
        return park_times(rows)

    # -- posts ----------------------------------------------------------------------
    async def _save_batch(self, saving: Batch) -> SaveResult:
        channel_id, batch, now = saving.channel_id, saving.posts, saving.now
        store_text, source = saving.store_text, saving.source
        ids = sorted(batch)

        async def work(conn: Any) -> SaveResult:
            await _writer_turn(conn)
            # Lock the stored rows of this batch (in key order): two collectors saving overlapping
            # batches of one channel see each other's edits in turn, never half of them.
            existing = {
                int(r[0]): r
                for r in await conn.fetch(
                    "SELECT message_id, content_hash, views, forwards, replies, reactions, edited_at"
                    " FROM posts WHERE channel_id = $1 AND message_id = ANY($2::bigint[])"
                    " ORDER BY message_id FOR UPDATE",
                    channel_id, ids,
                )
            }
            new_rows = [post_row(batch[m], now=now, store_text=store_text, source=source)
                        for m in ids if m not in existing]
            inserted_ids: set[int] = set()
            if new_rows:
                returned = await conn.fetch(_INSERT_POSTS, *_columns(new_rows, len(_POST_COLUMNS)))
                inserted_ids = {int(r[0]) for r in returned}
            tag_rows: list[tuple[Any, ...]] = []
            samples: list[tuple[Any, ...]] = []
            for row in new_rows:
                mid = row[1]
                if mid not in inserted_ids:
                    continue  # another writer stored it a moment ago: it is theirs
                post = batch[mid].post
                tag_rows += post_tag_rows(channel_id, mid, row[3], batch[mid].tags)
                if post.views is not None or post.forwards is not None:
                    samples.append((channel_id, mid, now, post.views, post.forwards, post.replies, post.reactions))
            if tag_rows:
                await conn.execute(_INSERT_TAGS, *_columns(tag_rows, 5))
            updated = unchanged = 0
            if existing:
                updated, unchanged = await self._update_existing(
                    conn, channel_id, [batch[m] for m in ids if m in existing], existing, samples,
                    now=now, store_text=store_text,
                )
            unchanged += len(new_rows) - len(inserted_ids)
            if samples:
                await conn.execute(_UPSERT_SAMPLES, *_columns(samples, 7))
            links = link_rows(channel_id, list(batch.values()))
            if links:
                await conn.execute(UPSERT_LINKS, *_columns(links, 7))
            if saving.checkpoint is not None:
                await conn.execute(
                    "UPDATE channels SET checkpoint = greatest(checkpoint, $1), updated_at = $2 WHERE id = $3",
                    saving.checkpoint, now, channel_id,
                )
            keys = tuple(PostKey(channel_id, t.post.message_id) for t in batch.values()
                         if t.post.message_id in inserted_ids)
            result = SaveResult(inserted=len(keys), updated=updated, unchanged=unchanged, inserted_keys=keys)
            if saving.evaluate is not None and keys:
                result = await _evaluate_in(conn, saving.evaluate, result)
            return result

        return await self.db.run(work)

    async def _update_existing(
        self,
        conn: Any,
        channel_id: int,
        stored: Sequence[TaggedPost],
        old: Mapping[int, Any],
        samples: list[tuple[Any, ...]],
        *,
        now: int,
        store_text: bool,
    ) -> tuple[int, int]:
        """Apply what changed to stored posts (metrics in one statement, edits one by one); (updated, unchanged)."""
        await conn.execute(
            "UPDATE posts p SET views = coalesce(u.v, p.views), forwards = coalesce(u.f, p.forwards),"
            " replies = coalesce(u.r, p.replies), reactions = coalesce(u.x, p.reactions),"
            " edited_at = coalesce(u.e, p.edited_at), updated_at = $7"
            " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])"
            " AS u(m, v, f, r, x, e) WHERE p.channel_id = $8 AND p.message_id = u.m",
            [t.post.message_id for t in stored],
            [t.post.views for t in stored],
            [t.post.forwards for t in stored],
            [t.post.replies for t in stored],
            [t.post.reactions for t in stored],
            [ts(t.post.edited_at) for t in stored],
            now,
            channel_id,
        )
        updated = unchanged = 0
        for tagged in stored:
            post = tagged.post
            row = old[post.message_id]
            changed = await self._apply_edit(conn, tagged, row[1], now=now, store_text=store_text)
            metrics_changed = (post.views, post.forwards) != (row[2], row[3])
            if metrics_changed:
                samples.append(
                    (channel_id, post.message_id, now, post.views, post.forwards, post.replies, post.reactions)
                )
            if changed or metrics_changed:
                updated += 1
            else:
                unchanged += 1
        return updated, unchanged

    async def _apply_edit(self, conn: Any, tagged: TaggedPost, old_hash: str, *, now: int, store_text: bool) -> bool:
        """A content edit: post_edits row, new hashes, text and tags; False when the content is the same."""
        post, tags = tagged.post, tagged.tags
        chash = tagged.content_hash if tagged.content_hash is not None else content_hash(post.text)
        if chash == old_hash:
            return False
        _, shash = fingerprints(tagged)  # SimHash only for real edits: refreshes are frequent
        posted = ts(post.posted_at)
        assert posted is not None
        await conn.execute(
            "INSERT INTO post_edits (channel_id, message_id, edited_at, seen_at, old_hash, new_hash)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            post.channel_id, post.message_id, ts(post.edited_at), now, old_hash, chash,
        )
        await conn.execute(
            f"UPDATE posts SET prev_content_hash = content_hash, {_TAG_SET}, content_hash = $8, simhash = $9,"
            " text_length = $10, edit_count = edit_count + 1, links = $11, mentions = $12, text = $13,"
            " tagger_version = $14 WHERE channel_id = $15 AND message_id = $16",
            *tag_values(tags),
            chash,
            shash,
            len(post.text),
            jdump(list(post.links)),
            jdump(list(post.mentions)),
            post.text if store_text and post.text else None,
            tagged.tagger_version,
            post.channel_id,
            post.message_id,
        )
        await _replace_tag_rows(conn, post.channel_id, post.message_id, posted // 86400, tags)
        return True

    async def record_samples(self, samples: Sequence[MetricSample]) -> None:
        if not samples:
            return
        rows = [
            (s.channel_id, s.message_id, ts(s.sampled_at), s.views, s.forwards, s.replies, s.reactions)
            for s in samples
        ]

        async def work(conn: Any) -> None:
            await conn.execute(_UPSERT_KNOWN_SAMPLES, *_columns(rows, 7))

        await self.db.run(work)

    async def resample_candidates(self, channel_id: int, *, since: datetime) -> list[int]:
        rows = await self._fetch(
            "SELECT message_id FROM posts WHERE channel_id = $1 AND posted_at >= $2 AND deleted_at IS NULL"
            " ORDER BY message_id",
            channel_id, ts(since),
        )
        return [int(r[0]) for r in rows]

    async def purge_text(self, *, before: datetime) -> int:
        status = await self._execute(
            "UPDATE posts SET text = NULL WHERE text IS NOT NULL AND posted_at < $1", ts(before)
        )
        return int(status.rsplit(" ", 1)[-1])

    async def count_for_retag(self, *, after: PostKey | None, stale_only_version: str | None = None) -> int:
        where, params = _retag_where(after, stale_only_version)
        rows = await self._fetch(f"SELECT count(*) FROM posts p WHERE {where}", *params)
        return int(rows[0][0])

    async def posts_for_retag(
        self, *, after: PostKey | None, limit: int, stale_only_version: str | None = None
    ) -> list[StoredPost]:
        where, params = _retag_where(after, stale_only_version)
        rows = await self._fetch(
            f"{_STORED_SELECT} WHERE {where} ORDER BY p.channel_id, p.message_id LIMIT ${len(params) + 1}",
            *params, limit,
        )
        return [_stored(r) for r in rows]

    async def update_tags(self, items: Sequence[tuple[PostKey, Tags, str]]) -> None:
        """New tags for stored posts, batched; a post whose tags did not change gets only its version.

        Why (as in the SQLite store): a retag after a version bump mostly recomputes the same tags,
        and rewriting them sent every post_tags row through the aggregate triggers (delete, then
        insert) and left a dead tuple per row for VACUUM. The stored tag columns of the whole batch
        are read in one query and compared; changed posts get their columns rewritten and only the
        post_tags rows that differ are deleted or inserted.
        """
        if not items:
            return

        async def work(conn: Any) -> None:
            await _writer_turn(conn)
            rows = await conn.fetch(
                "SELECT p.channel_id, p.message_id, p.day, p.lang, p.script, p.lang_confidence, p.groups,"
                " p.people, p.keywords, p.matches, p.tagger_version"
                " FROM unnest($1::bigint[], $2::bigint[]) AS k(c, m)"
                " JOIN posts p ON p.channel_id = k.c AND p.message_id = k.m",
                [k.channel_id for k, _, _ in items], [k.message_id for k, _, _ in items],
            )
            current = {(int(r[0]), int(r[1])): tuple(r[2:]) for r in rows}
            version_only, changed, regrouped = tag_updates(items, current, tag_values)
            if version_only:
                await conn.executemany(
                    "UPDATE posts SET tagger_version = $1 WHERE channel_id = $2 AND message_id = $3", version_only
                )
            if changed:
                await conn.executemany(
                    f"UPDATE posts SET {_TAG_SET}, tagger_version = $8 WHERE channel_id = $9 AND message_id = $10",
                    changed,
                )
            if regrouped:
                await _diff_tag_rows(conn, regrouped)

        await self.db.run(work)

    async def get_post(self, key: PostKey) -> StoredPost | None:
        rows = await self._fetch(
            f"{_STORED_SELECT} WHERE p.channel_id = $1 AND p.message_id = $2", key.channel_id, key.message_id
        )
        return _stored(rows[0]) if rows else None

    # -- daemon -----------------------------------------------------------------------
    async def heartbeat(self, *, pid: int, started_at: datetime, at: datetime) -> None:
        await self._execute(
            "INSERT INTO heartbeat (id, pid, started_at, beat_at) VALUES (1, $1, $2, $3)"
            " ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at,"
            " beat_at = excluded.beat_at",
            pid, ts(started_at), ts(at),
        )

__all__ = ["PostgresStore", "dt", "post_row", "ts"]
