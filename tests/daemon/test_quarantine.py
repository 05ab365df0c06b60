"""Quarantine: discovery candidates above the priority threshold are polled through the fake client's real
Telethon objects into a real SQLite store, left out of every report until `monitor discovery accept`."""

from __future__ import annotations

import pytest

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.clock import FrozenClock
from monitor.pipeline import PollOptions, poll_channel
from monitor.errors import ConfigError
from monitor.quarantine import QuarantineRule, poll_quarantined, refresh
from monitor.reports.spec import ReportSpec
from monitor.reports.top import top
from monitor.reports.volume import volume
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
    fan = {"id": 501, "username": "fan_one", "title": "Fan", "subscribers": 900, "messages": [
        _msg(i, i, f"Zaxira kanal t.me/iskp_zaxira obuna bo'ling {i}") for i in range(1, 5)
    ] + [_msg(9, 9, "bir marta @kam_kanal")]}
    zaxira = {"id": 502, "username": "iskp_zaxira", "title": "Zaxira", "subscribers": 300,
              "messages": [_msg(i, i, f"yangi xabar {i}") for i in range(1, 4)]}
    kam = {"id": 503, "username": "kam_kanal", "title": "Kam", "messages": [_msg(1, 1, "boshqa")]}
    return {"format": "monitor-scenario/1", "channels": [fan, zaxira, kam]}


async def _setup(tmp_path: Path, tagger: Any) -> tuple[Any, TelethonSource, FakeTelegramClient, FrozenClock]:
    clock = FrozenClock(START + timedelta(hours=12))
    client = FakeTelegramClient.from_scenario(scenario(), clock)
    source = TelethonSource(client, clock=clock)
    store = store_at(tmp_path / "m.db")
    await store.open()
    await store.sync_watchlist([ref("fan_one")], at=clock.now())
    await source.start()
    out = await poll_channel(ref("fan_one"), source=source, store=store, tagger=tagger, clock=clock, options=OPTS,
                             state=await state_of(store, "fan_one"))
    assert out.outcome == "ok" and out.inserted == 5
    return store, source, client, clock


async def _volume_posts(store: Any, **kw: Any) -> int:
    report = await volume(store, ReportSpec(**kw))
    return sum(int(r["posts"]) for r in report.as_dicts())


async def test_off_by_default_nothing_is_quarantined(tmp_path: Path, tagger: Any) -> None:
    store, source, client, clock = await _setup(tmp_path, tagger)
    assert not QuarantineRule().on
    assert await poll_quarantined(store, source=source, tagger=tagger, clock=clock, options=OPTS,
                                  rule=QuarantineRule()) == []
    assert await store.quarantined() == [] and client.calls["get_entity"] + client.calls["get_input_entity"] <= 1
    await store.close()


async def test_candidates_above_the_threshold_are_polled_apart_until_accepted(tmp_path: Path, tagger: Any) -> None:
    store, source, _client, clock = await _setup(tmp_path, tagger)
    rule = QuarantineRule(above=5.0, most=5)
    outcomes = await poll_quarantined(store, source=source, tagger=tagger, clock=clock, options=OPTS, rule=rule)
    # @iskp_zaxira (four mentions) is above 5; @kam_kanal (one mention) is not and is never asked for
    assert [(o.key, o.outcome, o.inserted) for o in outcomes] == [("iskp_zaxira", "ok", 3)]
    [held] = await store.quarantined()
    assert (held.key, held.ref, held.channel_id, held.accepted_at) == ("iskp_zaxira", "@iskp_zaxira", 502, None)
    assert held.priority >= 5.0
    # not in the watch list, and out of every report by default
    assert [s.key for s in await store.watch_states()] == ["fan_one"]
    assert await _volume_posts(store) == 5
    assert await _volume_posts(store, quarantined=True) == 8
    # asked for by name, a quarantined channel is an error that says why, not a report of zeros
    with pytest.raises(ConfigError, match="quarantine.*--quarantined"):
        await _volume_posts(store, channels=("@iskp_zaxira",))
    assert await _volume_posts(store, channels=("@iskp_zaxira",), quarantined=True) == 3
    ranked = (await top(store, ReportSpec())).as_dicts()
    assert all("zaxira" not in str(r.get("channel")) for r in ranked)
    assert any("zaxira" in str(r.get("channel")) for r in (await top(store, ReportSpec(quarantined=True))).as_dicts())
    # a second round polls it again (after its checkpoint) without adding it twice
    clock.advance(timedelta(hours=1))
    again = await poll_quarantined(store, source=source, tagger=tagger, clock=clock, options=OPTS, rule=rule)
    assert [(o.key, o.inserted) for o in again] == [("iskp_zaxira", 0)]
    assert len(await store.quarantined()) == 1
    # accepted: its posts, collected before, count as watched from now on
    assert await store.accept_quarantined("iskp_zaxira", at=clock.now())
    assert not await store.accept_quarantined("iskp_zaxira", at=clock.now())
    assert await store.quarantined() == []
    assert [q.accepted_at for q in await store.quarantined(include_accepted=True)] == [clock.now()]
    assert await _volume_posts(store) == 8
    assert await refresh(store, rule, at=clock.now()) == []  # an accepted candidate never comes back
    await store.close()


async def test_a_rejected_candidate_is_never_quarantined_and_the_limit_holds(tmp_path: Path, tagger: Any) -> None:
    store, source, _client, clock = await _setup(tmp_path, tagger)
    await store.set_discovery_decision("@iskp_zaxira", "rejected", at=clock.now())
    low = QuarantineRule(above=0.5, most=1)
    [held] = await refresh(store, low, at=clock.now())
    assert held.ref == "@kam_kanal"  # the rejected one is skipped; most=1 stops after one
    outcomes = await poll_quarantined(store, source=source, tagger=tagger, clock=clock, options=OPTS, rule=low)
    assert [(o.key, o.outcome) for o in outcomes] == [("kam_kanal", "ok")]
    await store.close()
