"""What reports need from a store: the read-only report queries (SQLite: store/sqlite_reports.py).

Reports depend on this Protocol, never on a concrete adapter, so a PostgreSQL store only has
to implement these methods with the same row keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class ReportSource(Protocol):
    async def report_day_range(self) -> tuple[int, int] | None: ...

    async def report_channels(self) -> list[dict[str, Any]]: ...

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
    ) -> tuple[list[dict[str, Any]], str]: ...

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
    ) -> list[dict[str, Any]]: ...

    async def report_pairs(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None, limit: int = 20
    ) -> list[dict[str, Any]]: ...

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
    ) -> list[dict[str, Any]]: ...

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
    ) -> list[dict[str, Any]]: ...

    async def report_forward_edges(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]: ...

    async def report_forward_names(self, channel_ids: Sequence[int]) -> dict[int, str]: ...

    async def report_mentions(
        self, *, since_day: int, until_day: int, channel_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]: ...
