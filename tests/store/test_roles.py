"""The roles SQL of docs/operations.md, run on the local server in a fresh database: the collector
migrates and writes, an analyst reads every table (also those the migrations created after the
grants) and can write nothing."""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from postgres_server import require_server, server_url

from monitor.store import admin

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _roles_sql() -> str:
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text("utf-8"), flags=re.DOTALL)
    found = [b for b in blocks if "CREATE ROLE monitor_analyst" in b]
    assert len(found) == 1
    return found[0]


def _as(url: str, user: str, database: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}", path=f"/{database}", query=""))


def test_analyst_role_reads_and_cannot_write() -> None:
    require_server()
    import asyncpg

    tag = secrets.token_hex(4)
    names = {"monitor_collector": f"monitor_collector_{tag}", "monitor_analyst": f"monitor_analyst_{tag}",
             "monitor_alice": f"monitor_alice_{tag}"}
    database = f"monitor_roles_{tag}"
    sql = _roles_sql()
    for old, new in names.items():
        sql = re.sub(rf"\b{old}\b", new, sql)
    sql = re.sub(r"\bDATABASE monitor\b", f"DATABASE {database}", sql)
    cluster_part, db_part = sql.split("\\c monitor\n")
    statements = [s.split("--")[0].strip() for s in cluster_part.splitlines()]
    statements = [s.rstrip(";") for s in statements if s]

    async def go() -> None:
        admin_conn = await asyncpg.connect(server_url())
        try:
            for statement in statements:
                await admin_conn.execute(statement)
            in_db = await asyncpg.connect(_as(server_url(), urlsplit(server_url()).username or "postgres", database))
            try:
                await in_db.execute(db_part)
            finally:
                await in_db.close()
            collector = _as(server_url(), names["monitor_collector"], database)
            migrated = await admin.migrate(collector)
            assert migrated.after > 0
            conn = await asyncpg.connect(collector)
            try:
                await conn.execute("INSERT INTO parks (scope, until, reason) VALUES ('account', 1, 'test')")
            finally:
                await conn.close()
            analyst = await asyncpg.connect(_as(server_url(), names["monitor_alice"], database))
            try:
                assert await analyst.fetchval("SELECT count(*) FROM parks") == 1
                assert await analyst.fetchval("SELECT count(*) FROM agg_tag_day") == 0
                for write in ("INSERT INTO parks (scope, until) VALUES ('x', 2)", "DELETE FROM posts",
                              "CREATE TABLE mine (x int)"):
                    with pytest.raises(asyncpg.PostgresError):
                        await analyst.execute(write)
                # without the per-login read-only default, the role's privileges alone still refuse writes
                await analyst.execute("SET default_transaction_read_only = off")
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await analyst.execute("UPDATE watch SET watched = 0")
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await analyst.execute("CREATE TABLE mine (x int)")
            finally:
                await analyst.close()
            check = await admin.check(_as(server_url(), names["monitor_alice"], database))
            assert check.ok and check.counts["parks"] == 1
        finally:
            await admin_conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", database
            )
            await admin_conn.execute(f"DROP DATABASE IF EXISTS {database}")
            for role in reversed(list(names.values())):
                await admin_conn.execute(f"DROP ROLE IF EXISTS {role}")
            await admin_conn.close()

    asyncio.run(go())
