"""The discovery round of a team of `monitor run` collectors (subprocesses) on the real PostgreSQL server,
each with its own account and fake Telegram client serving real Telethon objects.

One collector runs the round for the team. Killed with SIGKILL after its round, its hold is taken over
after the lease expiry by the other collector, which does not ask Telegram again before the round is due.
A round whose collector died in it (its row started, never finished) is run again by the next holder.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from daemon.conftest import MONITOR, SRC, write_config

from .conftest import cli_process, sync_schema_url

_cli = cli_process()
kill = _cli.kill
pg_fetch = _cli.pg_fetch
wait_for = _cli.wait_for
pytestmark = pytest.mark.slow

START = datetime(2024, 3, 1, tzinfo=UTC)
EXPIRY = 5.0


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from sync_schema_url()


def _msg(mid: int, hours: float, text: str) -> dict[str, Any]:
    return {"id": mid, "date": (START + timedelta(hours=hours)).isoformat(), "text": text, "views": [[0, 10]]}


def start(root: Path, name: str, url: str) -> subprocess.Popen[str]:
    folder = root / name
    folder.mkdir(exist_ok=True)
    scenario = {"format": "monitor-scenario/1", "channels": [
        {"id": 501, "username": "fan_one", "title": "Fan", "similar": [503], "messages": [_msg(1, 1, "salom")]},
        {"id": 503, "username": "hijrat_news", "title": "Hijrat", "messages": [_msg(1, 1, "#hijrat bugun")]},
    ]}
    (folder / "s.json").write_text(json.dumps(scenario), "utf-8")
    config = write_config(
        folder, folder / "s.json", ["@fan_one"],
        monitor={"database": url}, telegram={"account_name": name},
        collectors={"lease_expiry": EXPIRY, "lease_renew_interval": 0.5},
        discovery={"recommendations": True, "hashtags": ["hijrat"], "search_every": 3600},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_") or k == "MONITOR_CACHE_DIR"}
    env |= {"PYTHONPATH": str(SRC) + os.pathsep + env.get("PYTHONPATH", "")}
    runs = len(list(folder.glob("run*.log"))) + 1
    with (folder / f"run{runs}.log").open("w") as sink:
        return subprocess.Popen([*MONITOR, "run", "--config", str(config)], stdout=subprocess.DEVNULL, stderr=sink,
                                text=True, env=env)


def rounds_logged(root: Path) -> int:
    """Hashtag-search rounds (the team's discovery round) that asked Telegram, from every collector's log
    (the similar channels, asked by each channel's lease holder, log "discovery leads" without "searched")."""
    lines = [line for log in root.glob("*/run*.log") for line in log.read_text("utf-8", errors="replace").splitlines()]
    return sum(1 for line in lines if '"discovery leads"' in line and '"searched"' in line)


def task(url: str) -> tuple[Any, ...] | None:
    try:
        rows = pg_fetch(url, "SELECT collector_id, started_at, finished_at, ran_by FROM tasks WHERE name = 'discovery'")
    except Exception:  # noqa: BLE001 - the schema is not migrated yet
        return None
    return rows[0] if rows else None


def pid_of(url: str, collector_id: str) -> int:
    return int(pg_fetch(url, f"SELECT pid FROM collectors WHERE id = '{collector_id}'")[0][0])


def pg_execute(url: str, sql: str) -> None:
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


def test_a_killed_collectors_round_is_taken_over_and_run_once(pg_url: str, tmp_path: Path) -> None:
    procs = {name: start(tmp_path, name, pg_url) for name in ("acc0", "acc1")}
    try:
        assert wait_for(lambda: (t := task(pg_url)) is not None and t[2] is not None, 90), task(pg_url)
        holder, started, _finished, ran_by = task(pg_url) or ()
        assert holder == ran_by and rounds_logged(tmp_path) == 1
        victim = next(n for n, p in procs.items() if p.pid == pid_of(pg_url, holder))
        procs[victim].kill()  # SIGKILL: nothing released, the hold runs out after EXPIRY
        procs[victim].wait(timeout=30)
        assert wait_for(lambda: (t := task(pg_url)) is not None and t[0] not in (None, holder), 30), task(pg_url)
        time.sleep(3)  # several lease rounds of the new holder: the round ran for the team, it is not due
        after = task(pg_url)
        assert after is not None and (after[1], after[3]) == (started, ran_by) and rounds_logged(tmp_path) == 1
        # now the new holder dies in a round (its row says started, never finished) ...
        survivor = next(n for n in procs if n != victim)
        procs[survivor].kill()
        procs[survivor].wait(timeout=30)
        pg_execute(pg_url, "UPDATE tasks SET finished_at = NULL, started_at = started_at + 1 WHERE name = 'discovery'")
        # ... and a collector starting again takes the round over and runs it again at once
        procs[victim] = start(tmp_path, victim, pg_url)
        assert wait_for(lambda: (t := task(pg_url)) is not None and t[2] is not None and t[3] != ran_by, 90,
                        procs[victim]), task(pg_url)
        assert rounds_logged(tmp_path) == 2
    finally:
        for proc in procs.values():
            kill(proc)
