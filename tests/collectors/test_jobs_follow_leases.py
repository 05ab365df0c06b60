"""A team-mode collector schedules only the channels it leases (poll jobs and cached watch states follow
its leases), so its memory grows with what it holds rather than with the whole watch list: two real
daemons in one process, each with its own fake client, on the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
from daemon.conftest import make_scenario, write_config

from monitor.collectors.team import POLL_LOG_ENV
from monitor.compose import build_parts
from monitor.daemon import Daemon
from monitor.settings import load
from monitor.store import Store

KEYS = {f"chan_{i:04d}" for i in range(6)}


def settings_for(folder: Path, url: str, account: str) -> Path:
    folder.mkdir()
    scenario = folder / "scenario.json"
    scenario.write_text(json.dumps(make_scenario(channels=6, posts=3)), "utf-8")
    return write_config(
        folder, scenario, [f"@{k}" for k in sorted(KEYS)],
        monitor={"database": url}, telegram={"account_name": account},
        collectors={"lease_expiry": 6, "lease_renew_interval": 0.5},
    )


def scheduled(d: Daemon) -> set[str]:
    assert d._scheduler is not None
    return {j.id.removeprefix("poll:") for j in d._scheduler.get_jobs() if j.id.startswith("poll:")}


def held(d: Daemon) -> set[str]:
    assert d.team is not None
    return set(d.team.keeper.held())


async def eventually(check: Callable[[], bool], what: Callable[[], str], within: float = 60) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not check():
        if loop.time() > end:
            pytest.fail(f"timed out waiting: {what()}")
        await asyncio.sleep(0.1)


async def test_jobs_and_states_follow_the_leases(
    pg_store: Store, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "polls.jsonl"
    monkeypatch.setenv(POLL_LOG_ENV, str(log))
    a, b = [
        Daemon(s, await build_parts(s))
        for s in (load(settings_for(tmp_path / acc, pg_url, acc)) for acc in ("acc0", "acc1"))
    ]

    def polled_by(d: Daemon) -> set[str]:
        assert d.team is not None
        lines = log.read_text().splitlines() if log.exists() else []
        return {p["key"] for p in map(json.loads, lines) if p["collector"] == d.team.id and p["outcome"] == "done"}

    def report() -> str:
        return "; ".join(
            f"{d.team.id if d.team else '?'}: held {sorted(held(d))}, jobs {sorted(scheduled(d))},"
            f" states {sorted(d.states)}, polled {sorted(polled_by(d))}"
            for d in (a, b) if d._scheduler is not None
        )

    tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
    try:
        # both take a share; each schedules exactly what it holds, and caches no other channel's state
        await eventually(
            lambda: all(d._scheduler is not None for d in (a, b))
            and held(a) | held(b) == KEYS and held(a) and held(b) and not held(a) & held(b)
            and all(scheduled(d) == held(d) and set(d.states) <= held(d) for d in (a, b))
            and polled_by(a) | polled_by(b) == KEYS,
            report,
        )
        assert len(scheduled(a)) < len(KEYS) and len(scheduled(b)) < len(KEYS)
        # the first to start may poll everything before the other takes its share: a channel polled by
        # both is fine, two polls of one channel at overlapping times are not
        polls = sorted((p["key"], p["start"], p["end"]) for p in map(json.loads, log.read_text().splitlines()))
        for (key, _start, end), (next_key, next_start, _end) in pairwise(polls):
            assert key != next_key or end <= next_start, (key, polls)
        # b stops cleanly: a takes b's channels over, adds their jobs and polls them
        gone = held(b)
        b.request_stop()
        await tasks[1]
        await eventually(
            lambda: held(a) == KEYS and scheduled(a) == KEYS and gone <= polled_by(a), report
        )
        assert set(a.states) == KEYS
    finally:
        for d in (a, b):
            d.request_stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert (await pg_store.counts())["posts"] == 18
