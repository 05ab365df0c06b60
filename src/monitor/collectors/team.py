"""The daemon's team-mode hooks: poll only leased channels, and never past the lease.

`Team` is made by the daemon when the store is PostgreSQL (``team_for``); with SQLite it is None
and nothing changes. What the daemon asks of it:

* ``skip_reason(key)`` before every poll: channels leased to another collector are skipped
  cheaply (every collector schedules every channel; only the holder polls);
* ``guard(key, work)`` around every poll: the poll runs while the lease is trusted and is
  cancelled the moment it is not (a cancelled batch rolls back; a re-fetch stores nothing twice),
  so two collectors never poll one channel at overlapping times;
* ``round(keys)`` every ``lease_renew_interval``: renew, rebalance, take free channels,
  and poll a newly taken channel at once (a dead collector's channels are polled again within
  lease_expiry + lease_renew_interval, continuing from the stored checkpoint);
* ``stop()`` on a clean shutdown, after the in-flight polls: every lease released at once.

``MONITOR_TEST_POLL_LOG`` (tests only) names a file that gets one JSON line per poll: channel,
collector, start and end (Unix seconds); the end-to-end test checks that no two overlap.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from monitor import logs
from monitor.clock import Clock
from monitor.collectors.leases import LeaseKeeper, Round, new_collector
from monitor.errors import MonitorError
from monitor.settings import Settings
from monitor.store import Store, url_scheme

log = logs.get_logger("monitor.collectors")
T = TypeVar("T")
POLL_LOG_ENV = "MONITOR_TEST_POLL_LOG"


class Team:
    """One collector among several: its LeaseKeeper and the guards the daemon runs polls under."""

    def __init__(self, keeper: LeaseKeeper, *, renew_interval: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.keeper = keeper
        self.renew_interval = renew_interval
        self.busy: set[str] = set()
        self._monotonic = monotonic
        self._poll_log = os.environ.get(POLL_LOG_ENV) or None

    @property
    def id(self) -> str:
        return self.keeper.id

    async def start(self) -> None:
        await self.keeper.start()
        log.info("collector registered", collector=self.id, host=self.keeper.collector.host)

    def skip_reason(self, key: str) -> str | None:
        if self.keeper.holds(key):
            return None
        return "not leased to this collector"

    async def round(self, keys: Sequence[str], *, can_take: bool = True) -> Round:
        """One lease round; the caller reloads the watch states of ``taken`` channels (another
        collector moved their checkpoints) and polls them at once."""
        result = await self.keeper.round(keys, busy=self.busy.__contains__, can_take=can_take)
        if result.taken or result.released or result.lost:
            log.info(
                "leases", collector=self.id, held=result.held, target=result.target, taken=len(result.taken),
                released=len(result.released), lost=len(result.lost),
            )
        return result

    async def guard(self, key: str, work: Callable[[], Awaitable[T]]) -> T | None:
        """``work()`` while ``key`` stays leased to this collector; None when the lease ran out first."""
        if self.keeper.deadline(key) is None:
            return None
        self.busy.add(key)
        started = time.time()
        task = asyncio.ensure_future(work())
        outcome = "lease-lost"
        try:
            while True:
                deadline = self.keeper.deadline(key)  # renewals move it while the poll runs
                if deadline is None:
                    task.cancel()
                    try:
                        await task
                    except asyncio.CancelledError:  # the poll's own cancellation, not ours
                        pass
                    log.warning("lease ran out mid-poll; the poll was stopped", channel=key, collector=self.id)
                    return None
                done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - self._monotonic()))
                if done:
                    outcome = "done"
                    return task.result()
        finally:
            if not task.done():  # we were cancelled ourselves (shutdown): the poll goes with us
                task.cancel()
            self.busy.discard(key)
            self._record(key, started, outcome)

    def _record(self, key: str, started: float, outcome: str) -> None:
        if self._poll_log is None:
            return
        line = json.dumps({"key": key, "collector": self.id, "pid": os.getpid(), "start": started,
                           "end": time.time(), "outcome": outcome})
        fd = os.open(self._poll_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())  # one append per line: lines of processes never interleave
        finally:
            os.close(fd)

    async def stop(self) -> None:
        try:
            released = await self.keeper.stop()
        except MonitorError as exc:
            log.error("could not release the leases; they expire on their own", error=str(exc))
            return
        log.info("leases released", collector=self.id, released=released)


def team_for(settings: Settings, store: Store, clock: Clock, *, virtual: bool) -> Team | None:
    """Team mode on a PostgreSQL store (a live clock only); None with SQLite, which has one collector."""
    if virtual or url_scheme(settings.database_url) != "postgresql":
        return None
    c = settings.collectors
    keeper = LeaseKeeper(
        store, new_collector(clock, pid=os.getpid()), clock=clock, expiry=c.lease_expiry, max_channels=c.max_channels
    )
    return Team(keeper, renew_interval=c.lease_renew_interval)


__all__ = ["POLL_LOG_ENV", "Team", "team_for"]
