"""The schema's time unit in both backends: INTEGER seconds since the Unix epoch, UTC.

Shared so SQLite and PostgreSQL turn times into rows, and rows back into aware datetimes, the same way
(the backends must give byte-identical reports). Only backends use it: epochs never cross the port."""

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


def fts(value: datetime | None) -> float | None:
    """Aware datetime -> float Unix seconds (team mode's lease times need sub-second precision)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def fdt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), UTC)


def fdt_required(value: float | None) -> datetime:
    """``fdt`` of a NOT NULL column."""
    moment = fdt(value)
    assert moment is not None
    return moment
