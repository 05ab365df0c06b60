"""Alerts survive a crash: a daemon killed right after a batch's commit (before anything else runs) leaves
no saved post unevaluated, and the restarts fire exactly the alerts of an uninterrupted run.

Why a fault hook rather than a timed SIGKILL: the window between the post commit and the old separate
alert transaction was a few milliseconds; ``MONITOR_TEST_CRASH_AFTER_SAVE=1`` makes the daemon
``os._exit`` at exactly that point after every batch that inserted posts, so each restart inserts
one batch and dies there. With the alert step in its own transaction, every batch's alerts would be lost.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

from daemon.conftest import MONITOR, SRC, make_scenario, write_config  # noqa: E402

from monitor.pipeline import CRASH_AFTER_SAVE_ENV, CRASH_EXIT  # noqa: E402

pytestmark = pytest.mark.slow
CHANNELS, POSTS, BATCH = 2, 60, 20

RULES = """
[alerts]
max_post_age = "30d"

[[alerts.sinks]]
name = "log"
kind = "log"

[[alerts.rules]]
name = "isis"
kind = "match"
groups = ["IS"]
sinks = ["log"]
"""


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    e["PYTHONPATH"] = str(SRC) + os.pathsep + e.get("PYTHONPATH", "")
    return {**e, **extra}


def setup(folder: Path) -> tuple[Path, Path, int]:
    folder.mkdir()
    scenario = make_scenario(channels=CHANNELS, posts=POSTS, start=datetime.now(UTC) - timedelta(hours=10))
    path = folder / "scenario.json"
    path.write_text(json.dumps(scenario), "utf-8")
    config = write_config(
        folder, path, [f"@chan_{i:04d}" for i in range(CHANNELS)],
        polling={"batch_size": BATCH, "interval": 1, "max_concurrent": 1},
    )
    config.write_text(config.read_text("utf-8") + RULES, "utf-8")
    return config, folder / "monitor.db", CHANNELS * POSTS


def count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def alerts_of(db: Path) -> set[tuple[str, str, int, int]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT rule, dedup_key, channel_id, message_id FROM alerts").fetchall()
        deliveries = conn.execute("SELECT count(*), count(DISTINCT alert_id) FROM deliveries").fetchone()
    assert deliveries[0] == deliveries[1] == len(rows), "one pending delivery per alert and sink"
    return {(r[0], r[1], r[2], r[3]) for r in rows}


def wait_until(predicate: object, timeout: float, proc: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def test_a_crash_right_after_the_post_commit_loses_no_alert(tmp_path: Path) -> None:
    # the uninterrupted run
    config, db, expected = setup(tmp_path / "whole")
    proc = subprocess.Popen([*MONITOR, "run", "--config", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env())
    posts = "SELECT count(*) FROM posts"
    assert wait_until(lambda: count(db, posts) >= expected, 120, proc), proc.stderr.read() if proc.stderr else ""
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    whole = alerts_of(db)
    assert len(whole) >= CHANNELS * POSTS // 5 // 2, f"the ISIS posts should fire: {len(whole)}"

    # the same run, dying right after every committed batch that inserted posts
    config, db, expected = setup(tmp_path / "crashing")
    crashes = 0
    for _ in range(CHANNELS * POSTS // BATCH + 5):
        done = subprocess.run([*MONITOR, "run", "--config", str(config)], capture_output=True, text=True,
                              timeout=120, env=env(**{CRASH_AFTER_SAVE_ENV: "1"}),
                              check=False) if count(db, posts) < expected else None
        if done is None:
            break
        assert done.returncode == CRASH_EXIT, done.stderr[-2000:]
        crashes += 1
    assert count(db, posts) == expected
    assert crashes == CHANNELS * POSTS // BATCH, "each restart inserted exactly one batch and died after it"
    assert alerts_of(db) == whole
