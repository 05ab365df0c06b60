"""Read-only commands leave a SQLite database file exactly as it was, and work where it cannot be written.

What is checked, in real subprocesses on real files:

- the database file's sha256 is the same after every read-only command (reports to the terminal and
  exported to CSV and Parquet files, status, alerts list, channels list, check, db check, and db copy
  from it), on a WAL database as the collector leaves it and on a copy in rollback-journal mode
  (a read-only command must not switch it to WAL, migrate it, or write a page);
- the same commands on a read-only mount: the folder is bind-mounted over itself read-only inside a
  private mount namespace (``unshare -m``), so the kernel refuses every write, to root too (a chmod
  0555 folder does not stop root, and ``chattr`` needs a file system that supports it). A WAL
  database with no ``-shm`` there is read with SQLite's ``immutable=1``, one with an ``-shm`` with
  ``mode=ro``; one whose ``-wal`` holds changes but has no ``-shm`` cannot be read by SQLite there, and
  the command says so in one line instead of a traceback.

The mount tests skip with the reason where the machine refuses mount namespaces.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from contract_data import CHANNEL, T0, alert, tagged, watch

from monitor.models import RuleNote
from monitor.store import open_store

SRC = Path(__file__).resolve().parents[2] / "src"
pytestmark = pytest.mark.slow


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def monitor(*args: str, read_only: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m monitor ARGS``; with ``read_only``, that folder is a read-only mount for the command."""
    command = [sys.executable, "-m", "monitor", *args]
    if read_only is not None:
        folder = shlex.quote(str(read_only))
        script = (f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && "
                  f"exec {shlex.join(command)}")
        command = ["unshare", "-m", "--propagation", "private", "sh", "-c", script]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=_env(), check=False)


@functools.cache
def _mount_refused() -> str | None:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare or mount is not installed"
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "d=$(mktemp -d) && mount --bind $d $d && mount -o remount,ro,bind $d && ! touch $d/x 2>/dev/null"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    return None if probe.returncode == 0 else f"a read-only bind mount is refused here: {probe.stderr.strip()}"


def needs_mount() -> None:
    reason = _mount_refused()
    if reason is not None:
        pytest.skip(reason)


def write_config(folder: Path, database: Path) -> Path:
    scenario = folder / "scenario.json"
    scenario.write_text(json.dumps({"format": "monitor-scenario/1", "channels": [], "faults": []}), "utf-8")
    path = folder / "monitor.toml"
    path.write_text(
        f"[monitor]\ndatabase = {json.dumps(str(database))}\n\n[source]\nkind = \"scenario\"\n"
        f"scenario = {json.dumps(str(scenario))}\n\n[[channels]]\nhandle = \"@ozod_sado\"\n",
        "utf-8",
    )
    return path


async def fill(path: Path) -> None:
    store = open_store(path)
    await store.open()
    try:
        await watch(store)
        await store.save_posts(CHANNEL.id, [tagged(i, groups=("IS",)) for i in range(1, 6)], at=T0, checkpoint=5)
        now = datetime.now(UTC)
        await store.heartbeat(pid=1, started_at=now, at=now)
        async with store.alert_transaction() as tx:
            await tx.note_rule(RuleNote("r1", "match", T0, detection_hash="h1", seeded=True))
            await tx.insert_alert(alert(1), ["log"], now=T0)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WAL database as the collector leaves it after a clean stop (no -wal, no -shm)."""
    db = tmp_path_factory.mktemp("seed") / "monitor.db"
    asyncio.run(fill(db))
    assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    return db


def place(seeded: Path, folder: Path, *, journal: str = "wal") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "monitor.db"
    shutil.copyfile(seeded, db)
    if journal != "wal":
        with sqlite3.connect(db) as conn:
            conn.execute(f"PRAGMA journal_mode = {journal}")
        assert not Path(f"{db}-wal").exists()
    return db


def read_only_commands(db: Path, cfg: Path, out: Path) -> list[tuple[str, ...]]:
    """Every command that only reads the database; exports go to ``out`` (another, writable folder)."""
    return [
        ("report", "volume", "--db", str(db), "--every", "day", "--format", "json"),
        ("report", "top", "--db", str(db), "--format", "table"),
        ("report", "volume", "--db", str(db), "--format", "csv", "-o", str(out / "volume.csv")),
        ("report", "top", "-c", str(cfg), "--what", "groups", "-o", str(out / "top.parquet")),
        ("status", "-c", str(cfg), "--format", "json"),
        ("alerts", "list", "--database", str(db), "--since", "3000d", "--format", "json"),
        ("alerts", "list", "-c", str(cfg), "--since", "3000d", "--format", "csv", "-o", str(out / "alerts.csv")),
        ("channels", "list", "-c", str(cfg), "--format", "json"),
        ("check", "-c", str(cfg)),
        ("db", "check", str(db)),
        ("db", "copy", str(db), str(out / "copy.db")),
    ]


def _ok(result: subprocess.CompletedProcess[str], args: tuple[str, ...]) -> None:
    assert "Traceback" not in result.stderr, (args, result.stderr[-3000:])
    # status exits 1 for a stale heartbeat (a health check), which is not a failure to read
    allowed = {0, 1} if args[0] == "status" else {0}
    assert result.returncode in allowed, (args, result.returncode, result.stderr[-3000:])
    if args[0] == "status":
        assert json.loads(result.stdout)["counts"]["posts"] == 5


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_read_only_commands_leave_the_file_byte_for_byte(seeded: Path, tmp_path: Path, journal: str) -> None:
    db = place(seeded, tmp_path / "data", journal=journal)
    cfg = write_config(tmp_path, db)
    out = tmp_path / "out"
    out.mkdir()
    before = sha256(db)
    for args in read_only_commands(db, cfg, out):
        _ok(monitor(*args), args)
        assert sha256(db) == before, f"{args} changed the database file"
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == journal
    assert (out / "volume.csv").stat().st_size > 0 and (out / "top.parquet").stat().st_size > 0
    if journal == "delete":  # a rollback-journal reader needs no side file, and none appeared
        assert sorted(p.name for p in db.parent.iterdir()) == ["monitor.db"]


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_read_only_commands_work_on_a_read_only_mount(seeded: Path, tmp_path: Path, journal: str) -> None:
    needs_mount()
    data = tmp_path / "data"
    db = place(seeded, data, journal=journal)
    cfg = write_config(tmp_path, db)  # the config beside, not in, the mounted folder
    out = tmp_path / "out"
    out.mkdir()
    before = sha256(db)
    for args in read_only_commands(db, cfg, out):
        _ok(monitor(*args, read_only=data), args)
    assert sha256(db) == before
    assert sorted(p.name for p in data.iterdir()) == ["monitor.db"]  # nothing could be created, and nothing was
    # the mount was real: a writing command is refused with one line
    result = monitor("db", "migrate", str(db), read_only=data)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-2000:]


def test_a_wal_database_with_an_existing_shm_is_read_on_a_read_only_mount(seeded: Path, tmp_path: Path) -> None:
    needs_mount()
    data = tmp_path / "data"
    db = place(seeded, data)
    with sqlite3.connect(db) as conn:  # a reader in a writable place made the -shm (and an empty -wal)
        conn.execute("SELECT count(*) FROM posts").fetchone()
        keep = sqlite3.connect(db)
        keep.execute("SELECT count(*) FROM posts").fetchone()
    shutil.copyfile(f"{db}-shm", tmp_path / "shm")
    keep.close()
    shutil.copyfile(tmp_path / "shm", f"{db}-shm")
    Path(f"{db}-wal").touch()
    result = monitor("report", "volume", "--db", str(db), "--every", "day", "--format", "json", read_only=data)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sum(r["posts"] for r in json.loads(result.stdout)["rows"]) == 5


def test_pending_wal_changes_without_shm_on_a_read_only_mount_are_one_clear_error(
    seeded: Path, tmp_path: Path
) -> None:
    needs_mount()
    data = tmp_path / "data"
    db = place(seeded, data)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("UPDATE posts SET views = views + 1")  # committed into the -wal, not yet into the file
    shutil.copyfile(db, tmp_path / "main")
    shutil.copyfile(f"{db}-wal", tmp_path / "wal")
    writer.close()
    shutil.copyfile(tmp_path / "main", db)  # as a crashed collector leaves it: changes only in the -wal
    shutil.copyfile(tmp_path / "wal", f"{db}-wal")
    Path(f"{db}-shm").unlink(missing_ok=True)
    assert Path(f"{db}-wal").stat().st_size > 0
    cfg = write_config(tmp_path, db)
    for args in (("report", "volume", "--db", str(db)), ("status", "-c", str(cfg)),
                 ("alerts", "list", "--database", str(db)), ("db", "check", str(db))):
        result = monitor(*args, read_only=data)
        assert "Traceback" not in result.stderr, (args, result.stderr[-2000:])
        errors = [line for line in result.stderr.splitlines() if line.lower().startswith("error")]
        assert result.returncode == 1 and len(errors) == 1, (args, result.returncode, result.stderr)
        assert str(db) in errors[0] and "WAL" in errors[0] and "read-only" in errors[0], errors
    # where the folder is writable, the same files read fine, changes included
    result = monitor("report", "volume", "--db", str(db), "--every", "day", "--format", "json")
    assert result.returncode == 0, result.stderr[-2000:]
