"""Issue 14's per-channel work in team mode: two real daemons in one process, each with its own account
and fake client serving real Telethon objects, on the real PostgreSQL server, while channels move
between them (the second collector joins and takes its share).

Whoever polls a channel: its profile is sampled once per ``profile_every`` for the team (GetFullChannel
is never asked by two collectors for one channel in a period), a post deleted inside the re-sample
window is marked once, and a takedown is one lifecycle event.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from daemon.conftest import iso, make_scenario, write_config

from monitor.compose import build_parts, build_tagger
from monitor.daemon import Daemon
from monitor.settings import load
from monitor.store import Store

from .test_jobs_follow_leases import eventually, held

KEYS = {f"chan_{i:04d}" for i in range(6)}
FIRST_ID = 5001


def scenario(now: datetime) -> dict[str, Any]:
    data = make_scenario(channels=6, posts=3, start=now - timedelta(hours=2), spacing=timedelta(minutes=10))
    chans = data["channels"]
    chans[0]["messages"][1]["deleted_at"] = iso(now + timedelta(seconds=6))  # gone inside the re-sample window
    chans[1]["changes"] = [{"at": iso(now + timedelta(seconds=6)), "status": "banned"}]  # taken down
    chans[2]["subscribers"] = 1234
    return data


def settings_for(folder: Path, url: str, account: str, now: datetime) -> Path:
    folder.mkdir()
    (folder / "s.json").write_text(json.dumps(scenario(now)), "utf-8")
    return write_config(
        folder, folder / "s.json", [f"@{k}" for k in sorted(KEYS)],
        monitor={"database": url}, telegram={"account_name": account},
        collectors={"lease_expiry": 6, "lease_renew_interval": 0.5},
        polling={"resample_days": 1, "profile_every": 3600},
    )


def calls(d: Daemon, method: str) -> int:
    return int(d.source.client.calls[method])  # type: ignore[attr-defined]


async def test_slow_sampling_deletions_and_takedowns_are_done_once_for_the_team(
    pg_store: Store, pg_url: str, tmp_path: Path
) -> None:
    settings = [load(settings_for(tmp_path / acc, pg_url, acc, datetime.now(UTC))) for acc in ("acc0", "acc1")]
    tagger = await asyncio.to_thread(build_tagger, settings[0])  # the slow part, before the scenario's clock starts
    now = datetime.now(UTC)
    for s in settings:
        assert s.path is not None
        (s.path.parent / "s.json").write_text(json.dumps(scenario(now)), "utf-8")
    a, b = [Daemon(s, await build_parts(s, tagger=tagger)) for s in settings]
    runs = [asyncio.create_task(a.run())]
    try:
        # a polls (and samples) every channel alone, then b joins and takes its share
        await eventually(lambda: a._scheduler is not None and held(a) == KEYS and calls(a, "get_full_channel") == 6,
                         lambda: f"a holds {sorted(held(a)) if a.team else None}, calls {a.source.client.calls}")  # type: ignore[attr-defined]
        runs.append(asyncio.create_task(b.run()))
        await eventually(lambda: b._scheduler is not None and bool(held(b)) and not held(a) & held(b),
                         lambda: "b takes no share")
        moved = held(b)
        # past the ban and the deletion: several polls of every channel by its new holder
        await asyncio.sleep(max(0.0, (now + timedelta(seconds=9) - datetime.now(UTC)).total_seconds()))
        events: list[Any] = []

        async def settled() -> bool:
            events[:] = await pg_store.channel_events(keys=["chan_0001"])
            deletions = await pg_store.report_deletions(since_day=0, until_day=10**6, channel_ids=[FIRST_ID])
            return [e.state for e in events] == ["active", "banned"] and sum(r["deleted"] for r in deletions) == 1

        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while not await settled():
            if loop.time() > end:
                pytest.fail(f"no ban or deletion recorded: {events}")
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # more polls: nothing is recorded twice
        assert [e.state for e in await pg_store.channel_events(keys=["chan_0001"])] == ["active", "banned"]
        deletions = await pg_store.report_deletions(since_day=0, until_day=10**6, channel_ids=[FIRST_ID])
        assert sum(r["deleted"] for r in deletions) == 1
        # one profile sample per channel for the team, though half of them moved to b after a sampled them
        assert moved and calls(b, "iter_messages") > 0
        assert calls(a, "get_full_channel") + calls(b, "get_full_channel") == 6
        samples = {cid: await pg_store.channel_snapshots(cid) for cid in range(FIRST_ID, FIRST_ID + 6)}
        assert all(len(s) == 1 for s in samples.values()), samples
        assert samples[FIRST_ID + 2][0].subscribers == 1234
    finally:
        for d in (a, b):
            d.request_stop()
        await asyncio.gather(*runs, return_exceptions=True)
