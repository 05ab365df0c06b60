"""Team rounds (TaskKeeper) on the real PostgreSQL server, time moved by a virtual clock.

Several keepers share one store as several collectors would; each trusts its holds by the virtual
clock too, so "collector a was killed" is a keeper that stops calling ``round`` and "70 s later" one
``advance`` call. What must hold: one collector at a time runs a round for the team, once per period;
a dead collector's round is taken over, and run again when it died in it; a collector cut off from
the database stops its round before another can take it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from monitor.clock import FrozenClock
from monitor.collectors.leases import SAFETY
from monitor.collectors.tasks import DISCOVERY, QUARANTINE, TaskKeeper
from monitor.store import Store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = 86400.0


def keeper(store: Store, clock: FrozenClock, cid: str, *, expiry: float = 60) -> TaskKeeper:
    return TaskKeeper(store, cid, clock=clock, expiry=expiry, monotonic=lambda: clock.now().timestamp(),
                      check_every=0.01)


class Rounds:
    """A round's work that records who ran it when; ``hold`` keeps it running until released."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.ran: list[tuple[str, datetime]] = []
        self.hold: asyncio.Event | None = None
        self.cancelled = 0

    def work(self, who: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            self.ran.append((who, self.clock.now()))
            if self.hold is not None:
                try:
                    await self.hold.wait()
                except asyncio.CancelledError:
                    self.cancelled += 1
                    raise

        return run


async def test_one_collector_runs_the_round_for_the_team_once_per_period(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    a, b, c = (keeper(pg_store, clock, cid) for cid in ("a", "b", "c"))
    rounds = Rounds(clock)
    for k in (a, b, c):
        await k.round([DISCOVERY, QUARANTINE], can_take=True)
    holders = [k.id for k in (a, b, c) if k.holds(DISCOVERY)]
    assert holders == ["a"] and [k.id for k in (a, b, c) if k.holds(QUARANTINE)] == ["a"]
    # twenty minutes of 15-second rounds, the round due every ten: every collector tries to run it at
    # every round; it runs once per period
    for _ in range(int(1200 / 15) + 1):
        for k in (a, b, c):
            await k.round([DISCOVERY], can_take=True)
            await k.run(DISCOVERY, 600, rounds.work(k.id))
        clock.advance(timedelta(seconds=15))
    assert rounds.ran == [("a", T0 + timedelta(minutes=m)) for m in (0, 10, 20)]
    [row] = [t for t in await pg_store.tasks() if t.name == DISCOVERY]
    assert (row.collector_id, row.ran_by, row.started_at) == ("a", "a", T0 + timedelta(minutes=20))
    assert row.finished_at == T0 + timedelta(minutes=20)


async def test_a_dead_collectors_round_is_taken_over_without_running_it_twice(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    a, b = keeper(pg_store, clock, "a"), keeper(pg_store, clock, "b")
    rounds = Rounds(clock)
    await a.round([DISCOVERY], can_take=True)
    assert await a.run(DISCOVERY, DAY, rounds.work("a"))
    # a is killed (no more rounds): b takes the round after a's hold expires, but the day's round was run
    for _ in range(4):
        clock.advance(timedelta(seconds=15))
        await b.round([DISCOVERY], can_take=True)
        assert not await b.run(DISCOVERY, DAY, rounds.work("b"))
    assert b.holds(DISCOVERY) and rounds.ran == [("a", T0)]
    clock.advance(timedelta(days=1))
    await b.round([DISCOVERY], can_take=True)
    assert await b.run(DISCOVERY, DAY, rounds.work("b"))
    assert rounds.ran == [("a", T0), ("b", T0 + timedelta(days=1, seconds=60))]


async def test_a_round_its_collector_died_in_is_run_again_by_the_next_holder(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    a, b = keeper(pg_store, clock, "a"), keeper(pg_store, clock, "b")
    rounds = Rounds(clock)
    rounds.hold = asyncio.Event()
    await a.round([DISCOVERY], can_take=True)
    running = asyncio.create_task(a.run(DISCOVERY, DAY, rounds.work("a")))
    await asyncio.sleep(0.05)
    assert rounds.ran == [("a", T0)] and DISCOVERY in a.running
    # a's database connection is cut: no renewal. At 80 % of the expiry a stops trusting its hold and
    # stops the round, before the database would let b take it (at 100 %)
    clock.advance(timedelta(seconds=60 * SAFETY + 1))
    assert await running is False and rounds.cancelled == 1 and not a.holds(DISCOVERY)
    await b.round([DISCOVERY], can_take=True)
    assert not b.holds(DISCOVERY)  # a's hold has not expired in the database yet
    clock.advance(timedelta(seconds=15))
    await b.round([DISCOVERY], can_take=True)
    assert b.holds(DISCOVERY)
    rounds.hold = None
    assert await b.run(DISCOVERY, DAY, rounds.work("b"))  # a's round never finished: b runs it now
    assert [who for who, _ in rounds.ran] == ["a", "b"]
    # a comes back: the round is b's, and it is not due
    await a.round([DISCOVERY], can_take=True)
    assert not a.holds(DISCOVERY) and not await a.run(DISCOVERY, DAY, rounds.work("a"))


async def test_a_collector_that_cannot_ask_telegram_gives_its_rounds_to_one_that_can(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    a, b = keeper(pg_store, clock, "a"), keeper(pg_store, clock, "b")
    rounds = Rounds(clock)
    await a.round([DISCOVERY], can_take=True)
    await b.round([DISCOVERY], can_take=True)
    assert a.holds(DISCOVERY) and not b.holds(DISCOVERY)
    await a.round([DISCOVERY], can_take=False)  # its account is flood-waited: given back at once
    assert not a.holds(DISCOVERY)
    await b.round([DISCOVERY], can_take=True)
    assert b.holds(DISCOVERY) and await b.run(DISCOVERY, DAY, rounds.work("b"))
    # the setting turned off (the round no longer asked for): given back too
    await b.round([], can_take=True)
    assert not b.holds(DISCOVERY) and [t.collector_id for t in await pg_store.tasks()] == [None]
    assert rounds.ran == [("b", T0)]


async def test_a_clean_stop_gives_the_round_back_at_once(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    a, b = keeper(pg_store, clock, "a"), keeper(pg_store, clock, "b")
    await a.round([QUARANTINE], can_take=True)
    await a.stop()
    await b.round([QUARANTINE], can_take=True)
    assert b.holds(QUARANTINE)
