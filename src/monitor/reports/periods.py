"""UTC calendar buckets over the schema's ``day`` (days since 1970-01-01 UTC).

Why days and not datetimes: every aggregate is keyed by day, so a period is a range of
day numbers; these functions are the Python twins of the bucket expressions in the
store's report SQL (tested against each other), and they list every period of a range
so that empty periods come out as zero rows, never as gaps.

Why a bound (`MAX_PERIODS`): the default range runs from the first to the last stored post,
so one post dated 1970 (or 9999) in an imported export would turn a daily report into
20,000+ rows of zeros computed for minutes; a range producing more periods than that is
refused with a message asking for --since/--until or a coarser --every. 5,000 periods is
13 years of days, 96 years of weeks, 416 years of months: more than any chart or table shows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from monitor.errors import ConfigError

Every = Literal["day", "week", "month"]
EVERY: tuple[Every, ...] = ("day", "week", "month")
_EPOCH = date(1970, 1, 1)
MAX_PERIODS = 5_000
_FIRST_DAY = (date.min - _EPOCH).days
_LAST_DAY = (date.max - _EPOCH).days


def to_day(value: date | datetime) -> int:
    """A date (or an aware datetime, taken in UTC) -> days since the epoch."""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
    return (value - _EPOCH).days


def from_day(day: int) -> date:
    return _EPOCH + timedelta(days=day)


def bucket_start(day: int, every: Every) -> int:
    """First day of the period holding ``day``: itself, its ISO week's Monday, its month's 1st."""
    if every == "day":
        return day
    if every == "week":
        return day - (day + 3) % 7
    if every == "month":
        return to_day(from_day(day).replace(day=1))
    raise ValueError(f"unknown period {every!r}")


def next_bucket(start: int, every: Every) -> int:
    if every == "day":
        return start + 1
    if every == "week":
        return start + 7
    d = from_day(start)
    if d.year == date.max.year and d.month == 12:
        return _LAST_DAY + 1  # past the calendar's end: no "year 10000" error
    return to_day(date(d.year + d.month // 12, d.month % 12 + 1, 1))


def period_count(since_day: int, until_day: int, every: Every) -> int:
    """How many periods `buckets` would list, computed without listing them."""
    first, last = bucket_start(since_day, every), bucket_start(until_day, every)
    if first > until_day:
        return 0
    if every == "day":
        return last - first + 1
    if every == "week":
        return (last - first) // 7 + 1
    a, b = from_day(first), from_day(last)
    return (b.year - a.year) * 12 + b.month - a.month + 1


def check_periods(since_day: int, until_day: int, every: Every) -> None:
    """ConfigError when the range holds more than `MAX_PERIODS` periods (see the module docstring)."""
    n = period_count(since_day, until_day, every)
    if n > MAX_PERIODS:
        coarser = {"day": " or a coarser --every (week, month)", "week": " or --every month", "month": ""}[every]
        raise ConfigError(
            f"{from_day(since_day)} to {from_day(until_day)} is {n:,} {every}s, more than the {MAX_PERIODS:,} "
            f"periods a report lists: narrow it with --since/--until{coarser}"
        )


def buckets(since_day: int, until_day: int, every: Every) -> list[int]:
    """Every period start from the one holding ``since_day`` to the one holding ``until_day``."""
    check_periods(since_day, until_day, every)
    out: list[int] = []
    current = bucket_start(since_day, every)
    while current <= until_day:
        out.append(current)
        current = next_bucket(current, every)
    return out


def label(start: int, every: Every) -> str:
    """How a period is shown: 2021-03-07, 2021-W09 (ISO week), 2021-03."""
    d = from_day(start)
    if every == "day":
        return d.isoformat()
    if every == "week":
        year, week, _ = d.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{d.year:04d}-{d.month:02d}"


def shift(start: int, every: Every, periods: int) -> int:
    """The period start ``periods`` periods before ``start`` (for baselines)."""
    if every == "day":
        return max(start - periods, _FIRST_DAY)
    if every == "week":
        return max(start - 7 * periods, bucket_start(_FIRST_DAY + 7, "week"))
    d = from_day(start)
    months = d.year * 12 + d.month - 1 - periods
    if months < 12:  # before year 1: the calendar's first month
        return _FIRST_DAY
    return to_day(date(months // 12, months % 12 + 1, 1))
