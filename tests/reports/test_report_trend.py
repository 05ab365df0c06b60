"""Trend: a planted spike is flagged, a flat (weekly-rhythm) series is not, and the threshold is stated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from reports.reportdata import ReportStore

from monitor.store import open_store
from monitor.models import Channel, ChannelRef, Post, TaggedPost, Tags
from monitor.reports.spec import ReportSpec
from monitor.reports.trend import robust_score, trend

FIRST = date(2022, 1, 3)  # a Monday
DAYS = 84
SPIKE = date(2022, 3, 16)  # a Wednesday in week 11


def _daily_counts(spike: bool) -> dict[date, int]:
    counts = {}
    for i in range(DAYS):
        d = FIRST + timedelta(days=i)
        counts[d] = 2 if d.weekday() >= 5 else 6 + (i % 3)  # quiet weekends, small weekday wobble
    if spike:
        counts[SPIKE] = 40
    return counts


async def _store(path: Path, counts: dict[date, int]) -> ReportStore:
    store = open_store(path)
    await store.open()
    at = datetime(2022, 6, 1, tzinfo=UTC)
    await store.sync_watchlist([ChannelRef(key="zeta", username="zeta")], at=at)
    await store.set_resolved("zeta", Channel(id=77, username="zeta", title="Zeta"), at=at)
    posts, mid = [], 1
    for d, n in counts.items():
        for k in range(n):
            moment = datetime(d.year, d.month, d.day, 6 + k % 12, k, tzinfo=UTC)
            posts.append(TaggedPost(post=Post(channel_id=77, message_id=mid, posted_at=moment, text=f"p{mid}"),
                                    tags=Tags(lang="tg", script="Cyrl", groups=("JA",)), tagger_version="t"))
            mid += 1
    await store.save_posts(77, posts, at=at)
    return store


@pytest.fixture
async def spiky(tmp_path: Path) -> AsyncIterator[ReportStore]:
    store = await _store(tmp_path / "spike.db", _daily_counts(spike=True))
    yield store
    await store.close()


@pytest.fixture
async def flat(tmp_path: Path) -> AsyncIterator[ReportStore]:
    store = await _store(tmp_path / "flat.db", _daily_counts(spike=False))
    yield store
    await store.close()


async def test_planted_spike_is_flagged_once(spiky: ReportStore) -> None:
    spec = ReportSpec(since=date(2022, 2, 1), until=date(2022, 3, 27), every="day", by=("group",))
    report = await trend(spiky, spec)
    flagged = [r for r in report.as_dicts() if r["flag"]]
    assert [(r["period"], r["flag"]) for r in flagged] == [(SPIKE.isoformat(), "spike")]
    row = flagged[0]
    assert row["posts"] == 40 and row["group"] == "JA"
    assert row["z"] >= report.meta["threshold"] == 3.5
    assert "same weekday" in report.meta["baseline"]
    assert "MAD" in report.meta["method"]
    # change against the previous day, computed from the inputs
    counts = _daily_counts(spike=True)
    assert row["previous"] == counts[SPIKE - timedelta(days=1)]
    assert row["change"] == 40 - counts[SPIKE - timedelta(days=1)]


async def test_flat_weekly_rhythm_is_not_flagged(flat: ReportStore) -> None:
    spec = ReportSpec(since=date(2022, 1, 3), until=date(2022, 3, 27), every="day")
    report = await trend(flat, spec)
    assert [r for r in report.as_dicts() if r["flag"]] == []
    # weekends are compared with weekends: their baseline median is the weekend level
    sunday = next(r for r in report.as_dicts() if r["period"] == "2022-03-27")
    assert sunday["baseline_median"] == 2


async def test_weekly_trend_and_threshold_option(spiky: ReportStore) -> None:
    spec = ReportSpec(since=date(2022, 1, 3), until=date(2022, 3, 27), every="week")
    strict = await trend(spiky, spec, threshold=1000.0)
    assert not any(r["flag"] for r in strict.as_dicts()) and strict.meta["threshold"] == 1000.0
    normal = await trend(spiky, spec)
    flagged = [r["period"] for r in normal.as_dicts() if r["flag"] == "spike"]
    assert flagged == ["2022-W11"]
    first = normal.as_dicts()[0]
    assert first["z"] is None and first["flag"] == ""  # no baseline before the first post


def test_robust_score_ignores_one_outlier_in_history() -> None:
    history = [10, 11, 9, 10, 200, 10, 11, 9]
    assert robust_score(12, history, 3.5).flag == ""
    assert robust_score(60, history, 3.5).flag == "spike"
    assert robust_score(5, [5, 5, 5], 3.5).z is None  # too short a baseline


async def test_a_trend_reads_its_rows_once_and_no_denominators(spiky: ReportStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # shares are a volume option; a trend scores the series alone, so a second read would be wasted
    asked: list[tuple[str, ...]] = []
    real = spiky.report_volume

    async def counted(**kwargs: object) -> object:
        asked.append(tuple(kwargs["dims"]))  # type: ignore[arg-type]
        return await real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(spiky, "report_volume", counted)
    spec = ReportSpec(since=date(2022, 2, 1), until=date(2022, 3, 27), every="day", by=("group",))
    report = await trend(spiky, spec)
    assert report.rows and asked == [("group",)]
