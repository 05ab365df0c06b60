"""The fake client itself: Telegram's history semantics, real errors on cue, call accounting."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from telethon import errors
from telethon.tl import patched, types

from monitor.clock import FrozenClock
from monitor.sources.telegram_fake import FakeTelegramClient

from sources.builders import T0, channel, iso, messages, scenario

PEER = types.InputPeerChannel(1001, 10011)


async def _fake(clock: FrozenClock, n: int = 250, **kw: object) -> FakeTelegramClient:
    fake = FakeTelegramClient.from_scenario(scenario(channel(msgs=messages(n)), **kw), clock)
    await fake.connect()
    return fake


async def _ids(it) -> list[int]:  # type: ignore[no-untyped-def]
    return [m.id async for m in it]


async def test_history_defaults_to_newest_first_and_reverse_to_oldest_first(clock: FrozenClock) -> None:
    fake = await _fake(clock, 5)
    assert await _ids(fake.iter_messages(PEER)) == [5, 4, 3, 2, 1]
    assert await _ids(fake.iter_messages(PEER, reverse=True)) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"min_id": 3}, [10, 9, 8, 7, 6, 5, 4]),  # exclusive
        ({"max_id": 3}, [2, 1]),
        ({"offset_id": 4}, [3, 2, 1]),
        ({"offset_id": 8, "max_id": 5}, [7, 6, 5, 4, 3, 2, 1]),  # Telethon: the larger one wins
        ({"min_id": 3, "max_id": 7}, [6, 5, 4]),
        ({"limit": 2}, [10, 9]),
        ({"min_id": 3, "reverse": True}, [4, 5, 6, 7, 8, 9, 10]),
        ({"offset_id": 6, "reverse": True}, [7, 8, 9, 10]),  # reversed meaning, still exclusive
        ({"min_id": 3, "max_id": 7, "reverse": True, "limit": 2}, [4, 5]),
        (
            {"offset_date": T0 + timedelta(hours=2), "reverse": True},
            [5, 6, 7, 8, 9, 10],
        ),  # inclusive, as Telegram
        ({"offset_date": T0 + timedelta(hours=2)}, [4, 3, 2, 1]),
    ],
)
async def test_history_filters_like_telegram(clock: FrozenClock, kwargs: dict, expected: list[int]) -> None:
    fake = await _fake(clock, 10)
    assert await _ids(fake.iter_messages(PEER, **kwargs)) == expected


async def test_long_history_is_served_in_pages_of_at_most_100(clock: FrozenClock) -> None:
    fake = await _fake(clock, 250)
    got = await _ids(fake.iter_messages(PEER, reverse=True))
    assert got == list(range(1, 251))
    # Like Telethon: a short page is not the end of a history; in reverse mode only an empty page is.
    assert [len(r.message_ids) for r in fake.requests] == [100, 100, 50, 0]
    assert fake.calls["iter_messages"] == 1


async def test_ids_lookup_gives_none_for_missing_and_deleted(clock: FrozenClock) -> None:
    msgs = messages(5)
    msgs[1]["deleted_at"] = iso(T0 + timedelta(days=1))
    fake = FakeTelegramClient.from_scenario(scenario(channel(msgs=msgs)), clock)
    await fake.connect()
    got = await fake.get_messages(PEER, ids=[1, 2, 3, 99])
    assert [m.id if m else None for m in got] == [1, None, 3, None]
    single = await fake.get_messages(PEER, ids=4)
    assert isinstance(single, patched.Message) and single.id == 4
    assert await _ids(fake.iter_messages(PEER, ids=[5, 1])) == [5, 1]


async def test_messages_only_exist_from_their_date(clock: FrozenClock) -> None:
    msgs = messages(3, start=clock.now() - timedelta(minutes=1), step=timedelta(minutes=1))
    fake = FakeTelegramClient.from_scenario(scenario(channel(msgs=msgs)), clock)
    await fake.connect()
    assert await _ids(fake.iter_messages(PEER)) == [2, 1]
    clock.advance(timedelta(minutes=1))
    assert await _ids(fake.iter_messages(PEER)) == [3, 2, 1]


async def test_entities_are_real_and_counted_in_utf16(clock: FrozenClock) -> None:
    text = "🔥🔥 Manba: https://example.org/a va @Ozod_Sado"
    fake = FakeTelegramClient.from_scenario(
        scenario(channel(msgs=[{"id": 1, "date": iso(T0), "text": text}])), clock
    )
    await fake.connect()
    [msg] = await fake.get_messages(PEER, ids=[1])
    url, mention = msg.entities
    assert isinstance(url, types.MessageEntityUrl) and isinstance(mention, types.MessageEntityMention)
    assert [t for _, t in msg.get_entities_text()] == ["https://example.org/a", "@Ozod_Sado"]


async def test_faults_fire_on_the_nth_request_for_that_channel_only(clock: FrozenClock) -> None:
    data = scenario(
        channel(msgs=messages(3)),
        channel(1002, "boshqa", msgs=messages(3)),
        faults=[
            {"method": "iter_messages", "channel": "boshqa", "nth": 2, "error": "flood_wait", "seconds": 40}
        ],
    )
    fake = FakeTelegramClient.from_scenario(data, clock)
    await fake.connect()
    other = types.InputPeerChannel(1002, 10021)
    for _ in range(3):
        await _ids(fake.iter_messages(PEER))  # other channel: not counted
    await _ids(fake.iter_messages(other))
    with pytest.raises(errors.FloodWaitError) as info:
        await _ids(fake.iter_messages(other))
    assert info.value.seconds == 40
    assert await _ids(fake.iter_messages(other)) == [3, 2, 1]  # fires once


async def test_requests_fail_while_disconnected(clock: FrozenClock) -> None:
    fake = FakeTelegramClient.from_scenario(scenario(channel(msgs=messages(2))), clock)
    with pytest.raises(ConnectionError):
        await fake.get_entity("ozod_sado")
    await fake.connect()
    assert (await fake.get_entity("@ozod_sado")).id == 1001
    fake.drop_connection()
    with pytest.raises(ConnectionError):
        await _ids(fake.iter_messages(PEER))


async def test_entity_lookups_and_call_counts(clock: FrozenClock) -> None:
    fake = await _fake(clock, 1)
    chan = await fake.get_entity("https://t.me/ozod_sado")
    assert isinstance(chan, types.Channel) and chan.broadcast and chan.access_hash == 10011
    assert await fake.get_input_entity("ozod_sado") == PEER
    assert await fake.get_input_entity(PEER) == PEER  # no request, like Telethon
    assert (fake.calls["get_entity"], fake.calls["get_input_entity"]) == (1, 1)
    with pytest.raises(ValueError) as info:
        await fake.get_entity("nobody_here")
    assert isinstance(info.value.__cause__, errors.UsernameNotOccupiedError)
    with pytest.raises(errors.ChannelInvalidError):
        await fake.get_entity(types.InputPeerChannel(1001, 1))


async def test_from_scenario_reads_a_file(clock: FrozenClock, tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario(channel(msgs=messages(2)))), encoding="utf-8")
    fake = FakeTelegramClient.from_scenario(path, clock)
    await fake.connect()
    assert await _ids(fake.iter_messages(PEER)) == [2, 1]


async def test_unsupported_arguments_are_refused_not_ignored(clock: FrozenClock) -> None:
    fake = await _fake(clock, 1)
    with pytest.raises(TypeError):
        fake.iter_messages(PEER, search="x")
