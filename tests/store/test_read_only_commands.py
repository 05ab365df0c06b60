"""Read-only commands (status, report, alerts list) as a user runs them, in real subprocesses:
they open the store read-only, never create or migrate a database, write nothing, and never show
a password that is in the database URL."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from contract_data import CHANNEL, T0, tagged, watch
from postgres_server import fresh_schema

from monitor.store import open_store

SRC = Path(__file__).resolve().parents[2] / "src"
pytestmark = pytest.mark.slow


def monitor(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def config(folder: Path, database: str) -> Path:
    scenario = folder / "scenario.json"
    scenario.write_text(json.dumps({"format": "monitor-scenario/1", "channels": [], "faults": []}), "utf-8")
    path = folder / "monitor.toml"
    path.write_text(
        f"[monitor]\ndatabase = {json.dumps(database)}\n\n[source]\nkind = \"scenario\"\n"
        f"scenario = {json.dumps(str(scenario))}\n\n[[channels]]\nhandle = \"@ozod_sado\"\n",
        "utf-8",
    )
    return path


async def fill(url: str) -> None:
    store = open_store(url)
    await store.open()
    try:
        await watch(store)
        await store.save_posts(CHANNEL.id, [tagged(i, groups=("IS",)) for i in range(1, 6)], at=T0, checkpoint=5)
        now = datetime.now(UTC)
        await store.heartbeat(pid=1, started_at=now, at=now)
    finally:
        await store.close()


# -- PostgreSQL: an analyst's SELECT-only role -----------------------------------------------------------


@pytest.fixture
async def analyst_url() -> AsyncIterator[tuple[str, str, str]]:
    """(admin URL of a filled schema, the analyst's URL with a password in it, that password)."""
    import asyncpg

    async with fresh_schema() as url:
        await fill(url)
        schema = urlsplit(url).query.split("search_path=")[1]
        role, password = f"monitor_reader_{secrets.token_hex(4)}", "Pw" + secrets.token_hex(8)
        admin = await asyncpg.connect(url)
        try:
            await admin.execute(f'CREATE ROLE "{role}" LOGIN')
            await admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
            await admin.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
            parts = urlsplit(url)
            # trust authentication on the test server accepts (and ignores) the password
            yield url, urlunsplit(parts._replace(netloc=f"{role}:{password}@{parts.netloc.rsplit('@', 1)[-1]}")), password
        finally:
            await admin.execute(f'DROP OWNED BY "{role}"')
            await admin.execute(f'DROP ROLE "{role}"')
            await admin.close()


async def _snapshot(url: str) -> list[object]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [
            await conn.fetchval(f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t")
            for table in ("posts", "post_tags", "watch", "channels", "heartbeat", "schema_migrations",
                          "agg_channel_day", "alerts", "metric_samples")
        ]
    finally:
        await conn.close()


async def test_read_only_commands_on_postgres_work_with_a_select_only_role_and_write_nothing(
    analyst_url: tuple[str, str, str], tmp_path: Path
) -> None:
    admin, url, password = analyst_url
    before = await _snapshot(admin)
    cfg = config(tmp_path, url)

    status = await asyncio.to_thread(monitor, "status", "--config", str(cfg), "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert sum(r["posts"] for r in report["channels"]) == 5 and "***" in report["database"]

    table = await asyncio.to_thread(monitor, "status", "--config", str(cfg))
    alerts = await asyncio.to_thread(monitor, "alerts", "list", "--database", url, "--format", "json")
    assert alerts.returncode == 0, alerts.stderr
    assert json.loads(alerts.stdout) == []
    volume = await asyncio.to_thread(monitor, "report", "volume", "--db", url, "--every", "day", "--format", "json")
    assert volume.returncode == 0, volume.stderr
    assert "5" in volume.stdout

    for result in (status, table, alerts, volume):
        assert password not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    assert await _snapshot(admin) == before


async def test_a_failing_postgres_open_never_shows_the_password(tmp_path: Path) -> None:
    password = "Pw" + secrets.token_hex(8)
    url = f"postgresql://monitor:{password}@127.0.0.1:1/nowhere"
    cfg = config(tmp_path, url)
    for args in (("status", "--config", str(cfg)), ("alerts", "list", "--database", url),
                 ("report", "volume", "--db", url), ("check", "--config", str(cfg), "--show")):
        result = await asyncio.to_thread(monitor, *args)
        assert password not in result.stdout + result.stderr, args
        assert "Traceback" not in result.stderr, args
    failed = await asyncio.to_thread(monitor, "status", "--config", str(cfg))
    assert failed.returncode != 0 and "cannot reach" in failed.stderr and "***" in failed.stderr


# -- SQLite: never created, never migrated by a read-only command ---------------------------------------------


def test_read_only_commands_never_create_or_migrate_a_sqlite_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    for args in (("report", "volume", "--db", str(missing)), ("alerts", "list", "--database", str(missing)),
                 ("status", "--config", str(config(tmp_path, str(missing))))):
        result = monitor(*args)
        assert result.returncode != 0 and "no database at" in result.stderr + result.stdout, args
        assert not missing.exists(), args

    db = tmp_path / "old.db"
    asyncio.run(fill(str(db)))
    with sqlite3.connect(db) as conn:
        newest = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
        conn.execute("DELETE FROM schema_migrations WHERE version = ?", (newest,))  # as if written by an older monitor
    cfg = config(tmp_path, str(db))
    for args in (("status", "--config", str(cfg)), ("report", "volume", "--db", str(db))):
        result = monitor(*args)
        assert result.returncode != 0 and "older" in result.stderr + result.stdout, (args, result.stderr)
        assert "Traceback" not in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == newest - 1
