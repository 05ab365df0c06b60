"""The store contract: what every backend's port methods do, run against each backend in BACKENDS.

Only the port (``monitor.store.ports``) is used here: no SQL, no file. A new backend is done when
this file passes for it; ``test_every_port_method_is_exercised`` keeps the suite honest as the
port grows.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import replace
import json
from datetime import timedelta
from pathlib import Path

import pytest
from contract_data import CHANNEL, DAY0, OTHER, T0, alert, tagged, watch

from monitor.errors import StoreClosedError
from monitor.models import (
    Channel,
    ChannelEvent,
    AlertAck,
    AuditEntry,
    AccountState,
    ChannelRef,
    ChannelSnapshot,
    ClaimedDelivery,
    CollectorInfo,
    DiscoveredRow,
    DiscoveryLead,
    LinkPreview,
    MetricSample,
    PostKey,
    RuleNote,
    Series,
    RuleRecord,
    Tags,
    TermRow,
    WebUser,
)
from monitor.store import ports
from monitor.store.ports import Store

# -- lifecycle --------------------------------------------------------------------------------------


async def test_open_is_idempotent_close_too_and_a_closed_store_refuses_work(store: Store) -> None:
    assert store.url
    await store.open()  # already open: nothing happens
    await store.save_posts(CHANNEL.id, [tagged(1)], at=T0)
    assert (await store.counts())["posts"] == 1
    await store.close()
    await store.close()
    with pytest.raises(StoreClosedError):
        await store.save_posts(CHANNEL.id, [tagged(1)], at=T0)
    with pytest.raises(StoreClosedError):
        await store.watch_states()


# -- watch list ---------------------------------------------------------------------------------------


async def test_sync_watchlist_adds_updates_and_unwatches(store: Store) -> None:
    await store.sync_watchlist(
        [ChannelRef(key="a", username="a", labels={"country": "TJ"}), ChannelRef(key="id:7", channel_id=7)], at=T0
    )
    states = await store.watch_states()
    assert [s.key for s in states] == ["a", "id:7"]
    assert states[0].labels == {"country": "TJ"} and states[0].status == "new" and states[0].checkpoint == 0
    assert states[0].channel is None and states[0].watched

    await store.sync_watchlist([ChannelRef(key="a", username="a", labels={"country": "UZ"}, poll_interval=60)], at=T0)
    assert [(s.key, dict(s.labels), s.poll_interval) for s in await store.watch_states()] == [
        ("a", {"country": "UZ"}, 60)
    ]
    every = await store.watch_states(include_unwatched=True)
    assert {s.key: s.watched for s in every} == {"a": True, "id:7": False}


async def test_add_and_remove_watch(store: Store) -> None:
    assert await store.add_watch(ChannelRef(key="new_one", username="new_one"), at=T0)
    assert [s.key for s in await store.watch_states()] == ["new_one"]
    assert await store.remove_watch("new_one")
    assert not await store.remove_watch("new_one")  # already unwatched
    assert not await store.remove_watch("never_there")
    assert await store.watch_states() == []


async def test_resolution_status_and_poll_history(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key="ozod_sado", username="ozod_sado")], at=T0)
    await store.set_resolved("ozod_sado", CHANNEL, at=T0)
    [state] = await store.watch_states()
    assert state.channel == CHANNEL and state.status == "active"

    later = T0 + timedelta(minutes=5)
    await store.set_watch_status("ozod_sado", "parked", reason="flood", retry_at=later, at=T0, error="FLOOD")
    [state] = await store.watch_states()
    assert (state.status, state.status_reason, state.retry_at, state.last_error) == ("parked", "flood", later, "FLOOD")
    assert state.retry_at is not None and state.retry_at.tzinfo is not None

    await store.record_poll("ozod_sado", at=later, error="timeout")
    [state] = await store.watch_states()
    assert state.last_poll_at == later and state.last_error == "timeout" and state.last_success_at is None

    await store.record_poll("ozod_sado", at=later + timedelta(minutes=1))
    [state] = await store.watch_states()
    assert state.status == "active" and state.last_success_at == later + timedelta(minutes=1)


async def test_parks_extend_and_expire(store: Store) -> None:
    await store.park("account", T0 + timedelta(seconds=30), "flood wait")
    await store.park("account", T0 + timedelta(seconds=10), "shorter one")  # never shortens a park
    await store.park("ozod_sado", T0 + timedelta(seconds=5))
    assert await store.parks(now=T0) == {
        "account": T0 + timedelta(seconds=30),
        "ozod_sado": T0 + timedelta(seconds=5),
    }
    assert await store.parks(now=T0 + timedelta(seconds=6)) == {"account": T0 + timedelta(seconds=30)}
    assert await store.parks(now=T0 + timedelta(seconds=31)) == {}


# -- posts ----------------------------------------------------------------------------------------------


async def test_save_posts_is_idempotent_and_moves_the_checkpoint_forward(store: Store) -> None:
    await watch(store)
    batch = [tagged(i, groups=("IS",)) for i in range(1, 6)]
    first = await store.save_posts(CHANNEL.id, batch, at=T0, checkpoint=5, store_text=True)
    assert first.inserted == 5 and first.inserted_keys == tuple(PostKey(CHANNEL.id, i) for i in range(1, 6))
    again = await store.save_posts(CHANNEL.id, batch, at=T0, checkpoint=3)
    assert (again.inserted, again.updated, again.unchanged, again.inserted_keys) == (0, 0, 5, ())
    [state] = await store.watch_states()
    assert state.checkpoint == 5 and state.posts == 5
    assert state.newest_posted_at == T0 + timedelta(hours=5)
    counts = await store.counts()
    assert counts["posts"] == 5 and counts["texts_kept"] == 5 and counts["watched"] == 1


async def test_edits_and_metric_changes_count_as_updates(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(1, "первый текст")], at=T0, store_text=True)
    edited = await store.save_posts(CHANNEL.id, [tagged(1, "исправленный текст")], at=T0, store_text=True)
    viewed = await store.save_posts(CHANNEL.id, [tagged(1, "исправленный текст", views=99)], at=T0, store_text=True)
    assert edited.updated == 1 and viewed.updated == 1
    post = await store.get_post(PostKey(CHANNEL.id, 1))
    assert post is not None and post.text == "исправленный текст" and post.views == 99
    assert (await store.counts())["edits"] == 1


async def test_get_post_round_trips_a_stored_post(store: Store) -> None:
    await watch(store)
    assert await store.get_post(PostKey(CHANNEL.id, 1)) is None
    await store.save_posts(CHANNEL.id, [tagged(1, "ИГИЛ <script>", groups=("IS",))], at=T0, store_text=True)
    post = await store.get_post(PostKey(CHANNEL.id, 1))
    assert post is not None
    assert (post.key, post.text, post.lang, post.script, post.groups) == (
        PostKey(CHANNEL.id, 1), "ИГИЛ <script>", "ru", "Cyrl", ("IS",)
    )
    assert post.posted_at == T0 + timedelta(hours=1) and post.posted_at.tzinfo is not None
    assert post.channel_username == "ozod_sado" and post.tagger_version == "test@1"


async def test_text_is_kept_only_when_asked_and_purged_by_age(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(1)], at=T0, store_text=False)
    await store.save_posts(CHANNEL.id, [tagged(2), tagged(30)], at=T0, store_text=True)
    assert (await store.get_post(PostKey(CHANNEL.id, 1))).text is None  # type: ignore[union-attr]
    assert await store.purge_text(before=T0 + timedelta(hours=10)) == 1
    assert (await store.get_post(PostKey(CHANNEL.id, 2))).text is None  # type: ignore[union-attr]
    assert (await store.get_post(PostKey(CHANNEL.id, 30))).text == "post number 30"  # type: ignore[union-attr]


async def test_samples_and_resample_candidates(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(1), tagged(2), tagged(3)], at=T0)
    before = (await store.counts())["samples"]
    await store.record_samples(
        [MetricSample(channel_id=CHANNEL.id, message_id=2, sampled_at=T0 + timedelta(hours=9), views=50, forwards=2)]
    )
    assert (await store.counts())["samples"] == before + 1
    assert await store.resample_candidates(CHANNEL.id, since=T0 + timedelta(hours=2)) == [2, 3]
    assert await store.resample_candidates(OTHER.id, since=T0) == []


async def test_retag_pages_counts_and_updates(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(i) for i in range(1, 6)], at=T0, store_text=True)
    assert await store.count_for_retag(after=None) == 5
    page = await store.posts_for_retag(after=None, limit=2)
    assert [p.message_id for p in page] == [1, 2]
    page = await store.posts_for_retag(after=page[-1].key, limit=10)
    assert [p.message_id for p in page] == [3, 4, 5]
    assert await store.count_for_retag(after=PostKey(CHANNEL.id, 3)) == 2

    await store.update_tags([(PostKey(CHANNEL.id, 1), Tags(lang="tg", script="Cyrl", groups=("IMU",)), "test@2")])
    post = await store.get_post(PostKey(CHANNEL.id, 1))
    assert post is not None and (post.lang, post.groups, post.tagger_version) == ("tg", ("IMU",), "test@2")
    assert await store.count_for_retag(after=None, stale_only_version="test@2") == 4
    stale = await store.posts_for_retag(after=None, limit=9, stale_only_version="test@2")
    assert [p.message_id for p in stale] == [2, 3, 4, 5]


# -- daemon state --------------------------------------------------------------------------------------


async def test_heartbeat_keeps_the_last_beat(store: Store) -> None:
    assert await store.last_heartbeat() is None
    await store.heartbeat(pid=41, started_at=T0, at=T0 + timedelta(seconds=5))
    await store.heartbeat(pid=42, started_at=T0, at=T0 + timedelta(seconds=35))
    assert await store.last_heartbeat() == (42, T0, T0 + timedelta(seconds=35))


async def test_counts_of_an_empty_store(store: Store) -> None:
    counts = await store.counts()
    assert {k: counts[k] for k in ("posts", "channels", "watched", "samples", "edits", "texts_kept")} == dict.fromkeys(
        ("posts", "channels", "watched", "samples", "edits", "texts_kept"), 0
    )


# -- report reads ----------------------------------------------------------------------------------------


async def _report_data(store: Store) -> None:
    await watch(store, CHANNEL, OTHER, labels={"country": "TJ"})
    await store.save_posts(
        CHANNEL.id,
        [
            tagged(1, "ИГИЛ и Талибан", groups=("IS", "TALIBAN"), views=100, mentions=("manba",)),
            tagged(2, "ИГИЛ снова", groups=("IS",), views=50, forward_from=OTHER.id),
            tagged(3, "nothing here", lang="en", views=5, hours=30),
        ],
        at=T0,
        store_text=True,
    )
    await store.record_samples(
        [MetricSample(channel_id=CHANNEL.id, message_id=1, sampled_at=T0 + timedelta(hours=3), views=150, forwards=3)]
    )


async def test_report_day_range_and_channels(store: Store) -> None:
    assert await store.report_day_range() is None
    await _report_data(store)
    assert await store.report_day_range() == (DAY0, DAY0 + 1)
    channels = {c["id"]: c for c in await store.report_channels()}
    assert channels[CHANNEL.id]["username"] == "ozod_sado" and channels[CHANNEL.id]["watched"]
    assert channels[CHANNEL.id]["labels"] == {"country": "TJ"}


async def test_report_volume_names_a_logical_source(store: Store) -> None:
    await _report_data(store)
    rows, source = await store.report_volume(since_day=DAY0, until_day=DAY0 + 1, every="day", dims=())
    assert {int(r["bucket"]): int(r["posts"]) for r in rows} == {DAY0: 2, DAY0 + 1: 1}
    assert not source.startswith("agg_") and source
    rows, source = await store.report_volume(
        since_day=DAY0, until_day=DAY0 + 1, every="month", dims=("group",), channel_ids=[CHANNEL.id]
    )
    assert {r["tag_group"]: int(r["posts"]) for r in rows} == {"IS": 2, "TALIBAN": 1}
    assert "_" not in source
    rows, _ = await store.report_volume(
        since_day=DAY0, until_day=DAY0 + 1, every="day", dims=("lang",), langs=[("en", None)]
    )
    assert [(r["lang"], int(r["posts"])) for r in rows] == [("en", 1)]
    with pytest.raises(ValueError):
        await store.report_volume(since_day=DAY0, until_day=DAY0, every="day", dims=("colour",))
    with pytest.raises(TypeError):  # a misspelt filter is refused, not read as "all channels"
        await store.report_volume(since_day=DAY0, until_day=DAY0, every="day", dims=(), channel_id=[CHANNEL.id])


async def test_report_top_posts_pairs_and_samples(store: Store) -> None:
    await _report_data(store)
    top = await store.report_top_posts(since_day=DAY0, until_day=DAY0 + 1, order="views", limit=2)
    assert [int(r["message_id"]) for r in top] == [1, 2]
    only_is = await store.report_top_posts(
        since_day=DAY0, until_day=DAY0 + 1, order="views", limit=9, tags={"group": ["TALIBAN"]}
    )
    assert [int(r["message_id"]) for r in only_is] == [1]
    pairs = await store.report_pairs(since_day=DAY0, until_day=DAY0 + 1)
    assert len(pairs) == 1 and int(pairs[0]["posts"]) == 1
    samples = await store.report_samples(since_day=DAY0, until_day=DAY0 + 1)
    assert any(int(s["message_id"]) == 1 for s in samples)


async def test_report_fingerprints_forwards_and_mentions(store: Store) -> None:
    await _report_data(store)
    prints = await store.report_fingerprints(since_day=DAY0, until_day=DAY0 + 1, min_length=1)
    assert {int(r["message_id"]) for r in prints} == {1, 2, 3}
    assert await store.report_fingerprints(since_day=DAY0, until_day=DAY0 + 1, min_length=10_000) == []
    edges = await store.report_forward_edges(since_day=DAY0, until_day=DAY0 + 1)
    assert [(int(e["source"]), int(e["target"]), int(e["posts"])) for e in edges] == [(OTHER.id, CHANNEL.id, 1)]
    assert await store.report_forward_names([OTHER.id]) == {OTHER.id: "Src"}
    mentions = await store.report_mentions(since_day=DAY0, until_day=DAY0 + 1)
    assert mentions, "the mention of @manba is reported"


async def test_report_posts_pages_the_posts_behind_a_cell_oldest_first(store: Store) -> None:
    await _report_data(store)
    every = await store.report_posts(since_day=DAY0, until_day=DAY0 + 1, limit=10)
    assert [int(r["message_id"]) for r in every] == [1, 2, 3]
    first = every[0]
    assert first["text"] == "ИГИЛ и Талибан" and first["username"] == "ozod_sado" and int(first["views"]) == 100
    assert json.loads(first["groups"]) == ["IS", "TALIBAN"] and json.loads(first["links"]) == []
    assert [(m["canonical"], m["start"], m["end"]) for m in json.loads(first["matches"])] == [("IS", 0, 2),
                                                                                             ("TALIBAN", 0, 7)]
    page = await store.report_posts(since_day=DAY0, until_day=DAY0 + 1, limit=1, offset=1)
    assert [int(r["message_id"]) for r in page] == [2]
    only = await store.report_posts(since_day=DAY0, until_day=DAY0, limit=10, tags={"group": ["TALIBAN"]},
                                    langs=[("ru", None)], scripts=["Cyrl"], channel_ids=[CHANNEL.id])
    assert [int(r["message_id"]) for r in only] == [1]
    assert await store.report_posts(since_day=DAY0 + 1, until_day=DAY0 + 1, limit=10, channel_ids=[OTHER.id]) == []


# -- the web dashboard's users, audit and acknowledgements -------------------------------------------------


async def test_web_users_are_added_replaced_and_removed_each_write_audited(store: Store) -> None:
    assert await store.web_user("ana") is None and await store.web_users() == []
    ana = WebUser(name="ana", password_hash="$argon2id$x", role="viewer", created_at=T0, updated_at=T0)
    added = await store.save_web_user(ana, audit=AuditEntry(actor="cli:root", action="user.add", target="ana", at=T0))
    assert added is True and await store.web_user("ana") == ana
    later = T0 + timedelta(hours=1)
    changed = WebUser(name="ana", password_hash="$argon2id$y", role="editor", created_at=later, updated_at=later)
    assert await store.save_web_user(changed, audit=AuditEntry(actor="cli:root", action="user.passwd",
                                                               target="ana", at=later, detail={"role": "editor"})) is False
    got = await store.web_user("ana")
    assert got is not None and got.password_hash == "$argon2id$y" and got.role == "editor"
    assert got.created_at == T0 and got.updated_at == later  # added once, changed since
    assert [u.name for u in await store.web_users()] == ["ana"]
    gone = AuditEntry(actor="cli:root", action="user.remove", target="ana", at=later)
    assert await store.remove_web_user("ana", audit=gone) is True
    assert await store.remove_web_user("ana", audit=gone) is False  # nothing removed, nothing recorded
    await store.record_audit(AuditEntry(actor="bob", action="login", target="", at=later, detail={"ip": "127.0.0.1"}))
    log = await store.audit_log()
    assert [(e.actor, e.action, e.target) for e in log] == [
        ("bob", "login", ""), ("cli:root", "user.remove", "ana"), ("cli:root", "user.passwd", "ana"),
        ("cli:root", "user.add", "ana")]
    assert log[0].detail == {"ip": "127.0.0.1"} and log[2].detail == {"role": "editor"} and log[0].at == later
    assert [e.id for e in log] == sorted((e.id for e in log), reverse=True)
    assert len(await store.audit_log(limit=2)) == 2


async def test_an_alert_is_acknowledged_once_and_audited(store: Store) -> None:
    async with store.alert_transaction() as tx:
        saved = await tx.insert_alert(alert(1), ["log"], now=T0)
    assert saved is not None and saved.id is not None
    assert await store.alert_acks([saved.id]) == {}
    ack = await store.acknowledge_alert(saved.id, actor="ed", at=T0)
    assert ack == AlertAck(alert_id=saved.id, actor="ed", at=T0)
    again = await store.acknowledge_alert(saved.id, actor="other", at=T0 + timedelta(hours=1))
    assert again == ack  # the first acknowledgement stands
    assert await store.acknowledge_alert(saved.id + 1000, actor="ed", at=T0) is None
    assert await store.alert_acks([saved.id, saved.id + 1000]) == {saved.id: ack}
    assert [(e.actor, e.action, e.target) for e in await store.audit_log()] == [("ed", "alert.ack", str(saved.id))]


# -- alert history -----------------------------------------------------------------------------------------


async def test_term_history_counts_seeds_and_prunes(store: Store) -> None:
    first = T0 - timedelta(days=3)
    async with store.alert_transaction() as tx:
        await tx.add_terms([TermRow("хиджрат", "word", DAY0 - 3, 2, first, CHANNEL.id, 7),
                            TermRow("хиджрат", "word", DAY0, 1, T0, CHANNEL.id, 9)])
    async with store.alert_transaction() as tx:
        await tx.add_terms([TermRow("хиджрат", "word", DAY0, 1, T0, CHANNEL.id, 10)])
        await tx.seed_terms([TermRow("сир", "word", DAY0, 4, T0, None, None)])
        await tx.seed_terms([TermRow("сир", "word", DAY0, 4, T0, None, None)])  # seeding twice: no double count
    reader = store.alert_reader()
    stats = await reader.term_stats(["хиджрат", "сир", "unknown"])
    assert set(stats) == {"хиджрат", "сир"}
    assert stats["хиджрат"].total == 4 and stats["хиджрат"].first_seen_at == first
    assert stats["сир"].total == 4
    assert await reader.term_days(["хиджрат"], DAY0 - 10, DAY0) == {"хиджрат": {DAY0 - 3: 2, DAY0: 2}}
    assert await reader.history_start() == first
    async with store.alert_transaction() as tx:
        assert await tx.prune_term_days(DAY0 - 1) == 1
        assert await tx.term_days(["хиджрат"], DAY0 - 10, DAY0) == {"хиджрат": {DAY0: 2}}
    assert await reader.history_start() == first  # first sight survives pruning


async def test_discovered_channels_count_up_and_seed(store: Store) -> None:
    async with store.alert_transaction() as tx:
        await tx.add_discovered([DiscoveredRow("manba", "Manba", "forward", T0, CHANNEL.id, 2, 2)])
        await tx.add_discovered([DiscoveredRow("manba", "Manba", "link", T0, CHANNEL.id, 3, 1)])
    assert await store.alert_reader().discovered(["manba", "other"]) == {"manba": 3}
    async with store.alert_transaction() as tx:
        await tx.add_discovered([DiscoveredRow("manba", "Manba", "link", T0, CHANNEL.id, 3, 3)], seed=True)
    assert await store.alert_reader().discovered(["manba"]) == {"manba": 3}


async def test_rules_alerts_and_their_outbox_rows(store: Store) -> None:
    async with store.alert_transaction() as tx:
        await tx.note_rule(RuleNote("r1", "match", T0, detection_hash="h1", seeded=True))
        saved = await tx.insert_alert(alert(1), ["log", "webhook", "log"], now=T0)
        assert saved is not None and saved.id is not None
        assert await tx.insert_alert(alert(1), ["log"], now=T0) is None  # same dedup key: kept once
        assert await tx.alert_exists("r1:1") and not await tx.alert_exists("r1:2")
        await tx.note_rule(RuleNote("r1", "match", T0 + timedelta(minutes=1), fired=True))
        await tx.note_rule(RuleNote("r1", "match", T0 + timedelta(minutes=2), suppressed=2))
    records = await store.alert_reader().rule_records()
    assert records["r1"] == RuleRecord("r1", "match", "h1", T0, T0 + timedelta(minutes=1), 2)
    assert (await store.rule_states())["r1"] == records["r1"]

    [stored] = await store.list_alerts()
    assert stored.alert == saved and dict(stored.deliveries) == {"log": "pending", "webhook": "pending"}
    assert stored.alert.fired_at == T0 and stored.alert.details == {"terms": ["ИГИЛ"], "n": 1}
    assert await store.list_alerts(rule="other") == []
    assert await store.list_alerts(since=T0 + timedelta(seconds=1)) == []
    assert sorted(await store.pending_sinks()) == ["log", "webhook"]


async def test_a_failed_alert_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.alert_transaction() as tx:
            await tx.insert_alert(alert(1), ["log"], now=T0)
            raise RuntimeError("engine bug")
    assert await store.list_alerts() == []
    assert not await store.alert_reader().alert_exists("r1:1")


async def test_history_reads_of_posts_and_watched_channels(store: Store) -> None:
    await _report_data(store)
    reader = store.alert_reader()
    assert await reader.posts_start() == T0 + timedelta(hours=1)
    refs = await reader.watched_refs()
    assert {"ozod_sado", "manba", f"id:{CHANNEL.id}"} <= refs
    assert await reader.channel_labels(CHANNEL.id) == {"country": "TJ"}
    assert await reader.channel_labels(999) == {}
    assert sorted(await reader.channel_ids_with_labels([("country", ["TJ"])])) == [CHANNEL.id, OTHER.id]
    assert await reader.channel_ids_with_labels([("country", ["UZ"])]) == []
    assert await reader.channel_ids_for_keys(["ozod_sado", "id:5"]) == [5, CHANNEL.id]
    window = (T0, T0 + timedelta(hours=2))
    assert await reader.series_counts(Series("group", "IS"), [window, (T0 - timedelta(days=1), T0)]) == [2, 0]
    assert await reader.series_counts(Series("language", "en"), [(T0, T0 + timedelta(days=2))]) == [1]
    assert await reader.series_counts(Series("channel", str(CHANNEL.id), (CHANNEL.id,)), [window]) == [2]


async def test_replay_tagged_and_referencing_posts(store: Store) -> None:
    await _report_data(store)
    page = await store.replay_posts(limit=2)
    assert [(t.post.message_id, user) for t, user in page] == [(1, "ozod_sado"), (2, "ozod_sado")]
    assert page[0][0].tags.groups == ("IS", "TALIBAN") and page[0][0].post.text == "ИГИЛ и Талибан"
    last = page[-1][0].post
    rest = await store.replay_posts(after=(int(last.posted_at.timestamp()), last.channel_id, last.message_id))
    assert [t.post.message_id for t, _ in rest] == [3]
    assert [t.post.message_id for t, _ in await store.replay_posts(since=T0 + timedelta(hours=20))] == [3]
    tagged_rows = await store.tagged_posts("group", ["TALIBAN"])
    assert [(r["message_id"], r["value"]) for r in tagged_rows] == [(1, "TALIBAN")]
    refs = await store.referencing_posts()
    assert {r["message_id"] for r in refs} == {1, 2}


async def test_replay_in_stored_order_with_the_moment_each_was_stored(store: Store) -> None:
    assert await store.newest_post_at() is None
    await _report_data(store)
    await watch(store, OTHER)
    await store.save_posts(OTHER.id, [tagged(7, "later batch", channel=OTHER, hours=-2)], at=T0 + timedelta(hours=1))
    assert await store.newest_post_at() == T0 + timedelta(hours=30)
    rows = await store.replay_stored(limit=3)
    # stored order: the first batch (saved at T0, in insertion order), then the later one
    assert [(t.post.channel_id, t.post.message_id) for t, _, _, _ in rows] == [(CHANNEL.id, 1), (CHANNEL.id, 2), (CHANNEL.id, 3)]
    assert {stored for _, _, stored, _ in rows} == {T0}
    last = rows[-1]
    rest = await store.replay_stored(after=(int(last[2].timestamp()), last[3]))
    assert [(t.post.channel_id, t.post.message_id, stored) for t, _, stored, _ in rest] == [
        (OTHER.id, 7, T0 + timedelta(hours=1))
    ]
    since = await store.replay_stored(since=T0 + timedelta(hours=20))
    assert [t.post.message_id for t, _, _, _ in since] == [3]


# -- outbox ------------------------------------------------------------------------------------------------


async def _outbox(store: Store, n: int = 3) -> list[int]:
    ids = []
    async with store.alert_transaction() as tx:
        for i in range(1, n + 1):
            saved = await tx.insert_alert(alert(i, at=T0 + timedelta(minutes=i)), ["log"], now=T0)
            assert saved is not None and saved.id is not None
            ids.append(saved.id)
    return ids


async def test_claim_mark_delivered_and_never_claim_again(store: Store) -> None:
    ids = await _outbox(store)
    lease = T0 + timedelta(minutes=10)
    claimed = await store.claim_deliveries("log", now=T0, lease_until=lease, limit=2)
    assert [c.alert.id for c in claimed] == ids[:2] and all(isinstance(c, ClaimedDelivery) for c in claimed)
    assert [c.attempt for c in claimed] == [1, 1]
    assert claimed[0].alert.summary == "alert 1 <b>"
    assert await store.mark_delivered("log", [(c.alert.id or 0, c.attempt) for c in claimed], at=T0) == 2
    assert await store.mark_delivered("log", [(ids[0], 7)], at=T0) == 0  # not this claim: nothing changes
    rest = await store.claim_deliveries("log", now=T0, lease_until=lease, limit=10)
    assert [c.alert.id for c in rest] == ids[2:]
    assert await store.claim_deliveries("log", now=T0, lease_until=lease, limit=10) == []
    counts = await store.delivery_counts()
    assert counts[("log", "delivered")] == 2 and counts[("log", "sending")] == 1


async def test_retry_fail_requeue_and_recover_in_doubt(store: Store) -> None:
    ids = await _outbox(store, 2)
    lease = T0 + timedelta(minutes=1)
    one, two = await store.claim_deliveries("log", now=T0, lease_until=lease, limit=10)
    assert await store.mark_retry("log", [(ids[0], one.attempt)], next_attempt_at=T0 + timedelta(minutes=5),
                                  error="503") == 1
    assert await store.claim_deliveries("log", now=T0 + timedelta(minutes=4), lease_until=lease, limit=9) == []
    [again] = await store.claim_deliveries("log", now=T0 + timedelta(minutes=5), lease_until=lease, limit=9)
    assert again.attempt == 2
    assert await store.mark_failed("log", [(ids[0], 2)], at=T0, error="gone") == 1
    assert await store.requeue_failed(at=T0 + timedelta(minutes=6)) == 1
    # the second claim was never marked: in doubt once its lease is over
    assert await store.recover_in_doubt(now=T0, resend=True, max_attempts=5) == 0
    assert await store.recover_in_doubt(now=lease + timedelta(seconds=1), resend=True, max_attempts=5) >= 1
    claimed = await store.claim_deliveries("log", now=T0 + timedelta(minutes=7), lease_until=lease, limit=9)
    assert sorted(c.alert.id or 0 for c in claimed) == sorted(ids)
    assert two.alert.id == ids[1]


async def test_claim_digest_waits_for_the_period_to_end(store: Store) -> None:
    await _outbox(store, 2)  # fired at T0 + 1 min and + 2 min
    hour = 3600
    lease = T0 + timedelta(hours=3)
    assert await store.claim_digest("log", now=T0 + timedelta(minutes=30), period_seconds=hour,
                                    lease_until=lease, limit=10) is None
    got = await store.claim_digest("log", now=T0 + timedelta(hours=1), period_seconds=hour, lease_until=lease,
                                   limit=10)
    assert got is not None
    start, claimed = got
    assert start == T0 and len(claimed) == 2
    assert await store.mark_delivered("log", [(c.alert.id or 0, c.attempt) for c in claimed], at=T0,
                                      digested=True) == 2
    assert (await store.delivery_counts())[("log", "digested")] == 2
    assert await store.pending_sinks() == []


# -- the suite covers the port -------------------------------------------------------------------------------


async def test_bulk_copy_exports_in_key_order_and_imports_idempotently(store: Store) -> None:
    from monitor.store.admin import bulk_of

    bulk = bulk_of(store)
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(m, groups=("IS", "ISKP")) for m in (3, 1, 2)], at=T0)
    assert await bulk.schema_version() > 0
    first = await bulk.export_rows("posts", None, 2)
    assert [r[:2] for r in first] == [(CHANNEL.id, 1), (CHANNEL.id, 2)]
    rest = await bulk.export_rows("posts", first[-1][:2], 10)
    assert [r[:2] for r in rest] == [(CHANNEL.id, 3)]
    assert await bulk.export_rows("posts", rest[-1][:2], 10) == []
    for _ in range(2):  # the same chunk twice (a resumed copy) stores it once
        await bulk.import_rows("parks", [("account", int(T0.timestamp()), "flood")], job="src", cursor=("account",),
                               copied=1)
    assert (await bulk.table_counts(["parks", "posts", "post_tags"])) == {"parks": 1, "posts": 3, "post_tags": 6}
    assert await bulk.copy_progress("src") == {"parks": (("account",), 1, False)}
    await bulk.finish_table("parks", job="src")
    assert (await bulk.copy_progress("src"))["parks"][2] is True
    assert await bulk.copy_jobs() == ["src"]
    assert await bulk.copy_progress("elsewhere") == {}
    assert await bulk.aggregate_drift() == []


# -- channel history: lifecycle, snapshots, deletions, out-links, discovery decisions -------------------


async def test_channel_events_are_kept_in_time_order_and_filtered(store: Store) -> None:
    await store.add_channel_event(ChannelEvent(key="ozod_sado", channel_id=CHANNEL.id, state="active", at=T0))
    later = T0 + timedelta(days=3)
    gone = ChannelEvent(key="ozod_sado", channel_id=CHANNEL.id, state="banned", at=later, reason="ChannelForbidden")
    await store.add_channel_event(gone)
    await store.add_channel_event(gone)  # the same change twice is one row
    await store.add_channel_event(ChannelEvent(key="id:7", channel_id=None, state="private", at=T0, reason="x"))
    every = await store.channel_events()
    assert [(e.key, e.state) for e in every] == [("id:7", "private"), ("ozod_sado", "active"), ("ozod_sado", "banned")]
    assert every[2] == gone and every[2].at.tzinfo is not None
    assert [e.state for e in await store.channel_events(keys=["ozod_sado"])] == ["active", "banned"]
    assert [e.state for e in await store.channel_events(since=T0 + timedelta(days=1))] == ["banned"]
    assert [e.key for e in await store.channel_events(until=later)] == ["id:7", "ozod_sado"]
    assert await store.channel_events(keys=[]) == []


async def test_channel_snapshots_keep_the_profile_history(store: Store) -> None:
    first = ChannelSnapshot(channel_id=CHANNEL.id, observed_at=T0, title="Ozod sado", username="ozod_sado",
                            about="яңгиликлар", subscribers=1200, restriction=None, ttl_period=None)
    second = ChannelSnapshot(channel_id=CHANNEL.id, observed_at=T0 + timedelta(days=1), title="Ozod sado 2",
                             username=None, about=None, subscribers=None, restriction="all:terms: blocked",
                             ttl_period=86400)
    await store.add_channel_snapshot(second)
    await store.add_channel_snapshot(first)
    assert await store.channel_snapshots(CHANNEL.id) == [first, second]
    assert await store.channel_snapshots(CHANNEL.id, since=T0 + timedelta(hours=1)) == [second]
    assert await store.channel_snapshots(OTHER.id) == []


async def test_deleted_posts_keep_their_row_and_leave_the_resample(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(1), tagged(2), tagged(3)], at=T0, store_text=True)
    assert await store.mark_deleted(CHANNEL.id, [2, 99], at=T0 + timedelta(hours=5), kind="deleted") == 1
    assert await store.mark_deleted(CHANNEL.id, [2, 3], at=T0 + timedelta(hours=6), kind="expired") == 1
    assert await store.mark_deleted(CHANNEL.id, [], at=T0, kind="deleted") == 0
    kept = await store.get_post(PostKey(CHANNEL.id, 2))
    assert kept is not None and kept.text == "post number 2"  # the row and its text stay
    assert await store.resample_candidates(CHANNEL.id, since=T0 - timedelta(days=1)) == [1]
    rows = await store.report_deletions(since_day=DAY0 - 1, until_day=DAY0 + 1)
    assert [(r["channel_id"], r["posts"], r["deleted"], r["expired"]) for r in rows] == [(CHANNEL.id, 3, 1, 1)]
    assert await store.report_deletions(since_day=DAY0, until_day=DAY0, channel_ids=[OTHER.id]) == []


async def test_out_links_are_stored_with_domain_and_preview_in_the_save(store: Store) -> None:
    await watch(store)
    base = tagged(1, "see https://WWW.Example.org/a and files", groups=("ISKP",))
    post = replace(base.post, links=("https://WWW.Example.org/a", "http://files.host.io/x?y=1", "https://WWW.Example.org/a"),
                   preview=LinkPreview(url="http://files.host.io/x?y=1", title="Payload <b>", site_name=None))
    await store.save_posts(CHANNEL.id, [replace(base, post=post), tagged(2, lang="uz")], at=T0)
    await store.save_posts(CHANNEL.id, [replace(base, post=post)], at=T0)  # a re-save adds nothing
    rows = await store.report_links(since_day=DAY0 - 1, until_day=DAY0 + 1)
    got = sorted((r["domain"], r["url"], r["preview_title"], r["preview_site"], r["groups"], r["deleted"]) for r in rows)
    assert got == [
        ("example.org", "https://WWW.Example.org/a", None, None, ["ISKP"], False),
        ("files.host.io", "http://files.host.io/x?y=1", "Payload <b>", None, ["ISKP"], False),
    ]
    assert await store.report_links(since_day=DAY0 - 1, until_day=DAY0 + 1, langs=[("uz", None)]) == []
    assert len(await store.report_links(since_day=DAY0 - 1, until_day=DAY0 + 1, tags={"group": ["ISKP"]})) == 2
    await store.mark_deleted(CHANNEL.id, [1], at=T0, kind="deleted")
    assert await store.report_links(since_day=DAY0 - 1, until_day=DAY0 + 1, include_deleted=False) == []
    assert {r["deleted"] for r in await store.report_links(since_day=DAY0 - 1, until_day=DAY0 + 1)} == {True}


async def test_references_carry_the_evidence_the_discovery_queue_needs(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [
        tagged(1, "zaxira kanal t.me/yangi_kanal", mentions=("yangi_kanal",), groups=("IMU",), lang="uz"),
        tagged(2, forward_from=OTHER.id),
        tagged(3),
    ], at=T0, store_text=True)
    rows = await store.report_references(since_day=DAY0 - 1, until_day=DAY0 + 1)
    assert [(r["message_id"], r["fwd_channel_id"], r["mentions"], r["groups"], r["lang"]) for r in rows] == [
        (1, None, ["yangi_kanal"], ["IMU"], "uz"), (2, OTHER.id, [], [], "ru")]
    assert "text" not in rows[0] and rows[0]["posted_at"] == int(T0.timestamp()) + 3600
    assert await store.report_references(since_day=DAY0 - 1, until_day=DAY0 + 1, channel_ids=[OTHER.id]) == []


async def test_discovery_decisions_are_remembered_and_the_last_one_counts(store: Store) -> None:
    assert await store.discovery_decisions() == {}
    await store.set_discovery_decision("@zaxira", "rejected", at=T0, note="a fan page")
    await store.set_discovery_decision("@yangi", "accepted", at=T0)
    await store.set_discovery_decision("@zaxira", "accepted", at=T0 + timedelta(hours=1), note="it is the successor")
    assert await store.discovery_decisions() == {
        "@yangi": ("accepted", T0, None),
        "@zaxira": ("accepted", T0 + timedelta(hours=1), "it is the successor"),
    }


async def test_quarantine_is_polled_unwatched_and_ends_on_accept(store: Store) -> None:
    assert await store.quarantined() == []
    assert await store.add_quarantine("zaxira", "@zaxira", 7.5, at=T0)
    assert not await store.add_quarantine("zaxira", "@zaxira", 9.0, at=T0 + timedelta(hours=1))  # already held
    await store.sync_watchlist([ChannelRef(key="kept", username="kept")], at=T0)
    assert not await store.add_quarantine("kept", "@kept", 6.0, at=T0)  # a watched channel is never quarantined
    assert await store.add_quarantine("later", "@later", 5.0, at=T0)
    [later, zax] = await store.quarantined()
    assert (zax.key, zax.ref, zax.priority, zax.since, zax.channel_id, zax.accepted_at) == (
        "zaxira", "@zaxira", 7.5, T0, None, None)
    assert later.key == "later" and later.priority == 5.0
    assert [s.key for s in await store.watch_states()] == ["kept"]  # the quarantined ones are not watched
    unwatched = {s.key: s for s in await store.watch_states(include_unwatched=True)}
    assert not unwatched["zaxira"].watched and unwatched["zaxira"].labels == {"quarantine": "@zaxira"}
    await store.set_resolved("zaxira", Channel(id=606, username="zaxira", title="Zaxira", access_hash=6), at=T0)
    assert [q.channel_id for q in await store.quarantined() if q.key == "zaxira"] == [606]
    assert await store.accept_quarantined("zaxira", at=T0 + timedelta(days=1))
    assert not await store.accept_quarantined("zaxira", at=T0 + timedelta(days=2))
    assert not await store.accept_quarantined("never_held", at=T0)
    assert [q.key for q in await store.quarantined()] == ["later"]
    assert [(q.key, q.accepted_at) for q in await store.quarantined(include_accepted=True)] == [
        ("later", None), ("zaxira", T0 + timedelta(days=1))]


async def test_discovery_leads_are_upserted_per_ref_via_and_basis(store: Store) -> None:
    assert await store.discovery_leads() == []
    await store.add_discovery_leads([])
    rec = DiscoveryLead(ref="@zaxira", username="zaxira", channel_id=606, title="Zaxira", via="recommended",
                        basis="@ozod_sado", seen_at=T0)
    tag = DiscoveryLead(ref="@zaxira", username="zaxira", channel_id=606, title=None, via="hashtag", basis="#hijrat",
                        hits=3, seen_at=T0)
    await store.add_discovery_leads([rec, tag])
    again = DiscoveryLead(ref="@zaxira", username=None, channel_id=None, title="Zaxira 2", via="hashtag",
                          basis="#hijrat", hits=5, seen_at=T0 + timedelta(days=1))
    await store.add_discovery_leads([again])
    assert await store.discovery_leads() == [
        DiscoveryLead(ref="@zaxira", username="zaxira", channel_id=606, title="Zaxira 2", via="hashtag",
                      basis="#hijrat", hits=5, seen_at=T0 + timedelta(days=1)),
        rec,
    ]


# -- team mode: collectors, leases, accounts --------------------------------------------------------------


def _collector(cid: str, pid: int = 100) -> CollectorInfo:
    return CollectorInfo(id=cid, host="box", pid=pid, version="1.0", started_at=T0, heartbeat_at=T0)


async def test_collectors_register_beat_and_stop_releasing_their_leases(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key="a", username="a"), ChannelRef(key="b", username="b")], at=T0)
    await store.register_collector(_collector("c1"))
    await store.register_collector(_collector("c2", pid=200))
    await store.collector_beat("c2", at=T0 + timedelta(seconds=5), taking=False)
    assert [(c.id, c.pid, c.heartbeat_at, c.stopped_at, c.taking) for c in await store.collectors()] == [
        ("c2", 200, T0 + timedelta(seconds=5), None, False),
        ("c1", 100, T0, None, True),
    ]
    assert await store.claim_leases("c1", ["a", "b"], at=T0, expiry=60, limit=10) == ["a", "b"]
    assert await store.hold_account("acc", "c1", at=T0, expiry=60) is None
    assert await store.collector_stopped("c1", at=T0 + timedelta(seconds=7)) == 2
    assert await store.leases() == []
    [acc] = await store.account_states()
    assert acc.holder is None  # a clean stop gives the session back too
    c1 = next(c for c in await store.collectors() if c.id == "c1")
    assert c1.stopped_at == T0 + timedelta(seconds=7)
    await store.register_collector(_collector("c1"))  # a restart under the same id runs again
    assert next(c for c in await store.collectors() if c.id == "c1").stopped_at is None


async def test_leases_are_exclusive_until_they_expire_then_taken_over(store: Store) -> None:
    refs = [ChannelRef(key=k, username=k) for k in ("a", "b", "c", "gone")]
    await store.sync_watchlist(refs, at=T0)
    await store.sync_watchlist(refs[:3], at=T0)  # "gone" is no longer watched: never leased
    assert await store.claim_leases("c1", ["b", "a", "gone"], at=T0, expiry=60, limit=10) == ["b", "a"]
    # c2 asks for everything: only the free channel, and no more than its limit
    assert await store.claim_leases("c2", ["a", "b", "c"], at=T0 + timedelta(seconds=1), expiry=60, limit=5) == ["c"]
    assert await store.claim_leases("c2", ["a", "b"], at=T0 + timedelta(seconds=59), expiry=60, limit=5) == []
    held = {(lease.key, lease.collector_id, lease.expires_at) for lease in await store.leases()}
    assert held == {("a", "c1", T0 + timedelta(seconds=60)), ("b", "c1", T0 + timedelta(seconds=60)),
                    ("c", "c2", T0 + timedelta(seconds=61))}
    # c1 renews at +30: its leases run to +90; c2 cannot take them at +61
    assert await store.renew_leases("c1", at=T0 + timedelta(seconds=30), expiry=60) == ["a", "b"]
    assert await store.claim_leases("c2", ["a", "b"], at=T0 + timedelta(seconds=61), expiry=60, limit=5) == []
    # c1 dies: at +90 its leases are free, c2 takes one (its limit), then the other
    assert await store.claim_leases("c2", ["a", "b"], at=T0 + timedelta(seconds=90), expiry=60, limit=1) == ["a"]
    assert await store.claim_leases("c2", ["a", "b"], at=T0 + timedelta(seconds=91), expiry=60, limit=1) == ["b"]
    # c1 comes back: what was taken over is gone for it, renewal says so
    assert await store.renew_leases("c1", at=T0 + timedelta(seconds=92), expiry=60) == []
    assert await store.renew_leases("c2", at=T0 + timedelta(seconds=92), expiry=60) == ["a", "b", "c"]
    # an expired lease nobody took is still its holder's to renew
    assert await store.renew_leases("c2", at=T0 + timedelta(seconds=500), expiry=60) == ["a", "b", "c"]


async def test_release_and_account_assignment_of_leases(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key=k, username=k) for k in ("a", "b")], at=T0)
    assert await store.claim_leases("c1", ["a", "b"], at=T0, expiry=60, limit=10) == ["a", "b"]
    await store.set_lease_accounts("c1", {"a": "acc1", "b": "acc2"})
    await store.set_lease_accounts("c2", {"a": "theirs"})  # not c2's lease: nothing changes
    assert {(x.key, x.account) for x in await store.leases()} == {("a", "acc1"), ("b", "acc2")}
    assert await store.release_leases("c2", ["a"]) == 0
    assert await store.release_leases("c1", ["a"]) == 1
    assert await store.claim_leases("c2", ["a", "b"], at=T0, expiry=60, limit=10) == ["a"]
    assert {(x.key, x.collector_id, x.account) for x in await store.leases()} == {("a", "c2", None), ("b", "c1", "acc2")}
    assert await store.remove_watch("a")
    assert await store.claim_leases("c3", ["a"], at=T0 + timedelta(hours=1), expiry=60, limit=10) == []


async def test_account_states_and_one_holder_per_session(store: Store) -> None:
    parked = AccountState(name="acc1", state="flood_wait", reason="FLOOD_WAIT_3600", since=T0,
                          until=T0 + timedelta(hours=1), method="GetHistoryRequest")
    await store.set_account_state(parked)
    await store.set_account_state(AccountState(name="acc2", state="banned", reason="USER_DEACTIVATED_BAN", since=T0))
    assert await store.hold_account("acc1", "c1", at=T0, expiry=60, requests_hour=12) is None
    assert await store.hold_account("acc1", "c2", at=T0 + timedelta(seconds=30), expiry=60) == "c1"
    assert await store.hold_account("acc1", "c1", at=T0 + timedelta(seconds=30), expiry=60, requests_hour=20) is None
    [acc1, acc2] = await store.account_states()
    assert acc1 == replace(parked, holder="c1", held_until=T0 + timedelta(seconds=90), requests_hour=20,
                           beat_at=T0 + timedelta(seconds=30))
    assert (acc2.state, acc2.reason, acc2.holder) == ("banned", "USER_DEACTIVATED_BAN", None)
    await store.set_account_state(AccountState(name="acc1", state="ok", since=T0 + timedelta(hours=1)))
    assert (await store.account_states())[0].holder == "c1"  # a state change keeps the hold
    assert await store.hold_account("acc1", "c2", at=T0 + timedelta(seconds=91), expiry=60) is None  # c1 died
    assert not await store.release_account("acc1", "c1")
    assert await store.release_account("acc1", "c2")
    assert await store.hold_account("acc1", "c1", at=T0 + timedelta(seconds=92), expiry=60) is None
    assert await store.hold_account("acc1", "c3", at=T0 + timedelta(seconds=93), expiry=60, steal_from="c2") == "c1"
    assert await store.hold_account("acc1", "c3", at=T0 + timedelta(seconds=93), expiry=60, steal_from="c1") is None
    assert (await store.account_states())[0].holder == "c3"  # c1 died on this host: taken at once


async def test_a_team_round_has_one_holder_and_runs_once_per_period(store: Store) -> None:
    every = timedelta(hours=24)
    held = await store.hold_task("discovery", "c1", at=T0, expiry=60)
    assert held is not None and (held.collector_id, held.started_at, held.finished_at) == ("c1", None, None)
    assert await store.hold_task("discovery", "c2", at=T0 + timedelta(seconds=30), expiry=60) is None
    assert not await store.start_task("discovery", "c2", at=T0 + timedelta(seconds=30), due_before=T0 - every)
    assert await store.start_task("discovery", "c1", at=T0 + timedelta(seconds=30), due_before=T0 - every)
    await store.finish_task("discovery", "c1", at=T0 + timedelta(seconds=40))
    # started at +30: not due again within the period, whoever asks
    later = T0 + timedelta(hours=1)
    assert (await store.hold_task("discovery", "c1", at=later, expiry=60)) is not None
    assert not await store.start_task("discovery", "c1", at=later, due_before=later - every)
    # c1 dies; after its expiry c2 takes the round with its history, and it is due a period after +30
    taken = await store.hold_task("discovery", "c2", at=later + timedelta(seconds=61), expiry=60)
    assert taken is not None and taken.collector_id == "c2" and taken.ran_by == "c1"
    assert taken.started_at == T0 + timedelta(seconds=30) and taken.finished_at == T0 + timedelta(seconds=40)
    due = T0 + timedelta(seconds=30) + every
    assert await store.hold_task("discovery", "c2", at=due, expiry=60) is not None
    assert await store.start_task("discovery", "c2", at=due, due_before=due - every)
    # c2 stops in the round (unfinished): whoever holds it next runs it again at once
    assert await store.collector_stopped("c2", at=due + timedelta(seconds=1)) == 0
    [stopped] = await store.tasks()
    assert (stopped.collector_id, stopped.ran_by, stopped.finished_at) == (None, "c2", None)
    assert await store.hold_task("discovery", "c3", at=due + timedelta(seconds=2), expiry=60) is not None
    await store.finish_task("discovery", "c3", at=due + timedelta(seconds=2))  # not c3's round: no effect
    assert await store.start_task("discovery", "c3", at=due + timedelta(seconds=3), due_before=due - every)
    assert await store.release_tasks("c3", ["discovery"]) == 1
    assert await store.release_tasks("c3", ["discovery"]) == 0
    [free] = await store.tasks()
    assert (free.collector_id, free.ran_by, free.started_at) == (None, "c3", due + timedelta(seconds=3))


async def test_when_similar_channels_were_last_asked(store: Store) -> None:
    assert await store.recommendations_asked(["a", "b"]) == {}
    await store.set_recommendations_asked(["a", "b", "a"], at=T0)
    await store.set_recommendations_asked(["b"], at=T0 + timedelta(hours=1))
    assert await store.recommendations_asked(["a", "b", "c"]) == {"a": T0, "b": T0 + timedelta(hours=1)}
    assert await store.recommendations_asked([]) == {}


async def test_open_quarantine_is_leased_like_the_watch_list(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key="a", username="a")], at=T0)
    assert await store.add_quarantine("cand", "@cand", 9.0, at=T0)
    assert await store.claim_leases("c1", ["a", "cand", "nobody"], at=T0, expiry=60, limit=10) == ["a", "cand"]
    assert await store.accept_quarantined("cand", at=T0)
    await store.release_leases("c1", ["cand"])
    # accepted but not yet in the config (not watched): out of quarantine, so not leased
    assert await store.claim_leases("c1", ["cand"], at=T0, expiry=60, limit=10) == []


def _port_methods() -> set[str]:
    names: set[str] = set()
    for _, cls in inspect.getmembers(ports, inspect.isclass):
        if cls.__module__ == ports.__name__:
            names |= {n for n, v in vars(cls).items() if inspect.isfunction(v) and not n.startswith("_")}
    return names


def test_every_port_method_is_exercised() -> None:
    tree = ast.parse(Path(__file__).read_text("utf-8"))
    called = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert _port_methods() - called == set()
