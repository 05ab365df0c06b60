"""Which Telethon error puts an account in which pool state: real Telethon errors, raised by the fake
client, translated by the real TelethonSource, then mapped by monitor.sources.accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telethon import errors
from telethon.tl import functions

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
    # the request Telegram flood-waited, from the `request` Telethon sets on its FloodWaitError
    cause = info.value.__cause__
    assert isinstance(cause, errors.FloodWaitError) and isinstance(cause.request, functions.messages.GetHistoryRequest)
    assert info.value.method == state.method == "GetHistoryRequest"
    assert not usable(state, now=clock.now() + timedelta(minutes=59))
    assert usable(state, now=clock.now() + timedelta(hours=1))
    assert usable(None, now=T0) and usable(AccountState(name="x"), now=T0)


async def test_the_flood_waited_request_is_named_by_later_refusals_too(build: Build, clock: FrozenClock) -> None:
    """While a wait runs the source refuses before asking Telegram; that FloodWait names the request
    Telegram flood-waited, so a later refusal does not overwrite the stored method with nothing."""
    faults = [{"method": "get_entity", "error": "flood_wait", "seconds": 600}]
    _fake, src = build(scenario(channel(msgs=messages(3)), faults=faults))
    await src.start()
    with pytest.raises(FloodWait) as first:
        await src.resolve(REF)
    assert isinstance(first.value.__cause__, errors.FloodWaitError)
    assert first.value.method == "ResolveUsernameRequest"
    clock.advance(timedelta(minutes=1))
    with pytest.raises(FloodWait) as again:
        await src.resolve(REF)
    assert again.value.__cause__ is None and again.value.seconds == 540
    assert again.value.method == "ResolveUsernameRequest"
