"""A tagged post as the rows both backends write: the posts-table row, its tag columns, its post_tags rows.

Why once: SQLite and PostgreSQL keep a post in the same columns (epoch seconds, JSON text lists), and
their reports and alert replays must be byte-identical, so the Python side of a write is the same; only
how the rows reach the database differs (executemany with ``?`` or one ``unnest`` per table).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from monitor.fingerprint import content_hash, simhash64, to_signed64
from monitor.models import PostKey, Tags, TaggedPost
from monitor.store.epoch import ts


def jdump(value: Any) -> str:
    """Compact JSON, non-ASCII kept: the text lists and match records the schema stores."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def matches_json(tags: Tags) -> str:
    return jdump(
        [
            {"kind": m.kind, "canonical": m.canonical, "term": m.term, "start": m.start, "end": m.end,
             "rule": m.rule, "group": m.group}
            for m in tags.matches
        ]
    )


def tag_values(tags: Tags) -> tuple[Any, ...]:
    """The posts-table tag columns: lang, script, lang_confidence, groups, people, keywords, matches."""
    return (
        tags.lang,
        tags.script,
        float(tags.confidence),
        jdump(list(tags.groups)),
        jdump(list(tags.people)),
        jdump(list(tags.keywords)),
        matches_json(tags),
    )


def tag_rows(channel_id: int, message_id: int, day: int, tags: Tags) -> list[tuple[Any, ...]]:
    """The post_tags rows (channel_id, message_id, kind, value, day) of one post."""
    rows: list[tuple[Any, ...]] = [(channel_id, message_id, "group", g, day) for g in tags.groups]
    rows += [(channel_id, message_id, "person", p, day) for p in tags.people]
    rows += [(channel_id, message_id, "keyword", k, day) for k in tags.keywords]
    return rows


def tag_row_changes(
    stored_rows: Iterable[Sequence[Any]], posts: Sequence[tuple[PostKey, int, Tags]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """From the stored (channel_id, message_id, kind, value) rows of ``posts``: the rows to delete and the
    (channel_id, message_id, kind, value, day) rows to insert so each post's post_tags equal its tags."""
    stored: dict[tuple[int, int], set[tuple[str, str]]] = {}
    for r in stored_rows:
        stored.setdefault((int(r[0]), int(r[1])), set()).add((str(r[2]), str(r[3])))
    gone: list[tuple[Any, ...]] = []
    added: list[tuple[Any, ...]] = []
    for key, day, tags in posts:
        old = stored.get((key.channel_id, key.message_id), set())
        new = {(row[2], row[3]) for row in tag_rows(key.channel_id, key.message_id, day, tags)}
        gone += [(key.channel_id, key.message_id, kind, value) for kind, value in sorted(old - new)]
        added += [(key.channel_id, key.message_id, kind, value, day) for kind, value in sorted(new - old)]
    return gone, added


def fingerprints(tagged: TaggedPost) -> tuple[str, int]:
    """(content hash, signed SimHash) of a tagged post: taken from the tagging stage when it computed them."""
    text = tagged.post.text
    chash = tagged.content_hash if tagged.content_hash is not None else content_hash(text)
    shash = tagged.simhash if tagged.simhash is not None else simhash64(text)
    return chash, to_signed64(shash)


def post_row(tagged: TaggedPost, *, now: int, store_text: bool, source: str) -> tuple[Any, ...]:
    """The posts-table row of a tagged post, in the schema's column order (shared with the benchmarks)."""
    post, tags = tagged.post, tagged.tags
    posted = ts(post.posted_at)
    assert posted is not None
    fwd = post.forward
    chash, shash = fingerprints(tagged)
    return (
        post.channel_id, post.message_id, posted, posted // 86400, ts(post.edited_at),
        post.views, post.forwards, post.replies, post.reactions,
        fwd.channel_id if fwd else None, fwd.name if fwd else None, fwd.message_id if fwd else None,
        ts(fwd.date) if fwd else None,
        post.reply_to_id, post.grouped_id, post.media_kind, post.author,
        jdump(list(post.links)), jdump(list(post.mentions)), len(post.text), chash, shash,
        *tag_values(tags),
        tagged.tagger_version,
        post.text if store_text and post.text else None,
        source, now, now,
    )


__all__ = ["fingerprints", "jdump", "matches_json", "post_row", "tag_row_changes", "tag_rows", "tag_values"]
