"""Scenario builders for the sources tests: plain dicts in the monitor-scenario/1 format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.sources.telegram import TelethonSource
from monitor.sources.telegram_fake import FakeTelegramClient

T0 = datetime(2024, 1, 3, 8, 0, tzinfo=UTC)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def messages(
    n: int, *, start: datetime = T0, step: timedelta = timedelta(minutes=30), first_id: int = 1, **extra: Any
) -> list[dict[str, Any]]:
    """n plain posts, one every ``step``; ids consecutive from first_id."""
    return [
        {"id": first_id + i, "date": iso(start + i * step), "text": f"Xabar {first_id + i}", **extra}
        for i in range(n)
    ]


def scenario(*channels: dict[str, Any], faults: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"format": "monitor-scenario/1", "channels": list(channels), "faults": faults or []}


def channel(
    cid: int = 1001,
    username: str | None = "ozod_sado",
    msgs: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": cid,
        "username": username,
        "title": f"Kanal {cid}",
        "access_hash": cid * 10 + 1,
        "messages": msgs or [],
        **extra,
    }


Build = Callable[..., tuple[FakeTelegramClient, TelethonSource]]
