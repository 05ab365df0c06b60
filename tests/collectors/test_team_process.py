"""Three `monitor run` collectors on the real PostgreSQL server, each with its own fake Telegram client
serving real Telethon objects, through everything a team deployment meets:

* SIGKILL at random moments, and restarts;
* one account flood-waited for an hour (Telegram's FloodWaitError of 3600 s, from the fake);
* one account banned mid-run (UserDeactivatedBanError), replaced by a new account;
* one collector cut off from the database (a real TCP proxy that drops its connections) for
  longer than the lease.

At the end: every post stored exactly once; no two collectors ever polled one channel at
overlapping times (each poll's start and end are written by the collectors, MONITOR_TEST_POLL_LOG);
a dead or cut-off collector's channels were polled again within lease expiry plus one interval
(plus scheduling slack on a busy machine); a second process on a held account is refused naming it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from daemon.conftest import MONITOR, SRC, make_scenario, write_config

from .conftest import cli_process, sync_schema_url
from .proxy import CuttableProxy

_cli = cli_process()
kill = _cli.kill
pg_fetch = _cli.pg_fetch
wait_for = _cli.wait_for
pytestmark = pytest.mark.slow

CHANNELS, POSTS = 9, 45
EXPIRY, INTERVAL = 6.0, 1.0
SLACK = 4.0  # scheduling on a loaded 2-core machine
HANDLES = [f"@chan_{i:04d}" for i in range(CHANNELS)]


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from sync_schema_url()


class Collector:
    """One collector's folder (config, scenario, log) and its current process."""

    def __init__(self, root: Path, name: str, url: str, poll_log: Path, start: datetime) -> None:
        self.folder = root / name
        self.folder.mkdir()
        self.url = url
        self.poll_log = poll_log
        self.start_at = start
        self.proc: subprocess.Popen[str] | None = None
        self.runs = 0

    def configure(self, account: str, faults: list[dict[str, Any]] | None = None) -> None:
        scenario = make_scenario(channels=CHANNELS, posts=POSTS, start=self.start_at, spacing=timedelta(seconds=1),
                                 faults=faults)
        path = self.folder / "scenario.json"
        path.write_text(json.dumps(scenario), "utf-8")
        write_config(
            self.folder, path, HANDLES,
            monitor={"database": self.url, "heartbeat_interval": 1},
            polling={"interval": INTERVAL, "batch_size": 5, "reconnect_max_backoff": 2},
            telegram={"account_name": account},
            collectors={"lease_expiry": EXPIRY, "lease_renew_interval": INTERVAL},
        )

    def start(self) -> subprocess.Popen[str]:
        self.runs += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_") or k == "MONITOR_CACHE_DIR"}
        env |= {"PYTHONPATH": str(SRC) + os.pathsep + env.get("PYTHONPATH", ""), "MONITOR_TEST_POLL_LOG": str(self.poll_log)}
        with (self.folder / f"run{self.runs}.log").open("w") as sink:
            self.proc = subprocess.Popen([*MONITOR, "run", "--config", str(self.folder / "monitor.toml")],
                                         stdout=subprocess.DEVNULL, stderr=sink, text=True, env=env)
        return self.proc

    def log(self) -> str:
        return (self.folder / f"run{self.runs}.log").read_text("utf-8", errors="replace")


def direct(url: str) -> str:
    return url


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def fetch(url: str, sql: str) -> list[Any]:
    """pg_fetch, or no rows while the first collector has not migrated the schema yet."""
    import asyncpg

    try:
        return pg_fetch(url, sql)
    except asyncpg.UndefinedTableError:
        return []


def held_by_pid(url: str, pid: int) -> set[str]:
    rows = fetch(url, f"SELECT l.key FROM leases l JOIN collectors c ON c.id = l.collector_id WHERE c.pid = {pid}")
    return {r[0] for r in rows}


def account_state(url: str, name: str) -> str | None:
    rows = fetch(url, f"SELECT state FROM accounts WHERE name = '{name}'")
    return rows[0][0] if rows else None


def polls(poll_log: Path) -> list[dict[str, Any]]:
    if not poll_log.exists():
        return []
    return [json.loads(line) for line in poll_log.read_text("utf-8").splitlines() if line.strip()]


def resumed(poll_log: Path, keys: set[str], after: float, within: float) -> set[str]:
    """The keys some collector started polling in (after, after + within]."""
    return {p["key"] for p in polls(poll_log) if p["key"] in keys and after < p["start"] <= after + within}


@pytest.mark.timeout(240)
def test_three_collectors_kills_a_ban_a_flood_wait_and_a_cut_lose_nothing_and_never_overlap(
    pg_url: str, tmp_path: Path
) -> None:
    rng = random.Random(int(os.environ.get("MONITOR_TEST_SEED", "10")))
    poll_log = tmp_path / "polls.jsonl"
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=15)  # posts keep appearing for ~30 s
    pg_host = urlsplit(pg_url)
    proxy = CuttableProxy((pg_host.hostname or "127.0.0.1", pg_host.port or 5432))
    c0 = Collector(tmp_path, "c0", through(pg_url, proxy.port), poll_log, start)
    c1 = Collector(tmp_path, "c1", pg_url, poll_log, start)
    c2 = Collector(tmp_path, "c2", pg_url, poll_log, start)
    c0.configure("acc0")
    c1.configure("acc1", faults=[{"method": "iter_messages", "error": "user_deactivated_ban", "nth": 60}])
    c2.configure("acc2", faults=[{"method": "iter_messages", "error": "flood_wait", "seconds": 3600, "nth": 6}])
    checks: list[tuple[str, set[str], float]] = []  # (what, channels to resume, since when)
    everyone = (c0, c1, c2)
    expected = CHANNELS * POSTS
    try:
        for c in everyone:
            c.start()
        count = lambda: int(fetch(pg_url, "SELECT count(*) FROM posts")[0][0])  # noqa: E731
        assert wait_for(lambda: account_state(pg_url, "acc2") == "flood_wait", 60), c2.log()[-3000:]
        # the flood-waited account's channels move to the others within one interval (plus slack)
        assert wait_for(lambda: not held_by_pid(pg_url, c2.proc.pid), INTERVAL + SLACK), c2.log()[-2000:]

        # SIGKILL c0 at a random moment, restart it a moment later
        assert wait_for(lambda: len(held_by_pid(pg_url, c0.proc.pid)) > 0, 30)
        time.sleep(rng.uniform(0.5, 2.5))
        lost = held_by_pid(pg_url, c0.proc.pid)
        c0.proc.send_signal(signal.SIGKILL)
        c0.proc.wait(timeout=10)
        checks.append(("c0 killed", lost, time.time()))
        time.sleep(rng.uniform(0.5, 1.5))
        c0.start()

        # c1's account is banned mid-run: its channels go, and a new account replaces it
        assert wait_for(lambda: account_state(pg_url, "acc1") == "banned", 90), c1.log()[-3000:]
        assert wait_for(lambda: not held_by_pid(pg_url, c1.proc.pid), INTERVAL + SLACK)
        c1.proc.send_signal(signal.SIGKILL)
        c1.proc.wait(timeout=10)
        c1.configure("acc3")
        c1.start()

        # SIGKILL the flood-waited collector and restart it: the hour-long wait survives the restart
        time.sleep(rng.uniform(0.0, 1.0))
        c2.proc.send_signal(signal.SIGKILL)
        c2.proc.wait(timeout=10)
        c2.start()
        assert wait_for(lambda: "daemon started" in c2.log(), 60, c2.proc)
        time.sleep(2 * INTERVAL)
        assert not held_by_pid(pg_url, c2.proc.pid)

        # cut c0 off from the database for longer than the lease
        assert wait_for(lambda: len(held_by_pid(pg_url, c0.proc.pid)) > 0 and len(held_by_pid(pg_url, c1.proc.pid)) > 0, 30)
        lost = held_by_pid(pg_url, c0.proc.pid)
        proxy.cut_off()
        checks.append(("c0 cut off", lost, time.time()))
        time.sleep(EXPIRY + 4)
        proxy.restore()

        # a second process on a held account is refused, naming the holder
        intruder = Collector(tmp_path, "intruder", pg_url, poll_log, start)
        intruder.configure("acc3")
        refused = intruder.start()
        assert refused.wait(timeout=60) == 1
        assert "the Telegram account 'acc3' is in use by collector" in intruder.log()
        assert f"(pid {c1.proc.pid} on " in intruder.log()

        assert wait_for(lambda: count() >= expected, 90), f"{count()} of {expected} posts"
        for c in everyone:
            c.proc.send_signal(signal.SIGTERM)
        for c in everyone:
            assert c.proc.wait(timeout=60) == 0, c.log()[-3000:]
    finally:
        for c in everyone:
            if c.proc is not None:
                kill(c.proc)
        proxy.close()

    # every post exactly once
    total, distinct = pg_fetch(pg_url, "SELECT count(*), count(DISTINCT (channel_id, message_id)) FROM posts")[0]
    assert (total, distinct) == (expected, expected)
    # no two polls of one channel overlapped
    by_key: dict[str, list[dict[str, Any]]] = {}
    for p in polls(poll_log):
        by_key.setdefault(p["key"], []).append(p)
    overlaps = []
    for key, runs in by_key.items():
        runs.sort(key=lambda p: p["start"])
        for a, b in zip(runs, runs[1:], strict=False):
            if b["start"] < a["end"]:
                overlaps.append((key, a, b))
    assert overlaps == [], overlaps[:3]
    assert len({p["pid"] for p in polls(poll_log)}) >= 4  # the restarts polled too
    # channels of a dead or cut-off collector were polled again within lease expiry + one interval
    for what, keys, since in checks:
        assert keys, what
        assert resumed(poll_log, keys, since, EXPIRY + INTERVAL + SLACK) == keys, what
    # the stored account states
    states = dict(pg_fetch(pg_url, "SELECT name, state FROM accounts"))
    assert states == {"acc0": "ok", "acc1": "banned", "acc2": "flood_wait", "acc3": "ok"} or states.get("acc0") in (None, "ok")
    until = pg_fetch(pg_url, "SELECT until - since FROM accounts WHERE name = 'acc2'")[0][0]
    assert until == pytest.approx(3600, abs=2)
    assert (states["acc1"], states["acc2"]) == ("banned", "flood_wait")
