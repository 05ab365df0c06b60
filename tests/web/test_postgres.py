"""The dashboard over PostgreSQL: the same pages through the same store port, downloads equal to the CLI's."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from webhelpers import SECRET, login
from starlette.testclient import TestClient
from webdata import build

from monitor.web.app import create_app
from monitor.web.common import WebConfig


def _postgres_server() -> Any:
    """tests/store/postgres_server.py (a sibling folder that is not a package)."""
    path = Path(__file__).resolve().parents[1] / "store" / "postgres_server.py"
    spec = importlib.util.spec_from_file_location("postgres_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check(url: str) -> None:
    app = create_app(WebConfig(database=url, secret=SECRET))
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as c:
        assert login(c, "ana").status_code == 303
        page = c.get("/volume?by=group&every=week")
        assert page.status_code == 200 and page.text.count('<circle class="point"') >= 20
        for path in ("/posts?since=2024-02-10&until=2024-02-10", "/alerts", "/channels", "/network", "/audit"):
            assert c.get(path).status_code == 200, path
        csv = c.get("/volume.csv?by=group,language&every=week").content
        expected = subprocess.run([sys.executable, "-m", "monitor", "report", "volume", "--by", "group,language",
                                   "--every", "week", "--format", "csv", "--db", url],
                                  capture_output=True, timeout=120, check=True).stdout
        assert csv == expected and len(csv) > 500
        alerts = c.get("/alerts").text
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', alerts)
        assert token is not None
        first = re.search(r'action="/alerts/(\d+)/ack"', alerts)
        assert first is not None
        assert c.post(f"/alerts/{first.group(1)}/ack", data={"csrf": token.group(1)}).status_code == 303
        assert "by ana" in c.get("/alerts").text
        assert "alert.ack" in c.get("/audit").text


def test_the_dashboard_over_postgresql() -> None:
    server = _postgres_server()

    async def go() -> None:
        async with server.fresh_schema() as url:
            await build(url, channels=3, days=70)
            await asyncio.to_thread(_check, url)

    asyncio.run(go())


def _check_team(url: str, keys: list[str]) -> None:
    app = create_app(WebConfig(database=url, secret=SECRET, lease_expiry=60))
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as c:
        assert login(c, "vic").status_code == 303
        page = c.get("/channels").text
    collectors = page.split('<table id="collectors">', 1)[1].split("</table>", 1)[0]
    accounts = page.split('<table id="accounts">', 1)[1].split("</table>", 1)[0]
    channels = page.split('<table id="channels">', 1)[1].split("</table>", 1)[0]
    rows = {r.split("<td>", 2)[1].split("</td>", 1)[0]: r for r in collectors.split("<tr>")[2:]}
    assert set(rows) == {"box-a:101", "box-b:&lt;b&gt;202"}  # a host name is escaped like any text
    assert "<td>running</td>" in rows["box-a:101"] and '<td class="num">2</td></tr>' in rows["box-a:101"]
    assert "<td>dead</td>" in rows["box-b:&lt;b&gt;202"] and "<td>9.9.1</td>" in rows["box-b:&lt;b&gt;202"]
    assert '<td class="num">101</td>' in rows["box-a:101"]
    assert "<b>" not in page
    assert "acct-main" in accounts and "flood_wait" in accounts and "2030-01-01T00:00:00Z" in accounts
    assert "acct-spare" in accounts and "<td>ok</td>" in accounts
    for key in keys[:2]:  # each leased channel names its collector and account
        row = channels.split(f">{key}</a>", 1)[1].split("</tr>", 1)[0]
        assert "<td>box-a:101</td><td>acct-main</td>" in row, key
    row = channels.split(f">{keys[2]}</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td></td><td></td>" in row  # not leased


def test_the_channels_page_in_team_mode_on_postgresql() -> None:
    """Collectors (host, pid, version, heartbeat, leases), accounts (state, parked until, channels) and
    each channel's collector and account, read from a real PostgreSQL store in team mode."""
    from datetime import UTC, datetime, timedelta

    from monitor.demo import DEMO_CHANNELS
    from monitor.models import AccountState, CollectorInfo
    from monitor.store import open_store

    server = _postgres_server()
    keys = [c.username for c in DEMO_CHANNELS[:3]]

    async def go() -> None:
        async with server.fresh_schema() as url:
            await build(url, channels=3, days=5)
            now = datetime.now(UTC)
            store = open_store(url)
            await store.open()
            try:
                await store.register_collector(CollectorInfo(id="box-a:101", host="box-a", pid=101, version="1.2.3",
                                                             started_at=now - timedelta(hours=1), heartbeat_at=now))
                await store.register_collector(CollectorInfo(
                    id="box-b:<b>202", host="box-b", pid=202, version="9.9.1", started_at=now - timedelta(hours=2),
                    heartbeat_at=now - timedelta(minutes=30)))
                # leases valid for an hour: the page's clock runs on while the test asks
                taken = await store.claim_leases("box-a:101", keys[:2], at=now, expiry=3600, limit=10)
                assert taken == keys[:2]
                await store.set_lease_accounts("box-a:101", {k: "acct-main" for k in taken})
                await store.set_account_state(AccountState(name="acct-main", state="flood_wait", reason="FLOOD_WAIT",
                                                           since=now, until=datetime(2030, 1, 1, tzinfo=UTC)))
                await store.set_account_state(AccountState(name="acct-spare", state="ok", since=now))
            finally:
                await store.close()
            await asyncio.to_thread(_check_team, url, keys)

    asyncio.run(go())
