"""Telegram's similar-channel recommendations and hashtag search feed the discovery queue: the fake client
answers with the real TL result types (messages.Chats, messages.MessagesSlice with a SearchPostsFlood),
the free daily search quota is respected and stars are never offered, and a flood wait on search parks
only the search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telethon.tl import types

from monitor.clock import FrozenClock
from monitor.discovery_feed import FeedRule, feed_round, recommend_leased
from monitor.pipeline import PollOptions, poll_channel
from monitor.reports.queue import build_queue, find
from monitor.sources.scenario import ScenarioFault
from monitor.sources.telegram import TelethonSource
from monitor.sources.telegram_fake import FakeTelegramClient
from monitor.store import open_store as store_at

from .test_pipeline import ref, state_of

START = datetime(2024, 3, 1, tzinfo=UTC)
OPTS = PollOptions(batch_size=50, backfill_posts=100, backfill_days=None, resample_days=7, unavailable_retry=60,
                   profile_every=0, tag_in_thread=False)


def _msg(mid: int, hours: float, text: str) -> dict[str, Any]:
    return {"id": mid, "date": (START + timedelta(hours=hours)).isoformat(), "text": text, "views": [[0, 10]]}


def scenario() -> dict[str, Any]:
    return {"format": "monitor-scenario/1", "channels": [
        {"id": 601, "username": "ozod_ovoz", "title": "Ozod ovoz", "messages": [_msg(1, 1, "salom")]},
        {"id": 602, "username": "ovoz_ikki", "title": "Ovoz 2", "messages": [_msg(1, 2, "#hijrat yo'li")]},
        {"id": 603, "username": "hijrat_news", "title": "Hijrat", "messages": [
            _msg(1, 1, "#Hijrat bugun"), _msg(2, 3, "yana #hijrat"), _msg(3, 4, "#boshqa")]},
        {"id": 604, "username": None, "title": "Guruh", "kind": "megagroup", "messages": [_msg(1, 1, "#hijrat")]},
    ]}


async def _setup(tmp_path: Path, tagger: Any) -> tuple[Any, TelethonSource, FakeTelegramClient, FrozenClock]:
    clock = FrozenClock(START + timedelta(hours=12))
    client = FakeTelegramClient.from_scenario(scenario(), clock)
    client.recommendations = {601: [602, 604]}
    source = TelethonSource(client, clock=clock)
    store = store_at(tmp_path / "m.db")
    await store.open()
    await store.sync_watchlist([ref("ozod_ovoz")], at=clock.now())
    await source.start()
    out = await poll_channel(ref("ozod_ovoz"), source=source, store=store, tagger=tagger, clock=clock, options=OPTS,
                             state=await state_of(store, "ozod_ovoz"))
    assert out.outcome == "ok"
    return store, source, client, clock


async def test_off_by_default_asks_telegram_nothing(tmp_path: Path, tagger: Any) -> None:
    store, source, client, clock = await _setup(tmp_path, tagger)
    before = len(client.requests)
    done = await feed_round(store, source, rule=FeedRule(), clock=clock)
    assert done.leads == 0 and len(client.requests) == before and await store.discovery_leads() == []
    await store.close()


async def test_recommendations_and_hashtag_search_feed_the_queue_with_evidence(tmp_path: Path, tagger: Any) -> None:
    store, source, client, clock = await _setup(tmp_path, tagger)
    done = await feed_round(store, source, rule=FeedRule(recommendations=True, hashtags=("hijrat",)), clock=clock)
    assert done.recommended_for == ["ozod_ovoz"] and done.searched == ["hijrat"]
    assert client.calls["get_channel_recommendations"] == 1 and client.calls["check_search_posts_flood"] == 1
    assert client.calls["search_posts"] == 1 and client.stars_spent == 0
    assert done.quota is not None and done.quota.remains == 9 and done.quota.total_daily == 10
    leads = {(x.ref, x.via, x.basis, x.hits) for x in await store.discovery_leads()}
    # the megagroup (no broadcast) is neither recommended nor a hashtag hit; the search is case-insensitive
    assert leads == {("@ovoz_ikki", "recommended", "@ozod_ovoz", 1), ("@ovoz_ikki", "hashtag", "#hijrat", 1),
                     ("@hijrat_news", "hashtag", "#hijrat", 2)}
    queue = await build_queue(store)
    ikki = find(queue, "@ovoz_ikki")
    news = find(queue, "@hijrat_news")
    assert ikki is not None and news is not None
    assert ikki.recommended_for == {"@ozod_ovoz"} and ikki.hashtags == {"#hijrat"} and ikki.title == "Ovoz 2"
    assert any("Telegram recommends it as similar to @ozod_ovoz" in line for line in ikki.evidence)
    assert any("2 public post(s) with #hijrat" in line for line in news.evidence)
    assert ikki.priority > news.priority > 0  # a recommendation of a watched channel weighs more
    assert ikki.source_label() == "recommended by Telegram for @ozod_ovoz"
    await store.close()


async def test_the_free_quota_is_never_exceeded_and_stars_never_offered(tmp_path: Path, tagger: Any) -> None:
    store, source, client, clock = await _setup(tmp_path, tagger)
    wait_till = int((clock.now() + timedelta(hours=20)).timestamp())
    client.search_quota.update(remains=1, wait_till=wait_till)
    done = await feed_round(store, source, rule=FeedRule(hashtags=("hijrat", "boshqa")), clock=clock)
    # one free search left: #hijrat is searched; its answer says none remain, so #boshqa is not: searching
    # is parked until the free quota comes back
    assert done.searched == ["hijrat"] and client.calls["search_posts"] == 1 and client.stars_spent == 0
    assert "search" in done.parked and done.quota is not None and not done.quota.free
    parks = await store.parks(now=clock.now())
    assert set(parks) == {"search"} and parks["search"] == datetime.fromtimestamp(wait_till, UTC)
    checks = client.calls["check_search_posts_flood"]
    clock.advance(timedelta(hours=2))  # still parked: Telegram is not even asked
    again = await feed_round(store, source, rule=FeedRule(hashtags=("boshqa",)), clock=clock)
    assert again.searched == [] and client.calls["check_search_posts_flood"] == checks
    assert client.calls["search_posts"] == 1
    # the next day the quota is back: CheckSearchPostsFlood says so and the search runs
    client.search_quota.update(remains=10, wait_till=None)
    clock.advance(timedelta(hours=19))
    back = await feed_round(store, source, rule=FeedRule(hashtags=("boshqa",)), clock=clock)
    assert back.searched == ["boshqa"] and client.calls["search_posts"] == 2 and client.stars_spent == 0
    await store.close()


async def test_a_flood_wait_on_search_parks_only_the_search(tmp_path: Path, tagger: Any) -> None:
    store, source, client, clock = await _setup(tmp_path, tagger)
    client.add_fault(ScenarioFault(method="search_posts", error="flood_wait", seconds=600))
    done = await feed_round(store, source, rule=FeedRule(recommendations=True, hashtags=("hijrat",)), clock=clock)
    assert done.searched == [] and "search" in done.parked and done.recommended_for == ["ozod_ovoz"]
    parks = await store.parks(now=clock.now())
    assert set(parks) == {"search"} and parks["search"] == clock.now() + timedelta(seconds=600)
    # polls and recommendations go on during the search's wait; the search itself waits
    clock.advance(timedelta(minutes=5))
    polled = await poll_channel(ref("ozod_ovoz"), source=source, store=store, tagger=tagger, clock=clock,
                                options=OPTS, state=await state_of(store, "ozod_ovoz"))
    assert polled.outcome == "ok"
    later = await feed_round(store, source, rule=FeedRule(recommendations=True, hashtags=("hijrat",)), clock=clock)
    assert later.recommended_for == ["ozod_ovoz"] and later.searched == [] and client.calls["search_posts"] == 1
    clock.advance(timedelta(minutes=6))
    after = await feed_round(store, source, rule=FeedRule(hashtags=("hijrat",)), clock=clock)
    assert after.searched == ["hijrat"] and client.calls["search_posts"] == 2
    await store.close()


def test_the_tl_answers_are_the_real_types() -> None:
    clock = FrozenClock(START + timedelta(hours=12))
    client = FakeTelegramClient.from_scenario(scenario(), clock)
    flood = client._search_flood()
    assert isinstance(flood, types.SearchPostsFlood) and flood.remains == 10 and flood.stars_amount == 10
    assert not flood.query_is_free


async def test_a_query_telegram_calls_free_is_searched_with_no_slot_left(tmp_path: Path, tagger: Any) -> None:
    store, source, client, clock = await _setup(tmp_path, tagger)
    client.search_quota.update(remains=0, query_is_free=True)
    done = await feed_round(store, source, rule=FeedRule(hashtags=("hijrat",)), clock=clock)
    assert done.searched == ["hijrat"] and client.stars_spent == 0 and client.search_quota["remains"] == 0
    await store.close()


async def test_team_mode_asks_for_the_leased_channels_and_records_when(tmp_path: Path, tagger: Any) -> None:
    """recommend_leased (team mode): each channel asked is recorded for the team, refused ones too; an
    account-wide flood wait is handed back for the collector's own account state, never stored as the
    `account` park every other collector would obey."""
    store, source, client, clock = await _setup(tmp_path, tagger)
    states = [await state_of(store, "ozod_ovoz")]
    client.add_fault(ScenarioFault(method="get_channel_recommendations", error="flood_wait", seconds=300))
    waited = await recommend_leased(store, source, states, clock=clock)
    assert waited.account_wait is not None and waited.account_wait[0] == clock.now() + timedelta(seconds=300)
    assert await store.parks(now=clock.now()) == {} and await store.recommendations_asked(["ozod_ovoz"]) == {}
    clock.advance(timedelta(minutes=6))
    done = await recommend_leased(store, source, states, clock=clock)
    assert done.recommended_for == ["ozod_ovoz"] and done.account_wait is None
    assert await store.recommendations_asked(["ozod_ovoz"]) == {"ozod_ovoz": clock.now()}
    assert {(x.ref, x.via) for x in await store.discovery_leads()} == {("@ovoz_ikki", "recommended")}
    # a channel Telegram refuses (another account's access hash) is recorded as asked: not retried at once
    client.add_fault(ScenarioFault(method="get_channel_recommendations", error="invalid"))
    clock.advance(timedelta(hours=1))
    refused = await recommend_leased(store, source, states, clock=clock)
    assert refused.recommended_for == []
    assert await store.recommendations_asked(["ozod_ovoz"]) == {"ozod_ovoz": clock.now()}
    await store.close()
