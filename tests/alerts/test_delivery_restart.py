"""A real crash: a delivery process is SIGKILLed in the middle of a webhook send, then restarted.

The worker runs in a subprocess against a SQLite file; the webhook receiver runs
here on loopback and holds one request unanswered, so the kill lands between the
send and the mark. After a restart every pending alert arrives exactly once; the
one in doubt follows the policy (sent again with the same delivery id, or never).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.store import open_store

from alerts.delivery_servers import LoopbackHTTP, Request

SRC = Path(__file__).resolve().parents[2] / "src"
T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)

WORKER = """
import asyncio, sys
from datetime import datetime
from pathlib import Path
from monitor.alerts.delivery import Deliverer
from monitor.alerts.sinks.webhook import WebhookSink
from monitor.clock import FrozenClock
from monitor.store import open_store

async def main() -> None:
    db, url, at, policy = sys.argv[1:5]
    clock = FrozenClock(datetime.fromisoformat(at))
    store = open_store(Path(db))
    await store.open()
    sink = WebhookSink("hook", url=url, secret="k", now=clock.now, timeout=30)
    deliverer = Deliverer(store, [sink], clock, send_timeout=60, in_doubt=policy)
    while (await deliverer.run_once()).messages:
        pass
    await store.close()

asyncio.run(main())
"""




async def run_worker(
    script: Path, db: Path, url: str, at: datetime, policy: str
) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(db), url, at.isoformat(), policy, env=env
    )


@pytest.mark.parametrize("policy", ["resend", "drop"])
async def test_sigkill_during_a_send_then_restart(tmp_path: Path, policy: str) -> None:
    db = tmp_path / "monitor.db"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    store = open_store(db)
    await store.open()
    async with store.transaction() as conn:
        for n in range(1, 6):
            await conn.execute(
                "INSERT INTO alerts (id, rule, kind, dedup_key, fired_at, summary)"
                " VALUES (?, 'r', 'match', ?, ?, ?)",
                (n, f"r:{n}", int(T0.timestamp()), f"alert {n}"),
            )
            await conn.execute(
                "INSERT INTO deliveries (alert_id, sink, next_attempt_at) VALUES (?, 'hook', ?)",
                (n, int(T0.timestamp())),
            )
    await store.close()

    stuck = asyncio.Event()
    release = asyncio.Event()
    held = 0

    async def receive(req: Request) -> tuple[int, dict[str, str], bytes]:
        nonlocal held
        if req.json()["alerts"][0]["id"] == 3 and held == 0:
            held += 1
            stuck.set()
            await release.wait()  # never answered before the kill
            return 200, {}, b""
        return 200, {}, b"ok"

    async with LoopbackHTTP(receive) as server:
        first = await run_worker(script, db, server.url, T0, policy)
        await asyncio.wait_for(stuck.wait(), 20)
        first.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(first.wait(), 20) == -signal.SIGKILL

        second = await run_worker(script, db, server.url, T0 + timedelta(minutes=3), policy)
        assert await asyncio.wait_for(second.wait(), 30) == 0
        third = await run_worker(script, db, server.url, T0 + timedelta(hours=1), policy)  # nothing left
        assert await asyncio.wait_for(third.wait(), 30) == 0
        release.set()

    received = [json.loads(r.body)["alerts"][0]["id"] for r in server.requests]
    counts = Counter(received)
    assert all(counts[n] == 1 for n in (1, 2, 4, 5))  # pending or delivered before: exactly once
    store = open_store(db)
    await store.open()
    states = {r["alert_id"]: r["state"] for r in await store.query("SELECT alert_id, state FROM deliveries")}
    await store.close()
    if policy == "resend":
        assert counts[3] == 2 and states == dict.fromkeys(range(1, 6), "delivered")
        ids = {
            r.headers["x-monitor-delivery"]
            for r in server.requests
            if json.loads(r.body)["alerts"][0]["id"] == 3
        }
        assert len(ids) == 1  # the resend is recognisable as the same delivery
    else:
        assert counts[3] == 1 and states == {
            1: "delivered",
            2: "delivered",
            3: "failed",
            4: "delivered",
            5: "delivered",
        }
