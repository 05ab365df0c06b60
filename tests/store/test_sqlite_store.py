"""The SQLite store against real database files: migrations, idempotent saves, edits, parks, retention."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.errors import MigrationError, StoreClosedError, StoreError
from monitor.fingerprint import content_hash
from monitor.models import Channel, ChannelRef, ForwardOrigin, Match, Post, PostKey, Tags, TaggedPost
from monitor.store import open_store
from monitor.store.sqlite.migrate import load_migrations
from monitor.store.sqlite import SQLiteStore

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
CHANNEL = Channel(id=1001, username="ozod_sado", title="Ozod sado", access_hash=77)


def tagged(message_id: int, text: str = "", *, views: int | None = 10, groups: tuple[str, ...] = ()) -> TaggedPost:
    post = Post(
        channel_id=CHANNEL.id,
        message_id=message_id,
        posted_at=T0 + timedelta(hours=message_id),
        text=text or f"post number {message_id}",
        views=views,
        forwards=1,
        forward=ForwardOrigin(channel_id=2002, name="Src", message_id=5, date=T0),
    )
    matches = tuple(
        Match(kind="group", canonical=g, term=g, start=0, end=len(g), rule="alias", group=g) for g in groups
    )
    return TaggedPost(post=post, tags=Tags(lang="ru", script="Cyrl", confidence=0.9, groups=groups,
                                           matches=matches), tagger_version="test@1")


@pytest.fixture
async def store(tmp_path: Path) -> SQLiteStore:
    s = open_store(tmp_path / "m.db")
    await s.open()
    await s.sync_watchlist([ChannelRef(key="ozod_sado", username="ozod_sado")], at=T0)
    await s.set_resolved("ozod_sado", CHANNEL, at=T0)
    yield s
    await s.close()


async def test_migrates_from_empty_and_records_every_version(tmp_path: Path) -> None:
    store = open_store(tmp_path / "fresh.db")
    await store.open()
    assert await store.schema_version() == len(load_migrations())
    await store.close()
    with sqlite3.connect(tmp_path / "fresh.db") as db:
        versions = [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == list(range(1, len(load_migrations()) + 1))
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = open_store(tmp_path / "fresh.db")  # re-open applies nothing twice
    await again.open()
    await again.close()


async def test_refuses_a_database_from_a_newer_monitor(tmp_path: Path) -> None:
    store = open_store(tmp_path / "new.db")
    await store.open()
    await store.close()
    with sqlite3.connect(tmp_path / "new.db") as db:
        db.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    with pytest.raises(MigrationError, match="newer"):
        await open_store(tmp_path / "new.db").open()


async def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        await open_store(tmp_path / "nope" / "m.db").open()
    assert not (tmp_path / "nope").exists()


async def test_saving_twice_stores_once_and_moves_checkpoint(store: SQLiteStore) -> None:
    batch = [tagged(i, groups=("IS",)) for i in range(1, 6)]
    first = await store.save_posts(CHANNEL.id, batch, at=T0, checkpoint=5)
    second = await store.save_posts(CHANNEL.id, batch, at=T0, checkpoint=5)
    assert (first.inserted, second.inserted, second.unchanged) == (5, 0, 5)
    assert await store.all_post_keys() == [PostKey(CHANNEL.id, i) for i in range(1, 6)]
    [state] = await store.watch_states()
    assert state.checkpoint == 5 and state.posts == 5
    rows = await store.query("SELECT value, count(*) AS n FROM post_tags GROUP BY value")
    assert rows == [{"value": "IS", "n": 5}]


async def test_a_failed_batch_leaves_posts_and_checkpoint_untouched(store: SQLiteStore) -> None:
    await store.save_posts(CHANNEL.id, [tagged(1)], at=T0, checkpoint=1)
    foreign = TaggedPost(post=Post(channel_id=999, message_id=2, posted_at=T0), tags=Tags(), tagger_version="x")
    with pytest.raises(StoreError):
        await store.save_posts(CHANNEL.id, [tagged(2), foreign], at=T0, checkpoint=2)
    assert await store.all_post_keys() == [PostKey(CHANNEL.id, 1)]
    assert (await store.watch_states())[0].checkpoint == 1


async def test_an_edit_keeps_the_previous_hash_and_retags(store: SQLiteStore) -> None:
    await store.save_posts(CHANNEL.id, [tagged(1, "первый текст")], at=T0, checkpoint=1)
    edited = tagged(1, "исправленный текст про ИГИЛ", groups=("IS",))
    result = await store.save_posts(CHANNEL.id, [edited], at=T0 + timedelta(hours=1), store_text=True)
    assert result.updated == 1
    [row] = await store.query("SELECT content_hash, prev_content_hash, edit_count, groups, text FROM posts")
    assert row["prev_content_hash"] == content_hash("первый текст")
    assert row["content_hash"] == content_hash("исправленный текст про ИГИЛ")
    assert (row["edit_count"], row["groups"], row["text"]) == (1, '["IS"]', "исправленный текст про ИГИЛ")
    assert (await store.query("SELECT count(*) AS n FROM post_edits"))[0]["n"] == 1


async def test_views_are_kept_as_a_time_series(store: SQLiteStore) -> None:
    await store.save_posts(CHANNEL.id, [tagged(1, views=10)], at=T0)
    await store.save_posts(CHANNEL.id, [tagged(1, views=10)], at=T0 + timedelta(hours=1))  # no change
    await store.save_posts(CHANNEL.id, [tagged(1, views=250)], at=T0 + timedelta(hours=2))
    series = await store.query("SELECT views FROM metric_samples ORDER BY sampled_at")
    assert [r["views"] for r in series] == [10, 250]
    assert (await store.get_post(PostKey(CHANNEL.id, 1))).views == 250  # type: ignore[union-attr]


async def test_text_is_kept_only_when_asked_and_purged_after_retention(store: SQLiteStore) -> None:
    await store.save_posts(CHANNEL.id, [tagged(1, "без текста")], at=T0)
    await store.save_posts(CHANNEL.id, [tagged(2, "с текстом"), tagged(30, "новый")], at=T0, store_text=True)
    texts = {r["message_id"]: r["text"] for r in await store.query("SELECT message_id, text FROM posts")}
    assert texts == {1: None, 2: "с текстом", 30: "новый"}
    purged = await store.purge_text(before=T0 + timedelta(hours=10))
    assert purged == 1
    rows = await store.query("SELECT message_id, text, content_hash FROM posts ORDER BY message_id")
    assert [(r["message_id"], r["text"]) for r in rows] == [(1, None), (2, None), (30, "новый")]
    assert all(r["content_hash"] for r in rows)  # hashes and tags always stay


async def test_parks_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    store = open_store(path)
    await store.open()
    await store.park("account", T0 + timedelta(seconds=600), "FLOOD_WAIT 600")
    await store.park("channel:x", T0 - timedelta(seconds=1))
    await store.close()
    reopened = open_store(path)
    await reopened.open()
    assert await reopened.parks(now=T0) == {"account": T0 + timedelta(seconds=600)}
    await reopened.close()


async def test_watchlist_sync_unwatches_but_keeps_history(store: SQLiteStore) -> None:
    await store.save_posts(CHANNEL.id, [tagged(1)], at=T0)
    await store.sync_watchlist([ChannelRef(key="other", username="other", labels={"country": "TJ"})], at=T0)
    assert [s.key for s in await store.watch_states()] == ["other"]
    everything = await store.watch_states(include_unwatched=True)
    assert {s.key: s.watched for s in everything} == {"other": True, "ozod_sado": False}
    assert len(await store.all_post_keys()) == 1


async def test_retag_pages_through_stale_posts(store: SQLiteStore) -> None:
    await store.save_posts(CHANNEL.id, [tagged(i) for i in range(1, 8)], at=T0, store_text=True)
    page = await store.posts_for_retag(after=None, limit=3, stale_only_version="new@2")
    assert [p.message_id for p in page] == [1, 2, 3]
    await store.update_tags([(p.key, Tags(lang="tg", groups=("JA",)), "new@2") for p in page])
    rest = await store.posts_for_retag(after=None, limit=10, stale_only_version="new@2")
    assert [p.message_id for p in rest] == [4, 5, 6, 7]
    got = await store.get_post(PostKey(CHANNEL.id, 2))
    assert got is not None and got.groups == ("JA",) and got.lang == "tg"


async def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = open_store(tmp_path / "c.db")
    await store.open()
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreClosedError):
        await store.counts()


async def test_reader_is_read_only(store: SQLiteStore) -> None:
    with pytest.raises(StoreError):
        await store.query("DELETE FROM posts")


async def test_simhash_index_is_dropped_and_no_spread_query_would_use_it(store: SQLiteStore, tmp_path: Path) -> None:
    """Migration 0006 drops posts_simhash: put it back and the spread report's queries still do not use it."""
    await store.save_posts(CHANNEL.id, [tagged(i, groups=("ISKP",)) for i in range(1, 6)], at=T0)
    seen: list[tuple[str, list[object]]] = []
    real_query = store.query

    async def recording(sql: str, params: object = ()) -> list[dict[str, object]]:
        seen.append((sql, list(params)))  # type: ignore[call-overload]
        return await real_query(sql, params)  # type: ignore[arg-type]

    store.query = recording  # type: ignore[method-assign]
    day = (T0 - datetime(1970, 1, 1, tzinfo=UTC)).days
    for kwargs in ({}, {"channel_ids": [CHANNEL.id]}, {"tags": {"group": ["ISKP"]}}, {"langs": [("ru", None)]}):
        rows = await store.report_fingerprints(since_day=day, until_day=day + 1, min_length=1, **kwargs)  # type: ignore[arg-type]
        assert rows
    await store.close()
    assert seen
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'posts_simhash'").fetchone()[0] == 0
        db.execute("CREATE INDEX posts_simhash ON posts (simhash)")
        db.execute("ANALYZE")
        for sql, params in seen:
            plan = " | ".join(str(r[3]) for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            assert "posts_simhash" not in plan, plan


async def test_update_tags_rewrites_only_what_changed(store: SQLiteStore, tmp_path: Path) -> None:
    """Unchanged tags: only tagger_version is written, no post_tags row; changed ones: only the differing rows."""
    posts = [tagged(i, groups=("ISKP", "IS")) for i in range(1, 5)]
    await store.save_posts(CHANNEL.id, posts, at=T0)
    with sqlite3.connect(tmp_path / "m.db") as db:  # count every row the aggregate triggers would see
        db.executescript(
            "CREATE TABLE tag_writes (op TEXT);"
            "CREATE TRIGGER count_ins AFTER INSERT ON post_tags BEGIN INSERT INTO tag_writes VALUES ('ins'); END;"
            "CREATE TRIGGER count_del AFTER DELETE ON post_tags BEGIN INSERT INTO tag_writes VALUES ('del'); END;"
            "CREATE TRIGGER count_upd AFTER UPDATE OF lang, groups, matches ON posts"
            " BEGIN INSERT INTO tag_writes VALUES ('posts'); END;"
        )
        before = db.execute("SELECT * FROM agg_tag_day ORDER BY 1, 2, 3, 4, 5, 6").fetchall()

    def writes() -> list[str]:
        with sqlite3.connect(tmp_path / "m.db") as db:
            return [r[0] for r in db.execute("SELECT op FROM tag_writes ORDER BY rowid")]

    same = [(p.post.key, p.tags, "test@2") for p in posts]
    await store.update_tags(same)
    assert writes() == []
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert {r[0] for r in db.execute("SELECT tagger_version FROM posts")} == {"test@2"}
        assert db.execute("SELECT * FROM agg_tag_day ORDER BY 1, 2, 3, 4, 5, 6").fetchall() == before
    assert await store.count_for_retag(after=None, stale_only_version="test@2") == 0

    # post 1 loses IS and gains HTS: one posts update, one delete, one insert; the others stay untouched
    new = tagged(1, groups=("HTS", "ISKP")).tags
    await store.update_tags([(posts[0].post.key, new, "test@3"), *[(k, t, "test@3") for k, t, _ in same[1:]]])
    assert sorted(writes()) == ["del", "ins", "posts"]
    with sqlite3.connect(tmp_path / "m.db") as db:
        rows = db.execute("SELECT value FROM post_tags WHERE message_id = 1 ORDER BY value").fetchall()
        assert rows == [("HTS",), ("ISKP",)]
        counts = dict(db.execute("SELECT value, sum(posts) FROM agg_tag_day GROUP BY value").fetchall())
        assert counts == {"HTS": 1, "IS": 3, "ISKP": 4}
