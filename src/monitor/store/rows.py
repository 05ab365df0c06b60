"""Stored rows rebuilt as core records, once for both backends.

Why here: SQLite and PostgreSQL keep a post in the same columns (epoch seconds, JSON arrays of tags,
matches and mentions), and their reports and alert replays must be byte-identical, so the conversion
from a row (any mapping: sqlite3.Row, asyncpg.Record) to a record is written once, without SQL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from monitor.models import ForwardOrigin, Match, Post, Tags, TaggedPost


def tagged_post(r: Mapping[str, Any]) -> TaggedPost:
    """A stored post row rebuilt as the TaggedPost the alert engine evaluates: text '' when not kept,
    and matches only while the text is kept (their offsets point into it)."""
    post = Post(
        channel_id=r["channel_id"],
        message_id=r["message_id"],
        posted_at=datetime.fromtimestamp(int(r["posted_at"]), UTC),
        text=r["text"] or "",
        views=r["views"],
        forwards=r["forwards"],
        forward=ForwardOrigin(channel_id=r["fwd_channel_id"], name=r["fwd_name"], message_id=r["fwd_message_id"])
        if r["fwd_channel_id"] is not None or r["fwd_name"] is not None
        else None,
        mentions=tuple(json.loads(r["mentions"] or "[]")),
    )
    matches = (
        tuple(
            Match(
                kind=m["kind"],
                canonical=m["canonical"],
                term=m["term"],
                start=m["start"],
                end=m["end"],
                rule=m["rule"],
                group=m.get("group"),
            )
            for m in json.loads(r["matches"] or "[]")
        )
        if r["text"]
        else ()
    )
    tags = Tags(
        lang=r["lang"],
        script=r["script"],
        confidence=r["lang_confidence"],
        groups=tuple(json.loads(r["groups"])),
        people=tuple(json.loads(r["people"])),
        keywords=tuple(json.loads(r["keywords"])),
        matches=matches,
    )
    return TaggedPost(post=post, tags=tags, tagger_version=r["tagger_version"])


__all__ = ["tagged_post"]
