"""The daemon's team-mode hooks: poll only leased channels, and never past the lease.

`Team` is made by the daemon when the store is PostgreSQL (``team_for``); with SQLite it is None
and nothing changes. What the daemon asks of it:

* ``skip_reason(key)`` before every poll: a channel whose lease ran out is not polled (the daemon
  schedules only the channels it holds, adding and removing poll jobs after every lease round, so
  this catches the moments between a lease's end and the round that removes its job);
* ``guard(key, work)`` around every poll: the poll runs while the lease is trusted and is
  cancelled the moment it is not (a cancelled batch rolls back; a re-fetch stores nothing twice),
  so two collectors never poll one channel at overlapping times;
* ``round(keys)`` every ``lease_renew_interval``: renew, rebalance, take free channels,
  and poll a newly taken channel at once (a dead collector's channels are polled again within
  lease_expiry + lease_renew_interval, continuing from the stored checkpoint); in the same round,
  take or renew the team rounds it may run (``tasks``, `monitor.collectors.tasks`);
* ``stop()`` on a clean shutdown, after the in-flight polls: every lease released at once.

``MONITOR_TEST_POLL_LOG`` (tests only) names a file that gets one JSON line per poll: channel,
collector, start and end (Unix seconds); the end-to-end test checks that no two overlap.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from monitor import logs
from monitor.clock import Clock
from monitor.collectors.leases import LeaseKeeper, Round, new_collector
from monitor.collectors.runlock import AlreadyRunning
from monitor.collectors.tasks import TaskKeeper
from monitor.errors import MonitorError, SourceUnauthorized
from monitor.models import AccountState
from monitor.sources import accounts
from monitor.settings import Settings
from monitor.store import Store, url_scheme

log = logs.get_logger("monitor.collectors")
T = TypeVar("T")
POLL_LOG_ENV = "MONITOR_TEST_POLL_LOG"


class Team:
    """One collector among several: its LeaseKeeper and the guards the daemon runs polls under."""

    def __init__(
        self,
        keeper: LeaseKeeper,
        *,
        account: str,
        renew_interval: float,
        spent: Callable[[], int] = lambda: 0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keeper = keeper
        self.account = account
        self.account_state: AccountState | None = None
        self.renew_interval = renew_interval
        self.busy: set[str] = set()
        self._spent = spent  # requests made so far (the request budget's count)
        self._samples: deque[tuple[datetime, int]] = deque()
        self._monotonic = monotonic
        self._poll_log = os.environ.get(POLL_LOG_ENV) or None
        self.tasks = TaskKeeper(keeper.store, keeper.id, clock=keeper.clock, expiry=keeper.expiry,
                                monotonic=monotonic)
        _LIVE_HERE.add(keeper.id)

    @property
    def id(self) -> str:
        return self.keeper.id

    async def start(self) -> None:
        """Register, take the account's session (or refuse naming its holder), read its stored state."""
        await self.keeper.start()
        log.info("collector registered", collector=self.id, host=self.keeper.collector.host, account=self.account)
        await self._bury_dead_here()
        await self.hold_account()
        self.account_state = next((a for a in await self.keeper.store.account_states() if a.name == self.account), None)

    async def _bury_dead_here(self) -> None:
        """Collectors of this host whose process is gone (kill -9, a crash, the container restarted) give
        their leases and sessions back now: a restart resumes at once instead of after lease_expiry."""
        me = self.keeper.collector
        for other in await self.keeper.store.collectors():
            if other.id != me.id and other.stopped_at is None and _dead_here(other.id, other.host, other.pid, me.host):
                released = await self.keeper.store.collector_stopped(other.id, at=self.keeper.clock.now())
                log.info("leases of a dead collector of this host released", collector=other.id, pid=other.pid,
                         released=released)

    async def hold_account(self) -> None:
        """Take or renew this collector's hold on its account's session; AlreadyRunning when another holds it."""
        now = self.keeper.clock.now()
        while self._samples and self._samples[0][0] < now - timedelta(hours=1):
            self._samples.popleft()
        spent = self._spent()
        self._samples.append((now, spent))
        requests = spent - self._samples[0][1]
        store = self.keeper.store
        holder = await store.hold_account(self.account, self.id, at=now, expiry=self.keeper.expiry, requests_hour=requests)
        if holder is None:
            return
        who = next((c for c in await store.collectors() if c.id == holder), None)
        if who is not None and _dead_here(who.id, who.host, who.pid, self.keeper.collector.host):
            # A process of this host that died (kill -9) without giving the session back: take it now.
            if await store.hold_account(
                self.account, self.id, at=now, expiry=self.keeper.expiry, requests_hour=requests, steal_from=holder
            ) is None:
                log.info("account taken over from a dead process of this host", account=self.account, pid=who.pid)
                return
        named = f"collector {holder}" + (f" (pid {who.pid} on {who.host})" if who is not None else "")
        raise AlreadyRunning(
            f"the Telegram account {self.account!r} is in use by {named}; one session must never be used by two"
            " processes at once (Telegram revokes a duplicated auth key): give this collector its own account"
            " (telegram.account_name and its own session)"
        )

    def can_take(self, connected: bool) -> bool:
        """Whether this collector may take channels: connected, and its account usable now."""
        return connected and accounts.usable(self.account_state, now=self.keeper.clock.now())

    async def account_changed(self, state: AccountState) -> None:
        """Store the account's new state; a parked or lost account gives its idle channels back at once."""
        self.account_state = state
        try:
            await self.keeper.store.set_account_state(state)
        except MonitorError as exc:
            log.error("could not store the account state", account=self.account, error=str(exc))
        if state.state != "ok":
            log.warning("account unusable; its channels go to other collectors", account=self.account,
                        state=state.state, until=state.until.isoformat() if state.until else None, reason=state.reason)
            idle = [k for k in self.keeper.held() if k not in self.busy]
            try:
                await self.keeper.release(idle)
            except MonitorError as exc:
                log.error("could not release the leases; they expire on their own", error=str(exc))

    async def flood_waited(self, until: datetime, reason: str | None, *, method: str | None = None) -> None:
        """The account is flood-waited until ``until``; ``method`` is the request Telegram named."""
        now = self.keeper.clock.now()
        await self.account_changed(
            AccountState(name=self.account, state="flood_wait", reason=reason, since=now, until=until, method=method)
        )

    async def refused(self, exc: Exception) -> None:
        if not isinstance(exc, SourceUnauthorized):
            exc = SourceUnauthorized(type(exc).__name__, str(exc))
        if self.account_state is None or self.account_state.state in ("ok", "flood_wait"):
            await self.account_changed(accounts.refused(self.account, exc, at=self.keeper.clock.now()))

    async def connected(self) -> None:
        """Telegram took the session (connect checks it): a refusal stored earlier no longer stands;
        a flood wait does until its end."""
        state = self.account_state
        if state is not None and state.state not in ("ok", "flood_wait"):
            await self.account_changed(AccountState(name=self.account, state="ok", since=self.keeper.clock.now()))

    async def polled_ok(self, duration: float = 0.0) -> None:
        """A poll of ``duration`` seconds worked: an account stored in another state is ok again (logged in
        anew, wait over). A poll that began before the state was recorded proves nothing (it was past its
        requests when a concurrent poll was banned), and a flood wait stands until its end even so."""
        state = self.account_state
        now = self.keeper.clock.now()
        if state is not None and state.since is not None and now - timedelta(seconds=duration) <= state.since:
            return
        if state is not None and state.state != "ok" and accounts.usable(state, now=now) | (
            state.state != "flood_wait"
        ):
            await self.account_changed(AccountState(name=self.account, state="ok", since=self.keeper.clock.now()))

    def skip_reason(self, key: str) -> str | None:
        if self.keeper.holds(key):
            return None
        return "not leased to this collector"

    async def round(
        self,
        keys: Sequence[str],
        *,
        can_take: bool = True,
        pins: Mapping[str, Sequence[str]] | None = None,
        tasks: Sequence[str] = (),
    ) -> Round:
        """One lease round over the channels ``keys`` and the team rounds ``tasks``; the caller reloads
        the watch states of ``taken`` channels (another collector moved their checkpoints) and polls
        them at once, and runs the team rounds this collector holds when they are due."""
        try:
            await self.hold_account()
        except AlreadyRunning as exc:  # our hold ran out (cut off) and another process took the account
            log.error("account taken by another process; this collector takes no channels", error=str(exc))
            can_take = False
        except MonitorError as exc:
            log.error("could not renew the account's hold", error=str(exc))
        result = await self.keeper.round(keys, busy=self.busy.__contains__, can_take=can_take, pins=pins)
        await self.tasks.round(tasks, can_take=can_take)
        if result.taken:
            try:
                await self.keeper.store.set_lease_accounts(self.id, dict.fromkeys(result.taken, self.account))
            except MonitorError as exc:  # shown by `monitor status` only; the next taking tries again
                log.warning("could not record the account of new leases", error=str(exc))
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
        await self.tasks.stop()
        try:
            released = await self.keeper.stop()
        except MonitorError as exc:
            log.error("could not release the leases; they expire on their own", error=str(exc))
            return
        log.info("leases released", collector=self.id, released=released)


def team_for(
    settings: Settings, store: Store, clock: Clock, *, virtual: bool, spent: Callable[[], int] = lambda: 0
) -> Team | None:
    """Team mode on a PostgreSQL store (a live clock only); None with SQLite, which has one collector."""
    if virtual or url_scheme(settings.database_url) != "postgresql":
        return None
    c = settings.collectors
    keeper = LeaseKeeper(
        store, new_collector(clock, pid=os.getpid()), clock=clock, expiry=c.lease_expiry, max_channels=c.max_channels
    )
    return Team(keeper, account=account_name(settings), renew_interval=c.lease_renew_interval, spent=spent)


_LIVE_HERE: set[str] = set()  # ids of the collectors this process runs (accounts_per_collector > 1)


def _dead_here(collector_id: str, host: str, pid: int, here: str) -> bool:
    """A collector of this host whose process is gone, or whose pid is now ours while it is not one of
    ours (a restarted container reuses pid 1)."""
    if host != here or collector_id in _LIVE_HERE:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def account_name(settings: Settings) -> str:
    """telegram.account_name, or the session file's name without its extension."""
    return settings.telegram.account_name or Path(settings.telegram.session_file).stem or "default"


__all__ = ["POLL_LOG_ENV", "Team", "account_name", "team_for"]
