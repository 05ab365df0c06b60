"""LeaseKeeper on the real PostgreSQL server, time moved by a virtual clock (no sleeping).

Several keepers share one store as several collectors would; the monotonic clock each keeper
trusts its leases by is the virtual clock too, so "the database was unreachable for 70 s" is one
``advance`` call.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from monitor.clock import FrozenClock
from monitor.collectors.leases import SAFETY, LeaseKeeper, new_collector
from monitor.errors import StoreError
from monitor.models import ChannelRef
from monitor.store import Store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KEYS = [f"chan{i:02d}" for i in range(10)]


def keeper(store: Store, clock: FrozenClock, pid: int, *, expiry: float = 60, max_channels: int = 1000) -> LeaseKeeper:
    return LeaseKeeper(
        store, new_collector(clock, pid=pid, host="h"), clock=clock, expiry=expiry, max_channels=max_channels,
        monotonic=lambda: clock.now().timestamp(), rng=random.Random(pid),
    )


async def watch(store: Store, keys: list[str], clock: FrozenClock) -> None:
    await store.sync_watchlist([ChannelRef(key=k, username=k) for k in keys], at=clock.now())


def owners(*keepers: LeaseKeeper) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for k in keepers:
        for key in k.held():
            seen.setdefault(key, []).append(k.id)
    return seen


async def test_three_collectors_share_the_channels_and_never_hold_one_twice(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    await watch(pg_store, KEYS, clock)
    a, b, c = (keeper(pg_store, clock, pid) for pid in (1, 2, 3))
    for k in (a, b, c):
        await k.start()
    first = await a.round(KEYS)
    assert first.target == 4 and len(first.taken) == 4  # three live collectors: ceil(10 / 3)
    await b.round(KEYS)
    await c.round(KEYS)
    held = owners(a, b, c)
    assert sorted(held) == KEYS and all(len(v) == 1 for v in held.values())
    assert sorted(len(k.held()) for k in (a, b, c)) == [2, 4, 4]
    stored = {lease.key: lease.collector_id for lease in await pg_store.leases()}
    assert stored == {key: ids[0] for key, ids in held.items()}


async def test_a_dead_collectors_channels_are_taken_over_after_the_expiry_from_its_checkpoint(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    await watch(pg_store, KEYS, clock)
    a, b = keeper(pg_store, clock, 1), keeper(pg_store, clock, 2)
    await a.start()
    await b.start()
    await a.round(KEYS)
    await b.round(KEYS)
    dead = set(a.held())
    assert len(dead) == 5
    # a is killed: b's rounds every 15 s take nothing until a's leases expire at +60 s
    for _ in range(3):
        clock.advance(timedelta(seconds=15))
        assert (await b.round(KEYS)).taken == ()
    clock.advance(timedelta(seconds=15))  # +60: a's leases have run out, and a no longer counts as alive
    r = await b.round(KEYS)
    assert set(r.taken) == dead and sorted(b.held()) == KEYS


async def test_a_clean_stop_releases_at_once_and_a_new_collector_gets_a_fair_share(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    await watch(pg_store, KEYS, clock)
    a = keeper(pg_store, clock, 1)
    await a.start()
    assert len((await a.round(KEYS)).taken) == 10  # alone: everything
    b = keeper(pg_store, clock, 2)
    await b.start()
    assert (await b.round(KEYS)).taken == ()  # all held
    clock.advance(timedelta(seconds=15))
    busy = set(a.held()[:3])
    r = await a.round(KEYS, busy=busy.__contains__)
    assert len(r.released) == 5 and not busy & set(r.released)  # channels being polled are kept
    assert len((await b.round(KEYS)).taken) == 5
    assert await a.stop() == 5
    r = await b.round(KEYS)  # no expiry to wait for after a clean stop
    assert sorted(b.held()) == KEYS and len(r.taken) == 5


async def test_new_channels_are_picked_up_and_removed_ones_given_back(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    await watch(pg_store, KEYS[:4], clock)
    a = keeper(pg_store, clock, 1)
    await a.start()
    await a.round(KEYS[:4])
    await watch(pg_store, KEYS[1:6], clock)  # chan00 removed, chan04 and chan05 added
    clock.advance(timedelta(seconds=15))
    r = await a.round(KEYS[1:6])
    assert set(r.taken) == {"chan04", "chan05"} and r.released == ("chan00",)
    assert a.held() == KEYS[1:6]


async def test_cut_off_from_the_database_the_collector_stops_trusting_before_others_take_over(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    await watch(pg_store, KEYS, clock)
    a, b = keeper(pg_store, clock, 1), keeper(pg_store, clock, 2)
    await a.start()
    await b.start()
    await a.round(KEYS)
    await b.round(KEYS)
    mine = a.held()

    class Unreachable:
        def __getattr__(self, name: str) -> object:
            async def refuse(*_a: object, **_k: object) -> object:
                raise StoreError("connection refused")

            return refuse

    a.store = Unreachable()  # type: ignore[assignment]
    clock.advance(timedelta(seconds=15))
    assert not (await a.round(KEYS)).ok
    assert a.held() == mine  # still within the trusted share of the expiry
    clock.advance(timedelta(seconds=60 * SAFETY - 15))
    assert a.held() == []  # a trusts nothing from here on ...
    assert (await b.round(KEYS)).taken == ()  # ... while the database still says a holds them
    clock.advance(timedelta(seconds=60 * (1 - SAFETY)))
    assert set((await b.round(KEYS)).taken) == set(mine)
    a.store = pg_store
    clock.advance(timedelta(seconds=1))
    r = await a.round(KEYS)
    assert set(r.lost) == set(mine) and a.held() == []


async def test_a_collector_that_cannot_take_does_not_count_in_the_fair_share(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    await watch(pg_store, KEYS, clock)
    a, b, parked = (keeper(pg_store, clock, pid) for pid in (1, 2, 3))
    for k in (a, b, parked):
        await k.start()
    assert (await parked.round(KEYS, can_take=False)).target == 0
    assert (await a.round(KEYS)).target == 5  # two takers, not three: no channel is left without one
    assert (await b.round(KEYS)).target == 5
    assert sorted(owners(a, b)) == KEYS


async def test_max_channels_caps_a_collector_and_no_account_means_no_leases(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    await watch(pg_store, KEYS, clock)
    a = keeper(pg_store, clock, 1, max_channels=3)
    await a.start()
    assert len((await a.round(KEYS)).taken) == 3
    clock.advance(timedelta(seconds=15))
    r = await a.round(KEYS, can_take=False)  # every account parked: hand the channels to others
    assert r.target == 0 and len(r.released) == 3 and a.held() == []
    assert await pg_store.leases() == []


async def test_pinned_channels_count_only_for_collectors_on_their_accounts(pg_store: Store) -> None:
    clock = FrozenClock(T0)
    keys = KEYS[:4]
    await watch(pg_store, keys, clock)
    x, y = keeper(pg_store, clock, 1), keeper(pg_store, clock, 2)
    for k, account in ((x, "acc0"), (y, "acc1")):
        await k.start()
        assert await pg_store.hold_account(account, k.id, at=T0, expiry=60) is None
    pins = {"chan02": ["acc1"], "chan03": ["acc1", "acc9"]}
    # x may not poll the pinned ones (the daemon leaves them out of its keys): its share is half of two
    assert (await x.round(keys[:2], pins=pins)).target == 1
    r = await y.round(keys, pins=pins)
    assert r.target == 3 and {"chan02", "chan03"} <= set(y.held())
    assert sorted(owners(x, y)) == keys


async def test_a_channel_only_this_collector_may_poll_is_never_given_back_as_excess(pg_store: Store) -> None:
    """y started first and took everything; once x joins, y gives back only what x may poll."""
    clock = FrozenClock(T0)
    keys = KEYS[:4]
    await watch(pg_store, keys, clock)
    x, y = keeper(pg_store, clock, 1), keeper(pg_store, clock, 2)
    pins = {"chan02": ["acc1"], "chan03": ["acc1"]}
    await y.start()
    assert await pg_store.hold_account("acc1", y.id, at=T0, expiry=60) is None
    assert len((await y.round(keys, pins=pins)).taken) == 4  # alone
    await x.start()
    assert await pg_store.hold_account("acc0", x.id, at=T0, expiry=60) is None
    for _ in range(3):
        clock.advance(timedelta(seconds=15))
        await x.round(keys[:2], pins=pins)
        r = await y.round(keys, pins=pins)
        assert not {"chan02", "chan03"} & set(r.released)
    assert {"chan02", "chan03"} <= set(y.held()) and sorted(owners(x, y)) == keys


async def test_a_poll_that_began_before_the_ban_does_not_make_the_account_ok_again(pg_store: Store) -> None:
    """Two polls of one account run at once; one is refused (banned), the other was already past its
    requests and finishes well afterwards. Its success proves nothing about the account: the ban stays.
    A poll that begins after the state was recorded and works does make it ok (a new login took)."""
    from monitor.collectors.team import Team
    from monitor.models import AccountState

    clock = FrozenClock(T0)
    team = Team(keeper(pg_store, clock, 1), account="acc1", renew_interval=15,
                monotonic=lambda: clock.now().timestamp())
    await team.account_changed(AccountState(name="acc1", state="banned", reason="UserDeactivatedBanError",
                                            since=clock.now()))
    clock.advance(timedelta(seconds=3))
    await team.polled_ok(duration=5.0)  # began 2 s before the ban was stored
    assert [s.state for s in await pg_store.account_states()] == ["banned"]
    assert team.account_state is not None and team.account_state.state == "banned"
    clock.advance(timedelta(seconds=60))
    await team.polled_ok(duration=5.0)  # began after it: the account works again
    assert [s.state for s in await pg_store.account_states()] == ["ok"]
