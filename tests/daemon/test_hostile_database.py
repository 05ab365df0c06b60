"""A database that is read-only, corrupt or truncated: every command says so in one line and exits.

Real files, real subprocesses. Read-only as root: root ignores file modes, so the file is made
immutable with ``chattr +i`` (the kernel refuses writes even to root); the test skips where the
file system or the container does not allow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.conftest import make_scenario, write_config
from cli.test_cli_process import cli, kill, seed, start

pytestmark = pytest.mark.slow
PAGE = 4096


@pytest.fixture
def config(tmp_path: Path) -> Path:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(make_scenario(channels=1, posts=20)), "utf-8")
    return write_config(tmp_path, scenario, ["chan_0000"])


@pytest.fixture
def good_db(tmp_path: Path) -> Path:
    """A real, migrated database with 3,000 posts, checkpointed into the main file."""
    db = tmp_path / "seed.db"
    asyncio.run(seed(db, 3000))
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    return db


def _place(good: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{target}{suffix}").unlink()
    shutil.copyfile(good, target)


def random_bytes(good: Path, target: Path) -> None:
    target.write_bytes(os.urandom(64 * 1024))


def truncated(good: Path, target: Path) -> None:
    _place(good, target)
    os.truncate(target, PAGE * 3)


def damaged_page(good: Path, target: Path) -> None:
    """Page 2 (a table's root, not read when the schema is checked) overwritten with noise."""
    _place(good, target)
    with target.open("r+b") as f:
        f.seek(PAGE)
        f.write(os.urandom(PAGE))


def damaged_data(good: Path, target: Path) -> None:
    """Every page after the schema overwritten: opens fine, fails when posts are read."""
    _place(good, target)
    size = target.stat().st_size
    with target.open("r+b") as f:
        f.seek(PAGE * 8)
        f.write(os.urandom(size - PAGE * 8))


def damaged_tail(good: Path, target: Path) -> None:
    """Pages near the end (posts and their indexes) overwritten: the schema reads fine, the posts do not."""
    _place(good, target)
    pages = target.stat().st_size // PAGE
    with target.open("r+b") as f:
        f.seek(PAGE * max(8, pages - 12))
        f.write(os.urandom(PAGE * 8))


DAMAGE = [random_bytes, truncated, damaged_page, damaged_data, damaged_tail]


def _assert_one_line(result: subprocess.CompletedProcess[str], db: Path, code: int = 1) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors, result.stderr[-2000:]
    assert str(db) in errors[0] or db.name in errors[0], errors
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_status_and_reports_name_the_corrupt_file(config: Path, good_db: Path, damage: object) -> None:
    db = config.parent / "monitor.db"
    damage(good_db, db)  # type: ignore[operator]
    _assert_one_line(cli("status", "--config", str(config)), db)
    report = cli("report", "volume", "--config", str(config))  # may not meet the damaged pages
    assert "Traceback" not in report.stderr, report.stderr[-2000:]


@pytest.mark.parametrize("damage", DAMAGE[:-1], ids=lambda f: f.__name__)
def test_run_exits_on_a_corrupt_database(config: Path, good_db: Path, damage: object) -> None:
    db = config.parent / "monitor.db"
    damage(good_db, db)  # type: ignore[operator]
    proc = start(config)
    try:
        proc.wait(timeout=60)
    finally:
        kill(proc)
    log = Path(proc.log_path).read_text("utf-8", errors="replace")  # type: ignore[attr-defined]
    assert proc.returncode == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert "malformed" in log or "not a database" in log, log[-3000:]


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: cannot make a file read-only for root")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not allowed here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_run_exits_on_a_read_only_database(config: Path, good_db: Path) -> None:
    db = config.parent / "monitor.db"
    _place(good_db, db)
    with immutable(db):
        proc = start(config)
        try:
            proc.wait(timeout=60)
        finally:
            kill(proc)
        log = Path(proc.log_path).read_text("utf-8", errors="replace")  # type: ignore[attr-defined]
        assert proc.returncode == 1, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
        assert "read-only" in log or "readonly" in log, log[-3000:]
        assert str(db) in log, log[-3000:]


def test_damage_found_while_reading_is_told_from_a_busy_database(tmp_path: Path, good_db: Path) -> None:
    """The daemon stops on a damaged or read-only file (no retry helps) but not on a locked one."""
    import sqlite3

    from monitor.daemon import _database_unusable
    from monitor.errors import StoreError

    bad = tmp_path / "bad.db"
    random_bytes(good_db, bad)
    with pytest.raises(sqlite3.DatabaseError) as damaged:
        sqlite3.connect(bad).execute("SELECT * FROM sqlite_master").fetchall()
    assert _database_unusable(damaged.value) is damaged.value
    wrapped = StoreError("save failed")
    wrapped.__cause__ = damaged.value
    assert _database_unusable(wrapped) is damaged.value
    assert _database_unusable(sqlite3.OperationalError("database is locked")) is None
    assert _database_unusable(sqlite3.IntegrityError("UNIQUE constraint failed")) is None
    assert _database_unusable(ValueError("x")) is None
