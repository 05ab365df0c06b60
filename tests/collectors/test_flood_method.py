"""An account's flood wait is stored with the request Telegram named (`method`) and `monitor status`
shows it: a real team-mode daemon on the real PostgreSQL server, its fake client raising Telethon's own
FloodWaitError carrying the GetHistoryRequest it answered."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner
from daemon.conftest import make_scenario, write_config

from monitor.cli import main
from monitor.compose import build_parts
from monitor.daemon import Daemon
from monitor.settings import load
from monitor.store import Store


async def test_a_flood_waited_account_names_the_request(pg_store: Store, pg_url: str, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    faults = [{"method": "iter_messages", "channel": "chan_0001", "error": "flood_wait", "seconds": 3600}]
    scenario.write_text(json.dumps(make_scenario(channels=2, posts=3, faults=faults)), "utf-8")
    cfg = write_config(
        tmp_path, scenario, ["@chan_0000", "@chan_0001"], monitor={"database": pg_url},
        telegram={"account_name": "acc0"}, collectors={"lease_expiry": 6, "lease_renew_interval": 0.5},
    )
    settings = load(cfg)
    daemon = Daemon(settings, await build_parts(settings))

    def waited(_d: Daemon) -> bool:
        return daemon.team is not None and daemon.team.account_state is not None and (
            daemon.team.account_state.state == "flood_wait")

    await asyncio.wait_for(daemon.run(until=waited), timeout=60)
    states = {a.name: a for a in await pg_store.account_states()}
    acc = states["acc0"]
    assert (acc.state, acc.method) == ("flood_wait", "GetHistoryRequest")

    result = await asyncio.to_thread(CliRunner().invoke, main, ["status", "-c", str(cfg), "--json"], catch_exceptions=False)
    rows = {a["name"]: a for a in json.loads(result.output)["accounts"]}
    assert (rows["acc0"]["state"], rows["acc0"]["method"]) == ("flood_wait", "GetHistoryRequest")
    assert rows["acc0"]["parked_until"] is not None
    table = await asyncio.to_thread(CliRunner().invoke, main, ["status", "-c", str(cfg)], catch_exceptions=False)
    assert "GetHistoryRequest" in table.output
