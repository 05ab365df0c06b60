"""The one --since/--until syntax: dates, date-times and times back from now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from monitor.when import parse_day, parse_moment, rfc3339

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T06:30", datetime(2026, 3, 1, 6, 30, tzinfo=UTC)),
        ("2026-03-01 06:30:15Z", datetime(2026, 3, 1, 6, 30, 15, tzinfo=UTC)),
        ("2026-03-01T06:30+05:00", datetime(2026, 3, 1, 1, 30, tzinfo=UTC)),
        ("90s", NOW - timedelta(seconds=90)),
        ("30m", NOW - timedelta(minutes=30)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(weeks=2)),
        (" 7D ", NOW - timedelta(days=7)),
    ],
)
def test_every_form_names_one_utc_moment(text: str, moment: datetime) -> None:
    assert parse_moment(text, now=NOW) == moment


@pytest.mark.parametrize("text", ["yesterday", "7", "-7d", "7y", "2026-13-01", "2026-02-30", "", "1e3d"])
def test_anything_else_is_refused_with_the_syntax(text: str) -> None:
    with pytest.raises(ValueError, match="2024-03-01"):
        parse_moment(text, now=NOW)


def test_reports_take_the_utc_day_of_the_moment() -> None:
    assert parse_day("2026-03-01T02:00+05:00", now=NOW) == date(2026, 2, 28)
    assert parse_day("2w", now=NOW) == date(2026, 2, 24)


def test_json_times_are_rfc3339_with_z() -> None:
    assert rfc3339(datetime(2026, 3, 1, 6, 30, tzinfo=timezone(timedelta(hours=5)))) == "2026-03-01T01:30:00Z"
    assert rfc3339(datetime(2026, 3, 1, 6, 30, tzinfo=UTC)) == "2026-03-01T06:30:00Z"
