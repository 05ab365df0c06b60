"""`monitor` as a user runs it: real subprocesses, real signals, a real database.

The kill test SIGKILLs `monitor run` mid-ingest several times, restarts it and then
compares the stored posts with the scenario: zero lost, zero duplicated. It runs against a SQLite
file and against a fresh schema on the PostgreSQL test server.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.conftest import MONITOR, SRC, make_scenario, write_config

pytestmark = pytest.mark.slow
CHANNELS, POSTS = 5, 450  # 2,250 posts


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(SRC) + os.pathsep + e.get("PYTHONPATH", "")
    for key in (
        "MONITOR_API_ID",
        "MONITOR_API_HASH",
        "MONITOR_SESSION",
        "MONITOR_CONFIG",
        "MONITOR_DATABASE",
    ):
        e.pop(key, None)
    return e


def cli(
    *args: str, extra_env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MONITOR, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**env(), **(extra_env or {})},
    )


def start(config: Path) -> subprocess.Popen[str]:
    """`monitor run` in the background; its log goes to a file (a pipe nobody reads fills and blocks it)."""
    log = config.parent / f"run-{time.monotonic_ns()}.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [*MONITOR, "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
            env=env(),
        )
    proc.log_path = log  # type: ignore[attr-defined]
    return proc


def log_of(proc: subprocess.Popen[str]) -> str:
    return Path(proc.log_path).read_text("utf-8", errors="replace")  # type: ignore[attr-defined]


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 40) -> str:
    """Signal the daemon, wait (bounded) for it to exit, return its log."""
    proc.send_signal(sig)
    proc.wait(timeout=timeout)
    return log_of(proc)


def kill(proc: subprocess.Popen[str]) -> None:
    """For finally blocks: a daemon a test leaves behind is killed by its pid, never waited on forever."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def post_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM posts").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not migrated yet


async def seed(db: Path, n: int) -> None:
    from datetime import UTC, datetime

    from monitor.models import Channel, Post
    from monitor.store import open_store

    from daemon.conftest import small_tagger

    store = open_store(db)
    await store.open()
    tagger = small_tagger()
    await store.set_resolved(
        "chan_0000", Channel(id=5001, username="chan_0000", title="c", access_hash=1), at=datetime.now(UTC)
    )
    posts = [
        tagger.tag_post(
            Post(
                channel_id=5001,
                message_id=i,
                posted_at=datetime(2024, 1, 1, tzinfo=UTC),
                text=f"ISIS {i}",
                views=i,
            )
        )
        for i in range(1, n + 1)
    ]
    await store.save_posts(5001, posts, at=datetime.now(UTC), checkpoint=n)
    await store.close()


def beat_of(db: Path, pid: int) -> bool:
    """True once the daemon with this pid has written its heartbeat (it is up, signal handlers installed)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT pid FROM heartbeat").fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None and row[0] == pid


def wait_for(predicate: Any, timeout: float, proc: subprocess.Popen[str] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def _postgres_server() -> Any:
    """tests/store/postgres_server.py (a sibling folder that is not a package)."""
    path = Path(__file__).resolve().parents[1] / "store" / "postgres_server.py"
    spec = importlib.util.spec_from_file_location("postgres_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pg_fetch(url: str, sql: str) -> list[Any]:
    import asyncpg

    async def go() -> list[Any]:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    return asyncio.run(go())


class PostgresTarget:
    """The kill test's view of a PostgreSQL schema: the same questions as of the SQLite file."""

    def __init__(self, url: str) -> None:
        self.url = url

    def count(self) -> int:
        try:
            return int(pg_fetch(self.url, "SELECT count(*) FROM posts")[0][0])
        except Exception:  # noqa: BLE001 - not migrated yet
            return 0

    def beat_of(self, pid: int) -> bool:
        try:
            rows = pg_fetch(self.url, "SELECT pid FROM heartbeat")
        except Exception:  # noqa: BLE001
            return False
        return bool(rows) and rows[0][0] == pid


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh schema's URL on the PostgreSQL test server (skips without one, fails under CI)."""
    server = _postgres_server()
    server.require_server()
    loop = asyncio.new_event_loop()
    schema = server.fresh_schema()
    try:
        yield loop.run_until_complete(schema.__aenter__())
    finally:
        loop.run_until_complete(schema.__aexit__(None, None, None))
        loop.close()


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    scenario = make_scenario(channels=CHANNELS, posts=POSTS)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario), "utf-8")
    # 60 requests a minute with a burst of 10 and batches of 10 posts: ingest takes seconds, not milliseconds,
    # so the kills land while batches are being written.
    config = write_config(
        tmp_path,
        path,
        [f"@chan_{i:04d}" for i in range(CHANNELS)],
        polling={"requests_per_minute": 60, "batch_size": 10, "interval": 2},
    )
    return config, tmp_path / "monitor.db", scenario


def _kill_mid_ingest(
    config: Path, expected: set[tuple[int, int]], count: Any, beat_of: Any
) -> str:
    """SIGKILL `monitor run` mid-ingest until at least three kills landed, then let it finish; its log."""
    rng = random.Random(7)
    kills = 0
    progress: list[int] = []
    for _ in range(5):
        proc = start(config)
        try:
            before = count()
            if not wait_for(lambda b=before: count() > b, 60, proc) or count() >= len(expected):
                break  # already complete, or failed (checked below)
            time.sleep(rng.uniform(0.0, 0.3))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            kills += 1
            progress.append(count())
        finally:
            kill(proc)
    assert kills >= 3, f"the kills should land mid-ingest; posts stored after each kill: {progress}"
    assert sum(1 for n in progress if 0 < n < len(expected)) >= 3, progress
    proc = start(config)
    try:
        assert wait_for(lambda: count() >= len(expected) and beat_of(proc.pid), 90, proc), log_of(proc)
        err = stop(proc, timeout=30)
    finally:
        kill(proc)
    assert proc.returncode == 0, err[-2000:]
    return err


@pytest.mark.timeout(400)  # five runs killed mid-ingest, then a full one: minutes on a busy 2-core machine
def test_sigkill_mid_ingest_loses_nothing_and_duplicates_nothing(
    corpus: tuple[Path, Path, dict[str, Any]],
) -> None:
    config, db, scenario = corpus
    expected = {(c["id"], m["id"]) for c in scenario["channels"] for m in c["messages"]}
    assert len(expected) > 2000
    _kill_mid_ingest(config, expected, lambda: post_count(db), lambda pid: beat_of(db, pid))
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT channel_id, message_id FROM posts").fetchall()
        assert len(rows) == len(set(rows)) == len(expected)
        assert set(rows) == expected
        tags = conn.execute(
            "SELECT count(*), count(DISTINCT channel_id || ':' || message_id) FROM post_tags"
            " WHERE kind = 'group'"
        ).fetchone()
        assert tags[0] == tags[1] == len([k for k in expected if (k[1] - 1) % 5 == 0])
        checkpoints = dict(conn.execute("SELECT id, checkpoint FROM channels").fetchall())
        assert checkpoints == {c["id"]: POSTS for c in scenario["channels"]}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.timeout(400)
def test_sigkill_mid_ingest_on_postgres_loses_nothing_and_duplicates_nothing(
    corpus: tuple[Path, Path, dict[str, Any]], pg_database: str
) -> None:
    config, _, scenario = corpus
    # a password in the URL (the test server's trust authentication ignores it) must never be logged
    password = "Pw" + os.urandom(6).hex()
    with_password = pg_database.replace("://postgres@", f"://postgres:{password}@", 1)
    assert password in with_password
    text = config.read_text("utf-8").replace('database = "monitor.db"', f"database = {json.dumps(with_password)}")
    config.write_text(text, "utf-8")
    target = PostgresTarget(pg_database)
    expected = {(c["id"], m["id"]) for c in scenario["channels"] for m in c["messages"]}
    log = _kill_mid_ingest(config, expected, target.count, target.beat_of)
    assert "daemon started" in log and "postgres:***@" in log and password not in log
    rows = pg_fetch(pg_database, "SELECT channel_id, message_id FROM posts")
    assert len(rows) == len(set(rows)) == len(expected)
    assert set(rows) == expected
    tags = pg_fetch(
        pg_database,
        "SELECT count(*), count(DISTINCT (channel_id, message_id)) FROM post_tags WHERE kind = 'group'",
    )[0]
    assert tags[0] == tags[1] == len([k for k in expected if (k[1] - 1) % 5 == 0])
    checkpoints = dict(pg_fetch(pg_database, "SELECT id, checkpoint FROM channels"))
    assert checkpoints == {c["id"]: POSTS for c in scenario["channels"]}
    # the trigger-kept aggregates survived the kills exactly: they equal a recount
    recount = pg_fetch(
        pg_database,
        "SELECT (SELECT sum(posts) FROM agg_channel_day), (SELECT count(*) FROM posts),"
        " (SELECT sum(posts) FROM agg_tag_day WHERE kind = 'group'), (SELECT count(*) FROM post_tags WHERE kind = 'group')",
    )[0]
    assert recount[0] == recount[1] and recount[2] == recount[3], recount


def test_sigterm_exits_cleanly_with_whole_batches(corpus: tuple[Path, Path, dict[str, Any]]) -> None:
    config, db, _ = corpus
    proc = start(config)
    try:
        assert wait_for(lambda: post_count(db) > 0, 60, proc)
        # running: the heartbeat is fresh, status is healthy
        ok = cli("status", "--config", str(config), "--json")
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout)["heartbeat"]["state"] == "running"
        err = stop(proc)
    finally:
        kill(proc)
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    with sqlite3.connect(db) as conn:
        # every committed batch moved its channel's checkpoint with it: nothing half-written
        for _cid, checkpoint, newest, n in conn.execute(
            "SELECT c.id, c.checkpoint, max(p.message_id), count(p.message_id) FROM channels c"
            " LEFT JOIN posts p ON p.channel_id = c.id GROUP BY c.id"
        ):
            assert checkpoint == (newest or 0) == n
    # a clean stop is recorded: status says "stopped at T" and fails, as a health check must
    stopped = cli("status", "--config", str(config), "--json")
    assert stopped.returncode == 1, stopped.stderr
    report = json.loads(stopped.stdout)
    assert report["heartbeat"]["healthy"] is False and report["heartbeat"]["state"] == "stopped"
    rows = {r["channel"]: r for r in report["channels"]}
    assert set(rows) == {f"chan_{i:04d}" for i in range(CHANNELS)}
    assert sum(r["posts"] for r in rows.values()) == post_count(db)
    table = cli("status", "--config", str(config))
    assert table.returncode == 1 and "daemon stopped at 20" in table.stdout


def test_status_without_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(make_scenario(channels=1, posts=1)), "utf-8")
    config = write_config(tmp_path, path, ["@chan_0000"])
    result = cli("status", "--config", str(config))
    assert result.returncode != 0
    assert "no database" in result.stderr and "Traceback" not in result.stderr


def test_bad_config_is_refused_with_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[polling]\ninterval = "often"\nmax_concurent = 3\n[[channels]]\nhandle = "@x"\n'
        '[[channels]]\nhandle = "@ozod_sado"\n[[channels]]\nhandle = "t.me/ozod_sado"\n',
        "utf-8",
    )
    checked = cli("check", "--config", str(config))
    assert checked.returncode == 2
    for where in (
        "polling.interval",
        "polling.max_concurent",
        "channels[0].handle",
        "channels[2].handle",
        "telegram",
    ):
        assert f"{config}: {where}" in checked.stdout
    run = cli("run", "--config", str(config))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert all(line.startswith("error: ") for line in run.stderr.strip().splitlines())


def test_missing_database_directory_and_corrupt_export_change_nothing(
    corpus: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    config, db, _ = corpus
    asyncio.run(seed(db, 60))  # a database with posts already in it

    def snapshot() -> list[Any]:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT * FROM posts ORDER BY channel_id, message_id").fetchall()

    before = snapshot()
    corrupt = tmp_path / "result.json"
    corrupt.write_text(
        '{"name": "x", "type": "public_channel", "id": 42, "messages": [{"id": 1, "type": "mess', "utf-8"
    )
    result = cli("import", "--config", str(config), str(corrupt))
    assert result.returncode == 1
    assert "corrupt JSON" in result.stderr and "Traceback" not in result.stderr
    assert snapshot() == before

    missing = cli(
        "run", "--config", str(config), extra_env={"MONITOR_DATABASE": str(tmp_path / "nope" / "m.db")}
    )
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "nope").exists()
    assert snapshot() == before
