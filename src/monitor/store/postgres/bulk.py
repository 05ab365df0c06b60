"""``BulkCopy`` on PostgreSQL: whole tables in key order, one ``unnest`` upsert per chunk, the recount.

Why upserts through the triggers (and not COPY with the triggers off and a recount at the end): the
statement-level triggers of migration 0001 turn each chunk into one grouped update per aggregate,
so the aggregates are exact after every committed chunk, a copy killed half-way leaves a database
that ``monitor db check`` finds consistent, and a resumed chunk (``ON CONFLICT``) nets to zero.
Rows already equal are not even updated (``IS DISTINCT FROM``), so nothing fires for them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from monitor.store.ports import COPY_TABLES, CopyCursor, CopyTable
from monitor.store.postgres.recount import RECOUNTS, aggregate_drift
from monitor.store.postgres.store import PostgresStore

_TABLES: dict[str, CopyTable] = {t.name: t for t in COPY_TABLES}
PROGRESS = "monitor_copy_progress"
_CREATE_PROGRESS = (
    f"CREATE TABLE IF NOT EXISTS {PROGRESS} (job TEXT NOT NULL, table_name TEXT NOT NULL, cursor TEXT,"
    " copied BIGINT NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job, table_name))"
)
_COMMENT_PROGRESS = (
    f"COMMENT ON TABLE {PROGRESS} IS 'Resume cursors of monitor db copy into this database"
    " (job = the source, password masked); not part of the collected data.'"
)


def _checked(name: str) -> str:
    """Table names come from the fixed lists of ``monitor.store.ports``, never from input."""
    if name not in _TABLES and name not in RECOUNTS:
        raise ValueError(f"not a monitor table: {name!r}")
    return name


class PostgresBulk:
    """``BulkCopy`` over an opened PostgresStore (read-only for a copy's source and for ``db check``)."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.db = store.db
        self.url = store.url  # already masked
        self._types: dict[str, dict[str, str]] = {}

    async def schema_version(self) -> int:
        return await self.db.schema_version()

    async def table_counts(self, tables: Sequence[str]) -> dict[str, int]:
        async def work(conn: Any) -> dict[str, int]:
            return {name: int(await conn.fetchval(f"SELECT count(*) FROM {_checked(name)}")) for name in tables}

        return await self.db.run(work, write=False)

    async def export_rows(self, table: str, after: tuple[Any, ...] | None, limit: int) -> list[tuple[Any, ...]]:
        spec = _TABLES[table]
        cols = ", ".join(spec.columns)
        order = ", ".join(spec.key)
        n = len(spec.key)
        where = "" if after is None else f"WHERE ({order}) > ({', '.join(f'${i}' for i in range(1, n + 1))})"
        params: list[Any] = [] if after is None else list(after)

        async def work(conn: Any) -> list[tuple[Any, ...]]:
            if spec.unique:
                rows = await conn.fetch(
                    f"SELECT {cols} FROM {spec.name} {where} ORDER BY {order} LIMIT ${len(params) + 1}", *params, limit
                )
                return [tuple(r) for r in rows]
            keys = await conn.fetch(
                f"SELECT DISTINCT {order} FROM {spec.name} {where} ORDER BY {order} LIMIT ${len(params) + 1}",
                *params, limit,
            )
            if not keys:
                return []
            last = tuple(keys[-1])
            upper = f"({order}) <= ({', '.join(f'${len(params) + i}' for i in range(1, n + 1))})"
            full = f"{where} AND {upper}" if where else f"WHERE {upper}"
            rows = await conn.fetch(f"SELECT {cols} FROM {spec.name} {full} ORDER BY {cols}", *params, *last)
            return [tuple(r) for r in rows]

        return await self.db.run(work, write=False)

    async def _column_types(self, conn: Any, table: str) -> dict[str, str]:
        if table not in self._types:
            rows = await conn.fetch(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
                " WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
                table,
            )
            self._types[table] = {r[0]: r[1] for r in rows}
        return self._types[table]

    async def import_rows(
        self, table: str, rows: Sequence[tuple[Any, ...]], *, job: str, cursor: tuple[Any, ...] | None, copied: int
    ) -> None:
        spec = _TABLES[table]
        columns = [list(c) for c in zip(*rows, strict=True)] if rows else []

        async def work(conn: Any) -> None:
            await conn.execute(_CREATE_PROGRESS)
            if rows:
                types = await self._column_types(conn, spec.name)
                arrays = ", ".join(f"${i}::{types[c]}[]" for i, c in enumerate(spec.columns, start=1))
                cols = ", ".join(spec.columns)
                key = ", ".join(spec.key)
                if not spec.unique:
                    k = [spec.columns.index(c) for c in spec.key]
                    karrays = ", ".join(f"${i}::{types[spec.key[i - 1]]}[]" for i in range(1, len(k) + 1))
                    await conn.execute(
                        f"DELETE FROM {spec.name} WHERE ({key}) IN (SELECT * FROM unnest({karrays}))",
                        *[columns[i] for i in k],
                    )
                    tail = ""
                else:
                    rest = [c for c in spec.columns if c not in spec.key]
                    if not rest or spec.name == "post_tags":  # post_tags rows are never updated (0002)
                        tail = f" ON CONFLICT ({key}) DO NOTHING"
                    else:
                        sets = ", ".join(f"{c} = excluded.{c}" for c in rest)
                        old = ", ".join(f"x.{c}" for c in rest)
                        new = ", ".join(f"excluded.{c}" for c in rest)
                        tail = f" ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE ({old}) IS DISTINCT FROM ({new})"
                await conn.execute(f"INSERT INTO {spec.name} AS x ({cols}) SELECT * FROM unnest({arrays}){tail}", *columns)
            await conn.execute(
                f"INSERT INTO {PROGRESS} (job, table_name, cursor, copied, done) VALUES ($1, $2, $3, $4, 0)"
                " ON CONFLICT (job, table_name) DO UPDATE SET cursor = excluded.cursor, copied = excluded.copied",
                job, table, None if cursor is None else json.dumps(list(cursor)), copied,
            )

        await self.db.run(work)

    async def copy_progress(self, job: str) -> dict[str, CopyCursor]:
        async def work(conn: Any) -> dict[str, CopyCursor]:
            if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", PROGRESS):
                return {}
            rows = await conn.fetch(f"SELECT table_name, cursor, copied, done FROM {PROGRESS} WHERE job = $1", job)
            return {r[0]: (None if r[1] is None else tuple(json.loads(r[1])), int(r[2]), bool(r[3])) for r in rows}

        return await self.db.run(work, write=False)

    async def copy_jobs(self) -> list[str]:
        async def work(conn: Any) -> list[str]:
            if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", PROGRESS):
                return []
            return [r[0] for r in await conn.fetch(f"SELECT DISTINCT job FROM {PROGRESS} ORDER BY job")]

        return await self.db.run(work, write=False)

    async def finish_table(self, table: str, *, job: str) -> None:
        async def work(conn: Any) -> None:
            await conn.execute(_CREATE_PROGRESS)
            await conn.execute(_COMMENT_PROGRESS)
            if table in ("alerts", "web_audit"):  # ids were copied as they were: the next row takes the next id
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL)"
                    f" FROM {table}"
                )
            await conn.execute(
                f"INSERT INTO {PROGRESS} (job, table_name, cursor, copied, done) VALUES ($1, $2, NULL, 0, 1)"
                " ON CONFLICT (job, table_name) DO UPDATE SET done = 1",
                job, table,
            )

        await self.db.run(work)

    async def aggregate_drift(self) -> list[str]:
        async with self.db.connection() as conn:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                return await aggregate_drift(conn)


def bulk(store: Any) -> PostgresBulk:
    """The ``BulkCopy`` of an opened PostgreSQL store (``monitor.store.open_bulk`` calls this)."""
    return PostgresBulk(store)




async def peek_schema_version(url: str) -> int:
    """The schema version at ``url`` without migrating (0: no monitor schema yet)."""
    from monitor.store.postgres.connection import Database

    db = Database(url, read_only=True, min_size=1, max_size=1)
    await db.open()
    try:
        return await db.schema_version()
    finally:
        await db.close()


def newest_version() -> int:
    from monitor.store.postgres.connection import load_migrations

    return max((m.version for m in load_migrations()), default=0)


__all__ = ["PROGRESS", "PostgresBulk", "bulk", "newest_version", "peek_schema_version"]
