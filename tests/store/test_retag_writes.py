"""A retag rewrites only what changed, on every backend: a post whose tags came out the same gets its
tagger_version and nothing else (no tag column written, no post_tags row deleted or inserted, so the
aggregate triggers never run for it); a changed post gets only the post_tags rows that differ.

The writes are counted by triggers the test adds to each backend's own tables (the store's port
offers no such view, and should not), so this file speaks SQL, unlike the contract suite.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from contract_data import CHANNEL, T0, tagged

from monitor.store import Store

_SQLITE_PROBE = (
    "CREATE TABLE tag_writes (op TEXT);"
    "CREATE TRIGGER count_ins AFTER INSERT ON post_tags BEGIN INSERT INTO tag_writes VALUES ('ins'); END;"
    "CREATE TRIGGER count_del AFTER DELETE ON post_tags BEGIN INSERT INTO tag_writes VALUES ('del'); END;"
    "CREATE TRIGGER count_upd AFTER UPDATE OF lang, script, lang_confidence, groups, people, keywords, matches"
    " ON posts BEGIN INSERT INTO tag_writes VALUES ('posts'); END;"
)
_POSTGRES_PROBE = """
CREATE TABLE tag_writes (n BIGSERIAL PRIMARY KEY, op TEXT);
CREATE FUNCTION count_tag_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO tag_writes (op) VALUES (TG_ARGV[0]); RETURN NULL; END $$;
CREATE TRIGGER count_ins AFTER INSERT ON post_tags FOR EACH ROW EXECUTE FUNCTION count_tag_write('ins');
CREATE TRIGGER count_del AFTER DELETE ON post_tags FOR EACH ROW EXECUTE FUNCTION count_tag_write('del');
CREATE TRIGGER count_upd AFTER UPDATE OF lang, script, lang_confidence, groups, people, keywords, matches
    ON posts FOR EACH ROW EXECUTE FUNCTION count_tag_write('posts');
"""


async def _sql(store: Store, sql: str, *, script: bool = False) -> list[tuple[Any, ...]]:
    """Run raw SQL beside the store on the same database (its file, or its schema on the server)."""
    if store.url.startswith("sqlite"):
        with sqlite3.connect(store.path) as db:  # type: ignore[attr-defined]
            if script:
                db.executescript(sql)
                return []
            return [tuple(r) for r in db.execute(sql)]
    async with store.db.connection() as conn:  # type: ignore[attr-defined]
        if script:
            await conn.execute(sql)
            return []
        return [tuple(r) for r in await conn.fetch(sql)]


async def test_a_retag_rewrites_only_posts_whose_tags_changed(store: Store) -> None:
    posts = [tagged(i, groups=("ISKP", "IS")) for i in range(1, 5)]
    await store.save_posts(CHANNEL.id, posts, at=T0)
    await _sql(store, _POSTGRES_PROBE if not store.url.startswith("sqlite") else _SQLITE_PROBE, script=True)
    aggregates = "SELECT day, channel_id, kind, value, posts FROM agg_tag_day ORDER BY 1, 2, 3, 4"
    before = await _sql(store, aggregates)

    async def writes() -> list[str]:
        return sorted(str(r[0]) for r in await _sql(store, "SELECT op FROM tag_writes"))

    same = [(p.post.key, p.tags, "test@2") for p in posts]
    await store.update_tags(same)
    assert await writes() == [], "unchanged tags were rewritten"
    assert {r[0] for r in await _sql(store, "SELECT tagger_version FROM posts")} == {"test@2"}
    assert await _sql(store, aggregates) == before
    assert await store.count_for_retag(after=None, stale_only_version="test@2") == 0

    # post 1 loses IS and gains HTS: one posts update, one delete, one insert; the others stay untouched
    new = tagged(1, groups=("HTS", "ISKP")).tags
    await store.update_tags([(posts[0].post.key, new, "test@3"), *[(k, t, "test@3") for k, t, _ in same[1:]]])
    assert await writes() == ["del", "ins", "posts"]
    rows = await _sql(store, "SELECT value FROM post_tags WHERE message_id = 1 ORDER BY value")
    assert rows == [("HTS",), ("ISKP",)]
    counts = dict(await _sql(store, "SELECT value, sum(posts) FROM agg_tag_day GROUP BY value"))
    assert {k: int(v) for k, v in counts.items()} == {"HTS": 1, "IS": 3, "ISKP": 4}

    # a language change alone rewrites the post's columns but no post_tags row
    lang_only = tagged(2, groups=("ISKP", "IS"), lang="tg").tags
    await store.update_tags([(posts[1].post.key, lang_only, "test@4")])
    assert await writes() == ["del", "ins", "posts", "posts"]
    stored = await store.get_post(posts[1].post.key)
    assert stored is not None and stored.lang == "tg" and stored.tagger_version == "test@4"
