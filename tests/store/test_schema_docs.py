"""docs/schema.md holds for both backends: same tables and columns, every example query runs on both with
the same answer, and the PostgreSQL schema explains itself (a comment on every table and column)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from postgres_server import fresh_schema
from test_backends_agree import _load

from monitor.store import admin, open_store

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def _blocks(fence: str) -> list[str]:
    return re.findall(rf"```{fence}\n(.*?)```", DOC.read_text("utf-8"), flags=re.DOTALL)


def _norm(rows: list[Any]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        values = []
        for v in tuple(row):
            if isinstance(v, Decimal | float):
                v = round(float(v), 6)
            values.append(v)
        out.append(tuple(values))
    return out


async def _pg_rows(url: str, sql: str) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def test_every_example_query_runs_on_both_backends_with_the_same_answer(tmp_path: Path) -> None:
    lite = tmp_path / "docs.db"

    async def fill() -> None:
        store = open_store(lite)
        await store.open()
        try:
            await _load(store)
        finally:
            await store.close()

    asyncio.run(fill())
    portable, only_sqlite, only_pg = _blocks("sql"), _blocks("sqlite"), _blocks("postgres")
    assert len(portable) >= 7 and only_sqlite and only_pg

    async def go() -> None:
        async with fresh_schema() as url:
            copied = await admin.copy(lite, url)
            assert copied.ok
            conn = sqlite3.connect(f"file:{lite}?mode=ro", uri=True)
            try:
                nonempty = 0
                for sql in portable:
                    on_sqlite = _norm(conn.execute(sql).fetchall())
                    on_pg = _norm(await _pg_rows(url, sql))
                    assert on_sqlite == on_pg, sql
                    nonempty += bool(on_sqlite)
                assert nonempty >= len(portable) - 1  # the data set answers (nearly) every example
                for sql in only_sqlite:  # SQLite's own (JSON and date functions, the v_ views)
                    conn.execute(sql).fetchall()
                pairs = list(zip(only_sqlite[: len(only_pg)], only_pg, strict=True))  # each PG one follows its twin
                for lite_sql, pg_sql in pairs:
                    a = _norm(conn.execute(lite_sql).fetchall())
                    b = _norm(await _pg_rows(url, pg_sql))
                    assert a and a == b, pg_sql
            finally:
                conn.close()

    asyncio.run(go())


def test_same_tables_and_columns_on_both_backends_and_every_postgres_column_has_a_comment(tmp_path: Path) -> None:
    lite = tmp_path / "cols.db"

    async def go() -> None:
        store = open_store(lite)
        await store.open()
        await store.close()
        conn = sqlite3.connect(lite)
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            on_sqlite = {(t, r[1]) for t in tables for r in conn.execute(f"PRAGMA table_info({t})")}
        finally:
            conn.close()
        async with fresh_schema() as url:
            await admin.migrate(url)
            rows = await _pg_rows(
                url,
                "SELECT c.relname AS t, a.attname AS col, col_description(c.oid, a.attnum) AS about,"
                " obj_description(c.oid, 'pg_class') AS table_about"
                " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
                " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'",
            )
            on_pg = {(r["t"], r["col"]) for r in rows}
            # the one listed difference: PostgreSQL's insertion order column (SQLite has its rowid)
            assert on_pg - on_sqlite == {("posts", "seq")}
            assert on_sqlite - on_pg == set()
            assert len(on_pg) > 150
            missing = sorted(f"{r['t']}.{r['col']}" for r in rows if not r["about"])
            assert not missing, missing
            assert not sorted({r["t"] for r in rows if not r["table_about"]})

    asyncio.run(go())
