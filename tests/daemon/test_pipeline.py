"""poll_channel against a real SQLite store and TelethonSource over the FakeTelegramClient."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.clock import FrozenClock
from monitor.models import ChannelRef, PostKey
from monitor.pipeline import PollOptions, poll_channel
from monitor.sources.links import parse_channel_ref
from monitor.sources.telegram import TelethonSource
from monitor.sources.telegram_fake import FakeTelegramClient
from monitor.store import Store, open_store as store_at

from daemon.conftest import iso, make_scenario

START = datetime(2024, 1, 1, tzinfo=UTC)


def source_for(scenario: dict[str, Any], clock: FrozenClock) -> tuple[TelethonSource, FakeTelegramClient]:
    client = FakeTelegramClient.from_scenario(scenario, clock)
    return TelethonSource(client, clock=clock), client


async def open_store(path: Path) -> Store:
    store = store_at(path)
    await store.open()
    return store


def ref(name: str) -> ChannelRef:
    return parse_channel_ref("@" + name)


async def state_of(store: Store, key: str) -> Any:
    return next(s for s in await store.watch_states() if s.key == key)


async def test_first_poll_backfills_depth_then_polls_after_checkpoint(tmp_path: Path, tagger: Any) -> None:
    scenario = make_scenario(channels=1, posts=300, start=START)
    clock = FrozenClock(START + timedelta(minutes=7 * 249))  # 250 posts visible
    source, client = source_for(scenario, clock)
    store = await open_store(tmp_path / "m.db")
    r = ref("chan_0000")
    await store.sync_watchlist([r], at=clock.now())
    opts = PollOptions(batch_size=40, backfill_posts=120, backfill_days=None, resample_days=0)
    await source.start()
    first = await poll_channel(r, source=source, store=store, tagger=tagger, clock=clock, options=opts)
    assert first.outcome == "ok"
    assert first.inserted == 120 and first.batches == 3
    keys = await store.all_post_keys()
    assert [k.message_id for k in keys] == list(range(131, 251))  # the newest 120, nothing older
    assert (await state_of(store, r.key)).checkpoint == 250

    clock.advance(timedelta(minutes=7 * 30))  # 30 more posts appear
    second = await poll_channel(
        r,
        source=source,
        store=store,
        tagger=tagger,
        clock=clock,
        options=opts,
        state=await state_of(store, r.key),
    )
    assert second.inserted == 30 and second.fetched == 30
    assert (await state_of(store, r.key)).checkpoint == 280
    assert len(await store.all_post_keys()) == 150
    stored = await store.get_post(PostKey(5001, 131))  # i = 130 names ISIS
    assert stored is not None and stored.groups == ("IS",) and stored.lang == "en"
    assert client.calls["get_entity"] == 1
    await store.close()


async def test_restart_never_resolves_a_username_again(tmp_path: Path, tagger: Any) -> None:
    scenario = make_scenario(channels=1, posts=20, start=START)
    clock = FrozenClock(START + timedelta(days=1))
    r = ref("chan_0000")
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=0)
    for run in range(3):
        source, client = source_for(scenario, clock)  # a new process: new client, same database
        store = await open_store(tmp_path / "m.db")
        await store.sync_watchlist([r], at=clock.now())
        await source.start()
        out = await poll_channel(r, source=source, store=store, tagger=tagger, clock=clock, options=opts)
        assert out.outcome == "ok"
        assert client.calls["get_entity"] == (1 if run == 0 else 0)
        assert out.inserted == (20 if run == 0 else 0)
        await store.close()


async def test_edits_update_the_post_and_views_become_a_series(tmp_path: Path, tagger: Any) -> None:
    scenario = make_scenario(channels=1, posts=3, start=START)
    msg = scenario["channels"][0]["messages"][1]
    msg["edits"] = [{"at": iso(START + timedelta(hours=5)), "text": "Edited: ISIS named in the update"}]
    clock = FrozenClock(START + timedelta(hours=1))
    source, _ = source_for(scenario, clock)
    store = await open_store(tmp_path / "m.db")
    r = ref("chan_0000")
    await store.sync_watchlist([r], at=clock.now())
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=7)
    await source.start()
    await poll_channel(r, source=source, store=store, tagger=tagger, clock=clock, options=opts)
    before = await store.get_post(PostKey(5001, 2))
    assert before is not None and before.groups == ()
    clock.advance(timedelta(hours=24))
    out = await poll_channel(
        r,
        source=source,
        store=store,
        tagger=tagger,
        clock=clock,
        options=opts,
        state=await state_of(store, r.key),
    )
    assert out.outcome == "ok" and out.resampled == 3 and out.inserted == 0
    after = await store.get_post(PostKey(5001, 2))
    assert after is not None and after.groups == ("IS",)
    rows = await store.query(
        "SELECT prev_content_hash, content_hash, edit_count FROM posts WHERE message_id = 2"
    )
    assert rows[0]["edit_count"] == 1 and rows[0]["prev_content_hash"] not in (None, rows[0]["content_hash"])
    samples = await store.query(
        "SELECT count(*) AS n, count(DISTINCT views) AS v FROM metric_samples WHERE message_id = 1"
    )
    assert samples[0]["n"] == 2 and samples[0]["v"] == 2
    await store.close()


async def test_flood_wait_parks_and_the_park_survives_restart(tmp_path: Path, tagger: Any) -> None:
    faults = [
        {"method": "iter_messages", "channel": "chan_0000", "nth": 2, "error": "flood_wait", "seconds": 900}
    ]
    scenario = make_scenario(channels=1, posts=250, start=START, faults=faults)
    clock = FrozenClock(START + timedelta(days=30))
    source, _ = source_for(scenario, clock)
    store = await open_store(tmp_path / "m.db")
    r = ref("chan_0000")
    await store.sync_watchlist([r], at=clock.now())
    opts = PollOptions(batch_size=100, backfill_posts=None, backfill_days=None, resample_days=0)
    await source.start()
    out = await poll_channel(r, source=source, store=store, tagger=tagger, clock=clock, options=opts)
    assert out.outcome == "parked" and out.park_scope == "account"
    assert out.retry_at == clock.now() + timedelta(seconds=900)
    assert out.inserted == 100  # the page before the flood wait is committed with its checkpoint
    await store.close()

    store = await open_store(tmp_path / "m.db")  # a restart
    parks = await store.parks(now=clock.now())
    assert parks == {"account": clock.now() + timedelta(seconds=900)}
    state = await state_of(store, r.key)
    assert state.status == "parked" and state.checkpoint == 100
    clock.advance(timedelta(seconds=901))
    assert await store.parks(now=clock.now()) == {}
    out = await poll_channel(
        r, source=source, store=store, tagger=tagger, clock=clock, options=opts, state=state
    )
    assert out.outcome == "ok", out
    assert out.inserted == 150
    assert len(await store.all_post_keys()) == 250
    await store.close()


async def test_unavailable_channel_gets_a_status_and_others_go_on(tmp_path: Path, tagger: Any) -> None:
    scenario = make_scenario(channels=3, posts=10, start=START, statuses={1: "private"})
    clock = FrozenClock(START + timedelta(days=1))
    source, _ = source_for(scenario, clock)
    store = await open_store(tmp_path / "m.db")
    refs = [ref(f"chan_{i:04d}") for i in range(3)] + [ref("nobody_here")]
    await store.sync_watchlist(refs, at=clock.now())
    opts = PollOptions(
        batch_size=10, backfill_posts=None, backfill_days=None, resample_days=0, unavailable_retry=3600
    )
    await source.start()
    outcomes = {
        r.key: await poll_channel(r, source=source, store=store, tagger=tagger, clock=clock, options=opts)
        for r in refs
    }
    assert outcomes["chan_0000"].inserted == 10 and outcomes["chan_0002"].inserted == 10
    assert outcomes["chan_0001"].outcome == "unavailable"
    assert outcomes["nobody_here"].outcome == "unavailable"
    states = {s.key: s for s in await store.watch_states()}
    assert states["chan_0001"].status == "private"
    assert states["nobody_here"].status == "not_found"
    assert states["chan_0001"].retry_at == clock.now() + timedelta(seconds=3600)
    assert states["chan_0000"].status == "active"
    await store.close()


async def test_lost_connection_is_reported_and_nothing_is_lost(tmp_path: Path, tagger: Any) -> None:
    faults = [{"method": "iter_messages", "nth": 2, "error": "disconnect"}]
    scenario = make_scenario(channels=1, posts=230, start=START, faults=faults)
    clock = FrozenClock(START + timedelta(days=30))
    source, client = source_for(scenario, clock)
    store = await open_store(tmp_path / "m.db")
    r = ref("chan_0000")
    await store.sync_watchlist([r], at=clock.now())
    opts = PollOptions(batch_size=100, backfill_posts=None, backfill_days=None, resample_days=0)
    await source.start()
    out = await poll_channel(r, source=source, store=store, tagger=tagger, clock=clock, options=opts)
    assert out.outcome == "disconnected" and out.inserted == 100
    await source.close()
    await source.start()  # what the daemon's reconnect loop does
    out = await poll_channel(
        r,
        source=source,
        store=store,
        tagger=tagger,
        clock=clock,
        options=opts,
        state=await state_of(store, r.key),
    )
    assert out.outcome == "ok" and out.inserted == 130
    keys = await store.all_post_keys()
    assert [k.message_id for k in keys] == list(range(1, 231))
    assert client.calls["connect"] >= 2
    await store.close()


async def test_on_saved_hook_sees_each_committed_batch(tmp_path: Path, tagger: Any) -> None:
    scenario = make_scenario(channels=1, posts=25, start=START)
    clock = FrozenClock(START + timedelta(days=1))
    source, _ = source_for(scenario, clock)
    store = await open_store(tmp_path / "m.db")
    r = ref("chan_0000")
    await store.sync_watchlist([r], at=clock.now())
    seen: list[tuple[int, int, int]] = []

    async def hook(channel: Any, tagged: Any, result: Any) -> None:
        # the batch is already committed when the hook runs
        stored = await store.get_post(tagged[-1].post.key)
        assert stored is not None
        seen.append((channel.id, len(tagged), result.inserted))

    await source.start()
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=0)
    await poll_channel(r, source=source, store=store, tagger=tagger, clock=clock, options=opts, on_saved=hook)
    assert seen == [(5001, 10, 10), (5001, 10, 10), (5001, 5, 5)]
    await store.close()


@pytest.mark.parametrize("stop_after", [1, 2])
async def test_should_stop_ends_the_poll_after_a_committed_batch(
    tmp_path: Path, tagger: Any, stop_after: int
) -> None:
    scenario = make_scenario(channels=1, posts=50, start=START)
    clock = FrozenClock(START + timedelta(days=1))
    source, _ = source_for(scenario, clock)
    store = await open_store(tmp_path / "m.db")
    r = ref("chan_0000")
    await store.sync_watchlist([r], at=clock.now())
    batches: list[int] = []

    async def hook(channel: Any, tagged: Any, result: Any) -> None:
        batches.append(len(tagged))

    await source.start()
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=0)
    out = await poll_channel(
        r,
        source=source,
        store=store,
        tagger=tagger,
        clock=clock,
        options=opts,
        on_saved=hook,
        should_stop=lambda: len(batches) >= stop_after,
    )
    assert out.outcome == "stopped"
    assert len(await store.all_post_keys()) == 10 * stop_after
    assert (await state_of(store, r.key)).checkpoint == 10 * stop_after
    await store.close()


async def test_a_budget_that_stops_ends_the_poll_with_committed_pages_kept(
    tmp_path: Path, tagger: Any
) -> None:
    from monitor.pipeline import PollStopped

    scenario = make_scenario(channels=1, posts=250, start=START)
    clock = FrozenClock(START + timedelta(days=30))
    calls = {"n": 0}

    async def budget() -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # resolve, page 1, then shutdown arrives before page 2
            raise PollStopped

    client = FakeTelegramClient.from_scenario(scenario, clock)
    source = TelethonSource(client, clock=clock, request_budget=budget)
    store = await open_store(tmp_path / "m.db")
    r = ref("chan_0000")
    await store.sync_watchlist([r], at=clock.now())
    await source.start()
    opts = PollOptions(batch_size=100, backfill_posts=None, backfill_days=None, resample_days=0)
    out = await poll_channel(r, source=source, store=store, tagger=tagger, clock=clock, options=opts)
    assert out.outcome == "stopped" and out.inserted == 100
    assert (await state_of(store, r.key)).checkpoint == 100
    await store.close()


async def test_a_refused_access_hash_is_resolved_again_or_reported_renamed(tmp_path: Path, tagger: Any) -> None:
    from monitor.models import Channel

    scenario = make_scenario(channels=2, posts=5, start=START)
    clock = FrozenClock(START + timedelta(days=1))
    source, fake = source_for(scenario, clock)
    store = await open_store(tmp_path / "m.db")
    stale, moved = ref("chan_0000"), ref("chan_0001")
    await store.sync_watchlist([stale, moved], at=clock.now())
    # a hash from another session for chan_0000; for chan_0001, an id its username no longer names
    await store.set_resolved(stale.key, Channel(id=5001, username="chan_0000", title="c0", access_hash=42), at=clock.now())
    await store.set_resolved(moved.key, Channel(id=7777, username="chan_0001", title="old", access_hash=43), at=clock.now())
    await source.start()
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=0)

    first = await poll_channel(stale, source=source, store=store, tagger=tagger, clock=clock, options=opts)
    assert first.outcome == "error" and "resolved again" in (first.error or "")
    assert (await state_of(store, "chan_0000")).channel.access_hash != 42
    second = await poll_channel(stale, source=source, store=store, tagger=tagger, clock=clock, options=opts)
    assert (second.outcome, second.inserted) == ("ok", 5)

    gone = await poll_channel(moved, source=source, store=store, tagger=tagger, clock=clock, options=opts)
    assert gone.outcome == "unavailable"
    assert (await state_of(store, "chan_0001")).status == "renamed"
    await store.close()
