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

import json
from collections.abc import Mapping, Sequence
from typing import Any

from monitor.store.postgres.connection import Database

# The same logic as the SQLite mixin: import its pure helpers so both backends split ranges alike.
from monitor.store.sqlite.reports import SOURCE_NAMES, SQL_DIMS, TAG_KINDS, _month_split, _week_split

_EVERY = {
    "day": "{d}",
    "week": "monitor_week({d})",  # ISO week: Monday as a day number
    "month": "monitor_month({d})",  # first day of the calendar month as a day number
    "all": "0",
}
_TABLES = frozenset(SOURCE_NAMES)
C = ' COLLATE "C"'


class Args:
    """Bound parameters of one statement: ``args(value)`` stores the value and returns its ``$n``."""

    def __init__(self, *values: Any) -> None:
        self.values: list[Any] = list(values)

    def __call__(self, value: Any, cast: str = "") -> str:
        self.values.append(value)
        return f"${len(self.values)}{cast}"


def _bucket(every: str, column: str) -> str:
    if every not in _EVERY:
        raise ValueError(f"unknown period {every!r}")
    return _EVERY[every].format(d=column)


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


class PostgresReportQueries:
    """``ReportReads`` over the aggregate tables; ``self.db`` is the store's pool."""

    db: Database

    async def _rows(self, sql: str, args: Args | Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run one read and return plain dicts (no asyncpg type crosses the port); retried like every read
        of the store while the server restarts or a connection is cut."""
        values = args.values if isinstance(args, Args) else list(args)

        async def work(conn: Any) -> list[dict[str, Any]]:
            return [dict(r) for r in await conn.fetch(sql, *values)]

        return await self.db.run(work, write=False)

    # -- reference data ---------------------------------------------------------------
    async def report_day_range(self) -> tuple[int, int] | None:
        """First and last day holding posts, read off the aggregate's primary key."""
        rows = await self._rows(
            "SELECT (SELECT min(day) FROM agg_lang_day_all WHERE posts > 0) AS lo,"
            " (SELECT max(day) FROM agg_lang_day_all WHERE posts > 0) AS hi"
        )
        if not rows or rows[0]["lo"] is None:
            return None
        return int(rows[0]["lo"]), int(rows[0]["hi"])

    async def report_channels(self) -> list[dict[str, Any]]:
        """Every channel known from channels or the watch list: id, username, title, watched, labels, keys."""
        rows = await self._rows(
            "SELECT * FROM (SELECT c.id AS id, c.username AS username, c.title AS title, NULL::text AS key,"
            " 0 AS watched, '{}'::text AS labels, 0 AS part FROM channels c"
            " UNION ALL SELECT w.channel_id, NULL, NULL, w.key, w.watched, w.labels, 1 FROM watch w) u"
            f" ORDER BY part, id, key{C}"
        )
        merged: dict[Any, dict[str, Any]] = {}
        for r in rows:
            ident = r["id"] if r["id"] is not None else f"key:{r['key']}"
            item = merged.setdefault(
                ident,
                {"id": r["id"], "username": None, "title": None, "watched": False, "labels": {}, "keys": []},
            )
            if r["username"]:
                item["username"] = r["username"]
            if r["title"]:
                item["title"] = r["title"]
            if r["key"] is not None:
                item["keys"].append(r["key"])
                if r["watched"]:
                    item["watched"] = True
                    try:
                        labels = json.loads(r["labels"] or "{}")
                    except ValueError:
                        labels = {}
                    if isinstance(labels, dict):
                        item["labels"].update({str(k): str(v) for k, v in labels.items()})
        return list(merged.values())

    # -- volume -----------------------------------------------------------------------
    async def report_volume(
        self,
        *,
        since_day: int,
        until_day: int,
        every: str,
        dims: Sequence[str],
        channel_ids: Sequence[int] | None = None,
        tags: Mapping[str, Sequence[str]] | None = None,
        langs: Sequence[tuple[str, str | None]] = (),
        scripts: Sequence[str] = (),
    ) -> tuple[list[dict[str, Any]], str]:
        tags = {k: list(v) for k, v in (tags or {}).items() if v}
        bad = set(dims) - SQL_DIMS
        if bad or set(tags) - set(TAG_KINDS):
            raise ValueError(f"unknown report dimension {sorted(bad | (set(tags) - set(TAG_KINDS)))}")
        if every not in _EVERY:
            raise ValueError(f"unknown period {every!r}")
        kinds = {d for d in dims if d in TAG_KINDS} | set(tags)
        per_channel = "channel" in dims or channel_ids is not None
        if not kinds:
            rows, table = await self._volume_lang(
                since_day, until_day, every, dims, channel_ids, langs, scripts, per_channel
            )
            return rows, SOURCE_NAMES[table]
        (kind,) = kinds if len(kinds) == 1 else (None,)
        if kind is not None and (kind in dims or len(tags.get(kind, [])) <= 1):
            rows, table = await self._volume_tag(
                kind, since_day, until_day, every, dims, channel_ids, tags.get(kind), langs, scripts, per_channel
            )
            return rows, SOURCE_NAMES[table]
        rows, table = await self._volume_posts(since_day, until_day, every, dims, channel_ids, tags, langs, scripts)
        return rows, SOURCE_NAMES[table]

    @staticmethod
    def _select_dims(dims: Sequence[str], *, channel: str, lang: str, script: str) -> list[str]:
        out: list[str] = []
        if "channel" in dims:
            out.append(f"{channel} AS channel_id")
        if "lang" in dims:
            out += [f"{lang} AS lang", f"{script} AS script"]
        elif "script" in dims:
            out.append(f"{script} AS script")
        return out

    async def _volume_lang(
        self,
        since_day: int,
        until_day: int,
        every: str,
        dims: Sequence[str],
        channel_ids: Sequence[int] | None,
        langs: Sequence[tuple[str, str | None]],
        scripts: Sequence[str],
        per_channel: bool,
    ) -> tuple[list[dict[str, Any]], str]:
        by_lang = "lang" in dims or "script" in dims or bool(langs) or bool(scripts)
        table = ("agg_lang_day" if by_lang else "agg_channel_day") if per_channel else "agg_lang_day_all"
        cols = [f"{_bucket(every, 'day')} AS bucket",
                *self._select_dims(dims, channel="channel_id", lang="lang", script="script")]
        args = Args()
        where = [f"day BETWEEN {args(int(since_day))} AND {args(int(until_day))}"]
        return await self._rows(*_summed(table, cols, where, args, channel_ids, langs, scripts)), table

    async def _volume_tag(
        self,
        kind: str,
        since_day: int,
        until_day: int,
        every: str,
        dims: Sequence[str],
        channel_ids: Sequence[int] | None,
        values: Sequence[str] | None,
        langs: Sequence[tuple[str, str | None]],
        scripts: Sequence[str],
        per_channel: bool,
        *,
        whole: bool = True,
    ) -> tuple[list[dict[str, Any]], str]:
        """``whole=False``: the days around whole months (weeks), which only the daily tables hold."""
        by_channel_only = (
            whole and per_channel and not langs and not scripts and "lang" not in dims and "script" not in dims
        )
        monthly = by_channel_only and every in ("month", "all")
        if monthly:
            split = _month_split(since_day, until_day)
            if split is not None:
                (head, months, tail) = split
                rows: list[dict[str, Any]] = []
                for lo, hi in (head, tail):
                    if lo <= hi:
                        part, _ = await self._volume_tag(kind, lo, hi, every, dims, channel_ids, values, langs,
                                                         scripts, per_channel, whole=False)
                        rows += part
                rows += await self._tag_rows("agg_tag_month", "month", "month" if every == "month" else "0",
                                             kind, months[0], months[1], dims, channel_ids, values, (), ())
                return rows, "agg_tag_month"
        if by_channel_only and every == "week":
            wsplit = _week_split(since_day, until_day)
            if wsplit is not None:
                (head, weeks, tail) = wsplit
                rows = []
                for lo, hi in (head, tail):
                    if lo <= hi:
                        part, _ = await self._volume_tag(kind, lo, hi, every, dims, channel_ids, values, langs,
                                                         scripts, per_channel, whole=False)
                        rows += part
                rows += await self._tag_rows("agg_tag_week", "week", "week", kind, weeks[0], weeks[1], dims,
                                             channel_ids, values, (), ())
                return rows, "agg_tag_week"
        table = "agg_tag_day" if per_channel else "agg_tag_day_all"
        return (await self._tag_rows(table, "day", _bucket(every, "day"), kind, since_day, until_day, dims,
                                     channel_ids, values, langs, scripts)), table

    async def _tag_rows(
        self,
        table: str,
        time_col: str,
        bucket: str,
        kind: str,
        lo: int,
        hi: int,
        dims: Sequence[str],
        channel_ids: Sequence[int] | None,
        values: Sequence[str] | None,
        langs: Sequence[tuple[str, str | None]],
        scripts: Sequence[str],
    ) -> list[dict[str, Any]]:
        if kind not in TAG_KINDS or time_col not in ("day", "week", "month"):
            raise ValueError(f"unknown tag kind or period {kind!r}, {time_col!r}")
        cols = [f"{bucket} AS bucket", *self._select_dims(dims, channel="channel_id", lang="lang", script="script")]
        if kind in dims:
            cols.append(f"value AS tag_{kind}")
        args = Args()
        where = [f"kind = {args(kind)}", f"{time_col} BETWEEN {args(int(lo))} AND {args(int(hi))}"]
        if values:
            where.append(f"value = ANY({args(_texts(values), '::text[]')})")
        return await self._rows(*_summed(table, cols, where, args, channel_ids, langs, scripts))

    @staticmethod
    def _post_where(
        args: Args,
        since_day: int,
        until_day: int,
        channel_ids: Sequence[int] | None,
        tags: Mapping[str, Sequence[str]],
        langs: Sequence[tuple[str, str | None]],
        scripts: Sequence[str],
    ) -> list[str]:
        """WHERE clauses over ``posts p`` for the common filters."""
        where = [f"p.day BETWEEN {args(int(since_day))} AND {args(int(until_day))}"]
        if channel_ids is not None:
            where.append(f"p.channel_id = ANY({args(_ints(channel_ids), '::bigint[]')})")
        if langs:
            where.append(_lang_clause(langs, "p.lang", "coalesce(p.script, '')", args))
        if scripts:
            where.append(f"coalesce(p.script, '') = ANY({args(_texts(scripts), '::text[]')})")
        for kind, values in tags.items():
            if kind not in TAG_KINDS:
                raise ValueError(f"unknown tag kind {kind!r}")
            if values:
                where.append(
                    "EXISTS (SELECT 1 FROM post_tags f WHERE f.channel_id = p.channel_id"
                    f" AND f.message_id = p.message_id AND f.kind = {args(kind)}"
                    f" AND f.value = ANY({args(_texts(values), '::text[]')}))"
                )
        return where

    async def _volume_posts(
        self,
        since_day: int,
        until_day: int,
        every: str,
        dims: Sequence[str],
        channel_ids: Sequence[int] | None,
        tags: Mapping[str, Sequence[str]],
        langs: Sequence[tuple[str, str | None]],
        scripts: Sequence[str],
    ) -> tuple[list[dict[str, Any]], str]:
        """The general path (several tag kinds at once): a GROUP BY over posts and post_tags."""
        cols = [f"{_bucket(every, 'p.day')} AS bucket",
                *self._select_dims(dims, channel="p.channel_id", lang="p.lang", script="coalesce(p.script, '')")]
        args = Args()
        joins: list[str] = []
        for kind in TAG_KINDS:
            if kind in dims:
                alias = f"t_{kind}"
                joins.append(
                    f"JOIN post_tags {alias} ON {alias}.channel_id = p.channel_id"
                    f" AND {alias}.message_id = p.message_id AND {alias}.kind = {args(kind)}"
                )
                cols.append(f"{alias}.value AS tag_{kind}")
                values = tags.get(kind)
                if values:
                    joins[-1] += f" AND {alias}.value = ANY({args(_texts(values), '::text[]')})"
        rest = {k: v for k, v in tags.items() if k not in dims}
        where = self._post_where(args, since_day, until_day, channel_ids, rest, langs, scripts)
        positions = ", ".join(str(i) for i in range(1, len(cols) + 1))
        sql = (
            f"SELECT {', '.join(cols)}, count(*) AS posts, coalesce(sum(p.views), 0)::bigint AS views,"
            f" coalesce(sum(p.forwards), 0)::bigint AS forwards FROM posts p {' '.join(joins)}"
            f" WHERE {' AND '.join(where)} GROUP BY {positions} ORDER BY {positions}"
        )
        return await self._rows(sql, args), "posts"

    # -- top --------------------------------------------------------------------------
    async def report_top_posts(
        self,
        *,
        since_day: int,
        until_day: int,
        order: str,
        limit: int,
        channel_ids: Sequence[int] | None = None,
        tags: Mapping[str, Sequence[str]] | None = None,
        langs: Sequence[tuple[str, str | None]] = (),
        scripts: Sequence[str] = (),
        include_deleted: bool = True,
    ) -> list[dict[str, Any]]:
        column = {"views": "p.views", "forwards": "p.forwards"}[order]
        args = Args()
        where = self._post_where(args, since_day, until_day, channel_ids, tags or {}, langs, scripts)
        where.append(f"{column} IS NOT NULL")
        if not include_deleted:
            where.append("p.deleted_at IS NULL")
        sql = (
            "SELECT p.channel_id, p.message_id, p.posted_at, p.views, p.forwards, p.lang, p.script, p.groups,"
            " p.keywords, p.text, c.username, c.title, p.deleted_at FROM posts p LEFT JOIN channels c ON c.id = p.channel_id"
            f" WHERE {' AND '.join(where)} ORDER BY {column} DESC, p.posted_at, p.channel_id, p.message_id"
            f" LIMIT {args(int(limit))}"
        )
        return await self._rows(sql, args)

    async def report_posts(
        self,
        *,
        since_day: int,
        until_day: int,
        limit: int,
        offset: int = 0,
        channel_ids: Sequence[int] | None = None,
        tags: Mapping[str, Sequence[str]] | None = None,
        langs: Sequence[tuple[str, str | None]] = (),
        scripts: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """The posts behind a report cell, oldest first, one page (the day index bounds the work)."""
        args = Args()
        where = self._post_where(args, since_day, until_day, channel_ids, tags or {}, langs, scripts)
        sql = (
            "SELECT p.channel_id, p.message_id, p.posted_at, p.views, p.forwards, p.lang, p.script, p.groups,"
            " p.people, p.keywords, p.matches, p.links, p.text, c.username, c.title"
            " FROM posts p LEFT JOIN channels c ON c.id = p.channel_id"
            f" WHERE {' AND '.join(where)} ORDER BY p.posted_at, p.channel_id, p.message_id"
            f" LIMIT {args(int(limit))} OFFSET {args(int(offset))}"
        )
        return await self._rows(sql, args)

    async def report_pairs(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        args = Args()
        where = _days_and_channels(args, since_day, until_day, channel_ids)
        sql = (
            "SELECT a, b, sum(posts)::bigint AS posts, count(DISTINCT channel_id) AS channels FROM agg_pair_day"
            f" WHERE {' AND '.join(where)} GROUP BY a, b HAVING sum(posts) > 0"
            f" ORDER BY posts DESC, a{C}, b{C} LIMIT {args(int(limit))}"
        )
        return await self._rows(sql, args)

    # -- reach ------------------------------------------------------------------------
    async def report_samples(
        self,
        *,
        since_day: int,
        until_day: int,
        dims: Sequence[str] = (),
        channel_ids: Sequence[int] | None = None,
        tags: Mapping[str, Sequence[str]] | None = None,
        langs: Sequence[tuple[str, str | None]] = (),
        scripts: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """One row per metric sample of the selected posts (with their dims), oldest first."""
        tags = {k: list(v) for k, v in (tags or {}).items() if v}
        bad = set(dims) - SQL_DIMS
        if bad:
            raise ValueError(f"unknown report dimension {sorted(bad)}")
        cols = ["p.channel_id AS channel_id", "p.message_id AS message_id", "p.posted_at AS posted_at",
                "p.views AS latest_views", "s.sampled_at AS sampled_at", "s.views AS views"]
        cols += self._select_dims(
            [d for d in dims if d != "channel"], channel="p.channel_id", lang="p.lang",
            script="coalesce(p.script, '')",
        )
        args = Args()
        joins: list[str] = []
        tag_order: list[str] = []
        for kind in TAG_KINDS:
            if kind in dims:
                alias = f"t_{kind}"
                joins.append(
                    f"JOIN post_tags {alias} ON {alias}.channel_id = p.channel_id"
                    f" AND {alias}.message_id = p.message_id AND {alias}.kind = {args(kind)}"
                )
                cols.append(f"{alias}.value AS tag_{kind}")
                tag_order.append(f"{alias}.value{C}")
        where = self._post_where(args, since_day, until_day, channel_ids, tags, langs, scripts)
        sql = (
            f"SELECT {', '.join(cols)} FROM posts p {' '.join(joins)}"
            " JOIN metric_samples s ON s.channel_id = p.channel_id AND s.message_id = p.message_id"
            f" WHERE {' AND '.join(where)} AND s.views IS NOT NULL"
            f" ORDER BY p.channel_id, p.message_id, s.sampled_at{''.join(', ' + t for t in tag_order)}"
        )
        return await self._rows(sql, args)

    # -- spread -----------------------------------------------------------------------
    async def report_fingerprints(
        self,
        *,
        since_day: int,
        until_day: int,
        min_length: int,
        channel_ids: Sequence[int] | None = None,
        tags: Mapping[str, Sequence[str]] | None = None,
        langs: Sequence[tuple[str, str | None]] = (),
        scripts: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        args = Args()
        where = self._post_where(args, since_day, until_day, channel_ids, tags or {}, langs, scripts)
        where.append(f"p.text_length >= {args(int(min_length))}")
        sql = (
            "SELECT p.channel_id, p.message_id, p.posted_at, p.content_hash, p.simhash, p.text_length,"
            " p.fwd_channel_id, p.text FROM posts p"
            f" WHERE {' AND '.join(where)} ORDER BY p.posted_at, p.channel_id, p.message_id"
        )
        return await self._rows(sql, args)

    async def report_forward_edges(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        """(source channel -> forwarding channel, posts, first and last day) from agg_forward_day."""
        args = Args()
        where = _days_and_channels(args, since_day, until_day, channel_ids)
        sql = (
            "SELECT src_channel_id AS source, channel_id AS target, sum(posts)::bigint AS posts,"
            " min(CASE WHEN posts > 0 THEN day END) AS first_day, max(CASE WHEN posts > 0 THEN day END) AS last_day"
            f" FROM agg_forward_day WHERE {' AND '.join(where)}"
            " GROUP BY src_channel_id, channel_id HAVING sum(posts) > 0 ORDER BY posts DESC, source, target"
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

    async def report_mentions(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        """(mentioning channel, target, posts) from agg_mention_day."""
        args = Args()
        where = _days_and_channels(args, since_day, until_day, channel_ids)
        sql = (
            "SELECT channel_id, target, sum(posts)::bigint AS posts, min(CASE WHEN posts > 0 THEN day END) AS first_day,"
            " max(CASE WHEN posts > 0 THEN day END) AS last_day"
            f" FROM agg_mention_day WHERE {' AND '.join(where)} GROUP BY channel_id, target HAVING sum(posts) > 0"
            f" ORDER BY channel_id, target{C}"
        )
        return await self._rows(sql, args)


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


def _days_and_channels(args: Args, since_day: int, until_day: int, channel_ids: Sequence[int] | None) -> list[str]:
    """The WHERE terms (values bound in ``args``) every per-day aggregate query starts from."""
    where = [f"day BETWEEN {args(int(since_day))} AND {args(int(until_day))}"]
    if channel_ids is not None:
        where.append(f"channel_id = ANY({args(_ints(channel_ids), '::bigint[]')})")
    return where


__all__ = ["Args", "PostgresReportQueries"]
