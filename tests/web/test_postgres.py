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
