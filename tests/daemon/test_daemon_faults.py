"""The daemon in-process, live, against the strict fake: what it does when Telegram misbehaves.

Each test runs the real Daemon (scheduler, reconnect loop, heartbeat, retention job) with
the real clock and a scenario whose faults are real Telethon errors, and reads the
outcome from the real SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from monitor import compose, daemon, health
from monitor.clock import FrozenClock
from monitor.errors import ConfigError
from monitor.models import Channel, ChannelRef, Post
from monitor.settings import Settings, load
from monitor.store.sqlite import SQLiteStore

from daemon.conftest import make_scenario, small_tagger, write_config

START = datetime(2024, 1, 1, tzinfo=UTC)
FAST = {"reconnect_max_backoff": 0.5, "interval": 0.5}


def setup(tmp_path: Path, faults: list[dict[str, Any]], channels: int = 2, posts: int = 5, **sections: Any) -> Settings:
    scenario = make_scenario(channels=channels, posts=posts, start=START, faults=faults)
    (tmp_path / "s.json").write_text(json.dumps(scenario), "utf-8")
    sections["polling"] = {**FAST, **sections.get("polling", {})}
    config = write_config(tmp_path, tmp_path / "s.json", [f"@chan_{i:04d}" for i in range(channels)], **sections)
    return load(config, env={})


def rows(db: Path, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []


def statuses(db: Path) -> dict[str, str]:
    return dict(rows(db, "SELECT key, status FROM watch"))


def posts(db: Path) -> int:
    got = rows(db, "SELECT count(*) FROM posts")
    return int(got[0][0]) if got else 0


async def run_until(d: daemon.Daemon, until: Callable[[daemon.Daemon], bool]) -> None:
    await asyncio.wait_for(d.run(until), timeout=40)  # a regression fails here instead of hanging


async def states(db: Path) -> dict[str, Any]:
    store = SQLiteStore(db)
    await store.open()
    try:
        return {s.key: s for s in await store.watch_states()}
    finally:
        await store.close()


# -- an unauthorized session ---------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["auth_key_unregistered", "session_revoked", "auth_key_duplicated", "user_deactivated_ban"])
async def test_a_session_refused_mid_run_is_recorded_and_the_daemon_lives_on(tmp_path: Path, error: str) -> None:
    # poll 1 of chan_0001 is the backfill (one request), poll 2 finds nothing new; its third request is refused
    settings = setup(tmp_path, [{"method": "iter_messages", "channel": "chan_0001", "nth": 3, "error": error}])
    db = tmp_path / "monitor.db"
    parts = await compose.build_parts(settings, tagger=small_tagger())
    d = daemon.Daemon(settings, parts)
    fake = d.source.client  # type: ignore[attr-defined]
    seen: dict[str, Any] = {}

    def until(d: daemon.Daemon) -> bool:
        if set(statuses(db).values()) == {"unauthorized"} and "refused_at" not in seen:
            seen["refused_at"] = datetime.now(UTC)
            seen["connects"] = fake.calls["connect"]
        if "refused_at" in seen:
            beat = rows(db, "SELECT beat_at FROM heartbeat")[0][0]
            alive = d._reconnecting is not None and not d._reconnecting.done()
            seen["alive"] = seen.get("alive", True) and alive
            # keep going until the heartbeat has beaten since, and the loop has tried again
            return beat > seen["refused_at"].timestamp() + 1 and fake.calls["connect"] >= seen["connects"] + 2
        return False

    with capture_logs() as logs:
        await run_until(d, until)
    assert seen["alive"], "the reconnect loop must stay alive while the session is refused"
    assert posts(db) == 10  # what was collected before stays
    got = await states(db)
    for state in got.values():
        assert state.status == health.UNAUTHORIZED
        assert "since 20" in (state.status_reason or "") and error.upper() in (state.status_reason or "")
    verdict = health.assess((4242, START, datetime.now(UTC)), list(got.values()), now=datetime.now(UTC), stale_after=60)
    assert not verdict.healthy and verdict.state == "unauthorized"
    assert "monitor login" in verdict.summary
    errors = [e for e in logs if e["log_level"] == "error" and "refuse" in e["event"]]
    assert errors, [e["event"] for e in logs]
    assert not [e for e in logs if e["event"] == "reconnect attempt failed unexpectedly"]


async def test_a_session_logged_out_at_start_stops_the_daemon_with_a_clear_error(tmp_path: Path) -> None:
    settings = setup(tmp_path, [{"method": "is_user_authorized", "error": "auth_key_unregistered"}])
    with pytest.raises(ConfigError, match="monitor login"):
        await asyncio.wait_for(compose.run(settings, tagger=small_tagger()), timeout=30)
    got = await states(tmp_path / "monitor.db")
    assert {s.status for s in got.values()} == {health.UNAUTHORIZED}
    assert posts(tmp_path / "monitor.db") == 0


# -- the reconnect loop and live handling of polls ---------------------------------------------------------


async def test_connection_faults_reconnect_with_backoff_and_lose_nothing(tmp_path: Path) -> None:
    faults = [
        {"method": "iter_messages", "channel": "chan_0000", "nth": 2, "error": "garbage"},
        {"method": "connect", "nth": 2, "error": "disconnect"},  # the first reconnect fails...
        {"method": "connect", "nth": 3, "error": "garbage"},  # ...and so does the second
        {"method": "iter_messages", "channel": "chan_0001", "nth": 4, "error": "server_error"},
    ]
    settings = setup(tmp_path, faults, posts=5)
    db = tmp_path / "monitor.db"
    parts = await compose.build_parts(settings, tagger=small_tagger())
    d = daemon.Daemon(settings, parts)
    fake = d.source.client  # type: ignore[attr-defined]
    polls_after: dict[str, int] = {}

    def until(d: daemon.Daemon) -> bool:
        if fake.calls["connect"] >= 4 and d._connected and not polls_after:
            polls_after["n"] = d.polls
        return bool(polls_after) and d.polls >= polls_after["n"] + 4

    with capture_logs() as logs:
        await run_until(d, until)
    events = [e["event"] for e in logs]
    assert events.count("reconnect failed") >= 2
    assert "reconnected" in events
    assert posts(db) == 10
    assert fake.calls["connect"] >= 4
    for state in (await states(db)).values():
        assert state.status == "active"
        # the earlier error is kept for the record, but a later successful poll resolved it
        assert health.current_error(state) == (None, None)
    assert (await states(db))["chan_0000"].last_error is not None


async def test_parked_and_unavailable_channels_are_skipped_live_then_recover(tmp_path: Path) -> None:
    faults = [
        {"method": "iter_messages", "channel": "chan_0000", "nth": 2, "error": "slow_mode", "seconds": 2},
        {"method": "iter_messages", "channel": "chan_0001", "nth": 2, "error": "private"},
    ]
    settings = setup(tmp_path, faults, polling={"unavailable_retry": 2})
    db = tmp_path / "monitor.db"
    parts = await compose.build_parts(settings, tagger=small_tagger())
    d = daemon.Daemon(settings, parts)
    fake = d.source.client  # type: ignore[attr-defined]
    history: dict[str, list[str]] = {"chan_0000": [], "chan_0001": []}
    requests_while_held: list[int] = []

    def until(d: daemon.Daemon) -> bool:
        for key, status in statuses(db).items():
            if not history[key] or history[key][-1] != status:
                history[key].append(status)
        if history["chan_0000"][-1:] == ["parked"] or history["chan_0001"][-1:] == ["private"]:
            requests_while_held.append(len(fake.requests))
        return all(h[-1:] == ["active"] and len(h) >= 3 for h in history.values())

    await run_until(d, until)
    assert history["chan_0000"][:3] == ["new", "active", "parked"][: len(history["chan_0000"][:3])]
    assert "parked" in history["chan_0000"] and history["chan_0000"][-1] == "active"
    assert "private" in history["chan_0001"] and history["chan_0001"][-1] == "active"
    assert "channel:chan_0000" in d.parks  # the park was held in memory for cheap skips
    assert posts(db) == 10
    # while held, polls of those channels were skipped: the poll interval is 0.5 s, the holds 2 s,
    # so only a handful of requests (the other channel's) could go out meanwhile
    assert requests_while_held and requests_while_held[-1] - requests_while_held[0] <= 8


class Exploding:
    """A Source whose fetch of one channel hits a bug (not a Telegram error): what a poll must survive."""

    def __init__(self, inner: Any, channel_id: int) -> None:
        self.inner = inner
        self.channel_id = channel_id
        self.calls = 0

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def resolve(self, ref: ChannelRef, known: Channel | None = None) -> Channel:
        return await self.inner.resolve(ref, known)

    def fetch(self, channel: Channel, **kwargs: Any) -> AsyncIterator[Post]:
        if channel.id == self.channel_id:
            self.calls += 1
            raise KeyError("a field Telegram stopped sending")
        return self.inner.fetch(channel, **kwargs)

    async def refresh(self, channel: Channel, message_ids: Sequence[int]) -> list[Post]:
        return await self.inner.refresh(channel, message_ids)


async def test_an_unexpected_error_gives_the_channel_a_status_and_the_slow_retry(tmp_path: Path) -> None:
    settings = setup(tmp_path, [], polling={"unavailable_retry": 3600})
    db = tmp_path / "monitor.db"
    parts = await compose.build_parts(settings, tagger=small_tagger())
    parts.source = Exploding(parts.source, channel_id=5002)
    d = daemon.Daemon(settings, parts)
    started = datetime.now(UTC)
    with capture_logs() as logs:
        await run_until(d, lambda d: d.polls >= 6)  # chan_0000 polled six times meanwhile
    assert parts.source.calls == 1  # not again at every interval: the slow retry holds it
    state = (await states(db))["chan_0001"]
    assert state.status == "error"
    assert "KeyError" in (state.status_reason or "") and "internal error" in (state.status_reason or "")
    assert state.retry_at is not None and state.retry_at >= started + timedelta(seconds=3500)
    assert len([e for e in logs if e["event"] == "poll failed"]) == 1
    assert posts(db) == 5  # the other channel was collected
    # the retry time survives a restart: a new daemon does not poll the channel before it
    d2 = daemon.Daemon(settings, await compose.build_parts(settings, tagger=small_tagger()))
    d2.parts.source = d2.source = Exploding(d2.source, channel_id=5002)
    await run_until(d2, lambda d: d.polls >= 2)
    assert d2.source.calls == 0  # type: ignore[attr-defined]


# -- the text retention job and the stop mark -------------------------------------------------------------


@pytest.mark.parametrize("store_text", [True, False])
async def test_the_retention_job_is_scheduled_exactly_when_text_is_stored(tmp_path: Path, store_text: bool) -> None:
    settings = setup(tmp_path, [], monitor={"store_text": store_text, "text_retention_days": 30})
    d = daemon.Daemon(settings, await compose.build_parts(settings, tagger=small_tagger()))
    jobs: dict[str, Any] = {}

    def until(d: daemon.Daemon) -> bool:
        assert d._scheduler is not None
        jobs.update({j.id: j for j in d._scheduler.get_jobs()})
        return d.polls >= 2

    await run_until(d, until)
    assert ("retention" in jobs) is store_text


async def test_the_retention_job_clears_exactly_the_posts_past_the_window(tmp_path: Path) -> None:
    now = datetime(2024, 6, 1, 12, tzinfo=UTC)
    settings = setup(tmp_path, [], channels=1, posts=1, monitor={"store_text": True, "text_retention_days": 30})
    db = tmp_path / "monitor.db"
    cutoff = now - timedelta(days=30)
    ages = {1: cutoff - timedelta(days=400), 2: cutoff - timedelta(seconds=1), 3: cutoff, 4: cutoff + timedelta(seconds=1), 5: now}
    store = SQLiteStore(db)
    await store.open()
    try:
        tagger = small_tagger()
        await store.set_resolved("chan_0000", Channel(id=9001, username="old", title="t", access_hash=1), at=now)
        tagged = [tagger.tag_post(Post(channel_id=9001, message_id=i, posted_at=at, text=f"text {i}")) for i, at in ages.items()]
        await store.save_posts(9001, tagged, at=now, checkpoint=5, store_text=True)
    finally:
        await store.close()
    d = daemon.Daemon(settings, await compose.build_parts(settings, tagger=small_tagger(), clock=FrozenClock(now)))
    ran: list[int] = []

    def until(d: daemon.Daemon) -> bool:
        assert d._scheduler is not None
        job = d._scheduler.get_job("retention")
        if job is not None and not ran:
            ran.append(1)
            asyncio.ensure_future(job.func())  # what the scheduler runs, now rather than in 5 s
            return False
        return bool(ran) and len(rows(db, "SELECT 1 FROM posts WHERE channel_id = 9001 AND text IS NULL")) > 0

    await run_until(d, until)
    kept = dict(rows(db, "SELECT message_id, text IS NOT NULL FROM posts WHERE channel_id = 9001"))
    assert kept == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}  # older than 30 days: text gone; the rest untouched
    assert rows(db, "SELECT count(*) FROM posts WHERE channel_id = 9001")[0][0] == 5  # metadata stays


async def test_a_clean_stop_marks_the_daemon_stopped(tmp_path: Path) -> None:
    settings = setup(tmp_path, [])
    d = daemon.Daemon(settings, await compose.build_parts(settings, tagger=small_tagger()))
    await run_until(d, lambda d: d.polls >= 2)
    store = SQLiteStore(tmp_path / "monitor.db")
    await store.open()
    try:
        beat = await store.last_heartbeat()
        channels = await store.watch_states()
    finally:
        await store.close()
    assert beat is not None and beat[0] == health.STOPPED_PID
    verdict = health.assess(beat, channels, now=datetime.now(UTC), stale_after=3600)
    assert (verdict.healthy, verdict.state) == (False, "stopped")
    assert verdict.summary.startswith("daemon stopped at 20")


async def test_stop_during_a_hanging_connect_ends_the_daemon_at_once(tmp_path: Path) -> None:
    settings = setup(tmp_path, [])
    parts = await compose.build_parts(settings, tagger=small_tagger())
    entered = asyncio.Event()

    async def hang() -> None:  # an endpoint that accepts and never answers (the real source bounds it too)
        entered.set()
        await asyncio.Event().wait()

    parts.source.start = hang  # type: ignore[method-assign]
    d = daemon.Daemon(settings, parts)
    task = asyncio.ensure_future(d.run())
    await asyncio.wait_for(entered.wait(), 10)
    loop = asyncio.get_running_loop()
    stopped_at = loop.time()
    d.request_stop()  # what SIGTERM does
    await asyncio.wait_for(task, 10)
    assert loop.time() - stopped_at < 3
