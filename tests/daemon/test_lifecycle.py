"""Channels that die and come back: poll_channel over the fake client's real Telethon objects records
lifecycle events, profile history and deleted posts in a real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telethon.tl import types

from monitor.clock import FrozenClock
from monitor.lifecycle import unavailable_state
from monitor.models import PostKey
from monitor.pipeline import PollOptions, poll_channel
from monitor.sources.telegram import TelethonSource, link_preview, restriction_text
from monitor.sources.telegram_fake import FakeTelegramClient
from monitor.store import Store, open_store as store_at

from .test_pipeline import ref, state_of

START = datetime(2024, 3, 1, tzinfo=UTC)
OPTS = PollOptions(batch_size=50, backfill_posts=100, backfill_days=None, resample_days=7, unavailable_retry=60,
                   profile_every=3600, tag_in_thread=False)


def _msg(mid: int, hours: float, text: str = "", **extra: Any) -> dict[str, Any]:
    return {"id": mid, "date": (START + timedelta(hours=hours)).isoformat(), "text": text or f"xabar {mid}",
            "views": [[0, 10], [48, 100]], **extra}


def scenario(**channel: Any) -> dict[str, Any]:
    base = {"id": 4242, "username": "ozod_ovoz", "title": "Ozod ovoz", "subscribers": 1500, "about": "yangiliklar",
            "messages": [_msg(i, i) for i in range(1, 6)]}
    base.update(channel)
    return {"format": "monitor-scenario/1", "channels": [base]}


async def setup(tmp_path: Path, data: dict[str, Any], at: datetime) -> tuple[Store, TelethonSource, FakeTelegramClient, FrozenClock]:
    clock = FrozenClock(at)
    client = FakeTelegramClient.from_scenario(data, clock)
    source = TelethonSource(client, clock=clock)
    store = store_at(tmp_path / "m.db")
    await store.open()
    await store.sync_watchlist([ref("ozod_ovoz")], at=clock.now())
    await source.start()
    return store, source, client, clock


async def poll(store: Store, source: TelethonSource, clock: FrozenClock, tagger: Any) -> Any:
    r = ref("ozod_ovoz")
    return await poll_channel(r, source=source, store=store, tagger=tagger, clock=clock, options=OPTS,
                              state=await state_of(store, r.key))


async def test_a_takedown_and_a_return_are_recorded_with_time_and_reason(tmp_path: Path, tagger: Any) -> None:
    data = scenario(changes=[{"at": (START + timedelta(days=1)).isoformat(), "status": "forbidden"},
                             {"at": (START + timedelta(days=2)).isoformat(), "status": "ok"}])
    store, source, client, clock = await setup(tmp_path, data, START + timedelta(hours=10))
    first = await poll(store, source, clock, tagger)
    assert first.outcome == "ok" and first.inserted == 5
    clock.advance(timedelta(days=1))
    down = await poll(store, source, clock, tagger)
    assert down.outcome == "unavailable"
    clock.advance(timedelta(hours=1))
    again = await poll(store, source, clock, tagger)  # still down: no second event
    assert again.outcome == "unavailable"
    clock.advance(timedelta(days=1))
    back = await poll(store, source, clock, tagger)
    assert back.outcome == "ok"
    events = await store.channel_events(keys=["ozod_ovoz"])
    assert [e.state for e in events] == ["active", "private", "active"]
    assert events[1].at == START + timedelta(days=1, hours=10) and events[1].channel_id == 4242
    assert "ChannelPrivateError" in (events[1].reason or "") or "private" in (events[1].reason or "").lower()
    # the profile was sampled with GetFullChannel (real ChannelFull) once per profile_every, not per poll
    assert client.calls["get_full_channel"] == 2
    snaps = await store.channel_snapshots(4242)
    assert [(s.subscribers, s.about, s.title) for s in snaps] == [(1500, "yangiliklar", "Ozod ovoz")] * 2
    await store.close()


async def test_channel_forbidden_on_resolve_is_banned(tmp_path: Path, tagger: Any) -> None:
    store, source, _client, clock = await setup(tmp_path, scenario(status="forbidden"), START + timedelta(hours=10))
    out = await poll(store, source, clock, tagger)
    assert out.outcome == "unavailable"
    [event] = await store.channel_events()
    assert event.state == "banned" and "ChannelForbidden" in (event.reason or "") and event.channel_id is None
    await store.close()


async def test_restriction_reason_and_username_change_and_freed_username(tmp_path: Path, tagger: Any) -> None:
    restriction = [{"platform": "all", "reason": "terrorism", "text": "This channel can't be displayed"}]
    data = scenario(changes=[
        {"at": (START + timedelta(days=1)).isoformat(), "restriction": restriction, "subscribers": None},
        {"at": (START + timedelta(days=2)).isoformat(), "username": "ozod_ovoz_2", "restriction": None},
        {"at": (START + timedelta(days=3)).isoformat(), "username": None, "title": "Ozod ovoz (zaxira)"},
    ])
    store, source, _client, clock = await setup(tmp_path, data, START + timedelta(hours=10))
    for _ in range(4):
        out = await poll(store, source, clock, tagger)
        assert out.outcome == "ok", out.error  # the stored access hash keeps working through renames
        clock.advance(timedelta(days=1))
    events = await store.channel_events()
    assert [(e.state, e.reason) for e in events] == [
        ("active", None),
        ("restricted", "all:terrorism: This channel can't be displayed"),
        ("active", None),
        ("username_changed", "@ozod_ovoz -> @ozod_ovoz_2"),
        ("username_freed", "@ozod_ovoz_2 dropped"),
    ]
    snaps = await store.channel_snapshots(4242)
    assert [s.subscribers for s in snaps] == [1500, None, None, None]  # a missing count never stops a poll
    assert [s.username for s in snaps] == ["ozod_ovoz", "ozod_ovoz", "ozod_ovoz_2", None]
    assert snaps[-1].title == "Ozod ovoz (zaxira)"
    await store.close()


async def test_a_deleted_channel_username_not_occupied_after_the_hash_is_refused(tmp_path: Path, tagger: Any) -> None:
    data = scenario(changes=[{"at": (START + timedelta(days=1)).isoformat(), "status": "not_found"}])
    store, source, _client, clock = await setup(tmp_path, data, START + timedelta(hours=10))
    await poll(store, source, clock, tagger)
    clock.advance(timedelta(days=1))
    out = await poll(store, source, clock, tagger)
    assert out.outcome == "unavailable"
    assert [e.state for e in await store.channel_events()] == ["active", "deleted"]
    await store.close()


async def test_deleted_posts_in_the_resample_window_are_marked_and_expired_ones_apart(
    tmp_path: Path, tagger: Any
) -> None:
    gone_at = (START + timedelta(hours=30)).isoformat()
    msgs = [_msg(1, 1), _msg(2, 2, deleted_at=gone_at), _msg(3, 3), _msg(4, 4, deleted_at=gone_at)]
    store, source, _client, clock = await setup(tmp_path, scenario(messages=msgs), START + timedelta(hours=10))
    await poll(store, source, clock, tagger)
    clock.advance(timedelta(days=1))
    out = await poll(store, source, clock, tagger)
    assert out.deleted == 2
    post = await store.get_post(PostKey(4242, 2))
    assert post is not None  # the row stays
    rows = await store.report_deletions(since_day=0, until_day=40000)
    assert sum(r["deleted"] for r in rows) == 2 and sum(r["expired"] for r in rows) == 0
    assert await store.resample_candidates(4242, since=START) == [1, 3]
    await store.close()


async def test_posts_gone_under_an_auto_delete_timer_are_expired_not_deleted(tmp_path: Path, tagger: Any) -> None:
    gone_at = (START + timedelta(hours=30)).isoformat()
    msgs = [_msg(1, 1, deleted_at=gone_at), _msg(2, 2)]
    store, source, _client, clock = await setup(tmp_path, scenario(messages=msgs, ttl_period=86400),
                                                 START + timedelta(hours=10))
    await poll(store, source, clock, tagger)
    clock.advance(timedelta(days=1))
    out = await poll(store, source, clock, tagger)
    assert out.deleted == 0
    rows = await store.report_deletions(since_day=0, until_day=40000)
    assert sum(r["expired"] for r in rows) == 1 and sum(r["deleted"] for r in rows) == 0
    assert (await store.channel_snapshots(4242))[0].ttl_period == 86400
    await store.close()


async def test_link_previews_from_real_webpage_media_are_stored_and_never_fetched(tmp_path: Path, tagger: Any) -> None:
    msgs = [_msg(1, 1, "yuklab oling https://files.example.net/a.zip", preview={
        "url": "https://files.example.net/a.zip", "title": "a.zip <script>", "site_name": None})]
    store, source, _client, clock = await setup(tmp_path, scenario(messages=msgs), START + timedelta(hours=10))
    await poll(store, source, clock, tagger)
    [row] = await store.report_links(since_day=0, until_day=40000)
    assert (row["domain"], row["preview_title"], row["preview_site"]) == ("files.example.net", "a.zip <script>", None)
    await store.close()


def test_telethon_objects_map_to_states_restrictions_and_previews() -> None:
    assert unavailable_state("private", known=True) == "private"
    assert unavailable_state("not_found", known=True) == "deleted"
    assert unavailable_state("not_found", known=False) == "not_found"
    assert unavailable_state("renamed", known=True) == "username_freed"
    chan = types.Channel(id=1, title="t", photo=types.ChatPhotoEmpty(), date=START, restricted=True,
                         restriction_reason=[types.RestrictionReason("ios", "porn", ""),
                                             types.RestrictionReason("all", "terms", "blocked")])
    assert restriction_text(chan) == "ios:porn; all:terms: blocked"
    assert restriction_text(types.Channel(id=1, title="t", photo=types.ChatPhotoEmpty(), date=START)) is None
    page = types.WebPage(id=1, url="https://x.io/p", display_url="x.io/p", hash=0, title=None, site_name="X")
    got = link_preview(types.MessageMediaWebPage(webpage=page))
    assert got is not None and (got.title, got.site_name) == (None, "X")
    assert link_preview(types.MessageMediaWebPage(webpage=types.WebPageEmpty(id=2))) is None
    assert link_preview(types.MessageMediaWebPage(webpage=types.WebPagePending(id=3, date=START))) is None


async def test_username_errors_of_the_real_client_map_to_lifecycle_states(tmp_path: Path, tagger: Any) -> None:
    """UsernameInvalidError and UsernameNotOccupiedError as Telethon raises them (faults on get_entity)."""
    data = scenario()
    data["faults"] = [{"method": "get_entity", "error": "invalid", "nth": 1}]
    store, source, _client, clock = await setup(tmp_path, data, START + timedelta(hours=10))
    out = await poll(store, source, clock, tagger)
    assert out.outcome == "unavailable"
    [event] = await store.channel_events()
    assert event.state == "invalid"
    await store.close()
