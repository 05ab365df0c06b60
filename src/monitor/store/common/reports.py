"""The half of ``ReportReads`` that both backends share: the port's methods, their argument checks, which
aggregate table answers a volume report, and the shaping of rows; each backend builds and runs the SQL in
its ``_``-hooks (``_volume_lang``, ``_tag_rows``, ``_volume_posts``, ``_samples``, ...). The discovery reads
over per-day aggregates are written here whole: their SQL differs only in the placeholders of
``_aggregate_where``, the ``_BIGINT`` cast of a sum and the ``_COLLATE`` of a text key; so are the reads of
posts whose SQL differs only in the placeholders of ``_filtered`` (``Bound``).

Why the split runs here: the cross-backend test compares every report's output on both backends, so the
choice of aggregate table (and hence the logical source a report names), the calendar splitting of a
range into whole months or weeks and the row shaping must not differ; only the dialect does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol, Unpack

from monitor.store.ports import PostFilters

TAG_KINDS = ("group", "keyword", "person")
SQL_DIMS = frozenset({"channel", "lang", "script", *TAG_KINDS})
PERIODS = frozenset({"day", "week", "month", "all"})

# What a report's meta says answered it: a logical source, never a table name, so the same report on
# another backend (or after a schema change) says the same thing.
SOURCE_NAMES: Mapping[str, str] = {
    "agg_lang_day_all": "daily aggregates",
    "agg_lang_day": "daily aggregates per channel and language",
    "agg_channel_day": "daily aggregates per channel",
    "agg_tag_day_all": "daily tag aggregates",
    "agg_tag_day": "daily tag aggregates per channel",
    "agg_tag_week": "weekly tag aggregates per channel",
    "agg_tag_month": "monthly tag aggregates per channel",
    "posts": "posts",
}

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class PostFilter:
    """The filters a report over posts takes, as one value: days ``since_day``..``until_day`` (days since
    1970-01-01), and the channels, tag values per kind, (language, script) pairs and scripts asked for;
    None or empty means all."""

    since_day: int
    until_day: int
    channel_ids: Sequence[int] | None = None
    tags: Mapping[str, Sequence[str]] = field(default_factory=dict)
    langs: Sequence[tuple[str, str | None]] = ()
    scripts: Sequence[str] = ()

    @classmethod
    def of(cls, since_day: int, until_day: int, filters: PostFilters, *, drop_empty: bool = False) -> PostFilter:
        """The filter a report method's keyword arguments name (``tags=None``: no tag filter; ``drop_empty``:
        a tag kind given no values is no filter either, rather than checked). Raises TypeError for a keyword that
        is no filter, as a signature spelling the filters out would (mypy sees it too)."""
        unknown = filters.keys() - PostFilters.__annotations__.keys()
        if unknown:
            raise TypeError(f"unexpected report filter(s) {sorted(unknown)}")
        tags = filters.get("tags") or {}
        return cls(
            since_day=since_day, until_day=until_day, channel_ids=filters.get("channel_ids"),
            tags={k: list(v) for k, v in tags.items() if v} if drop_empty else tags,
            langs=filters.get("langs", ()), scripts=filters.get("scripts", ()),
        )

    def days(self, lo: int, hi: int) -> PostFilter:
        """The same filter over days ``lo``..``hi``."""
        return replace(self, since_day=lo, until_day=hi)


def _month_start(day: int) -> int:
    d = _EPOCH + timedelta(days=day)
    return (date(d.year, d.month, 1) - _EPOCH).days


def _next_month(start: int) -> int:
    d = _EPOCH + timedelta(days=start)
    return (date(d.year + d.month // 12, d.month % 12 + 1, 1) - _EPOCH).days


def month_split(lo: int, hi: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """[lo, hi] as (days before the first whole month, first..last whole month starts, days after);
    None when the range holds no whole calendar month."""
    first = lo if _month_start(lo) == lo else _next_month(lo)
    if _next_month(first) - 1 > hi:
        return None
    last = first
    while _next_month(_next_month(last)) - 1 <= hi:
        last = _next_month(last)
    return (lo, first - 1), (first, last), (_next_month(last), hi)


def week_split(lo: int, hi: int) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """[lo, hi] as (days before the first whole ISO week, first..last whole week starts, days after);
    None when the range holds no whole week. Weeks start on Monday: day - ((day + 3) % 7)."""
    first = lo if (lo + 3) % 7 == 0 else lo + 7 - (lo + 3) % 7
    last = hi - 6 - (hi - 6 + 3) % 7
    if last < first:
        return None
    return (lo, first - 1), (first, last), (last + 7, hi)


def select_dims(dims: Sequence[str], *, channel: str, lang: str, script: str) -> list[str]:
    """The SELECT terms of the asked dims (a language comes with its script)."""
    out: list[str] = []
    if "channel" in dims:
        out.append(f"{channel} AS channel_id")
    if "lang" in dims:
        out += [f"{lang} AS lang", f"{script} AS script"]
    elif "script" in dims:
        out.append(f"{script} AS script")
    return out


def period_bucket(every: str, column: str, *, week: str, month: str) -> str:
    """The SQL of the first day (a day number) of the ``every`` period holding day number ``column``;
    ``week`` and ``month`` are the dialect's templates (``{d}``: the column)."""
    templates = {"day": "{d}", "week": week, "month": month, "all": "0"}
    if every not in templates:
        raise ValueError(f"unknown period {every!r}")
    return templates[every].format(d=column)


class Bound(Protocol):
    """The bound values of one statement in the backend's placeholder style, bound in the order their
    placeholders stand in the SQL text (SQLite's ``?`` are positional)."""

    def __call__(self, value: Any, cast: str = "") -> str:
        """Bind ``value``; its placeholder (``cast`` is PostgreSQL's type cast, ignored by SQLite)."""
        ...

    def any_of(self, column: str, values: Sequence[Any], cast: str) -> str:
        """A term true where ``column`` is one of ``values``, bound as one list (``cast``: of an item)."""
        ...


def tag_joins(args: Bound, dims: Sequence[str], tags: Mapping[str, Sequence[str]], cols: list[str]) -> list[str]:
    """A JOIN of post_tags per tag kind in ``dims`` (alias ``t_<kind>``, kept to ``tags[kind]`` when given),
    values bound in ``args``; each adds its ``tag_<kind>`` column to ``cols``."""
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
                joins[-1] += f" AND {args.any_of(f'{alias}.value', values, '::text')}"
    return joins


class SharedReportQueries:
    """``ReportReads`` methods written once; the backend's report and lifecycle mixins provide the hooks."""

    if TYPE_CHECKING:  # provided by the backend's mixins (later in the MRO, so no stubs at run time)

        async def _rows(self, sql: str, args: Any = ()) -> list[dict[str, Any]]: ...

        async def _channel_rows(self) -> list[dict[str, Any]]: ...

        @staticmethod
        def _bucket(every: str, column: str) -> str: ...

        async def _volume_lang(
            self, f: PostFilter, every: str, dims: Sequence[str], per_channel: bool
        ) -> tuple[list[dict[str, Any]], str]: ...

        async def _tag_rows(
            self, table: str, time_col: str, bucket: str, kind: str, f: PostFilter, dims: Sequence[str],
            values: Sequence[str] | None,
        ) -> list[dict[str, Any]]: ...

        async def _volume_posts(self, f: PostFilter, every: str, dims: Sequence[str]) -> tuple[list[dict[str, Any]], str]: ...

        async def _samples(self, f: PostFilter, dims: Sequence[str]) -> list[dict[str, Any]]: ...

        def _filtered(self, f: PostFilter, *, day_index: bool = True) -> tuple[list[str], Bound]: ...

        async def _links(self, f: PostFilter, include_deleted: bool) -> list[dict[str, Any]]: ...

        _COLLATE: str

        @staticmethod
        def _aggregate_where(
            since_day: int, until_day: int, channel_ids: Sequence[int] | None
        ) -> tuple[list[str], Any]: ...

    # The cast that keeps a sum of BIGINTs an integer (PostgreSQL sums them as NUMERIC; SQLite needs none).
    _BIGINT = ""

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
        """Every channel known from channels or the watch list (``_channel_rows``: channels first, then watch
        rows), merged by id, else by watch key."""
        merged: dict[Any, dict[str, Any]] = {}
        for r in await self._channel_rows():
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
        self, *, since_day: int, until_day: int, every: str, dims: Sequence[str], **filters: Unpack[PostFilters]
    ) -> tuple[list[dict[str, Any]], str]:
        f = PostFilter.of(since_day, until_day, filters, drop_empty=True)
        bad = set(dims) - SQL_DIMS
        if bad or set(f.tags) - set(TAG_KINDS):
            raise ValueError(f"unknown report dimension {sorted(bad | (set(f.tags) - set(TAG_KINDS)))}")
        if every not in PERIODS:
            raise ValueError(f"unknown period {every!r}")
        kinds = {d for d in dims if d in TAG_KINDS} | set(f.tags)
        per_channel = "channel" in dims or f.channel_ids is not None
        (kind,) = kinds if len(kinds) == 1 else (None,)
        if not kinds:
            rows, table = await self._volume_lang(f, every, dims, per_channel)
        elif kind is not None and (kind in dims or len(f.tags.get(kind, [])) <= 1):
            rows, table = await self._volume_tag(kind, f, every, dims, f.tags.get(kind), per_channel)
        else:
            rows, table = await self._volume_posts(f, every, dims)
        return rows, SOURCE_NAMES[table]

    async def _volume_tag(
        self,
        kind: str,
        f: PostFilter,
        every: str,
        dims: Sequence[str],
        values: Sequence[str] | None,
        per_channel: bool,
        *,
        whole: bool = True,
    ) -> tuple[list[dict[str, Any]], str]:
        """One tag kind from the coarsest tag aggregate that answers: whole months (weeks) from the monthly
        (weekly) table and the days around them from the daily one (``whole=False``: only the daily)."""
        by_channel_only = (
            whole and per_channel and not f.langs and not f.scripts and "lang" not in dims and "script" not in dims
        )
        for table, time_col, split, bucket, wanted in (
            ("agg_tag_month", "month", month_split, "month" if every == "month" else "0", every in ("month", "all")),
            ("agg_tag_week", "week", week_split, "week", every == "week"),
        ):
            parts = split(f.since_day, f.until_day) if by_channel_only and wanted else None
            if parts is None:
                continue
            head, whole_span, tail = parts
            rows: list[dict[str, Any]] = []
            for lo, hi in (head, tail):
                if lo <= hi:
                    part, _ = await self._volume_tag(kind, f.days(lo, hi), every, dims, values, per_channel,
                                                     whole=False)
                    rows += part
            span = replace(f.days(*whole_span), langs=(), scripts=())
            rows += await self._tag_rows(table, time_col, bucket, kind, span, dims, values)
            return rows, table
        table = "agg_tag_day" if per_channel else "agg_tag_day_all"
        return await self._tag_rows(table, "day", self._bucket(every, "day"), kind, f, dims, values), table

    # -- posts ------------------------------------------------------------------------
    async def report_top_posts(
        self, *, since_day: int, until_day: int, order: str, limit: int, include_deleted: bool = True,
        **filters: Unpack[PostFilters],
    ) -> list[dict[str, Any]]:
        column = {"views": "p.views", "forwards": "p.forwards"}[order]
        return await self._top_posts(PostFilter.of(since_day, until_day, filters), column, limit, include_deleted)

    async def _top_posts(self, f: PostFilter, column: str, limit: int, include_deleted: bool) -> list[dict[str, Any]]:
        # Over a long range, walking the views (forwards) index from the top and stopping at ``limit``
        # beats sorting every post of the range (SQLite, 10M posts: 2 ms instead of 4 s); over a few days
        # the day index is better, and it bounds the work when the range holds few posts.
        where, args = self._filtered(f, day_index=f.until_day - f.since_day <= 14)
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
        self, *, since_day: int, until_day: int, limit: int, offset: int = 0, **filters: Unpack[PostFilters]
    ) -> list[dict[str, Any]]:
        return await self._posts_page(PostFilter.of(since_day, until_day, filters), limit, offset)

    async def _posts_page(self, f: PostFilter, limit: int, offset: int) -> list[dict[str, Any]]:
        """The posts behind a report cell, oldest first, one page (the day index bounds the work)."""
        where, args = self._filtered(f)
        sql = (
            "SELECT p.channel_id, p.message_id, p.posted_at, p.views, p.forwards, p.lang, p.script, p.groups,"
            " p.people, p.keywords, p.matches, p.links, p.text, c.username, c.title"
            " FROM posts p LEFT JOIN channels c ON c.id = p.channel_id"
            f" WHERE {' AND '.join(where)} ORDER BY p.posted_at, p.channel_id, p.message_id"
            f" LIMIT {args(int(limit))} OFFSET {args(int(offset))}"
        )
        return await self._rows(sql, args)

    async def report_samples(
        self, *, since_day: int, until_day: int, dims: Sequence[str] = (), **filters: Unpack[PostFilters]
    ) -> list[dict[str, Any]]:
        return await self._samples(PostFilter.of(since_day, until_day, filters, drop_empty=True), dims)

    async def report_fingerprints(
        self, *, since_day: int, until_day: int, min_length: int, **filters: Unpack[PostFilters]
    ) -> list[dict[str, Any]]:
        return await self._fingerprints(PostFilter.of(since_day, until_day, filters), min_length)

    async def _fingerprints(self, f: PostFilter, min_length: int) -> list[dict[str, Any]]:
        where, args = self._filtered(f)
        where.append(f"p.text_length >= {args(int(min_length))}")
        sql = (
            "SELECT p.channel_id, p.message_id, p.posted_at, p.content_hash, p.simhash, p.text_length,"
            " p.fwd_channel_id, p.text FROM posts p"
            f" WHERE {' AND '.join(where)} ORDER BY p.posted_at, p.channel_id, p.message_id"
        )
        return await self._rows(sql, args)

    async def report_links(
        self, *, since_day: int, until_day: int, include_deleted: bool = True, **filters: Unpack[PostFilters]
    ) -> list[dict[str, Any]]:
        rows = await self._links(PostFilter.of(since_day, until_day, filters), include_deleted)
        for r in rows:
            r["groups"] = json.loads(r["groups"] or "[]")
            r["deleted"] = bool(r["deleted"])
        return rows

    # -- discovery --------------------------------------------------------------------
    async def report_forward_edges(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        """(source channel -> forwarding channel, posts, first and last day) from agg_forward_day."""
        return await self._day_groups(
            "agg_forward_day", "src_channel_id AS source, channel_id AS target", "src_channel_id, channel_id",
            "posts DESC, source, target", since_day, until_day, channel_ids,
        )

    async def report_mentions(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        """(mentioning channel, target, posts, first and last day) from agg_mention_day."""
        return await self._day_groups(
            "agg_mention_day", "channel_id, target", "channel_id, target", f"channel_id, target{self._COLLATE}",
            since_day, until_day, channel_ids,
        )

    async def _day_groups(
        self, table: str, keys: str, group: str, order: str, since_day: int, until_day: int,
        channel_ids: Sequence[int] | None,
    ) -> list[dict[str, Any]]:
        """The groups of a per-day aggregate table with posts in the range: ``keys``, their posts, and the first
        and last day with any (a row of 0 posts stays where posts were deleted)."""
        where, args = self._aggregate_where(since_day, until_day, channel_ids)
        return await self._rows(
            f"SELECT {keys}, sum(posts){self._BIGINT} AS posts, min(CASE WHEN posts > 0 THEN day END) AS first_day,"
            f" max(CASE WHEN posts > 0 THEN day END) AS last_day FROM {table} WHERE {' AND '.join(where)}"
            f" GROUP BY {group} HAVING sum(posts) > 0 ORDER BY {order}",
            args,
        )


def reference_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``report_references`` rows with their JSON columns (mentions, groups) decoded (most are ``[]``, which
    is not parsed: a month at 10,000,000 posts has 21,000 rows)."""
    for r in rows:
        mentions, groups = r["mentions"], r["groups"]
        r["mentions"] = json.loads(mentions) if mentions and mentions != "[]" else []
        r["groups"] = json.loads(groups) if groups and groups != "[]" else []
    return rows


__all__ = [
    "PERIODS",
    "Bound",
    "SOURCE_NAMES",
    "SQL_DIMS",
    "TAG_KINDS",
    "PostFilter",
    "SharedReportQueries",
    "month_split",
    "period_bucket",
    "reference_rows",
    "select_dims",
    "tag_joins",
    "week_split",
]
