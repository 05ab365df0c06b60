"""UTC calendar buckets over the schema's ``day`` (days since 1970-01-01 UTC).

Why days and not datetimes: every aggregate is keyed by day, so a period is a range of
day numbers; these functions are the Python twins of the bucket expressions in the
store's report SQL (tested against each other), and they list every period of a range
so that empty periods come out as zero rows, never as gaps.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

Every = Literal["day", "week", "month"]
EVERY: tuple[Every, ...] = ("day", "week", "month")
_EPOCH = date(1970, 1, 1)


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
    return to_day(date(d.year + d.month // 12, d.month % 12 + 1, 1))


def buckets(since_day: int, until_day: int, every: Every) -> list[int]:
    """Every period start from the one holding ``since_day`` to the one holding ``until_day``."""
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
        return start - periods
    if every == "week":
        return start - 7 * periods
    d = from_day(start)
    months = d.year * 12 + d.month - 1 - periods
    return to_day(date(months // 12, months % 12 + 1, 1))
