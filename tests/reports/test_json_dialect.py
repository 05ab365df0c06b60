"""Report JSON is UTF-8 text an analyst can read (Cyrillic as it is) with one time format."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

from monitor.reports.output import to_json
from monitor.reports.table import Report


def test_json_keeps_cyrillic_and_writes_times_as_rfc3339_with_z() -> None:
    report = Report(
        name="top-channels",
        columns=("channel", "title", "first_seen", "day"),
        rows=[("kanal", "Новости Хорасана\u202e", datetime(2024, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=5))),
               date(2024, 3, 1))],
        meta={"generated": datetime(2024, 3, 2, tzinfo=UTC)},
    )
    text = to_json(report)
    assert "Новости Хорасана" in text and "\\u041d" not in text
    assert "\u202e" not in text  # a bidi override still never reaches a terminal raw
    [row] = json.loads(text)["rows"]
    assert row["first_seen"] == "2024-03-01T10:00:00Z" and row["day"] == "2024-03-01"
    assert json.loads(text)["meta"]["generated"] == "2024-03-02T00:00:00Z"
