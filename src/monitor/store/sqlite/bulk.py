"""``BulkCopy`` on SQLite: whole tables in key order, idempotent upserts, the recount of every aggregate.

Why upserts through the triggers: the aggregates of migrations 0002 and 0005 follow every insert
into posts and post_tags, so imported posts and tags are counted as they land and the aggregates
are exact after every committed chunk (``monitor db check`` agrees at any moment of a copy). An
upsert of a row that is already there changes nothing, and the update triggers only fire when a
value an aggregate reads changes, so a chunk imported twice (a resumed copy) counts once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from monitor.store.ports import AGGREGATE_TABLES, COPY_TABLES, CopyCursor, CopyTable
from monitor.store.recount import Dialect, recounts
from monitor.store.sqlite.store import SQLiteStore

_TABLES: dict[str, CopyTable] = {t.name: t for t in COPY_TABLES}
PROGRESS = "monitor_copy_progress"
_CREATE_PROGRESS = (
    f"CREATE TABLE IF NOT EXISTS {PROGRESS} (job TEXT NOT NULL, table_name TEXT NOT NULL, cursor TEXT,"
    " copied INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job, table_name))"
)

RECOUNTS = recounts(
    Dialect(
        month="CAST(julianday(date({d} * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER)",
        week="{d} - (({d} + 3) % 7)",
        byte_order="",  # SQLite compares text by bytes already
        mentions="posts p, json_each(p.mentions) j",
    )
)
assert set(RECOUNTS) == set(AGGREGATE_TABLES)


def drift_sql(table: str) -> str:
    """How many rows differ between ``table`` and its recount; rows counted back to zero equal no row."""
    keys, metrics, recount = RECOUNTS[table]
    cols = ", ".join((*keys, *metrics))
    stored = f"SELECT {cols} FROM {table} WHERE " + " OR ".join(f"{m} <> 0" for m in metrics)
    fresh = f"SELECT {cols} FROM ({recount})"
    return f"SELECT count(*) FROM (SELECT * FROM ({stored} EXCEPT {fresh}) UNION ALL SELECT * FROM ({fresh} EXCEPT {stored}))"


def _key_where(table: CopyTable, after: tuple[Any, ...] | None) -> tuple[str, list[Any]]:
    if after is None:
        return "", []
    return f"WHERE ({', '.join(table.key)}) > ({', '.join('?' * len(table.key))})", list(after)


def _upsert_sql(table: CopyTable) -> str:
    cols = ", ".join(table.columns)
    values = ", ".join("?" * len(table.columns))
    if not table.unique:
        return f"INSERT INTO {table.name} ({cols}) VALUES ({values})"
    rest = [c for c in table.columns if c not in table.key]
    if not rest or table.name == "post_tags":
        return f"INSERT INTO {table.name} ({cols}) VALUES ({values}) ON CONFLICT ({', '.join(table.key)}) DO NOTHING"
    sets = ", ".join(f"{c} = excluded.{c}" for c in rest)
    changed = " OR ".join(f"{c} IS NOT excluded.{c}" for c in rest)
    return (
        f"INSERT INTO {table.name} ({cols}) VALUES ({values}) ON CONFLICT ({', '.join(table.key)})"
        f" DO UPDATE SET {sets} WHERE {changed}"
    )


class SQLiteBulk:
    """``BulkCopy`` over an opened SQLiteStore (read-only for a copy's source and for ``db check``)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.url = f"sqlite:///{store.path.resolve()}"

    def _conn(self) -> Any:
        return self.store._conn()  # noqa: SLF001 - the same backend's connection

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = await self._conn().execute(sql, tuple(params))
        return [tuple(r) for r in await cursor.fetchall()]

    async def schema_version(self) -> int:
        return await self.store.schema_version()

    async def table_counts(self, tables: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for name in tables:
            rows = await self._all(f"SELECT count(*) FROM {_checked(name)}")
            counts[name] = int(rows[0][0])
        return counts

    async def export_rows(self, table: str, after: tuple[Any, ...] | None, limit: int) -> list[tuple[Any, ...]]:
        spec = _TABLES[table]
        where, params = _key_where(spec, after)
        cols = ", ".join(spec.columns)
        order = ", ".join(spec.key)
        if spec.unique:
            return await self._all(f"SELECT {cols} FROM {spec.name} {where} ORDER BY {order} LIMIT ?", [*params, limit])
        keys = await self._all(f"SELECT DISTINCT {order} FROM {spec.name} {where} ORDER BY {order} LIMIT ?",
                               [*params, limit])
        if not keys:
            return []
        last = keys[-1]
        upper = f"({order}) <= ({', '.join('?' * len(spec.key))})"
        where = f"{where} AND {upper}" if where else f"WHERE {upper}"
        # every column in the order: identical edits of one post come out in a stable order
        return await self._all(f"SELECT {cols} FROM {spec.name} {where} ORDER BY {cols}", [*params, *last])

    async def import_rows(
        self, table: str, rows: Sequence[tuple[Any, ...]], *, job: str, cursor: tuple[Any, ...] | None, copied: int
    ) -> None:
        spec = _TABLES[table]
        async with self.store.transaction() as conn:
            await conn.execute(_CREATE_PROGRESS)
            if not spec.unique and rows:
                positions = [spec.columns.index(k) for k in spec.key]
                groups = sorted({tuple(r[i] for i in positions) for r in rows})
                await conn.executemany(
                    f"DELETE FROM {spec.name} WHERE ({', '.join(spec.key)}) = ({', '.join('?' * len(spec.key))})",
                    groups,
                )
            if rows:
                await conn.executemany(_upsert_sql(spec), rows)
            await conn.execute(
                f"INSERT INTO {PROGRESS} (job, table_name, cursor, copied, done) VALUES (?, ?, ?, ?, 0)"
                " ON CONFLICT (job, table_name) DO UPDATE SET cursor = excluded.cursor, copied = excluded.copied",
                (job, table, None if cursor is None else json.dumps(list(cursor)), copied),
            )

    async def copy_progress(self, job: str) -> dict[str, CopyCursor]:
        if not await self._has_progress():
            return {}
        rows = await self._all(f"SELECT table_name, cursor, copied, done FROM {PROGRESS} WHERE job = ?", [job])
        return {r[0]: (None if r[1] is None else tuple(json.loads(r[1])), int(r[2]), bool(r[3])) for r in rows}

    async def copy_jobs(self) -> list[str]:
        if not await self._has_progress():
            return []
        return [r[0] for r in await self._all(f"SELECT DISTINCT job FROM {PROGRESS} ORDER BY job")]

    async def finish_table(self, table: str, *, job: str) -> None:
        async with self.store.transaction() as conn:
            await conn.execute(_CREATE_PROGRESS)
            await conn.execute(
                f"INSERT INTO {PROGRESS} (job, table_name, cursor, copied, done) VALUES (?, ?, NULL, 0, 1)"
                " ON CONFLICT (job, table_name) DO UPDATE SET done = 1",
                (job, table),
            )

    async def aggregate_drift(self) -> list[str]:
        drifted = []
        for table in RECOUNTS:
            rows = await self._all(drift_sql(table))
            if int(rows[0][0]):
                drifted.append(table)
        return drifted

    async def _has_progress(self) -> bool:
        rows = await self._all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [PROGRESS])
        return bool(rows)


def _checked(name: str) -> str:
    """Table names come from the fixed lists of ``monitor.store.ports``, never from input."""
    if name not in _TABLES and name not in RECOUNTS and name != "heartbeat":
        raise ValueError(f"not a monitor table: {name!r}")
    return name


def bulk(store: Any) -> SQLiteBulk:
    """The ``BulkCopy`` of an opened SQLite store (``monitor.store.open_bulk`` calls this)."""
    return SQLiteBulk(store)




async def peek_schema_version(url: str) -> int:
    """The schema version of the file at ``url`` without opening it as a store (0: no file or no schema)."""
    import asyncio
    import sqlite3

    from monitor.store import sqlite_path

    path = sqlite_path(url)

    def read() -> int:
        if not path.is_file():
            return 0
        from monitor.store.sqlite.readonly import read_only_uri

        conn = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").fetchone() is None:
                return 0
            row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
            return int(row[0] or 0)
        finally:
            conn.close()

    return await asyncio.to_thread(read)


def newest_version() -> int:
    from monitor.store.sqlite.migrate import load_migrations

    return max((m.version for m in load_migrations()), default=0)


__all__ = ["PROGRESS", "RECOUNTS", "SQLiteBulk", "bulk", "drift_sql", "newest_version", "peek_schema_version"]
