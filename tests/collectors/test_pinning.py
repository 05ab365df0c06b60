"""Channels pinned to named accounts are polled only by collectors on those accounts: two real daemons
in one process, each with its own fake client, on the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from daemon.conftest import make_scenario, write_config

from monitor.collectors.team import POLL_LOG_ENV
from monitor.compose import build_parts
from monitor.daemon import Daemon
from monitor.settings import load
from monitor.store import Store


def settings_for(folder: Path, url: str, account: str) -> Path:
    folder.mkdir()
    scenario = folder / "scenario.json"
    scenario.write_text(json.dumps(make_scenario(channels=4, posts=5)), "utf-8")
    cfg = write_config(
        folder, scenario, [f"@chan_{i:04d}" for i in range(4)],
        monitor={"database": url}, telegram={"account_name": account},
        collectors={"lease_expiry": 6, "lease_renew_interval": 0.5},
    )
    text = cfg.read_text("utf-8")
    for pinned in ("chan_0002", "chan_0003"):
        text = text.replace(f'handle = "@{pinned}"\n', f'handle = "@{pinned}"\naccounts = ["acc1", "acc9"]\n')
    cfg.write_text(text, "utf-8")
    return cfg


async def test_pinned_channels_go_only_to_their_accounts(
    pg_store: Store, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "polls.jsonl"
    monkeypatch.setenv(POLL_LOG_ENV, str(log))
    daemons = []
    for account in ("acc0", "acc1"):
        settings = load(settings_for(tmp_path / account, pg_url, account))
        assert [r.accounts for r in settings.channels] == [(), (), ("acc1", "acc9"), ("acc1", "acc9")]
        daemons.append(Daemon(settings, await build_parts(settings)))

    def done(_d: Daemon) -> bool:
        seen = {json.loads(line)["key"] for line in log.read_text().splitlines()} if log.exists() else set()
        return len(seen) == 4 and sum(d.polls for d in daemons) >= 8

    try:
        await asyncio.wait_for(asyncio.gather(*(d.run(until=done) for d in daemons)), timeout=100)
    except TimeoutError:
        held = [(x.key, x.collector_id, x.account) for x in await pg_store.leases()]
        polled = sorted({json.loads(line)["key"] for line in log.read_text().splitlines()}) if log.exists() else []
        pytest.fail(f"not all channels polled in time: polls {[d.polls for d in daemons]}, polled {polled}, leases {held}")
    ids = {d.team.id: d.team.account for d in daemons if d.team is not None}
    by_key: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        p = json.loads(line)
        by_key.setdefault(p["key"], set()).add(ids[p["collector"]])
    assert by_key["chan_0002"] == by_key["chan_0003"] == {"acc1"}
    assert (await pg_store.counts())["posts"] == 20
