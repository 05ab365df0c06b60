"""The trigger-maintained aggregates equal a GROUP BY over posts after inserts, re-samples, re-tags,
content edits and deletes; and the migration backfills a database that already holds posts."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from reports.reportdata import SAVED_AT, Dataset, fill

from monitor.store import open_store
from monitor.models import PostKey, Tags
from monitor.reports.periods import bucket_start, to_day
from monitor.store.sqlite.migrate import load_migrations

CHECKS = {
    "agg_channel_day": (
        "SELECT day, channel_id, posts, views, forwards FROM agg_channel_day WHERE posts <> 0",
        ("SELECT day, channel_id, count(*), coalesce(sum(views), 0), coalesce(sum(forwards), 0) FROM posts"
        " GROUP BY 1, 2"),
    ),
    "agg_lang_day": (
        "SELECT day, channel_id, lang, script, posts, views, forwards FROM agg_lang_day WHERE posts <> 0",
        ("SELECT day, channel_id, lang, coalesce(script, ''), count(*), coalesce(sum(views), 0),"
        " coalesce(sum(forwards), 0) FROM posts GROUP BY 1, 2, 3, 4"),
    ),
    "agg_lang_day_all": (
        "SELECT day, lang, script, posts, views, forwards FROM agg_lang_day_all WHERE posts <> 0",
        ("SELECT day, lang, coalesce(script, ''), count(*), coalesce(sum(views), 0), coalesce(sum(forwards), 0)"
        " FROM posts GROUP BY 1, 2, 3"),
    ),
    "agg_tag_day": (
        "SELECT kind, day, channel_id, value, lang, script, posts, views, forwards FROM agg_tag_day WHERE posts <> 0",
        ("SELECT t.kind, p.day, p.channel_id, t.value, p.lang, coalesce(p.script, ''), count(*),"
        " coalesce(sum(p.views), 0), coalesce(sum(p.forwards), 0) FROM post_tags t JOIN posts p"
        " ON p.channel_id = t.channel_id AND p.message_id = t.message_id GROUP BY 1, 2, 3, 4, 5, 6"),
    ),
    "agg_tag_day_all": (
        "SELECT kind, day, value, lang, script, posts, views, forwards FROM agg_tag_day_all WHERE posts <> 0",
        ("SELECT t.kind, p.day, t.value, p.lang, coalesce(p.script, ''), count(*),"
        " coalesce(sum(p.views), 0), coalesce(sum(p.forwards), 0) FROM post_tags t JOIN posts p"
        " ON p.channel_id = t.channel_id AND p.message_id = t.message_id GROUP BY 1, 2, 3, 4, 5"),
    ),
    "agg_tag_month": (
        "SELECT kind, month, channel_id, value, posts, views, forwards FROM agg_tag_month WHERE posts <> 0",
        ("SELECT t.kind, CAST(julianday(date(p.day * 86400, 'unixepoch', 'start of month')) - 2440587.5"
         " AS INTEGER), p.channel_id, t.value, count(*), coalesce(sum(p.views), 0), coalesce(sum(p.forwards), 0)"
         " FROM post_tags t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id"
         " GROUP BY 1, 2, 3, 4"),
    ),
    "agg_tag_week": (
        "SELECT kind, channel_id, week, value, posts, views, forwards FROM agg_tag_week WHERE posts <> 0",
        ("SELECT t.kind, p.channel_id, p.day - ((p.day + 3) % 7), t.value, count(*), coalesce(sum(p.views), 0),"
         " coalesce(sum(p.forwards), 0) FROM post_tags t JOIN posts p"
         " ON p.channel_id = t.channel_id AND p.message_id = t.message_id GROUP BY 1, 2, 3, 4"),
    ),
    "agg_pair_day": (
        "SELECT day, channel_id, a, b, posts FROM agg_pair_day WHERE posts <> 0",
        ("SELECT p.day, p.channel_id, x.value, y.value, count(*) FROM post_tags x JOIN post_tags y"
        " ON y.channel_id = x.channel_id AND y.message_id = x.message_id AND y.kind = 'group' AND y.value > x.value"
        " JOIN posts p ON p.channel_id = x.channel_id AND p.message_id = x.message_id WHERE x.kind = 'group'"
        " GROUP BY 1, 2, 3, 4"),
    ),
    "agg_forward_day": (
        "SELECT day, channel_id, src_channel_id, posts FROM agg_forward_day WHERE posts <> 0",
        ("SELECT day, channel_id, fwd_channel_id, count(*) FROM posts WHERE fwd_channel_id IS NOT NULL"
        " GROUP BY 1, 2, 3"),
    ),
    "agg_mention_day": (
        "SELECT day, channel_id, target, posts FROM agg_mention_day WHERE posts <> 0",
        ("SELECT day, channel_id, target, count(*) FROM (SELECT DISTINCT p.day, p.channel_id, p.message_id,"
        " j.value AS target FROM posts p, json_each(p.mentions) j) GROUP BY 1, 2, 3"),
    ),
}


def assert_consistent(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        for name, (agg, truth) in CHECKS.items():
            got = sorted(conn.execute(agg).fetchall(), key=repr)
            want = sorted(conn.execute(truth).fetchall(), key=repr)
            assert got == want, name
            assert got, f"{name} is empty: the test data does not exercise it"
            negative = conn.execute(f"SELECT count(*) FROM {name} WHERE posts < 0").fetchone()[0]
            assert negative == 0, name


async def test_aggregates_follow_every_write(dataset: Dataset) -> None:
    store = dataset.store
    assert_consistent(store.path)
    # a later poll re-samples views and forwards
    resampled = [replace(t, post=replace(t.post, views=(t.post.views or 0) + 7, forwards=1))
                 for t in dataset.posts[:60] if t.post.channel_id == 1001]
    await store.save_posts(1001, resampled, at=SAVED_AT + timedelta(hours=1), store_text=True)
    assert_consistent(store.path)
    # a re-tag moves posts between languages and groups
    retag = [(t.post.key, Tags(lang="kk", script="Cyrl", confidence=0.7, groups=("HTS", "IS"), keywords=("hijra",)),
              "test@2") for t in dataset.posts[100:140]]
    await store.update_tags(retag)
    assert_consistent(store.path)
    # a content edit rewrites text, hash, mentions and tags
    first = next(t for t in dataset.posts if t.post.channel_id == 1002)
    edited = replace(first, post=replace(first.post, text=first.post.text + " (обновлено) @new_name",
                                         mentions=("new_name",), edited_at=SAVED_AT),
                     tags=Tags(lang="ru", script="Cyrl", confidence=0.9, groups=("AQ", "IS", "JA")))
    await store.save_posts(1002, [edited], at=SAVED_AT + timedelta(hours=2), store_text=True)
    assert_consistent(store.path)
    # deletes (not done by the daemon today, but the triggers must keep the sums exact)
    async with store.transaction() as conn:
        await conn.execute("DELETE FROM posts WHERE channel_id = 1003 AND message_id % 3 = 0")
        await conn.execute("DELETE FROM post_tags WHERE channel_id = 1001 AND message_id % 5 = 0")
    assert_consistent(store.path)
    assert await store.get_post(PostKey(1003, 3)) is None


async def test_migration_backfills_existing_posts(tmp_path: Path) -> None:
    """A database written by 0001 only, then opened by a store that knows 0002."""
    source = open_store(tmp_path / "full.db")
    await source.open()
    try:
        await fill(source)
    finally:
        await source.close()
    old = tmp_path / "old.db"
    migrations = load_migrations()
    with sqlite3.connect(source.path) as full, sqlite3.connect(old) as conn:
        conn.executescript(migrations[0].sql)
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                     " applied_at INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_migrations VALUES (1, 'initial', 0)")
        for table in ("watch", "channels", "posts", "post_tags", "metric_samples"):
            # the columns 0001 had (later migrations add some, e.g. posts.deleted_at in 0006)
            cols = ", ".join(r[1] for r in conn.execute(f"PRAGMA table_info({table})"))
            rows = full.execute(f"SELECT {cols} FROM {table}").fetchall()
            if rows:
                conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({','.join('?' * len(rows[0]))})", rows)
    store = open_store(old)
    await store.open()
    try:
        assert await store.schema_version() == len(migrations)
    finally:
        await store.close()
    assert_consistent(old)


def test_python_buckets_match_sql_buckets() -> None:
    from monitor.store.sqlite.reports import _bucket

    days = list(range(to_day(date(2019, 12, 20)), to_day(date(2021, 3, 5))))
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE d (day INTEGER)")
        conn.executemany("INSERT INTO d VALUES (?)", [(d,) for d in days])
        for every in ("day", "week", "month"):
            rows = conn.execute(f"SELECT day, {_bucket(every, 'day')} FROM d ORDER BY day").fetchall()
            assert [b for _, b in rows] == [bucket_start(d, every) for d in days], every  # type: ignore[arg-type]
