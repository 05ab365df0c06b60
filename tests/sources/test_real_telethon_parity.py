"""The fake agrees with real Telethon over a Telegram-like server, and TelethonSource works on both.

Each query runs twice: through FakeTelegramClient, and through a real
TelegramClient whose requests are answered by the loopback MTProto emulator
(tests/sources/loopback.py). Same scenario, same clock, same answers expected.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telethon import errors, functions, types

from monitor.clock import FrozenClock
from monitor.errors import ChannelUnavailable, FloodWait, SourceConnectionError, SourceUnauthorized
from monitor.models import ChannelRef
from monitor.sources.scenario import load_scenario
from monitor.sources.telegram import TelethonSource
from monitor.sources.telegram_fake import FakeTelegramClient

from sources.builders import T0, channel, iso, messages, scenario
from sources.loopback import LoopbackServer, LoopbackTelegramClient

REF = ChannelRef(key="ozod_sado", username="ozod_sado")


def _scenario(clock: FrozenClock) -> dict[str, Any]:
    msgs = [m for m in messages(260, step=timedelta(hours=1)) if m["id"] % 9 != 0]
    for m in msgs[10:14]:
        m["service"] = True
    msgs[20]["deleted_at"] = iso(T0 + timedelta(days=5))
    msgs[30].update(
        fwd_from={"channel_id": 1002, "message_id": 7},
        reactions={"❤": 3},
        media="photo",
        edits=[{"at": iso(T0 + timedelta(days=2)), "hide": True}],
    )
    msgs[40].update(fwd_from={"name": "Hidden User"}, media="voice", grouped_id=5, post_author="A")
    return scenario(channel(msgs=msgs), channel(1002, "manba"))


async def _both(
    clock: FrozenClock,
) -> tuple[TelethonSource, TelethonSource, FakeTelegramClient, LoopbackServer]:
    sc = load_scenario(_scenario(clock))
    fake = FakeTelegramClient.from_scenario(sc, clock)
    server = LoopbackServer(sc, clock)
    a, b = TelethonSource(fake, clock=clock), TelethonSource(LoopbackTelegramClient(server), clock=clock)
    await a.start()
    await b.start()
    return a, b, fake, server


@pytest.mark.parametrize(
    "query",
    [
        {"after_id": 0},
        {"after_id": 37},
        {"after_id": 37, "limit": 150},
        {"after_id": 0, "limit": 120},
        {"after_id": 0, "since": T0 + timedelta(hours=100)},
        {"after_id": 0, "limit": 30, "since": T0 + timedelta(hours=100)},
        {"after_id": 255},
        {"after_id": 400},
    ],
)
async def test_fetch_agrees_with_real_telethon(clock: FrozenClock, query: dict[str, Any]) -> None:
    a, b, fake, server = await _both(clock)
    chan_a, chan_b = await a.resolve(REF), await b.resolve(REF)
    assert chan_a == chan_b
    got_a = [p async for p in a.fetch(chan_a, **query)]
    got_b = [p async for p in b.fetch(chan_b, **query)]
    assert got_a == got_b
    ids = [p.message_id for p in got_a]
    assert ids == sorted(set(ids))
    await a.close()
    await b.close()


async def test_refresh_agrees_with_real_telethon(clock: FrozenClock) -> None:
    a, b, fake, server = await _both(clock)
    chan = await a.resolve(REF)
    ids = list(range(1, 270, 2)) + [21, 999]
    assert await a.refresh(chan, ids) == await b.refresh(chan, ids)
    assert server.seen["GetMessagesRequest"] == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reverse": True},
        {"min_id": 30},
        {"max_id": 30},
        {"offset_id": 40},
        {"offset_id": 80, "max_id": 50},
        {"min_id": 30, "max_id": 70},
        {"limit": 5},
        {"min_id": 30, "reverse": True},
        {"offset_id": 60, "reverse": True},
        {"min_id": 30, "max_id": 70, "reverse": True, "limit": 12},
        {"offset_date": T0 + timedelta(hours=50)},
        {"offset_date": T0 + timedelta(hours=50), "reverse": True},
        {"limit": 150, "reverse": True},
        {"min_id": 100, "limit": 250},
    ],
)
async def test_fake_history_semantics_match_telethon(clock: FrozenClock, kwargs: dict[str, Any]) -> None:
    sc = load_scenario(_scenario(clock))
    fake = FakeTelegramClient.from_scenario(sc, clock)
    real = LoopbackTelegramClient(LoopbackServer(sc, clock))
    await fake.connect()
    await real.connect()
    peer = types.InputPeerChannel(1001, 10011)
    want = [m.id async for m in real.iter_messages(peer, wait_time=0, **kwargs)]
    assert [m.id async for m in fake.iter_messages(peer, **kwargs)] == want
    assert want  # every case returns something, so the comparison means something


async def test_real_telethon_errors_translate(clock: FrozenClock) -> None:
    data = _scenario(clock)
    data["channels"].append(channel(1003, "yopiq", status="private"))
    server = LoopbackServer(load_scenario(data), clock)
    src = TelethonSource(LoopbackTelegramClient(server), clock=clock)
    await src.start()
    with pytest.raises(ChannelUnavailable) as info:
        await src.resolve(ChannelRef(key="nobody_here", username="nobody_here"))
    assert info.value.reason == "not_found"
    with pytest.raises(ChannelUnavailable) as info:
        await src.resolve(ChannelRef(key="yopiq", username="yopiq"))
    assert info.value.reason == "private"

    chan = await src.resolve(REF)
    server.fail_next[functions.messages.GetHistoryRequest] = errors.FloodWaitError(request=None, capture=40)
    with pytest.raises(FloodWait) as flood:
        [p async for p in src.fetch(chan, after_id=0)]
    assert flood.value.seconds == 40
    # During the wait nothing reaches Telegram: not this channel's history, not a resolve, not a refresh.
    before = sum(server.seen.values())
    clock.advance(timedelta(seconds=15))
    for call in (
        lambda: src.fetch(chan, after_id=0).__anext__(),
        lambda: src.refresh(chan, [1]),
        lambda: src.resolve(ChannelRef(key="manba", username="manba")),
    ):
        with pytest.raises(FloodWait) as again:
            await call()
        assert (again.value.seconds, again.value.scope) == (25, "account")
    assert sum(server.seen.values()) == before
    clock.advance(timedelta(seconds=25))
    assert len([p async for p in src.fetch(chan, after_id=0)]) > 200
    await src.close()


async def test_a_session_that_is_not_logged_in_is_refused_as_unauthorized(clock: FrozenClock) -> None:
    server = LoopbackServer(load_scenario(_scenario(clock)), clock)
    server.fail_next[functions.updates.GetStateRequest] = errors.AuthKeyUnregisteredError(request=None)
    src = TelethonSource(LoopbackTelegramClient(server), clock=clock)
    with pytest.raises(SourceUnauthorized, match="NOT_LOGGED_IN"):
        await src.start()


@pytest.mark.parametrize("query", [{"after_id": 0}, {"after_id": 37}, {"after_id": 0, "limit": 30}])
async def test_the_budget_pays_each_request_real_telethon_sends_and_the_fake_sends_as_many(
    clock: FrozenClock, query: dict[str, Any]
) -> None:
    """One iter_messages call can be several requests (reverse-mode tails, short pages): each one is paid."""
    sc = load_scenario(_scenario(clock))
    server = LoopbackServer(sc, clock)
    fake = FakeTelegramClient.from_scenario(sc, clock)
    paid = {"real": 0, "fake": 0}

    def budget(name: str) -> Any:
        async def pay() -> None:
            paid[name] += 1

        return pay

    real_src = TelethonSource(LoopbackTelegramClient(server), clock=clock, request_budget=budget("real"))
    fake_src = TelethonSource(fake, clock=clock, request_budget=budget("fake"))
    for src in (real_src, fake_src):
        await src.start()
        chan = await src.resolve(REF)
        [p async for p in src.fetch(chan, **query)]
    sent = sum(n for name, n in server.seen.items() if name != "GetStateRequest")  # start() is not a poll's
    assert paid["real"] == sent  # every request Telegram saw was paid for, not one per call
    assert paid["fake"] == len([r for r in fake.requests if r.error is None]) == sent


async def test_a_request_telegram_never_answers_fails_after_the_request_timeout(clock: FrozenClock) -> None:
    """Telethon waits for an answer forever (on a live socket that answers garbage, it reconnects forever)."""
    client, src, chan = await _resolved(clock)
    client.request_timeout = 0.5
    silent = asyncio.get_running_loop().create_future()  # a reply that never comes
    client._sender.send = lambda request, ordered=False: silent  # type: ignore[attr-defined]
    with pytest.raises(SourceConnectionError, match="no answer from Telegram within 0.5s"):
        await asyncio.wait_for(_drain(src.fetch(chan, after_id=0)), 10)



async def _resolved(clock: FrozenClock) -> tuple[LoopbackTelegramClient, TelethonSource, Any]:
    """A started source over a real Telethon client on the loopback server, with REF resolved."""
    server = LoopbackServer(load_scenario(_scenario(clock)), clock)
    client = LoopbackTelegramClient(server)
    src = TelethonSource(client, clock=clock)
    await src.start()
    return client, src, await src.resolve(REF)

async def _drain(posts: Any) -> list[Any]:
    return [p async for p in posts]


async def test_a_request_waiting_when_the_endpoint_turns_to_garbage_fails_at_once(clock: FrozenClock) -> None:
    """Telethon handles garbage inside its own tasks (log, reconnect) while the request waits; the watch ends it."""
    import logging

    client, src, chan = await _resolved(clock)
    silent = asyncio.get_running_loop().create_future()  # the answer garbage took the place of
    client._sender.send = lambda request, ordered=False: silent  # type: ignore[attr-defined]
    sender_log = logging.getLogger("telethon.network.mtprotosender")
    asyncio.get_running_loop().call_later(0.05, sender_log.warning, "Server sent invalid buffer")
    with pytest.raises(SourceConnectionError) as info:
        await asyncio.wait_for(_drain(src.fetch(chan, after_id=0)), 10)
    assert str(info.value) == (
        "connection to Telegram lost: ConnectionError: the endpoint stopped speaking MTProto (Server sent invalid buffer)")
    await src.close()
