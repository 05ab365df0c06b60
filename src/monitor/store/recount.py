"""The aggregates recounted from posts and post_tags: one definition for both backends.

Why here: the invariant of the aggregate migrations is that every aggregate table equals the same
GROUP BY over the current rows of posts joined with post_tags; ``monitor db check`` and the tests
compare the two. The recounts are the same on SQLite and PostgreSQL but for four dialect pieces (how
a day becomes its month or ISO week, the byte order of a text comparison, how a JSON array of mentions
is unnested), which each backend passes in, so a new aggregate is added once.
"""

from __future__ import annotations

from dataclasses import dataclass

Recount = tuple[tuple[str, ...], tuple[str, ...], str]  # (key columns, metric columns, the recount query)

_POSTS = "SELECT *, coalesce(script, '') AS s, coalesce(views, 0) AS v, coalesce(forwards, 0) AS f FROM posts"
_TAGGED = (
    "SELECT t.kind, t.value, p.day, p.channel_id, p.lang, coalesce(p.script, '') AS s,"
    " coalesce(p.views, 0) AS v, coalesce(p.forwards, 0) AS f"
    " FROM post_tags t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id"
)
_METRICS = "count(*) AS posts, sum(v) AS views, sum(f) AS forwards"
_COUNTS = ("posts", "views", "forwards")


@dataclass(frozen=True, slots=True)
class Dialect:
    """The pieces of SQL that differ between backends; ``{d}`` stands for the day column."""

    month: str  # the first day of the day's calendar month, as a day number
    week: str  # the Monday of the day's ISO week, as a day number
    byte_order: str  # appended to a text comparison so it orders by bytes (as SQLite does)
    mentions: str  # FROM clause over posts p giving one row per (post, mention), the mention as j.value


def recounts(dialect: Dialect) -> dict[str, Recount]:
    """table -> (key columns, metric columns, the GROUP BY the aggregate triggers keep it equal to)."""
    month, week = dialect.month.format(d="day"), dialect.week.format(d="day")
    return {
        "agg_channel_day": (
            ("day", "channel_id"), _COUNTS,
            f"SELECT day, channel_id, {_METRICS} FROM ({_POSTS}) p GROUP BY 1, 2",
        ),
        "agg_lang_day": (
            ("day", "channel_id", "lang", "script"), _COUNTS,
            f"SELECT day, channel_id, lang, s AS script, {_METRICS} FROM ({_POSTS}) p GROUP BY 1, 2, 3, 4",
        ),
        "agg_lang_day_all": (
            ("day", "lang", "script"), _COUNTS,
            f"SELECT day, lang, s AS script, {_METRICS} FROM ({_POSTS}) p GROUP BY 1, 2, 3",
        ),
        "agg_tag_day": (
            ("kind", "day", "channel_id", "value", "lang", "script"), _COUNTS,
            f"SELECT kind, day, channel_id, value, lang, s AS script, {_METRICS} FROM ({_TAGGED}) x"
            " GROUP BY 1, 2, 3, 4, 5, 6",
        ),
        "agg_tag_day_all": (
            ("kind", "day", "value", "lang", "script"), _COUNTS,
            f"SELECT kind, day, value, lang, s AS script, {_METRICS} FROM ({_TAGGED}) x GROUP BY 1, 2, 3, 4, 5",
        ),
        "agg_tag_month": (
            ("kind", "month", "channel_id", "value"), _COUNTS,
            f"SELECT kind, {month} AS month, channel_id, value, {_METRICS} FROM ({_TAGGED}) x GROUP BY 1, 2, 3, 4",
        ),
        "agg_tag_week": (
            ("kind", "channel_id", "week", "value"), _COUNTS,
            f"SELECT kind, channel_id, {week} AS week, value, {_METRICS} FROM ({_TAGGED}) x GROUP BY 1, 2, 3, 4",
        ),
        "agg_pair_day": (
            ("day", "channel_id", "a", "b"), ("posts",),
            "SELECT p.day, p.channel_id, x.value AS a, y.value AS b, count(*) AS posts FROM posts p"
            " JOIN post_tags x ON x.channel_id = p.channel_id AND x.message_id = p.message_id AND x.kind = 'group'"
            " JOIN post_tags y ON y.channel_id = p.channel_id AND y.message_id = p.message_id AND y.kind = 'group'"
            f" AND y.value > x.value{dialect.byte_order} GROUP BY 1, 2, 3, 4",
        ),
        "agg_forward_day": (
            ("day", "channel_id", "src_channel_id"), ("posts",),
            "SELECT day, channel_id, fwd_channel_id AS src_channel_id, count(*) AS posts FROM posts"
            " WHERE fwd_channel_id IS NOT NULL GROUP BY 1, 2, 3",
        ),
        "agg_mention_day": (
            ("day", "channel_id", "target"), ("posts",),
            "SELECT day, channel_id, target, count(*) AS posts FROM (SELECT DISTINCT p.day, p.channel_id,"
            f" p.message_id, j.value AS target FROM {dialect.mentions} WHERE p.mentions <> '[]') m GROUP BY 1, 2, 3",
        ),
    }


__all__ = ["Dialect", "Recount", "recounts"]
