"""Which Telethon error puts an account in which pool state: real Telethon errors, raised by the fake
client, translated by the real TelethonSource, then mapped by monitor.sources.accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telethon import errors

from monitor.clock import FrozenClock
from monitor.errors import FloodWait, SourceUnauthorized
from monitor.models import AccountState, ChannelRef
from monitor.sources.accounts import flood_waited, refused, usable
from monitor.sources.telegram import TelethonSource

from .builders import T0, Build, channel, messages, scenario

REF = ChannelRef(key="ozod_sado", username="ozod_sado")


async def _poll(src: TelethonSource) -> list[int]:
    chan = await src.resolve(REF)
    return [p.message_id async for p in src.fetch(chan, after_id=0)]


@pytest.mark.parametrize(
    ("fault", "state"),
    [
        ("auth_key_unregistered", "unauthorized"),
        ("session_revoked", "unauthorized"),
        ("auth_key_duplicated", "duplicated"),
        ("user_deactivated", "banned"),
        ("user_deactivated_ban", "banned"),
        ("frozen_method_invalid", "frozen"),
    ],
)
async def test_refusals_map_to_account_states_with_the_reason(build: Build, fault: str, state: str) -> None:
    _fake, src = build(scenario(channel(msgs=messages(3)), faults=[{"method": "iter_messages", "error": fault}]))
    await src.start()
    with pytest.raises(SourceUnauthorized) as info:
        await _poll(src)
    got = refused("acc1", info.value, at=T0)
    assert (got.name, got.state, got.since) == ("acc1", state, T0)
    assert info.value.reason in (got.reason or "")
    assert not usable(got, now=T0 + timedelta(days=365))  # no wait ends these


async def test_a_frozen_account_is_not_a_one_second_flood_wait(build: Build) -> None:
    """FROZEN_METHOD_INVALID comes as a FloodError in Telethon (code 420, no seconds; a subclass of its own
    from 1.40): before, it became a 1 s flood wait retried for ever."""
    _fake, src = build(scenario(channel(msgs=messages(3)), faults=[{"method": "iter_messages", "error": "frozen_method_invalid"}]))
    await src.start()
    with pytest.raises(SourceUnauthorized) as info:
        await _poll(src)
    assert info.value.reason == "FROZEN_METHOD_INVALID" and not isinstance(info.value, FloodWait)
    assert isinstance(info.value.__cause__, errors.FloodError)


async def test_an_account_flood_wait_parks_the_account_until_it_ends(
    build: Build, clock: FrozenClock
) -> None:
    faults = [{"method": "iter_messages", "error": "flood_wait", "seconds": 3600}]
    _fake, src = build(scenario(channel(msgs=messages(3)), faults=faults))
    await src.start()
    with pytest.raises(FloodWait) as info:
        await _poll(src)
    state = flood_waited("acc1", info.value, at=clock.now())
    assert state.state == "flood_wait" and state.until == clock.now() + timedelta(hours=1)
    assert not usable(state, now=clock.now() + timedelta(minutes=59))
    assert usable(state, now=clock.now() + timedelta(hours=1))
    assert usable(None, now=T0) and usable(AccountState(name="x"), now=T0)
