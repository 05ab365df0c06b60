"""`monitor db migrate|check|copy` against real SQLite files and a real PostgreSQL server.

The round trip copies the report tests' data set (saved the way the daemon saves it, alerts
evaluated inside each save, so alerts, deliveries, terms, discovery and rule state are filled too)
from SQLite into a fresh PostgreSQL schema and back into a new SQLite file, and compares every
table row for row with the original. The kill test SIGKILLs a `monitor db copy` subprocess after
some chunks have committed, runs it again, and checks that every count matches and nothing was
copied twice.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from postgres_server import fresh_schema
from test_backends_agree import _load

from monitor.store import open_store
from monitor.store.sqlite.migrate import load_migrations
from monitor.store.ports import AGGREGATE_TABLES, COPY_TABLES, COPY_TABLE_NAMES

ROOT = Path(__file__).resolve().parents[2]
MONITOR = [sys.executable, "-m", "monitor"]


def cli(*args: str, extra_env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra_env or {})
    return subprocess.run([*MONITOR, *args], capture_output=True, text=True, timeout=timeout, env=env)


async def _fill(path: Path) -> None:
    store = open_store(path)
    await store.open()
    try:
        await _load(store)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data set saved once per module; each test copies the file (saving it takes seconds)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_fill(path))
    return path


_TEMPLATE: list[Path] = []


@pytest.fixture(autouse=True)
def _template(template: Path) -> None:
    _TEMPLATE[:] = [template]


async def _filled_sqlite(path: Path) -> None:
    shutil.copyfile(_TEMPLATE[0], path)


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    spec = {t.name: t for t in COPY_TABLES}.get(table)
    conn = sqlite3.connect(path)
    try:
        if spec is not None:
            cols = ", ".join(spec.columns)
            return conn.execute(f"SELECT {cols} FROM {table} ORDER BY {cols}").fetchall()
        # aggregates: rows counted back to zero are kept by the triggers and equal no row
        return conn.execute(f"SELECT * FROM {table} WHERE posts <> 0 ORDER BY 1, 2, 3, 4").fetchall()
    finally:
        conn.close()


async def _pg(url: str, sql: str, *args: Any) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def test_copy_sqlite_to_postgres_and_back_keeps_every_row(tmp_path: Path) -> None:
    original, back = tmp_path / "original.db", tmp_path / "back.db"
    asyncio.run(_filled_sqlite(original))

    async def go() -> None:
        async with fresh_schema() as url:
            there = await asyncio.to_thread(cli, "db", "copy", str(original), url, "--chunk", "97")
            assert there.returncode == 0, there.stderr
            assert "DIFFERS" not in there.stdout
            checked = await asyncio.to_thread(cli, "db", "check", url)
            assert checked.returncode == 0, checked.stdout + checked.stderr
            assert "aggregates: equal to a recount" in checked.stdout
            home = await asyncio.to_thread(cli, "db", "copy", url, str(back), "--chunk", "250")
            assert home.returncode == 0, home.stderr
            assert "every table has the same number of rows" in home.stdout
            # the copied alerts keep their ids, and the next alert takes the next one
            top = await _pg(url, "SELECT max(id) AS m, nextval(pg_get_serial_sequence('alerts', 'id')) AS n FROM alerts")
            assert top[0]["m"] is not None and top[0]["n"] == top[0]["m"] + 1

    asyncio.run(go())
    for table in (*COPY_TABLE_NAMES, *AGGREGATE_TABLES):
        before, after = _rows(original, table), _rows(back, table)
        assert before == after, table
    assert len(_rows(original, "posts")) > 300 and _rows(original, "alerts") and _rows(original, "discovered_channels")
    assert _rows(original, "post_edits") and _rows(original, "metric_samples") and _rows(original, "terms")


def test_copy_killed_mid_way_resumes_without_doubling(tmp_path: Path) -> None:
    original = tmp_path / "original.db"
    asyncio.run(_filled_sqlite(original))

    async def go() -> None:
        async with fresh_schema() as url:
            env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
            env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
            proc = await asyncio.create_subprocess_exec(
                *MONITOR, "db", "copy", str(original), url, "--chunk", "7",
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            try:
                deadline = time.monotonic() + 120
                copied = 0
                while time.monotonic() < deadline and proc.returncode is None:
                    rows = await _pg(url, "SELECT coalesce(sum(copied), 0) AS n FROM monitor_copy_progress") \
                        if (await _pg(url, "SELECT to_regclass('monitor_copy_progress') IS NOT NULL AS t"))[0]["t"] else []
                    copied = int(rows[0]["n"]) if rows else 0
                    if copied >= 200:  # some posts are in, most are not
                        break
                    await asyncio.sleep(0.05)
                assert proc.returncode is None, "the copy finished before it could be killed: use a smaller chunk"
                proc.send_signal(signal.SIGKILL)
                await asyncio.wait_for(proc.wait(), 30)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            partial = (await _pg(url, "SELECT count(*) AS n FROM posts"))[0]["n"]
            assert 0 < partial < len(_rows(original, "posts"))
            # half-way, the destination is consistent: the triggers counted each committed chunk
            mid = await asyncio.to_thread(cli, "db", "check", url)
            assert "aggregates: equal to a recount" in mid.stdout, mid.stdout + mid.stderr
            again = await asyncio.to_thread(cli, "db", "copy", str(original), url, "--chunk", "50")
            assert again.returncode == 0, again.stdout + again.stderr
            assert again.stdout.startswith("resumed")
            for table in COPY_TABLE_NAMES:
                n = (await _pg(url, f"SELECT count(*) AS n FROM {table}"))[0]["n"]
                assert n == len(_rows(original, table)), table
            dupes = await _pg(url, "SELECT count(*) AS n FROM (SELECT channel_id, message_id, seen_at, old_hash, new_hash,"
                                   " count(*) FROM post_edits GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) d")
            assert dupes[0]["n"] == 0
            # a third run finds everything done and changes nothing
            third = await asyncio.to_thread(cli, "db", "copy", str(original), url)
            assert third.returncode == 0 and third.stdout.startswith("resumed")

    asyncio.run(go())


def test_copy_refuses_a_non_empty_destination_and_a_newer_schema(tmp_path: Path) -> None:
    original = tmp_path / "original.db"
    asyncio.run(_filled_sqlite(original))
    other = tmp_path / "other.db"
    asyncio.run(_filled_sqlite(other))
    refused = cli("db", "copy", str(original), str(other))
    assert refused.returncode == 1 and "is not empty" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr

    async def go() -> None:
        async with fresh_schema() as url:
            assert (await asyncio.to_thread(cli, "db", "migrate", url)).returncode == 0
            await _pg(url, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)")
            newer = await asyncio.to_thread(cli, "db", "copy", str(original), url)
            assert newer.returncode == 1 and "newer than this monitor" in newer.stderr, newer.stderr
            assert (await _pg(url, "SELECT count(*) AS n FROM posts"))[0]["n"] == 0
            assert (await _pg(url, "SELECT to_regclass('monitor_copy_progress') IS NULL AS t"))[0]["t"]
            again = await asyncio.to_thread(cli, "db", "migrate", url)
            assert again.returncode == 1 and "newer than this monitor" in again.stderr

    asyncio.run(go())


def test_migrate_prints_versions_before_and_after_on_both_backends(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    first = cli("db", "migrate", str(db))
    assert first.returncode == 0, first.stderr
    newest = max(m.version for m in load_migrations())
    assert f"schema version 0 -> {newest}" in first.stdout and "0001" in first.stdout
    assert f"{newest} -> {newest} (up to date)" in cli("db", "migrate", str(db)).stdout

    async def go() -> None:
        async with fresh_schema() as url:
            result = await asyncio.to_thread(cli, "db", "migrate", url)
            assert result.returncode == 0, result.stderr
            assert "schema version 0 -> " in result.stdout
            newest = (await _pg(url, "SELECT max(version) AS v FROM schema_migrations"))[0]["v"]
            assert f"0 -> {newest} (applied" in result.stdout
            assert f"{newest} -> {newest} (up to date)" in (await asyncio.to_thread(cli, "db", "migrate", url)).stdout

    asyncio.run(go())


@pytest.mark.parametrize(
    "plant",
    [
        "UPDATE agg_channel_day SET posts = posts + 1 WHERE day = (SELECT min(day) FROM agg_channel_day)",
        "DELETE FROM agg_pair_day WHERE posts > 0 AND day = (SELECT min(day) FROM agg_pair_day WHERE posts > 0)",
        "UPDATE agg_tag_week SET views = views - 3 WHERE week = (SELECT max(week) FROM agg_tag_week)",
    ],
)
def test_check_finds_a_planted_drift_on_both_backends(tmp_path: Path, plant: str) -> None:
    db = tmp_path / "drift.db"
    asyncio.run(_filled_sqlite(db))
    assert cli("db", "check", str(db)).returncode == 0
    table = plant.split()[1] if plant.startswith("UPDATE") else plant.split()[2]
    conn = sqlite3.connect(db)
    with conn:
        assert conn.execute(plant).rowcount > 0
    conn.close()
    found = cli("db", "check", str(db), "--json")
    assert found.returncode == 1
    assert f'"{table}"' in found.stdout

    async def go() -> None:
        async with fresh_schema() as url:
            assert (await asyncio.to_thread(cli, "db", "copy", str(tmp_path / "clean.db"), url)).returncode == 0
            await _pg(url, plant)
            pg = await asyncio.to_thread(cli, "db", "check", url)
            assert pg.returncode == 1, pg.stdout
            assert "aggregates DIFFER" in pg.stdout and table in pg.stdout

    asyncio.run(_filled_sqlite(tmp_path / "clean.db"))
    asyncio.run(go())
