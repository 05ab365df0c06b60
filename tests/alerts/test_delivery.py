"""The Deliverer over a real SQLite outbox: retries with backoff, failures, digests, slow sinks, restarts.

Alerts and their pending deliveries rows are inserted with plain SQL, as the engine
writes them; the webhook sink posts to a real HTTP server on loopback that checks
each signature.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.alerts.delivery import Deliverer
from monitor.alerts.sinks.webhook import WebhookSink
from monitor.alerts.sinks import DigestPeriod
from monitor.clock import FrozenClock
from monitor.models import Alert
from monitor.store import open_store
from monitor.store.sqlite import SQLiteStore  # outbox rows are checked in SQLite's tables

from alerts.delivery_servers import LoopbackHTTP, Request

SECRET = "hook-secret"
T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)




@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = open_store(tmp_path / "monitor.db")
    await s.open()
    yield s
    await s.close()


async def add_alert(
    store: SQLiteStore,
    n: int,
    *,
    sinks: Sequence[str] = ("hook",),
    fired_at: datetime = T0,
    rule: str = "iskp",
) -> int:
    fired = int(fired_at.timestamp())
    async with store.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO alerts (rule, kind, dedup_key, fired_at, summary, details, channel_id, message_id,"
            " channel_username, link) VALUES (?, 'match', ?, ?, ?, ?, 1234, ?, 'ozod_sado', NULL)"
            " RETURNING id",
            (rule, f"{rule}:{n}", fired, f"post {n} names ISKP", json.dumps({"count": n}), n),
        )
        row = await cursor.fetchone()
        assert row is not None
        for sink in sinks:
            await conn.execute(
                "INSERT INTO deliveries (alert_id, sink, next_attempt_at) VALUES (?, ?, ?)",
                (row[0], sink, fired),
            )
    return int(row[0])


async def rows(store: SQLiteStore) -> dict[tuple[int, str], tuple[str, int, int, str | None]]:
    found = await store.query(
        "SELECT alert_id, sink, state, attempts, next_attempt_at, last_error FROM deliveries"
        " ORDER BY alert_id, sink"
    )
    return {
        (r["alert_id"], r["sink"]): (r["state"], r["attempts"], r["next_attempt_at"], r["last_error"])
        for r in found
    }


def verified(req: Request) -> dict[str, object]:
    """The receiver's check: recompute the HMAC independently; return the payload."""
    stamp = req.headers["x-monitor-timestamp"]
    mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(req.headers["x-monitor-signature"], f"sha256={mac}")
    payload = req.json()
    assert isinstance(payload, dict)
    return payload


def alert_ids(reqs: Sequence[Request]) -> list[int]:
    return [a["id"] for r in reqs for a in verified(r)["alerts"]]  # type: ignore[index, union-attr]


class FailFirst:
    """HTTP 500 for the first ``n`` requests, then 200."""

    def __init__(self, n: int) -> None:
        self.left = n

    def __call__(self, _: Request) -> tuple[int, dict[str, str], bytes]:
        if self.left > 0:
            self.left -= 1
            return 500, {}, b"boom"
        return 200, {}, b"ok"


def hook(server: LoopbackHTTP, clock: FrozenClock, name: str = "hook") -> WebhookSink:
    return WebhookSink(name, url=server.url + "/hook", secret=SECRET, now=clock.now, timeout=2)


async def test_pending_alerts_are_delivered_once_each(store: SQLiteStore) -> None:
    clock = FrozenClock(T0)
    ids = [await add_alert(store, n) for n in (1, 2, 3)]
    async with LoopbackHTTP() as server:
        deliverer = Deliverer(store, [hook(server, clock)], clock)
        report = await deliverer.run_once()
        again = await deliverer.run_once()
    assert (report.delivered, report.messages, report.retried, report.failed) == (3, 3, 0, 0)
    assert again.delivered == 0 and again.messages == 0
    assert alert_ids(server.requests) == ids
    assert {v[0] for v in (await rows(store)).values()} == {"delivered"}


async def test_failing_sink_is_retried_with_backoff_then_delivered_exactly_once(store: SQLiteStore) -> None:
    clock = FrozenClock(T0)
    alert = await add_alert(store, 1)
    async with LoopbackHTTP(FailFirst(2)) as server:
        deliverer = Deliverer(
            store,
            [hook(server, clock)],
            clock,
            backoff_base=60,
            backoff_cap=3600,
            jitter=0.5,
            rng=random.Random(7),
        )
        first = await deliverer.run_once()
        assert (first.retried, first.delivered) == (1, 0)
        state, attempts, next_at, error = (await rows(store))[(alert, "hook")]
        assert (state, attempts) == ("pending", 1) and "HTTP 500" in (error or "")
        start = int(T0.timestamp())
        assert start + 30 <= next_at <= start + 60  # base 60 s, shrunk by at most half

        # not due yet: nothing is sent, however often the job runs
        clock.advance(timedelta(seconds=25))
        assert (await deliverer.run_once()).messages == 0
        assert len(server.requests) == 1

        clock.advance(timedelta(seconds=40))
        second = await deliverer.run_once()
        assert second.retried == 1
        _, attempts, next_at2, _ = (await rows(store))[(alert, "hook")]
        now = int(clock.now().timestamp())
        assert attempts == 2 and now + 60 <= next_at2 <= now + 120  # doubled

        clock.advance(timedelta(seconds=121))
        third = await deliverer.run_once()
        assert third.delivered == 1
        clock.advance(timedelta(hours=5))
        assert (await deliverer.run_once()).messages == 0
    assert len(server.requests) == 3
    assert alert_ids(server.requests) == [alert] * 3
    # the three attempts are one delivery: a receiver that keeps X-Monitor-Delivery accepts it once
    assert len({r.headers["x-monitor-delivery"] for r in server.requests}) == 1
    state, attempts, _, error = (await rows(store))[(alert, "hook")]
    assert (state, attempts, error) == ("delivered", 3, None)


async def test_after_max_attempts_the_row_fails_and_can_be_requeued(store: SQLiteStore) -> None:
    clock = FrozenClock(T0)
    alert = await add_alert(store, 1)
    async with LoopbackHTTP(FailFirst(3)) as server:
        deliverer = Deliverer(store, [hook(server, clock)], clock, max_attempts=3, backoff_base=10, jitter=0)
        for _ in range(5):
            await deliverer.run_once()
            clock.advance(timedelta(minutes=5))
        assert len(server.requests) == 3
        state, attempts, _, error = (await rows(store))[(alert, "hook")]
        assert (state, attempts) == ("failed", 3) and "HTTP 500" in (error or "")

        assert await store.requeue_failed(at=clock.now(), sink="hook") == 1
        assert (await deliverer.run_once()).delivered == 1
    assert len(server.requests) == 4


async def test_permanent_refusal_fails_at_once_and_retry_after_is_honoured(store: SQLiteStore) -> None:
    clock = FrozenClock(T0)
    gone = await add_alert(store, 1, sinks=["gone"])
    busy = await add_alert(store, 2, sinks=["busy"])
    async with (
        LoopbackHTTP(lambda _: (404, {}, b"")) as gone_srv,
        LoopbackHTTP(lambda _: (429, {"Retry-After": "900"}, b"")) as busy_srv,
    ):
        deliverer = Deliverer(
            store,
            [hook(gone_srv, clock, "gone"), hook(busy_srv, clock, "busy")],
            clock,
            backoff_base=30,
            jitter=0,
        )
        report = await deliverer.run_once()
    assert (report.failed, report.retried) == (1, 1)
    table = await rows(store)
    assert table[(gone, "gone")][:2] == ("failed", 1)
    assert table[(busy, "busy")][0] == "pending"
    assert table[(busy, "busy")][2] == int(T0.timestamp()) + 900  # Retry-After beats the 30 s backoff


async def test_a_hanging_sink_costs_one_bounded_attempt_and_does_not_hold_up_the_others(
    store: SQLiteStore,
) -> None:
    clock = FrozenClock(T0)
    a = await add_alert(store, 1, sinks=["slow", "hook"])
    b = await add_alert(store, 2, sinks=["slow", "hook"])
    release = asyncio.Event()

    async def hang(_: Request) -> tuple[int, dict[str, str], bytes]:
        await release.wait()
        return 200, {}, b""

    async with LoopbackHTTP(hang) as slow, LoopbackHTTP() as fast:
        slow_sink = WebhookSink("slow", url=slow.url, secret=SECRET, timeout=30)  # its own timeout is long
        # a generous bound: the fast sink's two sends take milliseconds (its client is reused), so the
        # test does not depend on machine speed; the hanging one costs exactly one 3 s attempt
        deliverer = Deliverer(store, [slow_sink, hook(fast, clock)], clock, send_timeout=3, jitter=0)
        report = await deliverer.run_once()
        release.set()
    assert report.delivered == 2 and report.retried == 1
    assert any("no answer within 3s" in e for e in report.errors)
    table = await rows(store)
    assert table[(a, "slow")][:2] == ("pending", 1)
    assert table[(b, "slow")][:2] == ("pending", 0)  # the sink rests; b was not tried
    assert len(slow.requests) == 1 and alert_ids(fast.requests) == [a, b]


async def test_digest_sends_one_message_per_sink_per_ended_period(store: SQLiteStore) -> None:
    hour = datetime(2026, 3, 14, 9, tzinfo=UTC)
    in_9 = [
        await add_alert(store, n, fired_at=hour + timedelta(minutes=5 * n), sinks=["hook", "ops"])
        for n in (1, 2, 3)
    ]
    in_10 = [await add_alert(store, n, fired_at=hour + timedelta(minutes=60 + n)) for n in (4, 5)]
    in_11 = [await add_alert(store, 6, fired_at=hour + timedelta(minutes=125))]
    clock = FrozenClock(hour + timedelta(minutes=130))  # 11:10: periods 9h and 10h have ended
    async with LoopbackHTTP() as server, LoopbackHTTP() as ops:
        deliverer = Deliverer(
            store, [hook(server, clock), hook(ops, clock, "ops")], clock, digest=timedelta(hours=1)
        )
        report = await deliverer.run_once()
        assert report.messages == 3 and report.digested == 8
        payloads = [verified(r) for r in server.requests]
        assert [[a["id"] for a in p["alerts"]] for p in payloads] == [in_9, in_10]  # type: ignore[index]
        assert payloads[0]["digest"] == {
            "start": "2026-03-14T09:00:00+00:00",
            "end": "2026-03-14T10:00:00+00:00",
        }
        assert alert_ids(ops.requests) == in_9
        table = await rows(store)
        assert table[(in_11[0], "hook")][0] == "pending"
        assert {v[0] for k, v in table.items() if k[0] != in_11[0]} == {"digested"}

        clock.advance(timedelta(minutes=50))  # 12:00: the 11h period has ended
        late = await add_alert(store, 7, fired_at=hour + timedelta(minutes=59))  # reaches the outbox late
        report = await deliverer.run_once()
    assert report.messages == 2
    assert [alert_ids([r]) for r in server.requests[2:]] == [[late], in_11]


async def test_restart_between_polls_delivers_pending_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    clock = FrozenClock(T0)
    async with LoopbackHTTP() as server:
        first = open_store(path)
        await first.open()
        before = [await add_alert(first, n) for n in (1, 2)]
        await Deliverer(first, [hook(server, clock)], clock).run_once()
        after = [await add_alert(first, n) for n in (3, 4)]
        await first.close()  # the daemon stops between two polls

        clock.advance(timedelta(minutes=1))
        second = open_store(path)
        await second.open()
        report = await Deliverer(second, [hook(server, clock)], clock).run_once()
        assert report.delivered == 2
        assert (await Deliverer(second, [hook(server, clock)], clock).run_once()).messages == 0
        await second.close()
    assert alert_ids(server.requests) == before + after


class StopAfterSend:
    """Sends for real, then never returns: the process "dies" between the send and the mark."""

    def __init__(self, inner: WebhookSink) -> None:
        self.name = inner.name
        self.inner = inner
        self.sent = asyncio.Event()

    async def send(self, alerts: Sequence[Alert], *, period: DigestPeriod | None = None) -> None:
        await self.inner.send(alerts, period=period)
        self.sent.set()
        await asyncio.Event().wait()


@pytest.mark.parametrize("policy", ["resend", "drop"])
async def test_crash_during_a_send_follows_the_in_doubt_policy(tmp_path: Path, policy: str) -> None:
    path = tmp_path / "monitor.db"
    clock = FrozenClock(T0)
    async with LoopbackHTTP() as server:
        first = open_store(path)
        await first.open()
        doubt = await add_alert(first, 1)
        waiting = await add_alert(first, 2)
        dying = StopAfterSend(hook(server, clock))
        task = asyncio.create_task(Deliverer(first, [dying], clock, send_timeout=60).run_once())
        await asyncio.wait_for(dying.sent.wait(), 5)
        task.cancel()  # the crash: no outcome is recorded
        with pytest.raises(asyncio.CancelledError):
            await task
        await first.close()

        second = open_store(path)
        await second.open()
        assert (await rows(second))[(doubt, "hook")][0] == "sending"
        deliverer = Deliverer(second, [hook(server, clock)], clock, send_timeout=60, in_doubt=policy)  # type: ignore[arg-type]
        soon = await deliverer.run_once()  # restarted within the lease: the row in doubt is left alone
        assert soon.recovered == 0 and soon.delivered == 1
        clock.advance(timedelta(seconds=91))  # lease = send_timeout + 30 s has run out
        later = await deliverer.run_once()
        assert later.recovered == 1
        assert (await deliverer.run_once()).messages == 0
        table = await rows(second)
        await second.close()
    received = alert_ids(server.requests)
    assert Counter(received)[waiting] == 1  # what was pending is sent exactly once
    if policy == "resend":  # at-least-once, with the same delivery id for receivers that de-duplicate
        assert received == [doubt, waiting, doubt] and later.delivered == 1
        assert (
            server.requests[0].headers["x-monitor-delivery"]
            == server.requests[2].headers["x-monitor-delivery"]
        )
        assert table[(doubt, "hook")][:2] == ("delivered", 2)
    else:  # at-most-once: never twice
        assert received == [doubt, waiting] and later.delivered == 0
        assert table[(doubt, "hook")][0] == "failed" and "in doubt" in (table[(doubt, "hook")][3] or "")


async def test_unconfigured_sink_rows_wait_and_are_visible(store: SQLiteStore) -> None:
    clock = FrozenClock(T0)
    await add_alert(store, 1, sinks=["hook", "removed"])
    async with LoopbackHTTP() as server:
        await Deliverer(store, [hook(server, clock)], clock).run_once()
    counts = await store.delivery_counts()
    assert counts == {("hook", "delivered"): 1, ("removed", "pending"): 1}
    assert await store.pending_sinks() == ["removed"]


async def test_worker_loop_delivers_until_stopped_and_builds_from_config(store: SQLiteStore) -> None:
    from monitor.alerts.config import parse_alerts
    from monitor.alerts.delivery import build_deliverer

    clock = FrozenClock(T0)
    first = await add_alert(store, 1)
    async with LoopbackHTTP() as server:
        config = parse_alerts(
            {
                "digest": "",
                "sinks": [
                    {"name": "hook", "kind": "webhook", "url": server.url, "secret_env": "HOOK_SECRET"}
                ],
            },
            "test.toml",
        )
        deliverer = build_deliverer(config, store=store, clock=clock, env={"HOOK_SECRET": SECRET})
        assert sorted(deliverer.sinks) == ["hook", "log"]
        stop = asyncio.Event()
        worker = asyncio.create_task(deliverer.run(stop, interval=0.01))
        await asyncio.wait_for(server.received.wait(), 5)
        server.received.clear()
        second = await add_alert(store, 2)  # the loop picks up what the engine adds later
        await asyncio.wait_for(server.received.wait(), 5)
        stop.set()
        await asyncio.wait_for(worker, 5)
    assert alert_ids(server.requests) == [first, second]
