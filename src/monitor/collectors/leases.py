"""A collector's leases: which watched channels it polls, renewed while it works.

Rules, each with a unit test on a virtual clock (tests/collectors/test_leases.py):

* every round (``lease_renew_interval``) the collector beats, renews what it holds and takes
  channels nobody holds (new in the watch list, or a dead collector's whose leases expired) up to
  its fair share: watched channels over live collectors, at most ``max_channels``;
* a collector above its fair share (another one started) gives the excess back, channels it is
  not polling at that moment first, so the newcomer takes them at its next round;
* the collector trusts a lease only until ``renewed + expiry * SAFETY`` on its OWN monotonic
  clock, measured from before the renewal was sent: when the database cannot be reached, the
  collector stops polling its channels before the database hands them to another collector;
* a clean stop releases every lease at once (``collector_stopped``).
"""

from __future__ import annotations

import math
import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from monitor import __version__, logs
from monitor.clock import Clock
from monitor.errors import MonitorError
from monitor.models import CollectorInfo
from monitor.store.ports import Leases

log = logs.get_logger("monitor.collectors")

SAFETY = 0.8  # a lease is trusted for this share of its expiry after the renewal was sent


def new_collector(clock: Clock, *, pid: int, host: str | None = None) -> CollectorInfo:
    """This process as a collector row: a random id (host and pid repeat across restarts)."""
    now = clock.now()
    return CollectorInfo(
        id=uuid.uuid4().hex[:12], host=host or socket.gethostname(), pid=pid, version=__version__,
        started_at=now, heartbeat_at=now,
    )


class Holder:
    """What one collector holds for a while (channel leases, team rounds), each trusted until a local
    deadline on its own monotonic clock (``renewed + expiry * SAFETY``), whatever the database says."""

    def __init__(self, store: Leases, *, clock: Clock, expiry: float, monotonic: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock
        self.expiry = expiry
        self._monotonic = monotonic
        self._until: dict[str, float] = {}  # key or round name -> local deadline (monotonic seconds)

    def holds(self, key: str) -> bool:
        """True while this collector may act on ``key``: held, and the local deadline not passed."""
        until = self._until.get(key)
        return until is not None and self._monotonic() < until

    def held(self) -> list[str]:
        return sorted(k for k in self._until if self.holds(k))


@dataclass(frozen=True, slots=True, kw_only=True)
class Round:
    """What one lease round did."""

    held: int
    taken: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    released: tuple[str, ...] = ()
    target: int = 0
    ok: bool = True


class LeaseKeeper(Holder):
    """The leases of one collector; `holds` is what the daemon asks before every poll."""

    def __init__(
        self,
        store: Leases,
        collector: CollectorInfo,
        *,
        clock: Clock,
        expiry: float,
        max_channels: int,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(store, clock=clock, expiry=expiry, monotonic=monotonic)
        self.collector = collector
        self.max_channels = max_channels
        self._rng = rng or random.Random()

    @property
    def id(self) -> str:
        return self.collector.id

    def deadline(self, key: str) -> float | None:
        """Monotonic second when this collector must stop polling ``key``; None when not held."""
        return self._until.get(key) if self.holds(key) else None

    async def start(self) -> None:
        await self.store.register_collector(self.collector)

    async def round(
        self,
        keys: Sequence[str],
        *,
        busy: Callable[[str], bool] = lambda _k: False,
        can_take: bool = True,
        pins: Mapping[str, Sequence[str]] | None = None,
    ) -> Round:
        """Beat, renew, rebalance and take: one round over the watched ``keys``; never raises a store error.

        ``busy`` says which channels are being polled right now (they are given back last);
        ``can_take`` is False when the collector has no account able to poll: it then takes nothing.
        ``pins`` names the accounts a pinned channel is polled by: the fair share counts for each
        channel only the collectors whose account may poll it.
        """
        started = self._monotonic()
        at = self.clock.now()
        watched = set(keys)
        try:
            await self.store.collector_beat(self.id, at=at, taking=can_take)
            renewed = await self.store.renew_leases(self.id, at=at, expiry=self.expiry)
            trusted_until = started + self.expiry * SAFETY
            before = set(self._until)
            self._until = {k: trusted_until for k in renewed}
            lost = tuple(sorted(before - set(renewed)))
            if lost:
                log.warning("leases taken over by another collector", channels=list(lost), collector=self.id)
            unwatched = [k for k in renewed if k not in watched]
            share, only_mine = await self._share(keys, pins or {})
            target = min(self.max_channels, math.ceil(share - 1e-9)) if can_take else 0
            excess = max(0, len(self._until) - len(unwatched) - target)
            # channels no other live collector may poll (pinned to this one's account) are never excess
            sharable = [k for k in self._until if k in watched and (k not in only_mine or not can_take)]
            give = unwatched + sorted(sharable, key=lambda k: (busy(k), self._rng.random()))[:excess]
            give = [k for k in give if k in unwatched or not busy(k)]
            if give:
                for key in give:
                    self._until.pop(key, None)  # stop trusting first, then give back
                await self.store.release_leases(self.id, give)
            taken: list[str] = []
            if can_take:  # first what nobody else may poll, whatever the share; then up to the share
                mine_only = [k for k in keys if k in only_mine and k not in self._until]
                limit = self.max_channels - len(self._until)
                if mine_only and limit > 0:
                    taken += await self.store.claim_leases(self.id, mine_only, at=at, expiry=self.expiry, limit=limit)
                    self._until.update(dict.fromkeys(taken, trusted_until))
            room = target - len(self._until)
            if room > 0:
                free = [k for k in keys if k not in self._until]
                self._rng.shuffle(free)  # collectors starting together do not fight over the same rows
                more = await self.store.claim_leases(self.id, free, at=at, expiry=self.expiry, limit=room)
                self._until.update(dict.fromkeys(more, trusted_until))
                taken += more
            return Round(held=len(self._until), taken=tuple(taken), lost=lost, released=tuple(give), target=target)
        except MonitorError as exc:
            log.error("lease round failed; leases run out unless the next round renews them", error=str(exc))
            return Round(held=len(self.held()), ok=False)

    async def _share(self, keys: Sequence[str], pins: Mapping[str, Sequence[str]]) -> tuple[float, set[str]]:
        """This collector's fair share of ``keys`` (each channel split evenly among the live collectors
        that can take channels, this one included, and whose account may poll it), and the channels
        no other live collector may poll."""
        now = self.clock.now()
        alive = {
            c.id
            for c in await self.store.collectors()
            if c.stopped_at is None and c.taking and (now - c.heartbeat_at).total_seconds() < self.expiry
        }
        alive.discard(self.id)
        if not any(pins.get(k) for k in keys):
            return len(keys) / (len(alive) + 1), (set() if alive else set(keys))
        account_of = {
            a.holder: a.name
            for a in await self.store.account_states()
            if a.holder is not None and a.held_until is not None and a.held_until > now
        }
        share = 0.0
        only_mine: set[str] = set()
        for key in keys:
            allowed = pins.get(key)
            others = alive if not allowed else {c for c in alive if account_of.get(c) in allowed}
            share += 1 / (len(others) + 1)
            if not others:
                only_mine.add(key)
        return share, only_mine

    async def release(self, keys: Sequence[str]) -> None:
        """Give some channels back at once (an account lost, nothing left to poll them with)."""
        mine = [k for k in keys if k in self._until]
        for key in mine:
            self._until.pop(key, None)
        if mine:
            await self.store.release_leases(self.id, mine)

    async def stop(self) -> int:
        """A clean shutdown: every lease released at once."""
        self._until.clear()
        return await self.store.collector_stopped(self.id, at=self.clock.now())


__all__ = ["SAFETY", "Holder", "LeaseKeeper", "Round", "new_collector"]
