"""Fixtures of the web tests: the demo-like database, an in-process client, and the real server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from webdata import build
from webhelpers import ROOT, SECRET, Served, free_port

from monitor.web.app import create_app
from monitor.web.common import WebConfig


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web") / "monitor.db"
    asyncio.run(build(str(path)))
    return path


@pytest.fixture
def client(web_db: Path) -> Iterator[TestClient]:
    """The ASGI app in process (httpx underneath), its lifespan run: the store open."""
    app = create_app(WebConfig(database=str(web_db), secret=SECRET, source_name="monitor.db"))
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as c:
        yield c


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`monitor web` in a subprocess on a free loopback port, over its own copy of the test database."""
    db = tmp_path_factory.mktemp("served") / "monitor.db"
    with ThreadPoolExecutor(1) as pool:  # a thread of its own: Playwright's sync API may own this one's loop
        pool.submit(asyncio.run, build(str(db))).result()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_") or k == "MONITOR_CACHE_DIR"}
    env["MONITOR_WEB_SECRET"] = SECRET
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    log = (db.parent / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "web", "--db", str(db), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("monitor web did not start: " + (db.parent / "server.log").read_text())
            time.sleep(0.2)
        yield Served(base, db)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
