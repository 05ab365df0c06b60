"""Report SQL for the SQLite store: a mixin over ``query()`` (the read-only connection).

Why a mixin: the report queries need SQLite's aggregate tables (migration 0002) and its
JSON functions, so they belong below ``store/``; the report modules above only see the
methods named in ``monitor.store.ports.ReportReads`` and plain dicts back.

Every value a user typed (dates, names, labels, tags) is a bound parameter; lists go in
as one JSON array parameter read with ``json_each(?)``. The only things spliced into SQL
text are fragments chosen from the dictionaries below by whitelisted names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from monitor.store.common.reports import (
    SQL_DIMS,
    TAG_KINDS,
    PostFilter,
    SharedReportQueries,
    period_bucket,
    select_dims,
    tag_joins,
)
_JSON_LIST = "(SELECT value FROM json_each(?))"
# Over more days than this, every channel's totals read the channel index whole rather than sort the range.
_SORT_DAYS = 120


def _j(values: Sequence[Any]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _bucket(every: str, column: str) -> str:
    return period_bucket(
        every,
        column,
        week="({d} - (({d} + 3) % 7))",  # ISO week: 1970-01-05 (day 4) was a Monday
        month="CAST(julianday(date({d} * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER)",
    )


class Positional(list[Any]):
    """`Bound` in SQLite's style: ``?`` placeholders, so values are bound in the order the SQL names them;
    a list is one JSON array parameter read with ``json_each(?)``."""

    def __call__(self, value: Any, cast: str = "") -> str:
        self.append(value)
        return "?"

    def any_of(self, column: str, values: Sequence[Any], cast: str) -> str:
        return f"{column} IN (SELECT value FROM json_each({self(_j(values))}))"


def _lang_clause(langs: Sequence[tuple[str, str | None]], lang_col: str, script_col: str) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for lang, script in langs:
        if script is None:
            parts.append(f"{lang_col} = ?")
            params.append(lang)
        else:
            parts.append(f"({lang_col} = ? AND {script_col} = ?)")
            params += [lang, script]
    return "(" + " OR ".join(parts) + ")", params


class ReportQueries(SharedReportQueries):
    """The SQL half of ``ReportReads`` on SQLite; the class that mixes this in provides ``query(sql, params)``."""

    if TYPE_CHECKING:  # provided by the store class this is mixed into (it comes later in the MRO)

        async def query(
            self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
        ) -> list[dict[str, Any]]: ...

    _bucket = staticmethod(_bucket)

    @staticmethod
    def _aggregate_where(
        since_day: int, until_day: int, channel_ids: Sequence[int] | None
    ) -> tuple[list[str], list[Any]]:
        """The WHERE terms and bound values every per-day aggregate query starts from."""
        where = ["day BETWEEN ? AND ?"]
        params: list[Any] = [since_day, until_day]
        if channel_ids is not None:
            where.append(f"channel_id IN {_JSON_LIST}")
            params.append(_j(channel_ids))
        return where, params

    async def _rows(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        return await self.query(sql, args)

    async def _channel_rows(self) -> list[dict[str, Any]]:
        return await self.query(
            "SELECT c.id AS id, c.username AS username, c.title AS title, NULL AS key, 0 AS watched,"
            " '{}' AS labels FROM channels c"
            " UNION ALL SELECT w.channel_id, NULL, NULL, w.key, w.watched, w.labels FROM watch w"
        )

    # -- volume -----------------------------------------------------------------------
    async def _volume_lang(
        self, f: PostFilter, every: str, dims: Sequence[str], per_channel: bool
    ) -> tuple[list[dict[str, Any]], str]:
        by_lang = "lang" in dims or "script" in dims or bool(f.langs) or bool(f.scripts)
        table = ("agg_lang_day" if by_lang else "agg_channel_day") if per_channel else "agg_lang_day_all"
        cols = [f"{_bucket(every, 'day')} AS bucket", *select_dims(dims, channel="channel_id", lang="lang", script="script")]
        # Every channel's totals over a long range: walk the channel index (agg_channel_day_channel) in order and sum each
        # channel as it passes, instead of sorting every (day, channel) row of the range; "+" keeps the
        # planner off the day key, which it prefers for any range. Over a few months the key is cheaper.
        long_totals = (table == "agg_channel_day" and every == "all" and f.channel_ids is None
                       and f.until_day - f.since_day > _SORT_DAYS)
        where = ["+day BETWEEN ? AND ?" if long_totals else "day BETWEEN ? AND ?"]
        params: list[Any] = [f.since_day, f.until_day]
        # all languages of a day summed first, in key order (the totals behind every share)
        inner = ("day",) if table == "agg_lang_day_all" and not dims else ()
        sql = _summed(table, cols, where, params, f.channel_ids, f.langs, f.scripts, inner=inner)
        return await self.query(*sql), table

    async def _tag_rows(
        self, table: str, time_col: str, bucket: str, kind: str, f: PostFilter, dims: Sequence[str],
        values: Sequence[str] | None,
    ) -> list[dict[str, Any]]:
        cols = [f"{bucket} AS bucket", *select_dims(dims, channel="channel_id", lang="lang", script="script")]
        if kind in dims:
            cols.append(f"value AS tag_{kind}")
        where = ["kind = ?", f"{time_col} BETWEEN ? AND ?"]
        params: list[Any] = [kind, f.since_day, f.until_day]
        if values:
            where.append(f"value IN {_JSON_LIST}")
            params.append(_j(values))
        # agg_tag_day_all holds a row per language and script of each day and value: summed per day and
        # value first, in the order of its key (no sort), the GROUP BY by period sorts ~7x fewer rows
        inner = ("day", "value") if table == "agg_tag_day_all" and "lang" not in dims and "script" not in dims else ()
        return await self.query(*_summed(table, cols, where, params, f.channel_ids, f.langs, f.scripts, inner=inner))

    def _post_where(self, f: PostFilter, *, day_index: bool = True) -> tuple[list[str], list[Any]]:
        """WHERE clauses over ``posts p`` for the common filters (``day_index=False``: keep the planner
        off the day index, so an ORDER BY ... LIMIT walks its own index instead)."""
        where = ["p.day BETWEEN ? AND ?" if day_index else "+p.day BETWEEN ? AND ?"]
        params: list[Any] = [f.since_day, f.until_day]
        if f.channel_ids is not None:
            where.append(f"p.channel_id IN {_JSON_LIST}")
            params.append(_j(f.channel_ids))
        if f.langs:
            clause, more = _lang_clause(f.langs, "p.lang", "coalesce(p.script, '')")
            where.append(clause)
            params += more
        if f.scripts:
            where.append(f"coalesce(p.script, '') IN {_JSON_LIST}")
            params.append(_j(f.scripts))
        for kind, values in f.tags.items():
            if kind not in TAG_KINDS:
                raise ValueError(f"unknown tag kind {kind!r}")
            if values:
                if day_index:
                    # A list, not a correlated EXISTS: the planner can then start from the tag's rows of the
                    # range (post_tags_value_day) and look the posts up, instead of testing every post of
                    # the range (a month of one group at 10M posts: 10,400 lookups, not 167,000 tests).
                    where.append(
                        "(p.channel_id, p.message_id) IN (SELECT f.channel_id, f.message_id FROM post_tags f"
                        f" WHERE f.kind = ? AND f.value IN {_JSON_LIST} AND f.day BETWEEN ? AND ?)"
                    )
                    params += [kind, _j(values), f.since_day, f.until_day]
                    continue
                # Off the day index, the caller walks another index (top posts: views) and stops at its
                # LIMIT; a list would let the planner start from the tag instead (5 years of one group
                # at 10M posts: 39 s instead of 0.3 s), so each post met is tested.
                where.append(
                    "EXISTS (SELECT 1 FROM post_tags f WHERE f.channel_id = p.channel_id"
                    f" AND f.message_id = p.message_id AND f.kind = ? AND f.value IN {_JSON_LIST})"
                )
                params += [kind, _j(values)]
        return where, params

    async def _volume_posts(self, f: PostFilter, every: str, dims: Sequence[str]) -> tuple[list[dict[str, Any]], str]:
        """The general path (several tag kinds at once): a GROUP BY over posts and post_tags."""
        cols = [f"{_bucket(every, 'p.day')} AS bucket",
                *select_dims(dims, channel="p.channel_id", lang="p.lang", script="coalesce(p.script, '')")]
        joined = Positional()
        joins = tag_joins(joined, dims, f.tags, cols)
        rest = {k: v for k, v in f.tags.items() if k not in dims}
        where, params = self._post_where(replace(f, tags=rest))
        keys = [c.rsplit(" AS ", 1)[1] for c in cols]
        sql = (
            f"SELECT {', '.join(cols)}, count(*) AS posts, coalesce(sum(p.views), 0) AS views,"
            f" coalesce(sum(p.forwards), 0) AS forwards FROM posts p {' '.join(joins)}"
            f" WHERE {' AND '.join(where)} GROUP BY {', '.join(keys)}"
        )
        return await self.query(sql, [*joined, *params]), "posts"

    async def report_pairs(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        where, params = self._aggregate_where(since_day, until_day, channel_ids)
        sql = (
            f"SELECT a, b, sum(posts) AS posts, count(DISTINCT channel_id) AS channels FROM agg_pair_day"
            f" WHERE {' AND '.join(where)} GROUP BY a, b HAVING sum(posts) > 0"
            " ORDER BY posts DESC, a, b LIMIT ?"
        )
        return await self.query(sql, [*params, int(limit)])

    # -- reach ------------------------------------------------------------------------
    async def _samples(self, f: PostFilter, dims: Sequence[str]) -> list[dict[str, Any]]:
        """One row per metric sample of the selected posts (with their dims), oldest first."""
        cols = ["p.channel_id AS channel_id", "p.message_id AS message_id", "p.posted_at AS posted_at",
                "p.views AS latest_views", "s.sampled_at AS sampled_at", "s.views AS views"]
        cols += select_dims(
            [d for d in dims if d != "channel"], channel="p.channel_id", lang="p.lang",
            script="coalesce(p.script, '')",
        )
        joined = Positional()
        joins = tag_joins(joined, dims, {}, cols)
        where, params = self._post_where(f)
        sql = (
            f"SELECT {', '.join(cols)} FROM posts p {' '.join(joins)}"
            " JOIN metric_samples s ON s.channel_id = p.channel_id AND s.message_id = p.message_id"
            f" WHERE {' AND '.join(where)} AND s.views IS NOT NULL"
            " ORDER BY p.channel_id, p.message_id, s.sampled_at"
        )
        return await self.query(sql, [*joined, *params])

    async def report_forward_names(self, channel_ids: Sequence[int]) -> dict[int, str]:
        """The newest forward-header name seen for each source channel id (titles of unwatched sources)."""
        if not channel_ids:
            return {}
        rows = await self.query(
            "SELECT j.value AS id, (SELECT p.fwd_name FROM posts p WHERE p.fwd_channel_id = j.value"
            " AND p.fwd_name IS NOT NULL ORDER BY p.posted_at DESC LIMIT 1) AS name FROM json_each(?) j",
            [_j(channel_ids)],
        )
        rows = [r for r in rows if r["name"] is not None]
        return {int(r["id"]): str(r["name"]) for r in rows}


__all__ = ["SQL_DIMS", "TAG_KINDS", "ReportQueries"]


def _summed(
    table: str,
    cols: list[str],
    where: list[str],
    params: list[Any],
    channel_ids: Sequence[int] | None,
    langs: Sequence[tuple[str, str | None]],
    scripts: Sequence[str],
    *,
    inner: Sequence[str] = (),
) -> tuple[str, list[Any]]:
    """SELECT cols + summed posts/views/forwards from an aggregate table, with the common filters bound;
    with ``inner`` (key columns of ``table``, in key order, that determine every term of ``cols``), the
    table is first summed per ``inner`` and those sums are grouped."""
    where, params = list(where), list(params)
    if channel_ids is not None:
        where.append(f"channel_id IN {_JSON_LIST}")
        params.append(_j(channel_ids))
    if langs:
        clause, more = _lang_clause(langs, "lang", "script")
        where.append(clause)
        params += more
    if scripts:
        where.append(f"script IN {_JSON_LIST}")
        params.append(_j(scripts))
    # a constant bucket (every="all") is no grouping key: left in, it keeps SQLite from grouping in the
    # order of an index, which then costs a sort of every row read
    keys = [c.rsplit(" AS ", 1)[1] for c in cols if not c.startswith("0 AS ")] or ["bucket"]
    sums = "sum(posts) AS posts, sum(views) AS views, sum(forwards) AS forwards"
    source = table
    if inner:
        source = f"(SELECT {', '.join(cols)}, {sums} FROM {table} WHERE {' AND '.join(where)} GROUP BY {', '.join(inner)})"
        cols, where = _keys_of(cols), ["1"]
    sql = (
        f"SELECT {', '.join(cols)}, {sums} FROM {source} WHERE {' AND '.join(where)}"
        f" GROUP BY {', '.join(keys)} HAVING sum(posts) > 0"
    )
    return sql, params


def _keys_of(cols: Sequence[str]) -> list[str]:
    """The names of SELECT terms ``expression AS name``."""
    return [c.rsplit(" AS ", 1)[1] for c in cols]

