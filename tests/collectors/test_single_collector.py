"""SQLite stays single-collector: a second `monitor run` on the same file refuses and names the pid.

Real subprocesses on a real SQLite file; the stale case is a holder killed with SIGKILL, whose
lock the kernel drops, so a restart is never blocked by a dead pid.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from daemon.conftest import make_scenario, write_config

from .conftest import cli_process

_cli = cli_process()
beat_of = _cli.beat_of
cli = _cli.cli
kill = _cli.kill
start = _cli.start
stop = _cli.stop
wait_for = _cli.wait_for
pytestmark = pytest.mark.slow


def config(tmp_path: Path) -> Path:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(make_scenario(channels=2, posts=20)), "utf-8")
    return write_config(tmp_path, scenario, ["@chan_0000", "@chan_0001"])


def test_a_second_run_on_the_same_sqlite_file_is_refused_naming_the_running_pid(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    db = tmp_path / "monitor.db"
    first = start(cfg)
    try:
        assert wait_for(lambda: beat_of(db, first.pid), 60, first), "the first daemon never started"
        second = cli("run", "--config", str(cfg), timeout=60)
        assert second.returncode == 1, second.stderr
        [line] = second.stderr.strip().splitlines()
        assert line.startswith("error: the SQLite database ") and f"(pid {first.pid} on " in line
        assert "one collector" in line and "Traceback" not in second.stderr
        assert first.poll() is None  # the running one is untouched
    finally:
        stop(first) if first.poll() is None else None
        kill(first)


def test_a_dead_holder_does_not_block_a_restart(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    db = tmp_path / "monitor.db"
    first = start(cfg)
    try:
        assert wait_for(lambda: beat_of(db, first.pid), 60, first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert (tmp_path / "monitor.db.lock").read_text().startswith(f"{first.pid} ")  # the stale pid is still there
        again = start(cfg)
        try:
            assert wait_for(lambda: beat_of(db, again.pid), 60, again), "the restart was blocked"
            assert stop(again) is not None and again.returncode == 0
        finally:
            kill(again)
    finally:
        kill(first)
