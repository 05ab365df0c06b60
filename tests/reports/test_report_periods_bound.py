"""Reports bound the periods they list: an outlier post (1970, 9999) asks for a range, never hangs or crashes."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from reports.reportdata import CHANNELS, SAVED_AT, Dataset

from monitor.errors import ConfigError
from monitor.reports.periods import MAX_PERIODS, buckets, label, period_count, shift, to_day
from monitor.reports.spec import ReportSpec
from monitor.reports.trend import trend
from monitor.reports.volume import volume


@pytest.mark.parametrize("every", ["day", "week", "month"])
@pytest.mark.parametrize(
    ("since", "until"),
    [(date(2021, 1, 1), date(2021, 1, 1)), (date(2020, 12, 30), date(2024, 3, 3)), (date(1, 1, 1), date(1, 3, 1)),
     (date(9999, 1, 1), date(9999, 12, 31)), (date(2023, 1, 2), date(2023, 1, 1))],
)
def test_period_count_is_the_length_of_the_listing(since: date, until: date, every: str) -> None:
    days = to_day(since), to_day(until)
    listed = buckets(*days, every)  # type: ignore[arg-type]
    assert period_count(*days, every) == len(listed)  # type: ignore[arg-type]
    assert all(label(b, every) for b in listed)  # type: ignore[arg-type]


def test_the_last_month_of_the_calendar_and_baselines_before_year_one() -> None:
    assert [label(b, "month") for b in buckets(to_day(date(9999, 11, 5)), to_day(date(9999, 12, 31)), "month")] == [
        "9999-11", "9999-12"]
    assert shift(to_day(date(1, 2, 1)), "month", 40) == to_day(date(1, 1, 1))
    assert shift(to_day(date(1, 1, 3)), "day", 40) == to_day(date(1, 1, 1))


@pytest.mark.parametrize(("every", "years"), [("day", 14), ("week", 97), ("month", 417)])
def test_a_range_of_too_many_periods_asks_for_a_narrower_one(every: str, years: int) -> None:
    since = to_day(date(2024 - years, 1, 1))
    with pytest.raises(ConfigError, match=r"more than the 5,000 periods a report lists: narrow it with --since/--until"):
        buckets(since, to_day(date(2024, 1, 1)), every)  # type: ignore[arg-type]
    assert MAX_PERIODS == 5_000


def _outlier(dataset: Dataset, moment: datetime, message_id: int) -> object:
    base = dataset.posts[0]
    return replace(base, post=replace(base.post, message_id=message_id, posted_at=moment))


@pytest.mark.parametrize("moment", [datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 12, tzinfo=UTC)])
async def test_one_outlier_post_makes_default_reports_ask_for_a_range_quickly(dataset: Dataset,
                                                                             moment: datetime) -> None:
    channel = CHANNELS[0].id
    await dataset.store.save_posts(channel, [_outlier(dataset, moment, 10**6)], at=SAVED_AT, store_text=True)
    t = time.perf_counter()
    too_many = ("day",) if moment.year == 1970 else ("day", "week", "month")
    for make in (volume, trend):
        for every in too_many:
            with pytest.raises(ConfigError, match="narrow it with --since/--until"):
                await make(dataset.store, ReportSpec(every=every))  # type: ignore[arg-type]
    assert time.perf_counter() - t < 30  # generous: today these take minutes or fail
    # a stated range still works, and a monthly report over 1970..2021 fits the bound
    report = await volume(dataset.store, ReportSpec(since=date(2021, 1, 1), until=date(2021, 4, 30), every="week"))
    assert sum(r["posts"] for r in report.as_dicts()) == len(dataset.posts)
    if moment.year == 1970:
        for every in ("week", "month"):  # 1970..2021 in weeks or months fits the bound
            report = await volume(dataset.store, ReportSpec(every=every))  # type: ignore[arg-type]
            assert sum(r["posts"] for r in report.as_dicts()) == len(dataset.posts) + 1
    else:
        yearly = await volume(dataset.store, ReportSpec(since=date(9999, 1, 1), every="month"))
        assert [r["posts"] for r in yearly.as_dicts()][-1] == 1
