"""Report reads on PostgreSQL: the same rows as the SQLite backend's ``reports.py``, from the same aggregates.

Why a line-by-line translation of the SQLite mixin rather than new SQL: the cross-backend test
compares every report's rendered output on both backends, so each query keeps the SQLite
query's choice of aggregate table (and hence its logical source name), its grouping and its
ordering. What differs is only what PostgreSQL spells differently:

- ``$n`` parameters (collected by ``Args``: a value never enters the SQL text); lists are one
  typed array parameter (``= ANY($n::bigint[])``) instead of SQLite's ``json_each(?)``;
- calendar buckets from the schema's ``monitor_month``/``monitor_week`` functions (PostgreSQL has
  no ``julianday``); ``GROUP BY`` by position, because a PostgreSQL ``GROUP BY name`` prefers an
  input column over an output alias (``script`` would group NULL and '' apart);
- ``sum()`` of a BIGINT is NUMERIC in PostgreSQL: cast back to BIGINT so rows carry ``int``;
- text ordering with ``COLLATE "C"`` (code point order, SQLite's BINARY) whatever the
  database's locale.

The only identifiers spliced into SQL text are table and column names chosen from the
fixed dictionaries below by whitelisted names.
"""

from __future__ import annotations

from dataclasses import replace
from collections.abc import Sequence
from typing import Any

from monitor.store.postgres.connection import Database

from monitor.store.common.reports import (
    SOURCE_NAMES,
    SQL_DIMS,
    TAG_KINDS,
    PostFilter,
    SharedReportQueries,
    period_bucket,
    select_dims,
    tag_joins,
)

_TABLES = frozenset(SOURCE_NAMES)
# Tables whose primary key is (kind, period, channel_id, value): one row per cell of a heat map.
_KEYED_BY_CHANNEL_TAG = frozenset({"agg_tag_month", "agg_tag_week"})
C = ' COLLATE "C"'


class Args:
    """Bound parameters of one statement: ``args(value)`` stores the value and returns its ``$n``."""

    def __init__(self, *values: Any) -> None:
        self.values: list[Any] = list(values)

    def __call__(self, value: Any, cast: str = "") -> str:
        self.values.append(value)
        return f"${len(self.values)}{cast}"

    def any_of(self, column: str, values: Sequence[Any], cast: str) -> str:
        """``column = ANY($n::<cast>[])``: the list is one typed array parameter."""
        items = _ints(values) if cast == "::bigint" else _texts(values)
        return f"{column} = ANY({self(items, cast + '[]')})"


def _bucket(every: str, column: str) -> str:
    # the schema's functions: an ISO week's Monday, a calendar month's first day (day numbers)
    return period_bucket(every, column, week="monitor_week({d})", month="monitor_month({d})")


def _lang_clause(langs: Sequence[tuple[str, str | None]], lang_col: str, script_col: str, args: Args) -> str:
    parts: list[str] = []
    for lang, script in langs:
        if script is None:
            parts.append(f"{lang_col} = {args(lang)}")
        else:
            parts.append(f"({lang_col} = {args(lang)} AND {script_col} = {args(script)})")
    return "(" + " OR ".join(parts) + ")"


def _ints(values: Sequence[int]) -> list[int]:
    return [int(v) for v in values]


def _texts(values: Sequence[str]) -> list[str]:
    return [str(v) for v in values]


class PostgresReportQueries(SharedReportQueries):
    """The SQL half of ``ReportReads`` over the aggregate tables; ``self.db`` is the store's pool."""

    db: Database

    async def _rows(self, sql: str, args: Args | Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run one read and return plain dicts (no asyncpg type crosses the port); retried like every read
        of the store while the server restarts or a connection is cut."""
        values = args.values if isinstance(args, Args) else list(args)

        async def work(conn: Any) -> list[dict[str, Any]]:
            records = await conn.fetch(sql, *values)
            if not records:
                return []
            # zip over a record's values is 20% cheaper than dict(record)'s per-key lookups (97,000 rows
            # of the heat map)
            names = tuple(records[0].keys())
            return [dict(zip(names, r, strict=True)) for r in records]

        return await self.db.run(work, write=False)

    _bucket = staticmethod(_bucket)
    _BIGINT = "::bigint"

    @staticmethod
    def _aggregate_where(since_day: int, until_day: int, channel_ids: Sequence[int] | None) -> tuple[list[str], Args]:
        """The WHERE terms (values bound in the ``Args`` returned) every per-day aggregate query starts from."""
        args = Args()
        where = [f"day BETWEEN {args(int(since_day))} AND {args(int(until_day))}"]
        if channel_ids is not None:
            where.append(f"channel_id = ANY({args(_ints(channel_ids), '::bigint[]')})")
        return where, args

    async def _channel_rows(self) -> list[dict[str, Any]]:
        return await self._rows(
            "SELECT * FROM (SELECT c.id AS id, c.username AS username, c.title AS title, NULL::text AS key,"
            " 0 AS watched, '{}'::text AS labels, 0 AS part FROM channels c"
            " UNION ALL SELECT w.channel_id, NULL, NULL, w.key, w.watched, w.labels, 1 FROM watch w) u"
            f" ORDER BY part, id, key{C}"
        )

    # -- volume -----------------------------------------------------------------------
    async def _volume_lang(
        self, f: PostFilter, every: str, dims: Sequence[str], per_channel: bool
    ) -> tuple[list[dict[str, Any]], str]:
        by_lang = "lang" in dims or "script" in dims or bool(f.langs) or bool(f.scripts)
        table = ("agg_lang_day" if by_lang else "agg_channel_day") if per_channel else "agg_lang_day_all"
        cols = [f"{_bucket(every, 'day')} AS bucket",
                *select_dims(dims, channel="channel_id", lang="lang", script="script")]
        args = Args()
        where = [f"day BETWEEN {args(int(f.since_day))} AND {args(int(f.until_day))}"]
        return await self._rows(*_summed(table, cols, where, args, f.channel_ids, f.langs, f.scripts)), table

    async def _tag_rows(
        self, table: str, time_col: str, bucket: str, kind: str, f: PostFilter, dims: Sequence[str],
        values: Sequence[str] | None,
    ) -> list[dict[str, Any]]:
        if kind not in TAG_KINDS or time_col not in ("day", "week", "month"):
            raise ValueError(f"unknown tag kind or period {kind!r}, {time_col!r}")
        cols = [f"{bucket} AS bucket", *select_dims(dims, channel="channel_id", lang="lang", script="script")]
        if kind in dims:
            cols.append(f"value AS tag_{kind}")
        args = Args()
        where = [f"kind = {args(kind)}", f"{time_col} BETWEEN {args(int(f.since_day))} AND {args(int(f.until_day))}"]
        if values:
            where.append(f"value = ANY({args(_texts(values), '::text[]')})")
        if (bucket == time_col and table in _KEYED_BY_CHANNEL_TAG and "channel" in dims and kind in dims
                and not f.langs and not f.scripts):
            # One row of the table per (period, channel, value) asked for: the GROUP BY would regroup
            # nothing, and its hash and sort cost 3x the plain read (the 120,000-cell heat map: an
            # index scan in the primary key's order instead, no sort).
            return await self._rows(*_unsummed(table, cols, where, args, f.channel_ids))
        return await self._rows(*_summed(table, cols, where, args, f.channel_ids, f.langs, f.scripts))

    @staticmethod
    def _post_where(args: Args, f: PostFilter) -> list[str]:
        """WHERE clauses over ``posts p`` for the common filters."""
        where = [f"p.day BETWEEN {args(int(f.since_day))} AND {args(int(f.until_day))}"]
        if f.channel_ids is not None:
            where.append(f"p.channel_id = ANY({args(_ints(f.channel_ids), '::bigint[]')})")
        if f.langs:
            where.append(_lang_clause(f.langs, "p.lang", "coalesce(p.script, '')", args))
        if f.scripts:
            where.append(f"coalesce(p.script, '') = ANY({args(_texts(f.scripts), '::text[]')})")
        for kind, values in f.tags.items():
            if kind not in TAG_KINDS:
                raise ValueError(f"unknown tag kind {kind!r}")
            if values:
                where.append(
                    "EXISTS (SELECT 1 FROM post_tags f WHERE f.channel_id = p.channel_id"
                    f" AND f.message_id = p.message_id AND f.kind = {args(kind)}"
                    f" AND f.value = ANY({args(_texts(values), '::text[]')})"
                    # the tag's days too, so the planner may start from post_tags_value_day
                    f" AND f.day BETWEEN {args(int(f.since_day))} AND {args(int(f.until_day))})"
                )
        return where

    async def _volume_posts(self, f: PostFilter, every: str, dims: Sequence[str]) -> tuple[list[dict[str, Any]], str]:
        """The general path (several tag kinds at once): a GROUP BY over posts and post_tags."""
        cols = [f"{_bucket(every, 'p.day')} AS bucket",
                *select_dims(dims, channel="p.channel_id", lang="p.lang", script="coalesce(p.script, '')")]
        args = Args()
        joins = tag_joins(args, dims, f.tags, cols)
        rest = {k: v for k, v in f.tags.items() if k not in dims}
        where = self._post_where(args, replace(f, tags=rest))
        positions = ", ".join(str(i) for i in range(1, len(cols) + 1))
        sql = (
            f"SELECT {', '.join(cols)}, count(*) AS posts, coalesce(sum(p.views), 0)::bigint AS views,"
            f" coalesce(sum(p.forwards), 0)::bigint AS forwards FROM posts p {' '.join(joins)}"
            f" WHERE {' AND '.join(where)} GROUP BY {positions} ORDER BY {positions}"
        )
        return await self._rows(sql, args), "posts"

    async def report_pairs(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        where, args = self._aggregate_where(since_day, until_day, channel_ids)
        # Why two levels: count(DISTINCT) sorts every day's row by (a, b) (1.6M rows at 10M posts), while
        # hashing per (pair, channel) first leaves a few thousand groups; a channel counts once it has a
        # row in the range, as with count(DISTINCT channel_id).
        sql = (
            "SELECT a, b, sum(posts)::bigint AS posts, count(*) AS channels FROM ("
            f" SELECT a, b, channel_id, sum(posts) AS posts FROM agg_pair_day WHERE {' AND '.join(where)}"
            " GROUP BY a, b, channel_id) per_channel"
            f" GROUP BY a, b HAVING sum(posts) > 0 ORDER BY 3 DESC, a{C}, b{C} LIMIT {args(int(limit))}"
        )
        return await self._rows(sql, args)

    # -- reach ------------------------------------------------------------------------
    async def _samples(self, f: PostFilter, dims: Sequence[str]) -> list[dict[str, Any]]:
        """One row per metric sample of the selected posts (with their dims), oldest first."""
        bad = set(dims) - SQL_DIMS
        if bad:
            raise ValueError(f"unknown report dimension {sorted(bad)}")
        cols = ["p.channel_id AS channel_id", "p.message_id AS message_id", "p.posted_at AS posted_at",
                "p.views AS latest_views", "s.sampled_at AS sampled_at", "s.views AS views"]
        cols += select_dims(
            [d for d in dims if d != "channel"], channel="p.channel_id", lang="p.lang",
            script="coalesce(p.script, '')",
        )
        args = Args()
        joins = tag_joins(args, dims, {}, cols)
        tag_order = [f"t_{kind}.value{C}" for kind in TAG_KINDS if kind in dims]
        where = self._post_where(args, f)
        sql = (
            f"SELECT {', '.join(cols)} FROM posts p {' '.join(joins)}"
            " JOIN metric_samples s ON s.channel_id = p.channel_id AND s.message_id = p.message_id"
            f" WHERE {' AND '.join(where)} AND s.views IS NOT NULL"
            f" ORDER BY p.channel_id, p.message_id, s.sampled_at{''.join(', ' + t for t in tag_order)}"
        )
        return await self._rows(sql, args)

    async def report_forward_names(self, channel_ids: Sequence[int]) -> dict[int, str]:
        """The newest forward-header name seen for each source channel id (titles of unwatched sources)."""
        if not channel_ids:
            return {}
        rows = await self._rows(
            "SELECT j.id AS id, (SELECT p.fwd_name FROM posts p WHERE p.fwd_channel_id = j.id"
            " AND p.fwd_name IS NOT NULL ORDER BY p.posted_at DESC, p.first_seen_at DESC, p.channel_id DESC,"
            " p.message_id DESC LIMIT 1) AS name FROM unnest($1::bigint[]) AS j(id)",
            [_ints(channel_ids)],
        )
        return {int(r["id"]): str(r["name"]) for r in rows if r["name"] is not None}


def _summed(
    table: str,
    cols: list[str],
    where: list[str],
    args: Args,
    channel_ids: Sequence[int] | None,
    langs: Sequence[tuple[str, str | None]],
    scripts: Sequence[str],
) -> tuple[str, Args]:
    """SELECT cols + summed posts/views/forwards from an aggregate table, with the common filters bound."""
    if table not in _TABLES:
        raise ValueError(f"not an aggregate table: {table!r}")
    where = list(where)
    if channel_ids is not None:
        where.append(f"channel_id = ANY({args(_ints(channel_ids), '::bigint[]')})")
    if langs:
        where.append(_lang_clause(langs, "lang", "script", args))
    if scripts:
        where.append(f"script = ANY({args(_texts(scripts), '::text[]')})")
    positions = ", ".join(str(i) for i in range(1, len(cols) + 1))
    sql = (
        f"SELECT {', '.join(cols)}, sum(posts)::bigint AS posts, sum(views)::bigint AS views,"
        f" sum(forwards)::bigint AS forwards FROM {table} WHERE {' AND '.join(where)}"
        f" GROUP BY {positions} HAVING sum(posts) > 0 ORDER BY {positions}"
    )
    return sql, args


def _unsummed(
    table: str, cols: list[str], where: list[str], args: Args, channel_ids: Sequence[int] | None
) -> tuple[str, Args]:
    """``_summed``'s rows when ``cols`` name a whole key of ``table``: each group is one row, read as is."""
    if table not in _KEYED_BY_CHANNEL_TAG:
        raise ValueError(f"not keyed by period, channel and tag: {table!r}")
    where = [*where, "posts > 0"]
    if channel_ids is not None:
        where.append(f"channel_id = ANY({args(_ints(channel_ids), '::bigint[]')})")
    positions = ", ".join(str(i) for i in range(1, len(cols) + 1))
    sql = (
        f"SELECT {', '.join(cols)}, posts, views, forwards FROM {table} WHERE {' AND '.join(where)}"
        f" ORDER BY {positions}"
    )
    return sql, args


__all__ = ["Args", "PostgresReportQueries"]
