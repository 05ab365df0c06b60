"""Rounds one collector runs for the whole team: the discovery feed and the quarantine refresh.

Why a lease per round: Telegram's similar-channel recommendations and hashtag searches are asked for the
team's watch list, not for one collector's channels; run by every collector they would cost every
account the same requests (and the hashtag searches the free daily quota) and fill the queue with the
same leads, and two quarantine refreshes at once would each fill the free places. So each round has a
row in ``tasks`` (docs/operations.md, team mode) with the same rules as a channel lease, each with a
unit test on a virtual clock (tests/collectors/test_tasks.py):

* every lease round the collector takes or renews each round it may run (``hold_task``: one holder at a
  time; an expired hold is free to take), and trusts the hold only until ``renewed + expiry * SAFETY``
  on its own monotonic clock, like a channel lease;
* a collector that cannot ask Telegram (its account parked or lost, or it is not connected) gives its
  rounds back (except one it is running), so one that can runs them;
* a round is due for the team when the last one, whoever ran it, started ``every`` seconds ago, or never
  finished (its collector died or stopped in it); ``start_task`` checks holder and due time in one
  statement, so the same round never runs twice and a dead collector's round is run by the next holder;
* the round runs under its lease and is cancelled the moment the collector stops trusting it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from monitor import logs
from monitor.clock import Clock
from monitor.collectors.leases import SAFETY, Holder
from monitor.errors import MonitorError
from monitor.models import TaskState
from monitor.store.ports import Leases

log = logs.get_logger("monitor.collectors")
T = TypeVar("T")

DISCOVERY = "discovery"  # similar channels and hashtag search (discovery_feed.feed_round)
QUARANTINE = "quarantine"  # putting strong candidates into quarantine (quarantine.refresh)


class TaskKeeper(Holder):
    """The team rounds one collector holds; ``run`` starts one when it is due for the team."""

    def __init__(
        self,
        store: Leases,
        collector_id: str,
        *,
        clock: Clock,
        expiry: float,
        monotonic: Callable[[], float] = time.monotonic,
        check_every: float = 1.0,
    ) -> None:
        super().__init__(store, clock=clock, expiry=expiry, monotonic=monotonic)
        self.id = collector_id
        self._state: dict[str, TaskState] = {}  # as the last renewal or start left it
        self.running: set[str] = set()
        self.check_every = check_every  # seconds between looks at the hold while a round runs

    def due(self, name: str, every: float) -> bool:
        """Held, not running here, and the team's last round is ``every`` seconds old or unfinished
        (a cheap check on the last renewal's row; ``run`` asks the database again)."""
        if not self.holds(name) or name in self.running:
            return False
        state = self._state.get(name)
        if state is None or state.started_at is None or state.finished_at is None:
            return True
        return state.started_at <= self.clock.now() - timedelta(seconds=every)

    async def round(self, names: Sequence[str], *, can_take: bool) -> list[str]:
        """Take or renew ``names`` (a round this collector runs is renewed even when it cannot take);
        give back what it may not hold. Returns the names held; never raises a store error."""
        started = self._monotonic()
        at = self.clock.now()
        try:
            give = [n for n in self._until if n not in names or (not can_take and n not in self.running)]
            for name in give:
                self._until.pop(name, None)  # stop trusting first, then give back
            if give:
                await self.store.release_tasks(self.id, give)
            for name in names:
                if not can_take and name not in self.running:
                    continue
                state = await self.store.hold_task(name, self.id, at=at, expiry=self.expiry)
                if state is None:
                    if self._until.pop(name, None) is not None:
                        log.warning("team round taken over by another collector", task=name, collector=self.id)
                    continue
                if name not in self._until:
                    log.info("team round taken", task=name, collector=self.id)
                self._until[name] = started + self.expiry * SAFETY
                self._state[name] = state
        except MonitorError as exc:
            log.error("task round failed; the holds run out unless the next round renews them", error=str(exc))
        return self.held()

    async def run(self, name: str, every: float, work: Callable[[], Awaitable[T]]) -> bool:
        """Run ``work`` as the team's round ``name`` when this collector holds it and it is due; True when
        it ran to its end (also with an error: the next one waits ``every``). A round cancelled because
        the hold ran out, or by a shutdown, stays unfinished: the next holder runs it again."""
        if not self.due(name, every):
            return False
        at = self.clock.now()
        if not await self.store.start_task(name, self.id, at=at, due_before=at - timedelta(seconds=every)):
            return False  # another collector ran it meanwhile, or the hold was lost
        self._state[name] = TaskState(name=name, collector_id=self.id, started_at=at, ran_by=self.id)
        self.running.add(name)
        try:
            finished = await self._under_hold(name, work)
        finally:
            self.running.discard(name)
        if finished:
            now = self.clock.now()
            try:
                await self.store.finish_task(name, self.id, at=now)
            except MonitorError as exc:  # unfinished in the store: the round runs again at the next renewal
                log.error("could not record the end of a team round", task=name, error=str(exc))
                return True
            self._state[name] = TaskState(name=name, collector_id=self.id, started_at=at, finished_at=now, ran_by=self.id)
        return finished

    async def _under_hold(self, name: str, work: Callable[[], Awaitable[T]]) -> bool:
        """``work()`` while the hold is trusted: True when it ended (an exception is logged), False when
        the hold ran out first and it was cancelled."""
        task = asyncio.ensure_future(work())
        try:
            while True:
                until = self._until.get(name) if self.holds(name) else None
                if until is None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):  # stopped either way
                        await task
                    log.warning("team round hold ran out mid-round; the round was stopped", task=name,
                                collector=self.id)
                    return False
                # looked at again at least every check_every: a renewal moves the deadline, and a
                # clock moved under a test is seen without waiting out the old deadline
                left = max(0.0, until - self._monotonic())
                done, _ = await asyncio.wait({task}, timeout=min(left, self.check_every))
                if done:
                    try:
                        task.result()
                    except Exception as exc:  # noqa: BLE001 - one round's failure must never stop the daemon
                        log.error("team round failed", task=name, error=repr(exc))
                    return True
        finally:
            if not task.done():  # we were cancelled ourselves (shutdown): the round goes with us
                task.cancel()

    async def stop(self) -> None:
        """Give every round back (a clean stop also releases them with the leases)."""
        names = list(self._until)
        self._until.clear()
        if names:
            try:
                await self.store.release_tasks(self.id, names)
            except MonitorError as exc:
                log.error("could not release the team rounds; they expire on their own", error=str(exc))


__all__ = ["DISCOVERY", "QUARANTINE", "TaskKeeper"]
