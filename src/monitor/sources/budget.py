"""The request budget: one token bucket shared by every channel's polls, paid before each request.

It lives with the source because it is the source that pays it (``TelethonSource(request_budget=...)``
awaits it before every request Telegram sees). Hand-written rather than aiolimiter: both measure the
same (bench/bench_budget.py), and this one adds what the daemon needs on top: FIFO waiters, a
``spent`` count for tests and status, an injectable monotonic clock, and `until` which gives up at
shutdown instead of waiting for a token (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from monitor.clock import Stopped, until_stopped
from monitor.errors import PollStopped


class TokenBucket:
    """An async token bucket: ``rate_per_minute`` tokens a minute, bursts up to ``capacity``.

    Awaited before every request (Telethon's GetHistory limit is about 30 per 10 s;
    bursts are what earn flood waits). Waiters queue in order, so no channel starves.
    """

    def __init__(
        self,
        rate_per_minute: float,
        capacity: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be > 0")
        self.rate = rate_per_minute / 60.0  # tokens per second
        self.capacity = capacity if capacity is not None else max(1.0, min(rate_per_minute / 6.0, 30.0))
        self._tokens = self.capacity
        self._monotonic = monotonic
        self._stamp = monotonic()
        self._lock = asyncio.Lock()
        self.spent = 0

    def _refill(self) -> None:
        now = self._monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> None:
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1
            self.spent += 1

    async def __call__(self) -> None:
        await self.acquire()

    def until(self, stop: asyncio.Event) -> Callable[[], Awaitable[None]]:
        """A budget that raises `PollStopped` once ``stop`` is set: shutdown never waits for tokens."""

        async def spend() -> None:
            if stop.is_set():
                raise PollStopped
            try:
                await until_stopped(self.acquire(), stop)
            except Stopped:
                raise PollStopped from None

        return spend


__all__ = ["TokenBucket"]
