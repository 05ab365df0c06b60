"""Several accounts in one process (collectors.accounts_per_collector): one collector per account, each
with its own fake client and leases, sharing the channels; on the real PostgreSQL server."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from daemon.conftest import make_scenario, write_config

from monitor.collectors.multi import run_pool
from monitor.settings import load
from monitor.store import Store


async def test_one_process_runs_a_collector_per_account_and_they_share_the_channels(
    pg_store: Store, pg_url: str, tmp_path: Path
) -> None:
    accounts = tmp_path / "secrets"
    accounts.mkdir()
    for i in (1, 2, 3):
        (accounts / f"acc{i}.toml").write_text(f'api_id = {i}\napi_hash = "h{i}"\n', "utf-8")
    assert await pg_store.hold_account("acc1", "elsewhere", at=datetime.now(UTC), expiry=3600) is None  # in use elsewhere
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(make_scenario(channels=6, posts=10)), "utf-8")
    cfg = write_config(
        tmp_path, scenario, [f"@chan_{i:04d}" for i in range(6)],
        monitor={"database": pg_url}, telegram={"accounts_dir": "secrets"},
        collectors={"lease_expiry": 6, "lease_renew_interval": 0.5, "accounts_per_collector": 2},
    )
    settings = load(cfg)

    async def counts() -> int:
        return (await pg_store.counts())["posts"]

    seen: dict[str, int] = {}

    def until(d: object) -> bool:
        team = getattr(d, "team", None)
        if team is not None:
            seen[team.account] = len(team.keeper.held())
        # both hold their fair share: the first may take every channel before the second joins, and gives
        # the excess back once it sees the second (a race the machine's load decides)
        return getattr(d, "polls", 0) >= 6 and sorted(seen.values()) == [3, 3]

    daemons = await run_pool(settings, 2, until=until)
    assert sorted(seen) == ["acc2", "acc3"]  # acc1 was held elsewhere
    assert seen == {"acc2": 3, "acc3": 3}
    assert await counts() == 60
    pids = {c.pid for c in await pg_store.collectors()}
    assert pids == {os.getpid()} and len(await pg_store.collectors()) == 2
    assert all(c.stopped_at is not None for c in await pg_store.collectors())  # both stopped cleanly
    assert await pg_store.leases() == []  # and released their leases
    assert len(daemons) == 2
