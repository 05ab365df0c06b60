"""The engine over a real SQLite store: alerts and pending deliveries written as posts are saved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.store import open_store as store_at
from monitor.alerts.engine import AlertEngine
from monitor.clock import FrozenClock
from monitor.models import Channel, ForwardOrigin, TaggedPost

from alerts.rules_support import (  # noqa: E402
    CHANNELS,
    T0,
    AlertStore,
    alert_rows,
    config,
    delivery_rows,
    open_store,
    save,
    tagged,
    tags_for,
)

OZOD, KHABAR, HIDDEN = CHANNELS["ozod"], CHANNELS["khabar"], CHANNELS["hidden"]
SINKS = {"alerts": {"sinks": [{"name": "ops-log", "kind": "log"}]}}


def iskp_post(channel: Channel, message_id: int, at: object, *, lang: str = "ru") -> TaggedPost:
    text = f"Сообщение {message_id}: боевики ИГИЛ-Хорасан атаковали блокпост"
    return tagged(channel, message_id, at, text, tags_for(text, lang=lang, groups=[("ISKP", "ИГИЛ-Хорасан")]))  # type: ignore[arg-type]


async def feed(engine: AlertEngine, store: AlertStore, channel: Channel, posts: list[TaggedPost]) -> list:
    result = await save(store, channel, posts, at=engine.clock.now())
    return await engine.on_saved(channel, posts, result.inserted_keys)


@pytest.fixture
async def store(tmp_path: Path) -> AlertStore:
    s = await open_store(tmp_path)
    yield s  # type: ignore[misc]
    await s.close()


async def test_match_writes_alert_and_one_pending_delivery_per_sink(store: AlertStore) -> None:
    cfg = config(
        {"name": "iskp", "kind": "match", "groups": ["ISKP"], "sinks": ["log", "ops-log"]},
        sinks=[{"name": "ops-log", "kind": "log"}],
    )
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    fired = await feed(engine, store, OZOD, [iskp_post(OZOD, 1, T0 - timedelta(minutes=3))])
    assert [a.rule for a in fired] == ["iskp"] and fired[0].id is not None
    rows = await alert_rows(store)
    assert len(rows) == 1 and rows[0]["link"] == "https://t.me/ozod_sado/1"
    assert rows[0]["fired_at"] == int(T0.timestamp())
    deliveries = await delivery_rows(store)
    assert [(d["sink"], d["state"], d["attempts"]) for d in deliveries] == [
        ("log", "pending", 0),
        ("ops-log", "pending", 0),
    ]
    assert {d["alert_id"] for d in deliveries} == {rows[0]["id"]}


async def test_filters_and_non_matching_posts_do_not_fire(store: AlertStore) -> None:
    cfg = config(
        {
            "name": "uz-iskp",
            "kind": "match",
            "groups": ["ISKP"],
            "labels": {"country": "UZ"},
            "languages": ["uz"],
        }
    )
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    recent = T0 - timedelta(minutes=5)
    assert await feed(engine, store, KHABAR, [iskp_post(KHABAR, 1, recent, lang="uz")]) == []  # label TJ
    assert await feed(engine, store, OZOD, [iskp_post(OZOD, 1, recent, lang="ru")]) == []  # language ru
    plain = tagged(OZOD, 2, recent, "Погода в Ташкенте", tags_for("Погода в Ташкенте", lang="uz"))
    assert await feed(engine, store, OZOD, [plain]) == []
    fired = await feed(engine, store, OZOD, [iskp_post(OZOD, 3, recent, lang="uz")])
    assert [a.message_id for a in fired] == [3]
    assert len(await alert_rows(store)) == 1


async def test_only_new_posts_alert_and_dedup_survives_a_restart(tmp_path: Path) -> None:
    cfg = config({"name": "iskp", "kind": "match", "groups": ["ISKP"]})
    post = iskp_post(OZOD, 9, T0 - timedelta(minutes=1))
    store = await open_store(tmp_path)
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    assert len(await feed(engine, store, OZOD, [post])) == 1
    assert await feed(engine, store, OZOD, [post]) == []  # saved again: not inserted, no alert
    await store.close()

    store = store_at(tmp_path / "monitor.db")  # a restarted daemon: new store, new engine
    await store.open()
    try:
        engine = AlertEngine(cfg, store, FrozenClock(T0 + timedelta(minutes=5)))
        assert await feed(engine, store, OZOD, [post]) == []
        # even if the daemon died between save and on_saved and replays the batch as new:
        assert await engine.on_saved(OZOD, [post], [post.post.key]) == []
        assert len(await alert_rows(store)) == 1
        assert len(await delivery_rows(store)) == 1
    finally:
        await store.close()


async def test_cooldown_holds_back_and_counts_what_it_held(store: AlertStore) -> None:
    cfg = config({"name": "iskp", "kind": "match", "groups": ["ISKP"], "cooldown": "1h"})
    clock = FrozenClock(T0)
    engine = AlertEngine(cfg, store, clock)
    assert len(await feed(engine, store, OZOD, [iskp_post(OZOD, 1, clock.now() - timedelta(minutes=1))])) == 1
    clock.advance(timedelta(minutes=10))
    batch = [iskp_post(OZOD, 2, clock.now()), iskp_post(OZOD, 3, clock.now())]
    assert await feed(engine, store, OZOD, batch) == []
    clock.advance(timedelta(minutes=55))
    fired = await feed(engine, store, OZOD, [iskp_post(OZOD, 4, clock.now())])
    assert len(fired) == 1 and fired[0].details["suppressed_by_cooldown"] == 2
    state = await store.query("SELECT last_fired_at, suppressed FROM alert_rules WHERE name = 'iskp'")
    assert state == [{"last_fired_at": int(clock.now().timestamp()), "suppressed": 0}]
    assert [r["message_id"] for r in await alert_rows(store)] == [1, 4]


async def test_backfilled_and_imported_old_posts_feed_history_but_never_alert(store: AlertStore) -> None:
    cfg = config({"name": "iskp", "kind": "match", "groups": ["ISKP"]}, max_post_age="1d")
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    old = [iskp_post(OZOD, i, T0 - timedelta(days=3, minutes=i)) for i in range(1, 20)]
    assert await feed(engine, store, OZOD, old) == []
    assert await alert_rows(store) == []


async def test_a_failing_engine_logs_and_returns_without_raising(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    cfg = config({"name": "iskp", "kind": "match", "groups": ["ISKP"]})
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    post = iskp_post(OZOD, 1, T0)
    await save(store, OZOD, [post], at=T0)
    await store.close()  # the store went away under the engine
    assert await engine.on_saved(OZOD, [post], [post.post.key]) == []


# -- spikes ----------------------------------------------------------------------------------------
async def _weekly_history(store: AlertStore, *, weeks: int, monday_noon: int, other: int) -> None:
    """``weeks`` of ISKP posts: ``monday_noon`` posts in the hour before Monday 12:00, ``other`` posts in
    the same hour on the other days: a weekly rhythm."""
    mid = 10_000
    for week in range(1, weeks + 1):
        for day in range(7):
            end = T0 - timedelta(weeks=week) + timedelta(days=day)
            if end >= T0 - timedelta(hours=1):
                continue
            count = monday_noon if day == 0 else other
            posts = [
                iskp_post(OZOD, (mid := mid + 1), end - timedelta(minutes=5 + 3 * i)) for i in range(count)
            ]
            await save(store, OZOD, posts, at=end)


def spike_rule(**extra: object) -> dict[str, object]:
    return {
        "name": "iskp-spike",
        "kind": "spike",
        "on": "group",
        "groups": ["ISKP"],
        "window": "1h",
        "baseline_periods": 4,
        "min_history": 3,
        "threshold": 4,
        **extra,
    }


async def test_spike_fires_on_a_planted_burst(store: AlertStore) -> None:
    await _weekly_history(store, weeks=5, monday_noon=3, other=3)
    engine = AlertEngine(config(spike_rule()), store, FrozenClock(T0))
    burst = [iskp_post(OZOD, 500 + i, T0 - timedelta(minutes=2 + 2 * i)) for i in range(15)]
    fired = await feed(engine, store, OZOD, burst)
    assert len(fired) == 1
    counts = fired[0].details["counts"]
    assert counts["current"] == 15 and counts["baseline_median"] == 3  # type: ignore[index]
    assert counts["history"] == [3, 3, 3, 3]  # type: ignore[index]
    assert fired[0].details["threshold"] == 4
    assert "baseline median 3" in fired[0].summary
    # more posts of the same burst, same window: one alert per window
    assert await feed(engine, store, OZOD, [iskp_post(OZOD, 600, T0 - timedelta(minutes=1))]) == []


async def test_no_spike_on_a_flat_weekly_rhythm(store: AlertStore) -> None:
    """Monday noon is always busy: 10 posts then are normal against the same hour of earlier Mondays."""
    await _weekly_history(store, weeks=5, monday_noon=10, other=1)
    engine = AlertEngine(config(spike_rule()), store, FrozenClock(T0))
    usual = [iskp_post(OZOD, 500 + i, T0 - timedelta(minutes=3 + 3 * i)) for i in range(10)]
    assert await feed(engine, store, OZOD, usual) == []
    # the same hour judged against the previous days (daily baseline) does look like a spike
    daily = AlertEngine(config(spike_rule(name="daily", baseline="daily")), store, FrozenClock(T0))
    fired = await daily.on_saved(OZOD, usual, [p.post.key for p in usual])
    assert [a.rule for a in fired] == ["daily"]


async def test_spike_stays_quiet_without_enough_history(store: AlertStore) -> None:
    engine = AlertEngine(config(spike_rule()), store, FrozenClock(T0))
    burst = [iskp_post(OZOD, 500 + i, T0 - timedelta(minutes=2 + 2 * i)) for i in range(20)]
    assert await feed(engine, store, OZOD, burst) == []  # a fresh database has no baseline yet


async def test_language_and_channel_spikes(store: AlertStore) -> None:
    await _weekly_history(store, weeks=4, monday_noon=2, other=2)
    cfg = config(
        spike_rule(name="lang", on="language", groups=[]), spike_rule(name="chan", on="channel", groups=[])
    )
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    burst = [iskp_post(OZOD, 500 + i, T0 - timedelta(minutes=2 + i)) for i in range(12)]
    fired = await feed(engine, store, OZOD, burst)
    assert sorted(a.rule for a in fired) == ["chan", "lang"]
    chan = next(a for a in fired if a.rule == "chan")
    assert chan.details["series"] == {"on": "channel", "value": "1001", "label": "ozod_sado"}


# -- terms -------------------------------------------------------------------------------------------
def ru(channel: Channel, mid: int, at: object, text: str) -> TaggedPost:
    return tagged(channel, mid, at, text, tags_for(text, lang="ru"))  # type: ignore[arg-type]


async def test_new_term_fires_once_then_not_again_and_inflections_fold(store: AlertStore) -> None:
    cfg = config({"name": "new-words", "kind": "new_term", "warmup": "1d"})
    clock = FrozenClock(T0)
    engine = AlertEngine(cfg, store, clock)
    history = [
        ru(OZOD, 1, T0 - timedelta(days=5), "Талибы заняли уезд в провинции Кунар"),
        ru(OZOD, 2, T0 - timedelta(days=4), "Боевики покинули провинцию после боёв"),
    ]
    assert await feed(engine, store, OZOD, history) == []  # old posts: history only
    fired = await feed(
        engine,
        store,
        OZOD,
        [ru(OZOD, 3, T0 - timedelta(minutes=2), "Талибов обвинили в применении шахидмобилей")],
    )
    assert len(fired) == 1  # one message per post, listing every new term it brought
    alert = fired[0]
    assert [(t["term"], t["as_written"]) for t in alert.details["terms"]] == [  # type: ignore[union-attr]
        ("обвин", "обвинили"),
        ("применен", "применении"),
        ("шахидмобил", "шахидмобилей"),
    ]
    assert alert.dedup_key == "new-words:post:1001:3" and alert.link == "https://t.me/ozod_sado/3"
    assert "шахидмобилей" in alert.details["terms"][2]["context"]  # type: ignore[index]
    assert alert.details["terms"][2]["posts_before"] == 0  # type: ignore[index]
    assert "'шахидмобилей'" in alert.summary
    clock.advance(timedelta(hours=1))
    again = await feed(engine, store, KHABAR, [ru(KHABAR, 4, clock.now(), "Шахидмобиль и талибы: обвинили")])
    assert again == []  # seen now, and талибы = талибов = талиб


async def test_stop_words_and_numbers_never_fire(store: AlertStore) -> None:
    cfg = config({"name": "new-words", "kind": "new_term", "warmup": "0s", "min_length": 1})
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    text = "и в на что это который которых было будет сказал 2024 100 ва дар ба va bilan uchun the and"
    assert await feed(engine, store, OZOD, [ru(OZOD, 1, T0 - timedelta(minutes=1), text)]) == []
    assert await store.query("SELECT count(*) AS n FROM terms") == [{"n": 0}]


async def test_new_term_waits_for_min_count_and_warmup(store: AlertStore) -> None:
    cfg = config(
        {"name": "nw", "kind": "new_term", "warmup": "3d", "min_count": 2, "term_kinds": ["hashtag"]}
    )
    clock = FrozenClock(T0)
    engine = AlertEngine(cfg, store, clock)
    assert (
        await feed(engine, store, OZOD, [ru(OZOD, 1, T0 - timedelta(hours=2), "#первый_тег")]) == []
    )  # warm-up
    await feed(
        engine, store, OZOD, [ru(OZOD, 2, T0 - timedelta(days=4), "#старый")]
    )  # history now spans 4 days
    assert await feed(engine, store, OZOD, [ru(OZOD, 3, T0 - timedelta(minutes=9), "#хиджрат_2026")]) == []
    fired = await feed(
        engine, store, KHABAR, [ru(KHABAR, 4, T0 - timedelta(minutes=1), "опять #Хиджрат_2026")]
    )
    assert [a.details["terms"][0]["term"] for a in fired] == ["#хиджрат_2026"]  # type: ignore[index]
    assert fired[0].details["terms"][0]["posts_now"] == 2  # type: ignore[index]


async def test_rising_term_against_its_own_history(store: AlertStore) -> None:
    cfg = config(
        {
            "name": "rise",
            "kind": "rising_term",
            "history_days": 14,
            "factor": 3,
            "threshold": 4,
            "term_kinds": ["hashtag"],
        }
    )
    clock = FrozenClock(T0)
    engine = AlertEngine(cfg, store, clock)
    mid = 0
    for day in range(1, 15):  # a steady #кунар (1 a day) and #бадахшан (1 a day)
        at = T0 - timedelta(days=day)
        posts = [ru(OZOD, (mid := mid + 1), at, "#кунар"), ru(OZOD, (mid := mid + 1), at, "#бадахшан")]
        await feed(engine, store, OZOD, posts)
    today = [ru(OZOD, (mid := mid + 1), T0 - timedelta(minutes=m), "#Кунар снова") for m in range(1, 9)]
    today.append(ru(OZOD, (mid := mid + 1), T0 - timedelta(minutes=30), "#бадахшан"))
    fired = await feed(engine, store, OZOD, today)
    assert [a.details["terms"][0]["term"] for a in fired] == ["#кунар"]  # type: ignore[index]
    counts = fired[0].details["counts"]
    assert counts["current"] == 8 and counts["baseline_median"] == 1  # type: ignore[index]
    assert fired[0].dedup_key == f"rise:term:#кунар:{int(T0.timestamp()) // 86400}"


# -- new channels -------------------------------------------------------------------------------------
async def test_new_channel_from_forwards_and_links_fires_once_watched_ones_never(store: AlertStore) -> None:
    cfg = config({"name": "discover", "kind": "new_channel", "min_count": 2})
    clock = FrozenClock(T0)
    engine = AlertEngine(cfg, store, clock)
    at = T0 - timedelta(minutes=5)
    p1 = tagged(
        OZOD,
        1,
        at,
        "репост",
        forward=ForwardOrigin(channel_id=777, name="Jihad Media"),
        mentions=["khabar_tj", "fresh_source"],
    )
    assert await feed(engine, store, OZOD, [p1]) == []  # one post each: below min_count
    p2 = tagged(
        KHABAR,
        1,
        at,
        "ещё",
        forward=ForwardOrigin(channel_id=777, name="Jihad Media"),
        mentions=["ozod_sado"],
    )
    fired = await feed(engine, store, KHABAR, [p2])
    assert [a.details["discovered"]["ref"] for a in fired] == ["id:777"]  # type: ignore[index]
    assert fired[0].details["discovered"]["name"] == "Jihad Media"  # type: ignore[index]
    assert fired[0].details["add_with"] == "monitor channels add 777"
    p3 = tagged(HIDDEN, 1, at, "ссылка", mentions=["fresh_source"], forward=ForwardOrigin(channel_id=777))
    fired = await feed(engine, store, HIDDEN, [p3])
    assert [a.details["discovered"]["ref"] for a in fired] == ["fresh_source"]  # type: ignore[index]
    assert fired[0].link == "https://t.me/c/1003/1"
    p4 = tagged(
        HIDDEN, 2, at, "", mentions=["fresh_source", "ozod_sado"], forward=ForwardOrigin(channel_id=777)
    )
    assert await feed(engine, store, HIDDEN, [p4]) == []  # both already reported; watched never
    hits = await store.query("SELECT ref, hits FROM discovered_channels ORDER BY ref")
    assert {r["ref"]: r["hits"] for r in hits}["id:777"] == 4


async def test_old_per_day_term_counts_are_pruned_but_first_sight_is_kept(store: AlertStore) -> None:
    cfg = config({"name": "rise", "kind": "rising_term", "history_days": 50, "term_kinds": ["hashtag"]})
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    assert engine.term_days_kept() == 50 + 1 + 2
    old = [ru(OZOD, i, T0 - timedelta(days=d), "#давний") for i, d in ((1, 200), (2, 60), (3, 10))]
    await feed(engine, store, OZOD, old)  # the first on_saved prunes
    days = await store.query("SELECT day FROM term_days WHERE term = '#давний' ORDER BY day")
    today = int(T0.timestamp()) // 86400
    assert [today - r["day"] for r in days] == [10]
    kept = await store.query("SELECT total, first_seen_at FROM terms WHERE term = '#давний'")
    assert kept == [{"total": 3, "first_seen_at": int((T0 - timedelta(days=200)).timestamp())}]


async def test_daemon_hooks_write_the_outbox_and_the_worker_drains_it(tmp_path: Path) -> None:
    """With the delivery side: on_saved writes pending rows, the deliverer sends them to the log sink."""
    import asyncio

    from monitor.alerts import daemon_hooks
    from monitor.models import SaveResult

    store = await open_store(tmp_path)
    try:
        hooks = daemon_hooks(
            config({"name": "iskp", "kind": "match", "groups": ["ISKP"]}),
            store=store,
            clock=FrozenClock(T0),
            env={},
        )
        assert hooks.deliverer is not None
        post = iskp_post(OZOD, 1, T0 - timedelta(minutes=1))
        result = await save(store, OZOD, [post], at=T0)
        await hooks.on_saved(OZOD, [post], result)
        await hooks.on_saved(OZOD, [post], SaveResult(unchanged=1))  # re-saved: nothing new
        assert [d["state"] for d in await delivery_rows(store)] == ["pending"]
        await hooks.deliverer.run_once()
        assert [d["state"] for d in await delivery_rows(store)] == ["delivered"]
        stop = asyncio.Event()
        stop.set()
        await hooks.run(stop)  # the worker returns once stop is set
    finally:
        await store.close()


async def test_dry_run_replays_what_the_live_engine_fired(store: AlertStore) -> None:
    from monitor.alerts.dryrun import dry_run

    await _weekly_history(store, weeks=5, monday_noon=3, other=3)
    cfg = config(spike_rule())
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    burst = [iskp_post(OZOD, 500 + i, T0 - timedelta(minutes=2 + 2 * i)) for i in range(15)]
    live = await feed(engine, store, OZOD, burst)
    before = await store.query("SELECT count(*) AS n FROM alerts")
    replay = await dry_run(cfg.rules[0], cfg, store, since=T0 - timedelta(days=3), until=T0 + timedelta(minutes=1))
    assert len(replay.alerts) == 1  # one per rule, series and window
    assert replay.alerts[0].details["series"] == live[0].details["series"]
    assert await store.query("SELECT count(*) AS n FROM alerts") == before  # a dry run writes nothing
    # in the replay the spike is seen as soon as the burst crosses the threshold, not only at its end
    assert replay.alerts[0].details["counts"]["current"] <= 15  # type: ignore[index]
    assert replay.alerts[0].details["counts"]["z"] >= 4  # type: ignore[index]


async def test_spike_counts_respect_label_filters(store: AlertStore) -> None:
    await _weekly_history(store, weeks=5, monday_noon=3, other=3)  # all in the UZ channel
    cfg = config(spike_rule(name="tj-only", labels={"country": "TJ"}))
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    burst = [iskp_post(OZOD, 500 + i, T0 - timedelta(minutes=2 + i)) for i in range(15)]
    assert await feed(engine, store, OZOD, burst) == []  # the UZ channel is outside the filter
    tj = [iskp_post(KHABAR, 900 + i, T0 - timedelta(minutes=2 + i)) for i in range(2)]
    assert await feed(engine, store, KHABAR, tj) == []  # 2 posts: below min_count, UZ posts not counted


async def test_dry_run_cooldown_runs_on_the_collectors_clock(store: AlertStore) -> None:
    """Two ISKP posts published 90 minutes apart but collected by one poll: the collector fires once
    (the second falls in the 1-hour cool-down of the first, judged at the same moment). A replay at
    publication times would predict two; the dry run predicts what the collector did, at its time."""
    from monitor.alerts.dryrun import dry_run

    cfg = config({"name": "iskp", "kind": "match", "groups": ["ISKP"], "cooldown": "1h"})
    engine = AlertEngine(cfg, store, FrozenClock(T0))
    batch = [iskp_post(OZOD, 1, T0 - timedelta(hours=2)), iskp_post(OZOD, 2, T0 - timedelta(minutes=30))]
    live = await feed(engine, store, OZOD, batch)
    assert [a.message_id for a in live] == [1]
    replay = await dry_run(cfg.rules[0], cfg, store, since=T0 - timedelta(days=1))
    assert [(a.message_id, a.fired_at) for a in replay.alerts] == [(1, T0)]
    assert replay.until > T0 - timedelta(minutes=30)  # the default end is the newest post, not today
    published = await dry_run(cfg.rules[0], cfg, store, since=T0 - timedelta(days=1), as_published=True)
    assert [a.message_id for a in published.alerts] == [1, 2]
