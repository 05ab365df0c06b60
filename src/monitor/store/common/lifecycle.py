"""The lifecycle reads whose SQL is the same in both dialects: posts marked gone, out-links and channel
references. Mixed into both stores, which provide ``_filtered`` (the WHERE terms of a `PostFilter` with
their parameters, in the backend's placeholder style), ``_rows`` and ``_COLLATE`` ('' or ' COLLATE "C"')."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from monitor.store.common.reports import Bound, PostFilter, reference_rows


class SharedLifecycleReads:
    if TYPE_CHECKING:  # provided by the backend's mixins (earlier in the MRO: no stubs at run time)
        _COLLATE: str

        def _filtered(self, f: PostFilter, *, day_index: bool = True) -> tuple[list[str], Bound]: ...

        async def _rows(self, sql: str, args: Any = ()) -> list[dict[str, Any]]: ...

    async def report_deletions(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        rows = await self._posts_of(
            "SELECT p.channel_id, p.day, count(*) AS posts,"
            " sum(CASE WHEN p.deleted_kind = 'deleted' THEN 1 ELSE 0 END) AS deleted,"
            " sum(CASE WHEN p.deleted_kind = 'expired' THEN 1 ELSE 0 END) AS expired FROM posts p",
            PostFilter(since_day=since_day, until_day=until_day, channel_ids=channel_ids),
            " GROUP BY p.channel_id, p.day ORDER BY p.day, p.channel_id",
        )
        return [{k: int(v) for k, v in r.items()} for r in rows]

    async def _posts_of(self, select: str, f: PostFilter, tail: str) -> list[dict[str, Any]]:
        """``select`` (over ``posts p``, maybe joined) WHERE the filter's terms, then ``tail`` (more terms, GROUP BY,
        ORDER BY): the one shape of every read here."""
        where, params = self._filtered(f)
        return await self._rows(f"{select} WHERE {' AND '.join(where)}{tail}", params)

    async def _links(self, f: PostFilter, include_deleted: bool) -> list[dict[str, Any]]:
        return await self._posts_of(
            "SELECT l.channel_id, l.message_id, l.day, l.url, l.domain, p.lang, coalesce(p.script, '') AS script,"
            " p.groups, l.preview_title, l.preview_site, p.deleted_at IS NOT NULL AS deleted"
            " FROM post_links l JOIN posts p ON p.channel_id = l.channel_id AND p.message_id = l.message_id",
            f,
            ("" if include_deleted else " AND p.deleted_at IS NULL")
            + f" ORDER BY l.day, l.channel_id, l.message_id, l.url{self._COLLATE}",
        )

    async def report_references(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        # the last condition is the WHERE of the partial index posts_refs_day: kept word for word, it lets
        # both planners read the referencing posts only
        rows = await self._posts_of(
            "SELECT p.channel_id, p.message_id, p.day, p.posted_at, p.fwd_channel_id, p.fwd_name, p.mentions, p.lang,"
            " coalesce(p.script, '') AS script, p.groups FROM posts p",
            PostFilter(since_day=since_day, until_day=until_day, channel_ids=channel_ids),
            " AND (p.fwd_channel_id IS NOT NULL OR p.mentions != '[]') ORDER BY p.posted_at, p.channel_id, p.message_id",
        )
        return reference_rows(rows)


__all__ = ["SharedLifecycleReads"]
