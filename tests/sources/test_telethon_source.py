"""TelethonSource over the fake client: paging, backfill, mapping, error translation; real TL objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telethon import errors
from telethon.extensions import BinaryReader
from telethon.tl import patched, types

from monitor.errors import ChannelUnavailable, FloodWait, SourceConnectionError
from monitor.models import Channel, ChannelRef, ForwardOrigin
from monitor.sources.telegram import TelethonSource

from sources.builders import T0, Build, channel, iso, messages, scenario

REF = ChannelRef(key="ozod_sado", username="ozod_sado")


async def _resolved(build: Build, data: dict, **kw: object) -> tuple:
    fake, src = build(data, **kw)
    await src.start()
    chan = await src.resolve(REF)
    return fake, src, chan


async def test_fake_serves_real_telethon_messages_that_survive_the_wire(build: Build) -> None:
    fake, src, chan = await _resolved(build, scenario(channel(msgs=messages(3))))
    msgs = [m async for m in fake.iter_messages(types.InputPeerChannel(chan.id, chan.access_hash))]
    assert all(type(m) is patched.Message for m in msgs)
    again = BinaryReader(bytes(msgs[0])).tgread_object()
    assert again.id == msgs[0].id and again.message == msgs[0].message
    assert again.peer_id == types.PeerChannel(1001)


async def test_min_id_paging_over_250_posts_loses_and_repeats_nothing(build: Build) -> None:
    # gaps in the ids (deleted posts) must not confuse the cursor
    msgs = [m for m in messages(300) if m["id"] % 7 != 0]
    fake, src, chan = await _resolved(build, scenario(channel(msgs=msgs)))
    expected = [m["id"] for m in msgs]

    got = [p.message_id async for p in src.fetch(chan, after_id=0)]
    assert got == expected

    tail = [p.message_id async for p in src.fetch(chan, after_id=37)]
    assert tail == [i for i in expected if i > 37]
    history = [r for r in fake.requests if r.method == "iter_messages"]
    assert all(len(r.message_ids) <= 100 for r in history)
    assert all(r.params["reverse"] for r in history)


async def test_small_pages_and_limit_after_checkpoint(build: Build) -> None:
    fake, src, chan = await _resolved(build, scenario(channel(msgs=messages(50))), page_size=7)
    got = [p.message_id async for p in src.fetch(chan, after_id=10, limit=20)]
    assert got == list(range(11, 31))
    served = [r.message_ids for r in fake.requests if r.method == "iter_messages"]
    assert max(len(ids) for ids in served) == 7
    assert sum(len(ids) for ids in served) == 20  # never asked for more than it yields


async def test_service_messages_are_skipped_even_a_whole_page_of_them(build: Build) -> None:
    msgs = messages(30)
    for m in msgs[5:15]:
        m["service"] = True
    fake, src, chan = await _resolved(build, scenario(channel(msgs=msgs)), page_size=10)
    got = [p.message_id async for p in src.fetch(chan, after_id=0)]
    assert got == [i for i in range(1, 31) if not 6 <= i <= 15]


async def test_backfill_by_count_yields_newest_n_oldest_first(build: Build) -> None:
    fake, src, chan = await _resolved(build, scenario(channel(msgs=messages(250))))
    got = [p.message_id async for p in src.fetch(chan, after_id=0, limit=130)]
    assert got == list(range(121, 251))


async def test_backfill_by_date_stops_at_since(build: Build) -> None:
    fake, src, chan = await _resolved(build, scenario(channel(msgs=messages(250, step=timedelta(hours=1)))))
    since = T0 + timedelta(hours=200)  # post 201 is at exactly +200 h
    got = [p async for p in src.fetch(chan, after_id=0, since=since)]
    assert [p.message_id for p in got] == list(range(201, 251))
    assert all(p.posted_at >= since for p in got)
    both = [p.message_id async for p in src.fetch(chan, after_id=0, limit=10, since=since)]
    assert both == list(range(241, 251))


async def test_clock_decides_what_exists_and_the_checkpoint_picks_up_new_posts(build: Build, clock) -> None:
    msgs = messages(10, start=clock.now() - timedelta(hours=5), step=timedelta(hours=1))
    fake, src, chan = await _resolved(build, scenario(channel(msgs=msgs)))
    first = [p.message_id async for p in src.fetch(chan, after_id=0)]
    assert first == [1, 2, 3, 4, 5, 6]
    clock.advance(timedelta(hours=2))
    assert [p.message_id async for p in src.fetch(chan, after_id=first[-1])] == [7, 8]


async def test_refresh_in_chunks_of_100_leaves_out_deleted_and_sees_view_growth(build: Build, clock) -> None:
    msgs = messages(
        250, start=clock.now() - timedelta(days=2), step=timedelta(minutes=1), views=[[0, 10], [24, 250]]
    )
    msgs[4]["deleted_at"] = iso(clock.now() - timedelta(minutes=1))
    fake, src, chan = await _resolved(build, scenario(channel(msgs=msgs)))
    clock.advance(timedelta(days=-1, hours=-12))  # first message is 12 h old
    early = {p.message_id: p.views for p in await src.refresh(chan, [1, 2])}
    assert early[1] == 130  # halfway from 10 to 250
    clock.advance(timedelta(days=1, hours=12))
    posts = await src.refresh(chan, list(range(1, 251)) + [999])
    assert [p.message_id for p in posts] == [i for i in range(1, 251) if i != 5]
    assert posts[0].views == 250
    chunks = [r for r in fake.requests if r.method == "get_messages"]
    assert [len(r.params["ids"]) for r in chunks] == [2, 100, 100, 51]


async def test_post_mapping_covers_every_field(build: Build, clock) -> None:
    msg = {
        "id": 9,
        "date": "2024-01-03T08:15:00+05:00",
        "text": "👍🏽 Batafsil: https://kun.uz/news/1 va @Durov_Chan, t.me/s/Other_Chan",
        "media": "video",
        "views": [[0, 10], [24, 300]],
        "forwards": [[0, 0], [48, 12]],
        "replies": 2,
        "reactions": {"👍": 5, "🔥": 2},
        "reply_to": 3,
        "grouped_id": 77,
        "post_author": "Muharrir",
        "fwd_from": {"channel_id": 1002, "message_id": 5, "date": "2024-01-01T00:00:00Z"},
    }
    data = scenario(channel(msgs=[msg]), channel(1002, "manba", title="Manba kanali"))
    fake, src, chan = await _resolved(build, data)
    clock.advance(datetime(2024, 1, 4, 3, 15, tzinfo=UTC) - clock.now())  # 24 h after the post
    [post] = [p async for p in src.fetch(chan, after_id=0)]
    assert post.posted_at == datetime(2024, 1, 3, 3, 15, tzinfo=UTC)
    assert post.posted_at.utcoffset() == timedelta(0)
    assert (post.views, post.forwards, post.replies, post.reactions) == (300, 6, 2, 7)
    assert post.forward == ForwardOrigin(
        channel_id=1002, name="Manba kanali", message_id=5, date=datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert (post.reply_to_id, post.grouped_id, post.author, post.media_kind) == (3, 77, "Muharrir", "video")
    assert post.links == ("https://kun.uz/news/1",)
    assert post.mentions == ("durov_chan", "other_chan")
    assert post.edited_at is None and post.edit_hidden is False


async def test_hidden_user_forward_has_a_name_and_no_channel(build: Build) -> None:
    msgs = messages(1, fwd_from={"name": "Hidden User"})
    fake, src, chan = await _resolved(build, scenario(channel(msgs=msgs)))
    [post] = [p async for p in src.fetch(chan, after_id=0)]
    assert post.forward == ForwardOrigin(channel_id=None, name="Hidden User", message_id=None, date=T0)


async def test_edit_hide_is_a_reaction_not_new_content(build: Build, clock) -> None:
    at = T0 + timedelta(hours=1)
    msgs = messages(2)
    msgs[0]["edits"] = [{"at": iso(at), "hide": True}]
    msgs[1]["edits"] = [{"at": iso(at), "text": "Tahrirlangan matn", "hide": False}]
    fake, src, chan = await _resolved(build, scenario(channel(msgs=msgs)))
    hidden, edited = [p async for p in src.fetch(chan, after_id=0)]
    assert (hidden.text, hidden.edited_at, hidden.edit_hidden) == ("Xabar 1", at, True)
    assert (edited.text, edited.edited_at, edited.edit_hidden) == ("Tahrirlangan matn", at, False)


@pytest.mark.parametrize(
    "kind",
    [
        "photo",
        "video",
        "document",
        "audio",
        "voice",
        "sticker",
        "gif",
        "video_note",
        "poll",
        "webpage",
        "geo",
        "contact",
    ],
)
async def test_media_kinds(build: Build, kind: str) -> None:
    fake, src, chan = await _resolved(build, scenario(channel(msgs=messages(1, media=kind))))
    [post] = [p async for p in src.fetch(chan, after_id=0)]
    assert post.media_kind == kind


async def test_flood_wait_becomes_floodwait_with_seconds_and_cause(build: Build, clock) -> None:
    faults = [
        {"method": "iter_messages", "channel": "ozod_sado", "nth": 2, "error": "flood_wait", "seconds": 40}
    ]
    fake, src, chan = await _resolved(build, scenario(channel(msgs=messages(250)), faults=faults))
    seen: list[int] = []
    with pytest.raises(FloodWait) as info:
        async for p in src.fetch(chan, after_id=0):
            seen.append(p.message_id)
    assert info.value.seconds == 40 and info.value.scope == "account"
    assert isinstance(info.value.__cause__, errors.FloodWaitError)
    assert seen == list(range(1, 101))  # the first page went through; the caller checkpoints it
    served = len(fake.requests)
    with pytest.raises(FloodWait):  # still waiting: refused without asking Telegram
        [p async for p in src.fetch(chan, after_id=seen[-1])]
    assert len(fake.requests) == served
    clock.advance(timedelta(seconds=40))
    rest = [p.message_id async for p in src.fetch(chan, after_id=seen[-1])]
    assert rest == list(range(101, 251))


async def test_flood_wait_scope_is_a_parameter_and_applies_to_resolve(build: Build) -> None:
    faults = [{"method": "get_entity", "nth": 1, "error": "flood_wait", "seconds": 300}]
    fake, src = build(scenario(channel(), faults=faults), flood_scope="channel")
    await src.start()
    with pytest.raises(FloodWait) as info:
        await src.resolve(REF)
    assert (info.value.seconds, info.value.scope) == (300, "channel")


@pytest.mark.parametrize(
    ("status", "username", "reason"),
    [
        ("private", "ozod_sado", "private"),
        ("banned", "ozod_sado", "banned"),
        ("not_found", "ozod_sado", "not_found"),
        ("ok", "nobody_here", "not_found"),
    ],
)
async def test_resolve_maps_unavailable_channels(
    build: Build, status: str, username: str, reason: str
) -> None:
    fake, src = build(scenario(channel(status=status)))
    await src.start()
    with pytest.raises(ChannelUnavailable) as info:
        await src.resolve(ChannelRef(key=username, username=username))
    assert info.value.reason == reason
    cause = info.value.__cause__
    if isinstance(cause, ValueError):  # Telethon's get_entity wraps USERNAME_NOT_OCCUPIED
        cause = cause.__cause__
    assert isinstance(cause, errors.RPCError)


@pytest.mark.parametrize("username", ["1bad", "ab", "bad__name", "trailing_", "x" * 33, "имя_канала"])
async def test_usernames_telethon_rejects_are_invalid_without_a_request(build: Build, username: str) -> None:
    fake, src = build(scenario(channel()))
    await src.start()
    with pytest.raises(ChannelUnavailable) as info:
        await src.resolve(ChannelRef(key=username, username=username))
    assert info.value.reason == "invalid"
    assert not fake.requests  # Telethon itself never sends ResolveUsername for such a name
    with pytest.raises(ValueError, match="Cannot find any entity"):  # and the fake refuses it the same way
        await fake.get_entity(username)


async def test_a_channel_gone_private_fails_the_poll_with_a_reason(build: Build) -> None:
    faults = [{"method": "iter_messages", "nth": 1, "error": "private"}]
    fake, src, chan = await _resolved(build, scenario(channel(msgs=messages(3)), faults=faults))
    with pytest.raises(ChannelUnavailable) as info:
        [p async for p in src.fetch(chan, after_id=0)]
    assert info.value.reason == "private"


async def test_username_taken_by_another_channel_is_renamed(build: Build) -> None:
    fake, src = build(scenario(channel(2002, "ozod_sado")))
    await src.start()
    known = Channel(id=1001, username="ozod_sado", title="old", access_hash=None)
    with pytest.raises(ChannelUnavailable) as info:
        await src.resolve(REF, known)
    assert info.value.reason == "renamed"


async def test_known_access_hash_means_no_resolve_calls_at_all(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(120))))
    await src.start()
    known = Channel(id=1001, username="ozod_sado", title="Kanal 1001", access_hash=10011)
    chan = await src.resolve(REF, known)
    assert chan == known
    assert [p.message_id async for p in src.fetch(chan, after_id=100)] == list(range(101, 121))
    await src.refresh(chan, [1, 2])
    assert fake.calls["get_entity"] == 0 and fake.calls["get_input_entity"] == 0
    assert fake.calls["iter_messages"] == 1


async def test_stale_access_hash_is_reported_invalid(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(1))))
    await src.start()
    stale = Channel(id=1001, username="ozod_sado", title="x", access_hash=42)
    with pytest.raises(ChannelUnavailable) as info:
        [p async for p in src.fetch(stale, after_id=0)]
    assert info.value.reason == "invalid"


async def test_connection_drop_midway_then_reconnect(build: Build) -> None:
    faults = [{"method": "iter_messages", "nth": 2, "error": "disconnect"}]
    fake, src, chan = await _resolved(build, scenario(channel(msgs=messages(150)), faults=faults))
    seen: list[int] = []
    with pytest.raises(SourceConnectionError) as info:
        async for p in src.fetch(chan, after_id=0):
            seen.append(p.message_id)
    assert isinstance(info.value.__cause__, ConnectionError)
    assert seen == list(range(1, 101))
    with pytest.raises(SourceConnectionError):  # still down: nothing is served until reconnect
        await src.refresh(chan, [1])
    await src.start()
    assert [p.message_id async for p in src.fetch(chan, after_id=100)] == list(range(101, 151))


async def test_request_budget_is_awaited_before_every_request(build: Build) -> None:
    spent: list[int] = []
    fake, src = build(scenario(channel(msgs=messages(230))), request_budget=None)

    async def budget() -> None:
        spent.append(len(fake.requests))  # no request may be served before its turn is paid

    src = TelethonSource(fake, clock=fake.clock, request_budget=budget)
    await src.start()
    chan = await src.resolve(REF)
    [p async for p in src.fetch(chan, after_id=0)]
    await src.refresh(chan, list(range(1, 151)))
    # 230 posts oldest first: pages of 100, 100, 30, and Telethon's reverse iteration asks once more after
    # the short page (only an empty page ends it), so the budget pays 4 history requests, not 3.
    assert len(spent) == len(fake.requests) == 1 + 4 + 2
    assert spent == list(range(len(spent)))


async def test_close_is_idempotent_and_start_reconnects(build: Build) -> None:
    fake, src = build(scenario(channel()))
    await src.start()
    await src.start()
    assert fake.calls["connect"] == 1
    await src.close()
    await src.close()
    assert not fake.is_connected()


async def test_log_in_leaves_an_authorised_session_alone(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(1))))

    def never() -> str:
        raise AssertionError("an authorised session must not be asked for a phone, code or password")

    assert await src.log_in(phone=never, code=never, password=never) is False
    assert fake.calls["connect"] == 1
