"""``PageReads``: one request's reads give the reports exactly what the store gives them, with the trend
reading only its baseline periods beyond what the volume report read."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest

from monitor.reports.spec import ReportSpec
from monitor.reports.trend import trend
from monitor.reports.volume import volume
from monitor.store import open_store
from monitor.store.ports import ReportReads
from monitor.web.pagereads import PageReads

SPECS = [
    ReportSpec(every="week", by=("group",)),
    ReportSpec(every="week", by=("channel",)),
    ReportSpec(every="month", by=("language",)),
    ReportSpec(every="day", by=("group",), since=date(2024, 3, 6), until=date(2024, 4, 9)),
    ReportSpec(every="week", by=("group", "language"), since=date(2024, 2, 14), until=date(2024, 5, 30)),
    ReportSpec(every="week", groups=("ISKP",), labels=("country=UZ",)),
    ReportSpec(every="month", by=("label:country",), since=date(2024, 2, 3)),
]


class Recorder:
    """The store, with the day ranges of its ``report_volume`` reads written down."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.ranges: list[tuple[int, int, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def report_volume(self, *, since_day: int, until_day: int, every: str, dims: Sequence[str],
                            channel_ids: Sequence[int] | None = None,
                            tags: Mapping[str, Sequence[str]] | None = None,
                            langs: Sequence[tuple[str, str | None]] = (),
                            scripts: Sequence[str] = ()) -> tuple[list[dict[str, Any]], str]:
        self.ranges.append((since_day, until_day, every))
        return cast(tuple[list[dict[str, Any]], str], await self.store.report_volume(
            since_day=since_day, until_day=until_day, every=every, dims=dims, channel_ids=channel_ids, tags=tags,
            langs=langs, scripts=scripts))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.every}-{','.join(s.by) or 'all'}-{s.since}")
def test_volume_and_trend_through_one_pagereads_equal_the_stores(web_db: Path, spec: ReportSpec) -> None:
    async def run() -> None:
        store = open_store(str(web_db))
        await store.open()
        try:
            alone = (await volume(store, spec), await trend(store, spec), await trend(store, spec, metric="views"))
            recorder = Recorder(store)
            reads = cast(ReportReads, PageReads(cast(ReportReads, recorder)))
            shared = [await volume(reads, spec)]
            after_volume = len(recorder.ranges)
            shared.append(await trend(reads, spec))
            after_trend = len(recorder.ranges)
            shared.append(await trend(reads, spec, metric="views"))
            for mine, theirs in zip(shared, alone, strict=True):
                assert mine.columns == theirs.columns and mine.meta == theirs.meta
                assert mine.rows == theirs.rows
            assert any(row[1 + len(spec.by)] for row in alone[0].rows)  # the view holds posts
            # the trend read only the days before the volume's reads; the second trend nothing at all
            volume_since = min(s for s, _u, every in recorder.ranges[:after_volume] if every == spec.period)
            by_trend = recorder.ranges[after_volume:after_trend]
            assert by_trend and all(u < volume_since and every == spec.period for _s, u, every in by_trend)
            assert len(recorder.ranges) == after_trend
        finally:
            await store.close()

    asyncio.run(run())


def test_rows_of_disjoint_ranges_are_summed_per_bucket_and_dimensions(web_db: Path) -> None:
    """The week holding the split day gets the posts of both parts, as one read of the union counts it."""

    async def run() -> None:
        store = open_store(str(web_db))
        await store.open()
        try:
            span = await store.report_day_range()
            assert span is not None
            lo, hi = span
            split = lo + 40 + (4 - (lo + 40 + 3) % 7)  # a Thursday: its week straddles both parts
            args: dict[str, Any] = {"every": "week", "dims": ("group",), "until_day": hi}
            whole, source = await store.report_volume(since_day=lo, **args)
            reads = PageReads(cast(ReportReads, store))
            await reads.report_volume(since_day=split, **args)
            spliced, spliced_source = await reads.report_volume(since_day=lo, **args)

            def keyed(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], tuple[int, int, int]]:
                return {(r["bucket"], r["tag_group"]): (int(r["posts"]), int(r["views"]), int(r["forwards"]))
                        for r in rows}

            assert spliced_source == source
            assert keyed(spliced) == keyed(whole)
            straddling = split - (split + 3) % 7
            assert any(bucket == straddling for bucket, _g in keyed(whole))
        finally:
            await store.close()

    asyncio.run(run())
