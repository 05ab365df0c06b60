"""Time as a dependency, so tests can freeze and advance it instead of sleeping; and waiting that a
stop event cuts short, so shutdown never waits for a slow connect or a rate budget."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:  # asyncio only when waiting: `monitor tag` imports the clock and must start fast
    import asyncio

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, always UTC-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests and replays."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def to_utc(value: datetime) -> datetime:
    """Make a datetime UTC-aware; naive values are taken as UTC (Telethon's convention)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Stopped(Exception):
    """The stop event was set before the work finished."""


async def until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T:
    """``work``'s result, or `Stopped` (with ``work`` cancelled) as soon as ``stop`` is set."""
    import asyncio

    job = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({job, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not job.done():
            job.cancel()
            with contextlib.suppress(BaseException):
                await job
    if job.cancelled():
        raise Stopped
    return job.result()
