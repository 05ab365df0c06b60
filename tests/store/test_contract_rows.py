"""The write path's exact rows, on every backend: what ``save_posts``, the watch list, parks, retags and the
heartbeat store, column by column, read back through the port (``BulkCopy.export_rows``, the same column
order on both backends) and the records rebuilt from them (``replay_posts``).

Why beside the contract suite: the contract tests show that a save is idempotent and a checkpoint moves
forward; mutation testing (docs/testing.md) showed they do not show WHICH value lands in which column, so
a swapped column, a lost coalesce or a checkpoint that moves back passed. Each test here is a few saves on
a fresh store (milliseconds on SQLite), so mutmut can afford them per mutant.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from contract_data import CHANNEL, OTHER, T0, tagged, watch

from monitor.errors import StoreError
from monitor.fingerprint import content_hash, simhash64, to_signed64
from monitor.models import (
    Alert,
    AuditEntry,
    Channel,
    ChannelRef,
    CollectorInfo,
    ForwardOrigin,
    Lease,
    Match,
    MetricSample,
    Post,
    PostKey,
    SaveResult,
    TaggedPost,
    Tags,
)
from monitor.store import Store
from monitor.store.admin import bulk_of
from monitor.store.ports import COPY_TABLES

EPOCH0 = int(T0.timestamp())
DAY = 86400
COLUMNS = {t.name: t.columns for t in COPY_TABLES}


async def rows(store: Store, table: str) -> list[dict[str, Any]]:
    """Every row of ``table`` in key order, as column -> value."""
    found = await bulk_of(store).export_rows(table, None, 100_000)
    return [dict(zip(COLUMNS[table], r, strict=True)) for r in found]


async def post_row(store: Store, message_id: int, channel_id: int = CHANNEL.id) -> dict[str, Any]:
    [row] = [r for r in await rows(store, "posts") if (r["channel_id"], r["message_id"]) == (channel_id, message_id)]
    return row


def full_post(message_id: int = 7, text: str = "Ансор: ИГИЛ va Tolibon", **changes: Any) -> TaggedPost:
    """A post that sets every field the store keeps, each to a value no other field has."""
    post = Post(
        channel_id=CHANNEL.id,
        message_id=message_id,
        posted_at=T0 + timedelta(seconds=123),
        text=text,
        edited_at=T0 + timedelta(seconds=456),
        views=1001,
        forwards=1002,
        replies=1003,
        reactions=1004,
        forward=ForwardOrigin(channel_id=OTHER.id, name="Манба", message_id=1005, date=T0 - timedelta(seconds=77)),
        reply_to_id=1006,
        grouped_id=1007,
        media_kind="photo",
        author="Ali",
        links=("https://example.org/a", "https://example.org/б"),
        mentions=("manba", "t.me/x/1"),
    )
    post = Post(**{**{f: getattr(post, f) for f in post.__dataclass_fields__}, **changes})
    tags = Tags(
        lang="tg",
        script="Cyrl",
        confidence=0.75,
        groups=("IS", "TALIBAN"),
        people=("baghdadi",),
        keywords=("jihod",),
        matches=(
            Match(kind="group", canonical="IS", term="ИГИЛ", start=7, end=11, rule="alias", group="IS"),
            Match(kind="person", canonical="baghdadi", term="Tolibon", start=15, end=22, rule="fuzzy"),
        ),
    )
    return TaggedPost(post=post, tags=tags, tagger_version="lang=x;lex=y")


MATCHES_JSON = (
    '[{"kind":"group","canonical":"IS","term":"ИГИЛ","start":7,"end":11,"rule":"alias","group":"IS"},'
    '{"kind":"person","canonical":"baghdadi","term":"Tolibon","start":15,"end":22,"rule":"fuzzy","group":null}]'
)


# -- a new post, column by column -----------------------------------------------------------------------


async def test_a_new_post_is_stored_column_by_column(store: Store) -> None:
    await watch(store)
    given = full_post()
    result = await store.save_posts(CHANNEL.id, [given], at=T0 + timedelta(hours=1), store_text=True, source="tdlib")
    assert result == SaveResult(inserted=1, inserted_keys=(PostKey(CHANNEL.id, 7),))
    row = await post_row(store, 7)
    seen = EPOCH0 + 3600
    assert row == {
        "channel_id": CHANNEL.id, "message_id": 7, "posted_at": EPOCH0 + 123, "day": (EPOCH0 + 123) // DAY,
        "edited_at": EPOCH0 + 456, "edit_count": 0, "views": 1001, "forwards": 1002, "replies": 1003,
        "reactions": 1004, "fwd_channel_id": OTHER.id, "fwd_name": "Манба", "fwd_message_id": 1005,
        "fwd_date": EPOCH0 - 77, "reply_to_id": 1006, "grouped_id": 1007, "media_kind": "photo", "author": "Ali",
        "links": '["https://example.org/a","https://example.org/б"]', "mentions": '["manba","t.me/x/1"]',
        "text_length": len(given.post.text), "content_hash": content_hash(given.post.text),
        "prev_content_hash": None, "simhash": to_signed64(simhash64(given.post.text)), "lang": "tg",
        "script": "Cyrl", "lang_confidence": 0.75, "groups": '["IS","TALIBAN"]', "people": '["baghdadi"]',
        "keywords": '["jihod"]', "matches": MATCHES_JSON, "tagger_version": "lang=x;lex=y",
        "text": given.post.text, "source": "tdlib", "first_seen_at": seen, "updated_at": seen,
        "deleted_at": None, "deleted_kind": None,
    }
    assert [(r["kind"], r["value"], r["day"]) for r in await rows(store, "post_tags")] == sorted(
        [("group", "IS", row["day"]), ("group", "TALIBAN", row["day"]), ("person", "baghdadi", row["day"]),
         ("keyword", "jihod", row["day"])]
    )
    assert await rows(store, "metric_samples") == [
        {"channel_id": CHANNEL.id, "message_id": 7, "sampled_at": seen, "views": 1001, "forwards": 1002,
         "replies": 1003, "reactions": 1004}
    ]
    assert [(r["url"], r["domain"], r["day"]) for r in await rows(store, "post_links")] == [
        ("https://example.org/a", "example.org", row["day"]), ("https://example.org/б", "example.org", row["day"])
    ]


async def test_fingerprints_from_the_tagging_stage_are_stored_as_given(store: Store) -> None:
    await watch(store)
    given = TaggedPost(post=full_post().post, tags=Tags(), tagger_version="v", content_hash="c0ffee",
                       simhash=2**64 - 1)
    await store.save_posts(CHANNEL.id, [given], at=T0)
    row = await post_row(store, 7)
    assert (row["content_hash"], row["simhash"]) == ("c0ffee", -1)  # unsigned 64 bits kept as signed
    assert (row["lang"], row["script"], row["lang_confidence"], row["groups"], row["matches"]) == (
        "und", None, 0.0, "[]", "[]")
    assert await rows(store, "post_tags") == []


async def test_a_bare_post_stores_nulls_and_the_default_source_and_no_sample(store: Store) -> None:
    await watch(store)
    bare = TaggedPost(post=Post(channel_id=CHANNEL.id, message_id=3, posted_at=T0), tags=Tags(), tagger_version="v")
    await store.save_posts(CHANNEL.id, [bare], at=T0, store_text=True)
    row = await post_row(store, 3)
    assert {k: row[k] for k in ("edited_at", "views", "forwards", "replies", "reactions", "fwd_channel_id",
                                "fwd_name", "fwd_message_id", "fwd_date", "reply_to_id", "grouped_id",
                                "media_kind", "author", "text")} == dict.fromkeys(
        ("edited_at", "views", "forwards", "replies", "reactions", "fwd_channel_id", "fwd_name", "fwd_message_id",
         "fwd_date", "reply_to_id", "grouped_id", "media_kind", "author", "text"))  # '' is not kept as text
    assert (row["links"], row["mentions"], row["text_length"], row["source"]) == ("[]", "[]", 0, "telegram")
    assert await rows(store, "metric_samples") == []  # nothing to sample
    assert (await store.counts())["texts_kept"] == 0


async def test_a_sample_is_taken_when_only_forwards_or_only_views_are_known(store: Store) -> None:
    await watch(store)
    only_forwards = full_post(1, views=None, forwards=4, replies=None, reactions=None)
    only_views = full_post(2, views=5, forwards=None, replies=None, reactions=None)
    await store.save_posts(CHANNEL.id, [only_forwards, only_views], at=T0)
    assert [(r["message_id"], r["views"], r["forwards"], r["replies"]) for r in await rows(store, "metric_samples")] == [
        (1, None, 4, None), (2, 5, None, None)]


async def test_text_is_stored_only_when_asked(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post(1)], at=T0)
    await store.save_posts(CHANNEL.id, [full_post(2)], at=T0, store_text=True)
    assert [r["text"] for r in await rows(store, "posts")] == [None, full_post().post.text]
    assert [r["text_length"] for r in await rows(store, "posts")] == [len(full_post().post.text)] * 2


# -- the batch ----------------------------------------------------------------------------------------------


async def test_the_same_message_twice_in_a_batch_keeps_the_first(store: Store) -> None:
    await watch(store)
    first, second = tagged(5, "first version"), tagged(5, "second version", views=99)
    result = await store.save_posts(CHANNEL.id, [first, second, tagged(6)], at=T0, store_text=True)
    assert (result.inserted, result.updated, result.unchanged) == (2, 0, 0)
    assert result.inserted_keys == (PostKey(CHANNEL.id, 5), PostKey(CHANNEL.id, 6))
    row = await post_row(store, 5)
    assert (row["text"], row["views"]) == ("first version", 10)


async def test_a_foreign_post_refuses_the_whole_batch_with_its_key(store: Store) -> None:
    await watch(store)
    foreign = tagged(2, channel=OTHER)
    expected = f"post {PostKey(OTHER.id, 2)} does not belong to channel {CHANNEL.id}; refusing the batch"
    with pytest.raises(StoreError, match=f"^{re.escape(expected)}$"):
        await store.save_posts(CHANNEL.id, [tagged(1), foreign], at=T0, checkpoint=2)
    assert await rows(store, "posts") == []
    assert [r["checkpoint"] for r in await rows(store, "channels")] == [0]


async def test_an_empty_batch_moves_only_the_checkpoint(store: Store) -> None:
    await watch(store)
    result = await store.save_posts(CHANNEL.id, [], at=T0 + timedelta(hours=2), checkpoint=40)
    assert result == SaveResult()
    [channel] = await rows(store, "channels")
    assert (channel["checkpoint"], channel["updated_at"]) == (40, EPOCH0 + 7200)


async def test_the_checkpoint_never_moves_back_and_none_leaves_it(store: Store) -> None:
    await watch(store, CHANNEL, OTHER)
    await store.save_posts(CHANNEL.id, [tagged(1)], at=T0, checkpoint=10)
    await store.save_posts(CHANNEL.id, [tagged(2)], at=T0 + timedelta(hours=1), checkpoint=4)
    assert {r["id"]: (r["checkpoint"], r["updated_at"]) for r in await rows(store, "channels")} == {
        CHANNEL.id: (10, EPOCH0 + 3600), OTHER.id: (0, EPOCH0)  # the other channel is not touched
    }
    await store.save_posts(CHANNEL.id, [tagged(3)], at=T0 + timedelta(hours=2))  # no checkpoint given
    assert {r["id"]: (r["checkpoint"], r["updated_at"]) for r in await rows(store, "channels")}[CHANNEL.id] == (
        10, EPOCH0 + 3600)
    await store.save_posts(CHANNEL.id, [], at=T0 + timedelta(hours=3), checkpoint=11)
    assert [s.checkpoint for s in await store.watch_states() if s.key == "ozod_sado"] == [11]


async def test_more_posts_than_one_lookup_takes_are_all_found_again(store: Store) -> None:
    """The stored posts of a batch are looked up in chunks (SQLite's variable limit): every one is found."""
    await watch(store)
    batch = [tagged(i, views=None) for i in range(1, 802)]  # two full chunks of 400 and one more
    assert (await store.save_posts(CHANNEL.id, batch, at=T0)).inserted == 801
    again = await store.save_posts(CHANNEL.id, batch, at=T0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 801)
    viewed = [tagged(i, views=5) if i in (1, 400, 401, 801) else tagged(i, views=None) for i in range(1, 802)]
    third = await store.save_posts(CHANNEL.id, viewed, at=T0)
    assert (third.inserted, third.updated, third.unchanged) == (0, 4, 797)


# -- a stored post again: refresh, metrics, edit -------------------------------------------------------------


async def test_a_resave_without_changes_writes_only_the_refresh_time(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post()], at=T0, store_text=True)
    before = await post_row(store, 7)
    result = await store.save_posts(CHANNEL.id, [full_post()], at=T0 + timedelta(hours=5))
    assert result == SaveResult(unchanged=1)
    after = await post_row(store, 7)
    assert after == {**before, "updated_at": EPOCH0 + 5 * 3600}  # text kept although this save keeps none
    assert len(await rows(store, "metric_samples")) == 1 and await rows(store, "post_edits") == []


async def test_new_metrics_are_written_and_unknown_ones_keep_the_stored_value(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post()], at=T0)
    later = T0 + timedelta(hours=1)
    changed = full_post(views=2001, forwards=None, replies=2003, reactions=None, edited_at=None)
    assert await store.save_posts(CHANNEL.id, [changed], at=later) == SaveResult(updated=1)
    row = await post_row(store, 7)
    assert (row["views"], row["forwards"], row["replies"], row["reactions"], row["edited_at"]) == (
        2001, 1002, 2003, 1004, EPOCH0 + 456)
    assert (row["updated_at"], row["first_seen_at"], row["edit_count"]) == (EPOCH0 + 3600, EPOCH0, 0)
    assert await rows(store, "metric_samples") == [
        {"channel_id": CHANNEL.id, "message_id": 7, "sampled_at": EPOCH0, "views": 1001, "forwards": 1002,
         "replies": 1003, "reactions": 1004},
        {"channel_id": CHANNEL.id, "message_id": 7, "sampled_at": EPOCH0 + 3600, "views": 2001, "forwards": None,
         "replies": 2003, "reactions": None},
    ]
    edited_later = full_post(edited_at=T0 + timedelta(seconds=999))
    assert await store.save_posts(CHANNEL.id, [edited_later], at=later) == SaveResult(updated=1)
    assert (await post_row(store, 7))["edited_at"] == EPOCH0 + 999


async def test_only_a_change_of_views_or_forwards_counts_and_is_sampled(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post()], at=T0)
    for field, value, counted in (("views", 1001, False), ("forwards", 1, True), ("views", 1, True),
                                  ("replies", 1, False), ("reactions", 1, False)):
        base = {"views": 1001, "forwards": 1002}
        result = await store.save_posts(CHANNEL.id, [full_post(**{**base, field: value})], at=T0)
        assert (result.updated, result.unchanged) == ((1, 0) if counted else (0, 1)), field
        await store.save_posts(CHANNEL.id, [full_post(**base)], at=T0)
    assert len(await rows(store, "metric_samples")) == 1  # INSERT OR REPLACE at one moment: one row per second


async def test_an_edit_records_the_old_and_new_hash_and_retags(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post()], at=T0, store_text=True)
    old = await post_row(store, 7)
    new_text = "Тахрир: ИГИЛ ва ҲТШ"
    edited = TaggedPost(
        post=full_post(text=new_text, edited_at=T0 + timedelta(seconds=600), links=("https://x.org/",),
                       mentions=("other",)).post,
        tags=Tags(lang="ru", script="Latn", confidence=0.5, groups=("HTS", "IS"), people=(), keywords=("hijra",)),
        tagger_version="v2",
    )
    at = T0 + timedelta(hours=2)
    assert await store.save_posts(CHANNEL.id, [edited], at=at, store_text=True) == SaveResult(updated=1)
    row = await post_row(store, 7)
    assert {k: row[k] for k in ("prev_content_hash", "content_hash", "simhash", "text_length", "edit_count",
                                "links", "mentions", "text", "lang", "script", "lang_confidence", "groups",
                                "people", "keywords", "matches", "tagger_version", "edited_at", "updated_at",
                                "first_seen_at", "posted_at", "day")} == {
        "prev_content_hash": old["content_hash"], "content_hash": content_hash(new_text),
        "simhash": to_signed64(simhash64(new_text)), "text_length": len(new_text), "edit_count": 1,
        "links": '["https://x.org/"]', "mentions": '["other"]', "text": new_text, "lang": "ru", "script": "Latn",
        "lang_confidence": 0.5, "groups": '["HTS","IS"]', "people": "[]", "keywords": '["hijra"]',
        "matches": "[]", "tagger_version": "v2", "edited_at": EPOCH0 + 600, "updated_at": EPOCH0 + 7200,
        "first_seen_at": EPOCH0, "posted_at": old["posted_at"], "day": old["day"],
    }
    assert await rows(store, "post_edits") == [
        {"channel_id": CHANNEL.id, "message_id": 7, "edited_at": EPOCH0 + 600, "seen_at": EPOCH0 + 7200,
         "old_hash": old["content_hash"], "new_hash": content_hash(new_text)}
    ]
    assert [(r["kind"], r["value"], r["day"]) for r in await rows(store, "post_tags")] == [
        ("group", "HTS", old["day"]), ("group", "IS", old["day"]), ("keyword", "hijra", old["day"])]
    # a second edit, now without keeping text: the text is dropped, the count goes on
    again = TaggedPost(post=full_post(text="uchinchi", edited_at=None).post, tags=Tags(), tagger_version="v3")
    assert await store.save_posts(CHANNEL.id, [again], at=at) == SaveResult(updated=1)
    row = await post_row(store, 7)
    assert (row["text"], row["edit_count"], row["prev_content_hash"], row["edited_at"]) == (
        None, 2, content_hash(new_text), EPOCH0 + 600)
    assert sorted((r["old_hash"], r["edited_at"]) for r in await rows(store, "post_edits")) == sorted(
        [(old["content_hash"], EPOCH0 + 600), (content_hash(new_text), None)])  # the key of post_edits is not unique
    assert await rows(store, "post_tags") == []
    assert (await store.counts())["edits"] == 2


async def test_an_edit_to_an_empty_text_keeps_no_text(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post()], at=T0, store_text=True)
    emptied = TaggedPost(post=full_post(text="").post, tags=Tags(), tagger_version="v")
    assert await store.save_posts(CHANNEL.id, [emptied], at=T0, store_text=True) == SaveResult(updated=1)
    row = await post_row(store, 7)
    assert (row["text"], row["text_length"], row["content_hash"]) == (None, 0, content_hash(""))


async def test_an_edit_detected_by_the_given_hash(store: Store) -> None:
    """The tagging stage's hash decides whether a re-save is an edit, not the text."""
    await watch(store)
    post = full_post().post
    await store.save_posts(CHANNEL.id, [TaggedPost(post=post, tags=Tags(), tagger_version="v", content_hash="h1")],
                           at=T0)
    same = await store.save_posts(
        CHANNEL.id, [TaggedPost(post=post, tags=Tags(), tagger_version="v", content_hash="h1")], at=T0)
    assert same == SaveResult(unchanged=1)
    other = await store.save_posts(
        CHANNEL.id, [TaggedPost(post=post, tags=Tags(), tagger_version="v", content_hash="h2", simhash=5)], at=T0)
    assert other == SaveResult(updated=1)
    row = await post_row(store, 7)
    assert (row["prev_content_hash"], row["content_hash"], row["simhash"]) == ("h1", "h2", 5)


# -- the alert step inside the save -------------------------------------------------------------------------


def _alert(message_id: int) -> Alert:
    return Alert(rule="r", kind="match", fired_at=T0, dedup_key=f"r:{message_id}", summary="s",
                 channel_id=CHANNEL.id, message_id=message_id)


async def test_the_alert_step_sees_the_result_and_writes_in_the_same_transaction(store: Store) -> None:
    await watch(store)
    seen: list[SaveResult] = []

    async def evaluate(tx: Any, result: SaveResult) -> None:
        seen.append(result)
        for key in result.inserted_keys:
            await tx.insert_alert(_alert(key.message_id), ["log"], now=T0)

    result = await store.save_posts(CHANNEL.id, [tagged(1), tagged(2)], at=T0, evaluate=evaluate)
    assert seen == [result] and result.evaluation_error is None and result.inserted == 2
    assert [r["dedup_key"] for r in await rows(store, "alerts")] == ["r:1", "r:2"]
    again = await store.save_posts(CHANNEL.id, [tagged(1), tagged(2)], at=T0, evaluate=evaluate)
    assert seen == [result] and again == SaveResult(unchanged=2)  # nothing new: no alert step


async def test_a_failing_alert_step_undoes_only_itself(store: Store) -> None:
    await watch(store)

    async def evaluate(tx: Any, result: SaveResult) -> None:
        await tx.insert_alert(_alert(1), ["log"], now=T0)
        raise RuntimeError("engine broke")

    result = await store.save_posts(CHANNEL.id, [tagged(1)], at=T0, checkpoint=1, evaluate=evaluate)
    assert result == SaveResult(inserted=1, inserted_keys=(PostKey(CHANNEL.id, 1),),
                                evaluation_error="RuntimeError('engine broke')")
    assert await rows(store, "alerts") == [] and await rows(store, "deliveries") == []
    assert [r["message_id"] for r in await rows(store, "posts")] == [1]
    assert [r["checkpoint"] for r in await rows(store, "channels")] == [1]
    # the store goes on: the savepoint was released, the next save commits
    assert (await store.save_posts(CHANNEL.id, [tagged(2)], at=T0)).inserted == 1


async def test_a_failing_save_leaves_nothing_of_the_batch(store: Store) -> None:
    """A post that cannot be written (a NOT NULL column) undoes the whole batch: posts, tags, samples, checkpoint."""
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(1, groups=("IS",))], at=T0, checkpoint=1)
    broken = TaggedPost(post=tagged(3).post, tags=Tags(lang=None), tagger_version="v")  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 - each driver names the constraint its own way
        await store.save_posts(CHANNEL.id, [tagged(2, groups=("IS",)), broken], at=T0, checkpoint=3)
    assert [r["message_id"] for r in await rows(store, "posts")] == [1]
    assert [r["message_id"] for r in await rows(store, "post_tags")] == [1]
    assert [r["message_id"] for r in await rows(store, "metric_samples")] == [1]
    assert [r["checkpoint"] for r in await rows(store, "channels")] == [1]
    assert (await store.save_posts(CHANNEL.id, [tagged(2)], at=T0)).inserted == 1  # the store still writes


# -- stored posts rebuilt -----------------------------------------------------------------------------------


async def test_a_replayed_post_is_the_saved_one_field_by_field(store: Store) -> None:
    await watch(store)
    given = full_post()
    await store.save_posts(CHANNEL.id, [given], at=T0, store_text=True)
    [(replayed, username)] = await store.replay_posts()
    assert username == "ozod_sado"
    p = replayed.post
    assert (p.channel_id, p.message_id, p.posted_at, p.text, p.views, p.forwards, p.mentions) == (
        CHANNEL.id, 7, T0 + timedelta(seconds=123), given.post.text, 1001, 1002, ("manba", "t.me/x/1"))
    assert p.posted_at.tzinfo is not None and p.posted_at.utcoffset() == timedelta(0)
    assert p.forward == ForwardOrigin(channel_id=OTHER.id, name="Манба", message_id=1005)
    assert replayed.tags == Tags(
        lang="tg", script="Cyrl", confidence=0.75, groups=("IS", "TALIBAN"), people=("baghdadi",),
        keywords=("jihod",),
        matches=(  # source and distance are not stored
            Match(kind="group", canonical="IS", term="ИГИЛ", start=7, end=11, rule="alias", group="IS"),
            Match(kind="person", canonical="baghdadi", term="Tolibon", start=15, end=22, rule="fuzzy", group=None),
        ),
    )
    assert replayed.tagger_version == "lang=x;lex=y"


async def test_a_replayed_post_without_text_has_no_matches_and_forwards_by_name_or_id(store: Store) -> None:
    await watch(store)
    by_name = full_post(1, forward=ForwardOrigin(name="Someone"), mentions=())
    by_id = full_post(2, forward=ForwardOrigin(channel_id=OTHER.id))
    plain = full_post(3, forward=None)
    await store.save_posts(CHANNEL.id, [by_name, by_id, plain], at=T0)  # no text kept
    replayed = {t.post.message_id: t for t, _ in await store.replay_posts()}
    assert replayed[1].post.forward == ForwardOrigin(name="Someone")
    assert replayed[2].post.forward == ForwardOrigin(channel_id=OTHER.id)
    assert replayed[3].post.forward is None
    assert replayed[1].post.mentions == () and replayed[2].post.mentions == ("manba", "t.me/x/1")
    for t in replayed.values():
        assert t.post.text == "" and t.tags.matches == () and t.tags.groups == ("IS", "TALIBAN")


# -- watch list, resolution, status ------------------------------------------------------------------------


async def test_the_watch_row_of_a_synced_ref(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key="id:7", channel_id=7, labels={"country": "TJ", "ж": "ҳ"},
                                           poll_interval=90.5)], at=T0)
    assert await rows(store, "watch") == [
        {"key": "id:7", "channel_id": 7, "labels": '{"country":"TJ","ж":"ҳ"}', "poll_interval": 90.5, "watched": 1,
         "status": "new", "status_reason": None, "retry_at": None, "last_poll_at": None, "last_success_at": None,
         "last_error": None, "added_at": EPOCH0}
    ]
    [state] = await store.watch_states()
    assert state.channel is None and state.labels == {"country": "TJ", "ж": "ҳ"} and state.poll_interval == 90.5
    # a later sync keeps the id the watch row has and its first moment, takes the new labels and interval
    await store.sync_watchlist([ChannelRef(key="id:7", channel_id=8, labels={}, poll_interval=None)],
                               at=T0 + timedelta(hours=1))
    [row] = await rows(store, "watch")
    assert (row["channel_id"], row["labels"], row["poll_interval"], row["added_at"]) == (7, "{}", None, EPOCH0)


async def test_a_sync_fills_a_missing_channel_id_and_an_empty_sync_unwatches_everything(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key="a", username="a"), ChannelRef(key="b", username="b")], at=T0)
    await store.sync_watchlist([ChannelRef(key="a", username="a", channel_id=5), ChannelRef(key="b", username="b")],
                               at=T0)
    assert [(r["key"], r["channel_id"], r["watched"]) for r in await rows(store, "watch")] == [
        ("a", 5, 1), ("b", None, 1)]
    await store.sync_watchlist([], at=T0)
    assert [r["watched"] for r in await rows(store, "watch")] == [0, 0]
    assert await store.watch_states() == []
    await store.sync_watchlist([ChannelRef(key="b", username="b")], at=T0)  # watched again
    assert [(r["key"], r["watched"]) for r in await rows(store, "watch")] == [("a", 0), ("b", 1)]


async def test_add_watch_inserts_rewatches_and_keeps_the_row(store: Store) -> None:
    ref = ChannelRef(key="id:9", channel_id=9, labels={"k": "v"}, poll_interval=30)
    assert await store.add_watch(ref, at=T0) is True
    assert await store.add_watch(ref, at=T0) is False  # already watched (the port's promise)
    assert await rows(store, "watch") == [
        {"key": "id:9", "channel_id": 9, "labels": '{"k":"v"}', "poll_interval": 30, "watched": 1, "status": "new",
         "status_reason": None, "retry_at": None, "last_poll_at": None, "last_success_at": None, "last_error": None,
         "added_at": EPOCH0}
    ]
    assert await store.remove_watch("id:9") is True
    assert [r["watched"] for r in await rows(store, "watch")] == [0]
    again = ChannelRef(key="id:9", channel_id=10, labels={"other": "x"}, poll_interval=5)
    assert await store.add_watch(again, at=T0 + timedelta(days=1)) is True  # watched again, the row kept
    assert await store.add_watch(again, at=T0 + timedelta(days=1)) is False
    [row] = await rows(store, "watch")
    assert (row["watched"], row["channel_id"], row["labels"], row["poll_interval"], row["added_at"]) == (
        1, 9, '{"k":"v"}', 30, EPOCH0)


async def test_resolution_fills_the_channel_and_activates_only_new_or_failed_rows(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key=k, username=k) for k in ("a", "b", "c", "d")], at=T0)
    await store.set_watch_status("b", "error", at=T0, error="boom")
    await store.set_watch_status("c", "parked", reason="flood", at=T0)
    await store.set_watch_status("d", "private", at=T0)
    for key, cid in (("a", 1), ("b", 2), ("c", 3), ("d", 4)):
        await store.set_resolved(key, Channel(id=cid, username=key, title=key.upper(), access_hash=cid * 10),
                                 at=T0 + timedelta(seconds=cid))
    assert [(r["key"], r["channel_id"], r["status"]) for r in await rows(store, "watch")] == [
        ("a", 1, "active"), ("b", 2, "active"), ("c", 3, "parked"), ("d", 4, "private")]
    assert await rows(store, "channels") == [
        {"id": i, "username": k, "title": k.upper(), "access_hash": i * 10, "checkpoint": 0,
         "first_seen_at": EPOCH0 + i, "updated_at": EPOCH0 + i}
        for k, i in (("a", 1), ("b", 2), ("c", 3), ("d", 4))
    ]
    # resolved again: a new name and title; an unknown access hash keeps the stored one
    await store.set_resolved("a", Channel(id=1, username="a2", title="A2", access_hash=None), at=T0 + timedelta(hours=1))
    first = (await rows(store, "channels"))[0]
    assert first == {"id": 1, "username": "a2", "title": "A2", "access_hash": 10, "checkpoint": 0,
                     "first_seen_at": EPOCH0 + 1, "updated_at": EPOCH0 + 3600}
    await store.set_resolved("a", Channel(id=1, username="a2", title="A2", access_hash=11), at=T0)
    assert (await rows(store, "channels"))[0]["access_hash"] == 11


async def test_watch_states_read_every_field(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(3, hours=1), tagged(9, hours=-5), tagged(4, hours=2)], at=T0,
                           checkpoint=9)
    later = T0 + timedelta(minutes=5)
    await store.set_watch_status("ozod_sado", "parked", reason="flood", retry_at=later, at=T0, error="FLOOD_WAIT")
    [state] = await store.watch_states()
    assert (state.key, state.channel, dict(state.labels), state.poll_interval, state.watched, state.status,
            state.status_reason, state.retry_at, state.last_poll_at, state.last_success_at, state.last_error,
            state.checkpoint, state.posts, state.newest_posted_at) == (
        "ozod_sado", CHANNEL, {}, None, True, "parked", "flood", later, T0, None, "FLOOD_WAIT", 9, 3,
        T0 - timedelta(hours=5))  # the newest post is the highest message id, whatever its date
    # a status without an error keeps the last error; a successful poll clears reason and retry
    await store.set_watch_status("ozod_sado", "active", at=later)
    [state] = await store.watch_states()
    assert (state.status, state.status_reason, state.retry_at, state.last_poll_at, state.last_error) == (
        "active", None, None, later, "FLOOD_WAIT")
    await store.set_watch_status("ozod_sado", "error", reason="x", retry_at=later, at=T0, error="E2")
    await store.record_poll("ozod_sado", at=later + timedelta(seconds=1))
    [row] = await rows(store, "watch")
    assert (row["status"], row["status_reason"], row["retry_at"], row["last_poll_at"], row["last_success_at"],
            row["last_error"]) == ("active", None, None, EPOCH0 + 301, EPOCH0 + 301, "E2")
    await store.record_poll("ozod_sado", at=later + timedelta(seconds=2), error="timeout")
    [row] = await rows(store, "watch")
    assert (row["status"], row["last_poll_at"], row["last_success_at"], row["last_error"]) == (
        "active", EPOCH0 + 302, EPOCH0 + 301, "timeout")


async def test_a_channel_with_an_empty_title_is_resolved_and_an_unknown_one_is_not(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key="a", username="a"), ChannelRef(key="id:5", channel_id=5)], at=T0)
    await store.set_resolved("a", Channel(id=1, username=None, title="", access_hash=None), at=T0)
    states = {s.key: s for s in await store.watch_states()}
    assert states["a"].channel == Channel(id=1, username=None, title="", access_hash=None)
    assert states["id:5"].channel is None  # an id without a channels row
    assert (states["a"].checkpoint, states["a"].posts, states["a"].newest_posted_at) == (0, 0, None)


async def test_watch_states_are_sorted_by_key_and_filtered_by_watched(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key=k, username=k) for k in ("b", "a", "c")], at=T0)
    await store.remove_watch("b")
    assert [s.key for s in await store.watch_states()] == ["a", "c"]
    assert [(s.key, s.watched) for s in await store.watch_states(include_unwatched=True)] == [
        ("a", True), ("b", False), ("c", True)]


# -- parks, heartbeat, counts ---------------------------------------------------------------------------------


async def test_a_park_keeps_the_later_end_and_the_last_reason_and_ends_at_its_moment(store: Store) -> None:
    await store.park("account", T0 + timedelta(seconds=30), "flood wait")
    await store.park("account", T0 + timedelta(seconds=10), "shorter one")
    assert await rows(store, "parks") == [{"scope": "account", "until": EPOCH0 + 30, "reason": "shorter one"}]
    await store.park("account", T0 + timedelta(seconds=60))
    assert await rows(store, "parks") == [{"scope": "account", "until": EPOCH0 + 60, "reason": ""}]
    assert await store.parks(now=T0 + timedelta(seconds=59)) == {"account": T0 + timedelta(seconds=60)}
    assert await store.parks(now=T0 + timedelta(seconds=60)) == {}  # ends at its moment
    [until] = (await store.parks(now=T0)).values()
    assert until.tzinfo is not None


async def test_the_heartbeat_row(store: Store) -> None:
    await store.heartbeat(pid=41, started_at=T0, at=T0 + timedelta(seconds=5))
    await store.heartbeat(pid=42, started_at=T0 + timedelta(seconds=1), at=T0 + timedelta(seconds=35))
    pid, started, beat = await store.last_heartbeat()  # type: ignore[misc]
    assert (pid, started, beat) == (42, T0 + timedelta(seconds=1), T0 + timedelta(seconds=35))
    assert started.tzinfo is not None and beat.tzinfo is not None


async def test_counts_name_each_table(store: Store) -> None:
    await watch(store, CHANNEL, OTHER)
    await store.remove_watch("manba")
    await store.save_posts(CHANNEL.id, [tagged(1, views=None), tagged(2), tagged(3)], at=T0, store_text=True)
    await store.save_posts(CHANNEL.id, [tagged(4, views=None)], at=T0)
    await store.save_posts(CHANNEL.id, [tagged(2, "edited")], at=T0)
    await store.save_posts(CHANNEL.id, [tagged(3, "edited"), tagged(2, "edited twice")], at=T0)
    assert dict(await store.counts()) == {"posts": 4, "channels": 2, "watched": 1, "samples": 4, "edits": 3,
                                         "texts_kept": 1}


async def test_all_post_keys_in_key_order(store: Store) -> None:
    await watch(store, CHANNEL, OTHER)
    await store.save_posts(OTHER.id, [tagged(2, channel=OTHER), tagged(1, channel=OTHER)], at=T0)
    await store.save_posts(CHANNEL.id, [tagged(10), tagged(9)], at=T0)
    assert await store.all_post_keys() == [PostKey(CHANNEL.id, 9), PostKey(CHANNEL.id, 10), PostKey(OTHER.id, 1),
                                           PostKey(OTHER.id, 2)]


# -- retention, re-samples, retags --------------------------------------------------------------------------------


async def test_purge_and_resample_bounds_are_exact(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(i) for i in (1, 2, 3)], at=T0, store_text=True)
    assert await store.purge_text(before=T0 + timedelta(hours=2)) == 1  # posted before, not at, the moment
    assert [r["text"] is None for r in await rows(store, "posts")] == [True, False, False]
    assert await store.purge_text(before=T0 + timedelta(hours=2)) == 0  # text already gone is not counted
    assert await store.resample_candidates(CHANNEL.id, since=T0 + timedelta(hours=2)) == [2, 3]  # at counts
    assert await store.resample_candidates(CHANNEL.id, since=T0 + timedelta(hours=2, seconds=1)) == [3]


async def test_record_samples_writes_each_field_replaces_one_moment_and_drops_unknown_posts(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post(i, views=None, forwards=None) for i in (1, 2)], at=T0)
    await store.record_samples([])
    at = T0 + timedelta(hours=3)
    await store.record_samples([
        MetricSample(channel_id=CHANNEL.id, message_id=1, sampled_at=at, views=5, forwards=6, replies=7, reactions=8),
        MetricSample(channel_id=CHANNEL.id, message_id=2, sampled_at=at, views=9, forwards=None),
        MetricSample(channel_id=CHANNEL.id, message_id=3, sampled_at=at, views=1, forwards=1),  # not stored
        MetricSample(channel_id=OTHER.id, message_id=1, sampled_at=at, views=1, forwards=1),  # nor this
    ])
    await store.record_samples(
        [MetricSample(channel_id=CHANNEL.id, message_id=1, sampled_at=at, views=50, forwards=60)])
    assert await rows(store, "metric_samples") == [
        {"channel_id": CHANNEL.id, "message_id": 1, "sampled_at": EPOCH0 + 3 * 3600, "views": 50, "forwards": 60,
         "replies": None, "reactions": None},
        {"channel_id": CHANNEL.id, "message_id": 2, "sampled_at": EPOCH0 + 3 * 3600, "views": 9, "forwards": None,
         "replies": None, "reactions": None},
    ]
    assert (await store.counts())["samples"] == 2


async def test_a_stored_post_as_the_retag_reads_it(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post()], at=T0, store_text=True)
    await store.save_posts(CHANNEL.id, [full_post(8)], at=T0)
    first, second = await store.posts_for_retag(after=None, limit=5)
    assert (first.channel_id, first.message_id, first.posted_at, first.text, first.lang, first.script, first.groups,
            first.people, first.keywords, first.tagger_version, first.views, first.forwards,
            first.channel_username) == (
        CHANNEL.id, 7, T0 + timedelta(seconds=123), full_post().post.text, "tg", "Cyrl", ("IS", "TALIBAN"),
        ("baghdadi",), ("jihod",), "lang=x;lex=y", 1001, 1002, "ozod_sado")
    assert second.text is None and second.message_id == 8
    assert await store.get_post(PostKey(CHANNEL.id, 8)) == second
    assert await store.get_post(PostKey(CHANNEL.id, 9)) is None


async def test_retag_pages_cross_channels_in_key_order(store: Store) -> None:
    low = Channel(id=5, username="low", title="Low")
    await watch(store, CHANNEL, low)
    await store.save_posts(low.id, [tagged(i, channel=low) for i in (1, 2)], at=T0)
    await store.save_posts(CHANNEL.id, [tagged(i) for i in (1, 2)], at=T0)
    page = await store.posts_for_retag(after=PostKey(low.id, 2), limit=10)
    assert [p.key for p in page] == [PostKey(CHANNEL.id, 1), PostKey(CHANNEL.id, 2)]
    assert await store.count_for_retag(after=PostKey(low.id, 1)) == 3
    assert [p.key for p in await store.posts_for_retag(after=None, limit=1)] == [PostKey(low.id, 1)]
    assert await store.count_for_retag(after=PostKey(CHANNEL.id, 2)) == 0


async def test_update_tags_writes_the_columns_and_rows_and_skips_deleted_posts(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post(1), full_post(2)], at=T0, store_text=True)
    await store.update_tags([])
    new = Tags(lang="uz", script="Latn", confidence=0.25, groups=("IS", "IMU"), people=(), keywords=("jihod",),
               matches=(Match(kind="group", canonical="IMU", term="O'IH", start=0, end=4, rule="alias",
                              group="IMU"),))
    same = full_post(2).tags
    await store.update_tags([(PostKey(CHANNEL.id, 99), new, "v9"),  # not stored (deleted meanwhile): skipped
                             (PostKey(CHANNEL.id, 1), new, "v9"), (PostKey(CHANNEL.id, 2), same, "v9")])
    one, two = await rows(store, "posts")
    assert {k: one[k] for k in ("lang", "script", "lang_confidence", "groups", "people", "keywords", "matches",
                                "tagger_version")} == {
        "lang": "uz", "script": "Latn", "lang_confidence": 0.25, "groups": '["IS","IMU"]', "people": "[]",
        "keywords": '["jihod"]', "tagger_version": "v9",
        "matches": '[{"kind":"group","canonical":"IMU","term":"O\'IH","start":0,"end":4,"rule":"alias",'
                   '"group":"IMU"}]'}
    assert (two["tagger_version"], two["groups"], two["matches"]) == ("v9", '["IS","TALIBAN"]', MATCHES_JSON)
    day = one["day"]
    assert [(r["message_id"], r["kind"], r["value"], r["day"]) for r in await rows(store, "post_tags")] == [
        (1, "group", "IMU", day), (1, "group", "IS", day), (1, "keyword", "jihod", day),
        (2, "group", "IS", day), (2, "group", "TALIBAN", day), (2, "keyword", "jihod", day),
        (2, "person", "baghdadi", day)]
    assert [r["message_id"] for r in await rows(store, "posts")] == [1, 2]


async def test_update_tags_with_only_the_language_changed_keeps_the_tag_rows(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [full_post(1)], at=T0)
    old = full_post(1).tags
    relabelled = Tags(lang="ru", script=old.script, confidence=old.confidence, groups=old.groups,
                      people=old.people, keywords=old.keywords, matches=old.matches)
    await store.update_tags([(PostKey(CHANNEL.id, 1), relabelled, "v2")])
    [row] = await rows(store, "posts")
    assert (row["lang"], row["tagger_version"]) == ("ru", "v2")
    assert len(await rows(store, "post_tags")) == 4


async def test_a_retag_of_several_posts_rewrites_the_tag_rows_of_each(store: Store) -> None:
    await watch(store)
    await store.save_posts(CHANNEL.id, [tagged(i, groups=("IS", "ISKP")) for i in (1, 2, 3)], at=T0)
    await store.update_tags([(PostKey(CHANNEL.id, i), tagged(i, groups=("HTS", "IS")).tags, "v2") for i in (1, 2, 3)])
    assert [(r["message_id"], r["value"]) for r in await rows(store, "post_tags")] == [
        (m, g) for m in (1, 2, 3) for g in ("HTS", "IS")]


async def test_the_day_of_a_post_is_its_utc_day_at_both_ends_of_the_day(store: Store) -> None:
    await watch(store)
    midnight = T0.replace(hour=0)
    first = full_post(1, posted_at=midnight)  # the first second of a day
    last = full_post(2, posted_at=midnight - timedelta(seconds=1))  # the last second of the day before
    await store.save_posts(CHANNEL.id, [first, last], at=T0)
    day = int(midnight.timestamp()) // DAY
    assert [(r["message_id"], r["day"]) for r in await rows(store, "posts")] == [(1, day), (2, day - 1)]
    edited = TaggedPost(post=full_post(1, text="edited", posted_at=midnight).post, tags=Tags(groups=("IS",)),
                        tagger_version="v2")
    await store.save_posts(CHANNEL.id, [edited], at=T0)  # an edit's new tag rows keep the post's day
    assert [(r["message_id"], r["value"], r["day"]) for r in await rows(store, "post_tags")
            if r["message_id"] == 1] == [(1, "IS", day)]


async def test_a_retag_moving_a_tag_between_kinds(store: Store) -> None:
    """The same value as a person instead of a keyword: one row goes, one comes, per kind."""
    await watch(store)
    await store.save_posts(CHANNEL.id, [TaggedPost(post=full_post(1).post, tags=Tags(keywords=("x",)),
                                                   tagger_version="v")], at=T0)
    await store.update_tags([(PostKey(CHANNEL.id, 1), Tags(people=("x",)), "v2")])
    assert [(r["kind"], r["value"]) for r in await rows(store, "post_tags")] == [("person", "x")]



# -- the records rebuilt from other rows (monitor.store.rows) ----------------------------------------------------


async def test_a_collector_and_its_lease_read_back_field_by_field(store: Store) -> None:
    await store.sync_watchlist([ChannelRef(key="a", username="a")], at=T0)
    info = CollectorInfo(id="c1", host="box-1", pid=4242, version="2.5.0", started_at=T0 - timedelta(seconds=9),
                         heartbeat_at=T0 - timedelta(seconds=3))
    await store.register_collector(info)
    assert await store.collectors() == [info]
    assert await store.claim_leases("c1", ["a"], at=T0 + timedelta(seconds=2), expiry=60, limit=1) == ["a"]
    assert await store.leases() == [Lease(key="a", collector_id="c1", account=None,
                                          acquired_at=T0 + timedelta(seconds=2), expires_at=T0 + timedelta(seconds=62))]


async def test_an_audit_entry_keeps_its_detail_as_sorted_json(store: Store) -> None:
    entry = AuditEntry(actor="ана", action="login", target="web", at=T0,
                       detail={"zeta": 1, "ip": "127.0.0.1", "when": T0, "имя": "Ҳ"})
    await store.record_audit(entry)
    [row] = await rows(store, "web_audit")
    assert row["detail"] == '{"ip": "127.0.0.1", "when": "2024-03-01 12:00:00+00:00", "zeta": 1, "имя": "Ҳ"}'
    [back] = await store.audit_log()
    assert back == AuditEntry(actor="ана", action="login", target="web", at=T0, id=row["id"],
                              detail={"ip": "127.0.0.1", "when": "2024-03-01 12:00:00+00:00", "zeta": 1, "имя": "Ҳ"})


async def test_an_audit_detail_that_is_not_a_json_object_is_kept_under_detail(store: Store) -> None:
    bulk = bulk_of(store)
    planted = [(1, EPOCH0, "a", "x", "t", "not json"), (2, EPOCH0, "a", "x", "t", "[1, 2]"),
               (3, EPOCH0, "a", "x", "t", ""), (4, EPOCH0, "a", "x", "t", '{"k": "v"}')]
    await bulk.import_rows("web_audit", planted, job="test", cursor=(4,), copied=4)
    details = {e.id: e.detail for e in await store.audit_log()}
    assert details == {1: {"detail": "not json"}, 2: {"detail": [1, 2]}, 3: {}, 4: {"k": "v"}}
