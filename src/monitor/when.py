"""One ``--since``/``--until`` syntax for every command: a date, a date-time, or a time back from now.

Accepted: ``2024-03-01`` (a UTC day), ``2024-03-01T12:00``, ``2024-03-01 12:00:30``, with ``Z`` or
an offset (naive means UTC), and relative forms ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` (that long
before ``now``). Reports work in whole UTC days and take the day of the moment; alerts take the moment.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_RELATIVE = re.compile(r"^(\d{1,6})\s*([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
SYNTAX = "a date (2024-03-01), a date-time (2024-03-01T12:00Z) or a time back from now (24h, 7d, 2w)"


def parse_moment(value: str, *, now: datetime) -> datetime:
    """The aware UTC moment ``value`` names; ValueError (with the accepted syntax) otherwise."""
    text = value.strip()
    if _MOMENT.match(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            raise ValueError(f"{value!r} is not a real date or time; expected {SYNTAX}") from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    m = _RELATIVE.match(text.lower())
    if m:
        return now.astimezone(UTC) - timedelta(seconds=int(m.group(1)) * _UNIT[m.group(2)])
    raise ValueError(f"{value!r}: expected {SYNTAX}")


def parse_day(value: str, *, now: datetime) -> date:
    """The UTC day ``value`` names or falls in (for reports, which count whole days)."""
    return parse_moment(value, now=now).date()


def rfc3339(moment: datetime) -> str:
    """The one time format of JSON output: RFC 3339 in UTC with ``Z`` (``2024-03-01T12:00:00Z``)."""
    value = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


__all__ = ["SYNTAX", "parse_day", "parse_moment", "rfc3339"]
