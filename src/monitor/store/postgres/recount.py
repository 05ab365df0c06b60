"""The aggregates recounted from posts and post_tags, and compared with what the triggers keep.

Why here: the invariant of migration 0002 is that every aggregate table equals the same GROUP BY
over the current rows of posts joined with post_tags. ``aggregate_drift`` checks it, for the
tests and for ``monitor db check``. Rows the triggers brought back to zero are kept (as on SQLite)
and compare equal to a missing row.
"""

from __future__ import annotations

from typing import Any

# table -> (key columns, metric columns, the recount with exactly those column names)
_POSTS = "SELECT *, coalesce(script, '') AS s, coalesce(views, 0) AS v, coalesce(forwards, 0) AS f FROM posts"
_TAGGED = (
    "SELECT t.kind, t.value, p.day, p.channel_id, p.lang, coalesce(p.script, '') AS s,"
    " coalesce(p.views, 0) AS v, coalesce(p.forwards, 0) AS f"
    " FROM post_tags t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id"
)
_METRICS = "count(*) AS posts, sum(v) AS views, sum(f) AS forwards"
RECOUNTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "agg_channel_day": (
        ("day", "channel_id"), ("posts", "views", "forwards"),
        f"SELECT day, channel_id, {_METRICS} FROM ({_POSTS}) p GROUP BY 1, 2",
    ),
    "agg_lang_day": (
        ("day", "channel_id", "lang", "script"), ("posts", "views", "forwards"),
        f"SELECT day, channel_id, lang, s AS script, {_METRICS} FROM ({_POSTS}) p GROUP BY 1, 2, 3, 4",
    ),
    "agg_lang_day_all": (
        ("day", "lang", "script"), ("posts", "views", "forwards"),
        f"SELECT day, lang, s AS script, {_METRICS} FROM ({_POSTS}) p GROUP BY 1, 2, 3",
    ),
    "agg_tag_day": (
        ("kind", "day", "channel_id", "value", "lang", "script"), ("posts", "views", "forwards"),
        f"SELECT kind, day, channel_id, value, lang, s AS script, {_METRICS} FROM ({_TAGGED}) x"
        " GROUP BY 1, 2, 3, 4, 5, 6",
    ),
    "agg_tag_day_all": (
        ("kind", "day", "value", "lang", "script"), ("posts", "views", "forwards"),
        f"SELECT kind, day, value, lang, s AS script, {_METRICS} FROM ({_TAGGED}) x GROUP BY 1, 2, 3, 4, 5",
    ),
    "agg_tag_month": (
        ("kind", "month", "channel_id", "value"), ("posts", "views", "forwards"),
        f"SELECT kind, monitor_month(day) AS month, channel_id, value, {_METRICS} FROM ({_TAGGED}) x"
        " GROUP BY 1, 2, 3, 4",
    ),
    "agg_tag_week": (
        ("kind", "channel_id", "week", "value"), ("posts", "views", "forwards"),
        f"SELECT kind, channel_id, monitor_week(day) AS week, value, {_METRICS} FROM ({_TAGGED}) x"
        " GROUP BY 1, 2, 3, 4",
    ),
    "agg_pair_day": (
        ("day", "channel_id", "a", "b"), ("posts",),
        "SELECT p.day, p.channel_id, x.value AS a, y.value AS b, count(*) AS posts FROM posts p"
        " JOIN post_tags x ON x.channel_id = p.channel_id AND x.message_id = p.message_id AND x.kind = 'group'"
        " JOIN post_tags y ON y.channel_id = p.channel_id AND y.message_id = p.message_id AND y.kind = 'group'"
        " AND y.value > x.value COLLATE \"C\" GROUP BY 1, 2, 3, 4",
    ),
    "agg_forward_day": (
        ("day", "channel_id", "src_channel_id"), ("posts",),
        "SELECT day, channel_id, fwd_channel_id AS src_channel_id, count(*) AS posts FROM posts"
        " WHERE fwd_channel_id IS NOT NULL GROUP BY 1, 2, 3",
    ),
    "agg_mention_day": (
        ("day", "channel_id", "target"), ("posts",),
        "SELECT day, channel_id, target, count(*) AS posts FROM (SELECT DISTINCT p.day, p.channel_id,"
        " p.message_id, j.target FROM posts p CROSS JOIN LATERAL jsonb_array_elements_text(p.mentions::jsonb)"
        " AS j(target) WHERE p.mentions <> '[]') m GROUP BY 1, 2, 3",
    ),
}


def drift_sql(table: str) -> str:
    """One query: how many key combinations differ between ``table`` and its recount (0 when exact)."""
    keys, metrics, recount = RECOUNTS[table]
    differs = " OR ".join(f"coalesce(r.{m}, 0) <> coalesce(s.{m}, 0)" for m in metrics)
    return (
        f"WITH r AS ({recount}), s AS (SELECT {', '.join(keys)}, {', '.join(metrics)} FROM {table})"
        f" SELECT count(*) FROM r FULL JOIN s USING ({', '.join(keys)}) WHERE {differs}"
    )


async def aggregate_drift(conn: Any) -> list[str]:
    """Aggregate tables that differ from a recount over posts and post_tags (empty when all are exact).

    ``conn`` is an asyncpg connection; run it in a REPEATABLE READ (or read-only) transaction while
    collectors write, so every table is compared against the same snapshot.
    """
    drifted: list[str] = []
    for table in RECOUNTS:
        if int(await conn.fetchval(drift_sql(table))):
            drifted.append(table)
    return drifted


__all__ = ["RECOUNTS", "aggregate_drift", "drift_sql"]
