"""The schema's time unit: INTEGER seconds since the Unix epoch, UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def ts(value: datetime | None) -> int | None:
    """Aware datetime -> integer epoch seconds; naive values are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def dt(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)
