"""TelethonSource's discovery and profile requests against the fake: what each one sends, what it hands
back field by field, and how a flood wait on a search is kept apart from the polls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telethon import errors, types

from monitor.clock import FrozenClock
from monitor.errors import ChannelUnavailable, FloodWait, SourceError, SourceUnauthorized
from monitor.models import Channel, ChannelSnapshot, DiscoveryLead, SearchQuota
from monitor.sources.scenario import Scenario, ScenarioFault
from monitor.sources.telegram import TelethonSource
from monitor.sources.telegram_fake import messages_slice

from sources.builders import T0, Build, channel, messages, scenario
from sources.mtproto_endpoints import string_session_for

WATCHED = Channel(id=1001, username="ozod_sado", title="Kanal 1001", access_hash=10011)


async def _budgeted(build: Build, data: Scenario, clock: FrozenClock) -> tuple[Any, TelethonSource, list[int]]:
    """A started source over the fake whose request budget records, at each payment, how many requests
    the fake had answered: what each call pays for, and when."""
    paid: list[int] = []
    fake, _ = build(data)

    async def budget() -> None:
        paid.append(len(fake.requests))

    src = TelethonSource(fake, clock=clock, request_budget=budget)
    await src.start()
    return fake, src, paid

async def test_similar_channels_are_the_other_broadcast_channels_telegram_recommends(
    build: Build, clock: FrozenClock
) -> None:
    data = scenario(
        channel(1001, "ozod_sado", similar=[1004, 1002, 1003, 1001]),
        channel(1002, "Manba_Kanal"),
        channel(1003, None),
        channel(1004, "guruh_chat", kind="megagroup"),
    )
    fake, src, paid = await _budgeted(build, data, clock)
    leads = await src.similar_channels(WATCHED)
    assert leads == [
        DiscoveryLead(ref="@manba_kanal", username="Manba_Kanal", channel_id=1002, title="Kanal 1002",
                      via="recommended", basis="@ozod_sado", hits=1, seen_at=clock.now()),
        DiscoveryLead(ref="id:1003", username=None, channel_id=1003, title="Kanal 1003",
                      via="recommended", basis="@ozod_sado", hits=1, seen_at=clock.now()),
    ]  # the supergroup and the channel itself are left out
    [sent] = fake.requests
    assert (sent.method, sent.channel_id, sent.error) == ("get_channel_recommendations", 1001, None)
    assert paid == [0]  # paid once, before it was sent
    unnamed = Channel(id=1001, username=None, title="", access_hash=10011)
    assert {lead.basis for lead in await src.similar_channels(unnamed)} == {"id:1001"}


async def test_similar_channels_and_the_profile_need_the_access_hash(build: Build) -> None:
    fake, src = build(scenario(channel(similar=[1002]), channel(1002, "boshqa")))
    await src.start()
    for ask, what in ((src.similar_channels, "recommendations"), (src.channel_info, "the profile")):
        with pytest.raises(SourceError, match=f"^ozod_sado: no access hash to ask for {what} with$"):
            await ask(Channel(id=1001, username="ozod_sado", title="", access_hash=None))
        with pytest.raises(SourceError, match=f"^1001: no access hash to ask for {what} with$"):
            await ask(Channel(id=1001, username=None, title="", access_hash=None))
    assert not fake.requests


async def test_a_refused_recommendation_request_is_the_channels_fault(build: Build) -> None:
    faults = [{"method": "get_channel_recommendations", "error": "private"}]
    fake, src = build(scenario(channel(similar=[1002]), channel(1002, "boshqa"), faults=faults))
    await src.start()
    with pytest.raises(ChannelUnavailable) as info:
        await src.similar_channels(WATCHED)
    assert info.value.reason == "private" and info.value.detail.startswith("ozod_sado: The channel specified is private")
    fake.add_fault(ScenarioFault(method="get_channel_recommendations", error="private"))
    with pytest.raises(ChannelUnavailable) as unnamed:
        await src.similar_channels(Channel(id=1001, username=None, title="", access_hash=10011))
    assert unnamed.value.detail.startswith("1001: The channel specified is private")


def _tagged(n: int, tag: str, **extra: object) -> list[dict]:
    return [{**m, "text": f"{m['text']} #{tag}"} for m in messages(n, **extra)]


async def test_search_hashtag_counts_posts_per_public_channel(build: Build, clock: FrozenClock) -> None:
    data = scenario(
        channel(1001, "ozod_sado", msgs=_tagged(3, "Hijrat")),
        channel(1002, "Boshqa_Kanal", msgs=_tagged(1, "hijrat") + messages(2, first_id=2)),
        channel(1003, "guruh_chat", kind="megagroup", msgs=_tagged(2, "hijrat")),
        channel(1004, "jim_kanal", msgs=messages(2)),
    )
    fake, src = build(data)
    await src.start()
    leads, quota = await src.search_hashtag("hijrat")
    now = clock.now()
    assert sorted(leads, key=lambda lead: lead.ref) == [
        DiscoveryLead(ref="@boshqa_kanal", username="Boshqa_Kanal", channel_id=1002, title="Kanal 1002",
                      via="hashtag", basis="#hijrat", hits=1, seen_at=now),
        DiscoveryLead(ref="@ozod_sado", username="ozod_sado", channel_id=1001, title="Kanal 1001",
                      via="hashtag", basis="#hijrat", hits=3, seen_at=now),
    ]
    # the quota Telegram reported with the answer: one free search spent
    assert quota == SearchQuota(total_daily=10, remains=9, stars_amount=10, query_is_free=False, wait_till=None)
    [sent] = fake.requests
    assert (sent.method, dict(sent.params)) == ("search_posts", {"hashtag": "hijrat", "limit": 100})
    assert fake.stars_spent == 0
    few, _ = await src.search_hashtag("hijrat", limit=2)  # the two newest tagged posts, both of ozod_sado
    assert [(lead.channel_id, lead.hits) for lead in few] == [(1001, 2)]


async def test_search_quota_reports_telegrams_free_searches(build: Build, clock: FrozenClock) -> None:
    fake, src = build(scenario(channel()))
    await src.start()
    assert await src.search_quota("hijrat") == SearchQuota(
        total_daily=10, remains=10, stars_amount=10, query_is_free=False, wait_till=None)
    back = int((clock.now() + timedelta(hours=20)).timestamp())
    fake.search_quota.update(remains=0, wait_till=back, query_is_free=True, stars_amount=25)
    got = await src.search_quota("hijrat")
    assert got == SearchQuota(total_daily=10, remains=0, stars_amount=25, query_is_free=True,
                              wait_till=datetime.fromtimestamp(back, UTC))
    assert [(r.method, dict(r.params)) for r in fake.requests] == [("check_search_posts_flood", {"query": "#hijrat"})] * 2


def test_a_quota_telegram_left_mostly_unsaid_is_zero_and_no_time() -> None:
    from monitor.sources.telegram import _quota

    assert _quota(types.SearchPostsFlood(total_daily=3, remains=1, stars_amount=5, wait_till=0)) == SearchQuota(
        total_daily=3, remains=1, stars_amount=5, query_is_free=False, wait_till=None)
    assert _quota(object()) == SearchQuota(total_daily=0, remains=0, stars_amount=0, query_is_free=False)
    assert _quota(types.SearchPostsFlood(total_daily=0, remains=0, stars_amount=0, wait_till=1)).wait_till == datetime(
        1970, 1, 1, 0, 0, 1, tzinfo=UTC)  # any time Telegram gives is kept


async def test_a_search_telegram_refuses_says_it_was_the_search(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=_tagged(1, "hijrat"))))
    fake.search_quota.update(remains=0)  # no free search left: Telegram wants stars, which monitor never offers
    await src.start()
    with pytest.raises(SourceError) as info:
        await src.search_hashtag("hijrat")
    assert str(info.value) == (
        "Telegram refused the request (search): RPCError 400: SEARCH_QUERY_FREE_LIMIT (caused by NoneType)")
    assert fake.stars_spent == 0


async def test_a_flood_wait_on_search_blocks_searches_only_and_renews(build: Build, clock: FrozenClock) -> None:
    faults = [
        {"method": "search_posts", "nth": 1, "error": "flood_wait", "seconds": 30},
        {"method": "search_posts", "nth": 1, "error": "flood_wait", "seconds": 60},  # the next one after
    ]
    fake, src, paid = await _budgeted(build, scenario(channel(msgs=_tagged(2, "hijrat")), faults=faults), clock)
    with pytest.raises(FloodWait) as first:
        await src.search_hashtag("hijrat")
    assert (first.value.seconds, first.value.scope) == (30, "channel")
    assert isinstance(first.value.__cause__, errors.FloodWaitError)
    served = len(fake.requests)
    clock.advance(timedelta(seconds=10))
    for ask in (src.search_hashtag, src.search_quota):
        with pytest.raises(FloodWait) as again:  # refused here, without asking Telegram or paying
            await ask("hijrat")
        assert (again.value.seconds, again.value.scope, again.value.__cause__) == (20, "channel", None)
    assert len(fake.requests) == served and len(paid) == 1
    # polls go on: the wait was the search's
    assert [p.message_id async for p in src.fetch(WATCHED, after_id=0)] == [1, 2]
    clock.advance(timedelta(seconds=20))  # the first wait is over; the second search is flood-waited longer
    with pytest.raises(FloodWait) as second:
        await src.search_hashtag("hijrat")
    assert second.value.seconds == 60
    clock.advance(timedelta(seconds=59))
    with pytest.raises(FloodWait) as still:
        await src.search_hashtag("hijrat")
    assert (still.value.seconds, still.value.__cause__) == (1, None)
    clock.advance(timedelta(seconds=1))
    leads, _ = await src.search_hashtag("hijrat")
    assert [lead.hits for lead in leads] == [2]


async def test_an_account_flood_wait_blocks_searches_too(build: Build, clock: FrozenClock) -> None:
    faults = [{"method": "iter_messages", "error": "flood_wait", "seconds": 100}]
    fake, src = build(scenario(channel(msgs=messages(2)), faults=faults))
    await src.start()
    with pytest.raises(FloodWait):
        [p async for p in src.fetch(WATCHED, after_id=0)]
    served = len(fake.requests)
    clock.advance(timedelta(seconds=40))
    with pytest.raises(FloodWait) as info:
        await src.search_quota("hijrat")
    assert (info.value.seconds, info.value.scope) == (60, "account")
    assert len(fake.requests) == served


async def test_a_frozen_account_on_search_is_unauthorized_not_a_wait(build: Build) -> None:
    faults = [{"method": "check_search_posts_flood", "error": "frozen_method_invalid"}]
    fake, src = build(scenario(channel(), faults=faults))
    await src.start()
    with pytest.raises(SourceUnauthorized) as info:
        await src.search_quota("hijrat")
    assert info.value.reason == "FROZEN_METHOD_INVALID"
    assert src.unauthorized is info.value
    assert "search" not in src._blocked


async def test_a_flood_wait_with_no_seconds_on_search_is_one_second() -> None:
    class Flooding:
        async def __call__(self, request: object) -> object:
            raise errors.FloodError(request=None, message="FLOOD", code=420)

    src = TelethonSource(Flooding(), clock=FrozenClock(T0))
    with pytest.raises(FloodWait) as info:
        await src.search_quota("x")
    assert info.value.seconds == 1


async def test_channel_info_is_one_profile_request_mapped_field_by_field(build: Build, clock: FrozenClock) -> None:
    restriction = [{"platform": "ios", "reason": "porn", "text": ""}, {"platform": "all", "reason": "terms",
                                                                         "text": "  blocked  "}]
    data = scenario(channel(1001, "ozod_sado", subscribers=1200, about="Yangiliklar", ttl_period=86400,
                            restriction=restriction, title="Ozod Sado"))
    fake, src, paid = await _budgeted(build, data, clock)
    snap = await src.channel_info(WATCHED)
    assert snap == ChannelSnapshot(channel_id=1001, observed_at=clock.now(), title="Ozod Sado", username="ozod_sado",
                                   about="Yangiliklar", subscribers=1200,
                                   restriction="ios:porn; all:terms: blocked", ttl_period=86400)
    [sent] = fake.requests
    assert (sent.method, sent.channel_id) == ("get_full_channel", 1001)
    assert paid == [0]
    # the title learned names the channel in forwards from it
    assert src._titles[1001] == "Ozod Sado"


async def test_a_profile_telegram_says_little_about_is_nones(build: Build, clock: FrozenClock) -> None:
    fake, src = build(scenario(channel(1001, "ozod_sado", ttl_period=0)))
    await src.start()
    snap = await src.channel_info(WATCHED)
    assert snap == ChannelSnapshot(channel_id=1001, observed_at=clock.now(), title="Kanal 1001", username="ozod_sado",
                                   about="", subscribers=None, restriction=None, ttl_period=None)


def _chat(cid: int = 1001, **kw: object) -> types.Channel:
    return types.Channel(id=cid, title=kw.pop("title", "Kanal"), photo=types.ChatPhotoEmpty(), date=T0,
                         access_hash=cid * 10 + 1, broadcast=True, **kw)  # type: ignore[arg-type]


def test_to_snapshot_takes_the_channel_asked_for_and_odd_fields_as_none(clock: FrozenClock) -> None:
    src = TelethonSource(object(), clock=clock)
    full_chat = types.ChannelFull(
        id=1001, about="x", read_inbox_max_id=0, read_outbox_max_id=0, unread_count=0, chat_photo=types.PhotoEmpty(id=0),
        notify_settings=types.PeerNotifySettings(), bot_info=[], pts=1, participants_count=5, ttl_period=-3)
    other, mine = _chat(1002, title="Boshqa"), _chat(1001, title="Mening", username=None,
                                                        usernames=[types.Username(username="eski", active=False),
                                                                   types.Username(username="Yangi", active=True)])
    full = types.messages.ChatFull(full_chat=full_chat, chats=[other, mine], users=[])
    snap = src.to_snapshot(full, WATCHED)
    assert (snap.title, snap.username, snap.subscribers, snap.ttl_period, snap.about) == ("Mening", "Yangi", 5, None, "x")
    # a restricted channel with no reasons given; none of the chats is the one asked for
    restricted = _chat(1001, restricted=True)
    assert src.to_snapshot(types.messages.ChatFull(full_chat=full_chat, chats=[restricted], users=[]),
                           WATCHED).restriction == "restricted"
    lost = src.to_snapshot(types.messages.ChatFull(full_chat=full_chat, chats=[other], users=[]), WATCHED)
    assert (lost.title, lost.username, lost.restriction) == (None, None, None)
    odd = src.to_snapshot(object(), WATCHED)
    assert odd == ChannelSnapshot(channel_id=1001, observed_at=clock.now())
    forbidden = types.ChannelForbidden(id=1001, access_hash=1, title="t", broadcast=True)
    with pytest.raises(ChannelUnavailable) as info:
        src.to_snapshot(types.messages.ChatFull(full_chat=full_chat, chats=[forbidden], users=[]), WATCHED)
    assert (info.value.reason, info.value.detail) == ("banned", "ozod_sado: ChannelForbidden")
    untitled = src.to_snapshot(types.messages.ChatFull(full_chat=full_chat, chats=[_chat(1003, title="")], users=[]),
                               Channel(id=1003, username=None, title="", access_hash=1))
    assert untitled.title == "" and 1003 not in src._titles  # an empty title teaches nothing


async def test_string_session_gives_back_the_session_it_was_built_from() -> None:
    text = string_session_for(4443, dc_id=4)
    assert TelethonSource.from_credentials(1, "x", text).string_session() == text


async def test_search_hits_count_only_broadcast_channels_telegram_sent_along(clock: FrozenClock) -> None:
    """Telegram's answer as it may come: posts of a supergroup, of a channel it sent no entity for, of a user."""
    from telethon.tl import patched

    def chat(cid: int, **kw: object) -> types.Channel:
        return types.Channel(id=cid, title=f"K{cid}", photo=types.ChatPhotoEmpty(), date=T0, access_hash=cid,
                             **kw)  # type: ignore[arg-type]

    def post(mid: int, peer: object) -> object:
        return patched.Message(id=mid, peer_id=peer, date=T0, message="#hijrat")

    class Answers:
        async def __call__(self, request: object) -> object:
            messages = [post(1, types.PeerChannel(3)), post(2, types.PeerUser(7)), post(3, types.PeerChannel(9)),
                        post(4, types.PeerChannel(1)), post(5, types.PeerChannel(2)), post(6, types.PeerChannel(1))]
            return messages_slice(
                count=6, messages=messages, topics=[], users=[],
                chats=[chat(3, megagroup=True), chat(1, broadcast=True, username="Bir"), chat(2, broadcast=True),
                       types.ChannelForbidden(id=9, access_hash=9, title="yopiq")])

    src = TelethonSource(Answers(), clock=clock)
    leads, quota = await src.search_hashtag("hijrat")
    assert [(lead.ref, lead.username, lead.channel_id, lead.title, lead.hits) for lead in leads] == [
        ("@bir", "Bir", 1, "K1", 2), ("id:2", None, 2, "K2", 1)]
    assert quota is None  # the answer carried no search_flood
