"""The faults the fake used not to produce, each as Telethon raises it, and what the source makes of them.

Two halves: the strict fake (real TL/RPC error objects on cue) through TelethonSource,
and a real TelegramClient against loopback endpoints that answer with garbage, close,
stay silent or offer the wrong server key.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
import rsa
from telethon import errors, types
from telethon.errors import common as protocol_errors

from monitor.clock import FrozenClock
from monitor.errors import (
    ChannelUnavailable,
    ConfigError,
    FloodWait,
    SourceConnectionError,
    SourceUnauthorized,
)
from monitor.models import ChannelRef
from monitor.sources.telegram import TelethonSource

from sources.builders import T0, Build, channel, messages, scenario
from sources.mtproto_endpoints import endpoint, string_session_for

REF = ChannelRef(key="ozod_sado", username="ozod_sado")


async def _poll(src: TelethonSource, after_id: int = 0) -> list[int]:
    chan = await src.resolve(REF)
    return [p.message_id async for p in src.fetch(chan, after_id=after_id)]


# -- the strict fake ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["server_error", "timed_out", "rpc_call_fail", "unsuccessful", "garbage"])
async def test_server_side_and_protocol_faults_are_connection_faults(build: Build, fault: str) -> None:
    faults = [{"method": "iter_messages", "nth": 1, "error": fault}]
    fake, src = build(scenario(channel(msgs=messages(5)), faults=faults))
    await src.start()
    with pytest.raises(SourceConnectionError) as info:
        await _poll(src)
    assert info.value.__cause__ is not None  # the Telethon error is kept as the cause
    if fault == "garbage":
        assert not fake.is_connected()  # the connection is gone: the caller must reconnect
        await src.start()
    assert await _poll(src) == [1, 2, 3, 4, 5]


async def test_slow_mode_parks_the_channel_and_premium_flood_the_account(build: Build) -> None:
    faults = [
        {"method": "iter_messages", "nth": 1, "error": "slow_mode", "seconds": 30},
        {"method": "iter_messages", "nth": 2, "error": "flood_premium", "seconds": 90},
    ]
    _fake, src = build(scenario(channel(msgs=messages(3)), faults=faults))
    await src.start()
    with pytest.raises(FloodWait) as slow:
        await _poll(src)
    assert (slow.value.seconds, slow.value.scope) == (30, "channel")
    assert isinstance(slow.value.__cause__, errors.SlowModeWaitError)
    src._blocked.clear()  # the wait is over
    with pytest.raises(FloodWait) as premium:
        await _poll(src)
    assert (premium.value.seconds, premium.value.scope) == (90, "account")
    assert isinstance(premium.value.__cause__, errors.FloodPremiumWaitError)


@pytest.mark.parametrize(
    ("fault", "name"),
    [
        ("auth_key_unregistered", "AUTH_KEY_UNREGISTERED"),
        ("session_revoked", "SESSION_REVOKED"),
        ("auth_key_duplicated", "AUTH_KEY_DUPLICATED"),
        ("user_deactivated", "USER_DEACTIVATED"),
        ("user_deactivated_ban", "USER_DEACTIVATED_BAN"),
    ],
)
async def test_a_session_revoked_mid_run_is_unauthorized_and_stays_so(build: Build, fault: str, name: str) -> None:
    faults = [{"method": "iter_messages", "nth": 3, "error": fault}]  # poll 1 costs two requests
    fake, src = build(scenario(channel(msgs=messages(3)), faults=faults))
    await src.start()
    assert await _poll(src) == [1, 2, 3]
    with pytest.raises(SourceUnauthorized) as info:
        await _poll(src, after_id=3)
    assert info.value.reason == name
    assert src.unauthorized is info.value
    # Reconnecting does not help: Telegram refuses the key from now on, and the source says so.
    await src.close()
    with pytest.raises(SourceUnauthorized):
        await src.start()
    with pytest.raises(errors.AuthKeyUnregisteredError if fault == "auth_key_unregistered" else errors.RPCError):
        await fake.get_entity("ozod_sado")


async def test_a_session_that_is_logged_out_at_start_is_unauthorized(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(3))))
    fake.revoke()
    with pytest.raises(SourceUnauthorized, match="NOT_LOGGED_IN"):
        await src.start()


@pytest.mark.parametrize("error", ["disconnect", "garbage"])
async def test_connect_itself_can_fail(build: Build, error: str) -> None:
    fake, src = build(scenario(channel(msgs=messages(2)), faults=[{"method": "connect", "error": error}]))
    with pytest.raises(SourceConnectionError):
        await src.start()
    assert not fake.is_connected()
    await src.start()  # the fault fired once; the next attempt connects
    assert await _poll(src) == [1, 2]


@pytest.mark.parametrize(
    ("extra", "reason", "what"),
    [
        ({"status": "forbidden"}, "banned", "ChannelForbidden"),
        ({"kind": "user"}, "invalid", "a user"),
        ({"kind": "bot"}, "invalid", "a bot"),
        ({"kind": "megagroup"}, "invalid", "a supergroup"),
        ({"kind": "gigagroup"}, "invalid", "a gigagroup"),
    ],
)
async def test_a_username_that_is_not_a_broadcast_channel_is_refused(
    build: Build, extra: dict, reason: str, what: str
) -> None:
    fake, src = build(scenario(channel(msgs=messages(2), **extra)))
    await src.start()
    entity = await fake.get_entity("ozod_sado")
    assert not (isinstance(entity, types.Channel) and entity.broadcast)
    with pytest.raises(ChannelUnavailable, match=what) as info:
        await src.resolve(REF)
    assert info.value.reason == reason


async def test_a_bare_id_works_only_once_the_session_has_seen_the_channel(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(2))))
    await src.start()
    by_id = ChannelRef(key="id:1001", channel_id=1001)
    with pytest.raises(ChannelUnavailable, match="never seen") as info:
        await src.resolve(by_id)
    assert isinstance(info.value.__cause__, ValueError)
    assert "Could not find the input entity" in str(info.value.__cause__)
    assert not [r for r in fake.requests if r.error is None]  # Telethon sends nothing for it
    await src.resolve(REF)  # resolving the username puts the channel in the session's cache
    assert (await src.resolve(by_id)).id == 1001


async def test_short_pages_mid_history_lose_nothing_and_every_request_is_paid(build: Build) -> None:
    msgs = messages(260)
    for m in msgs:
        if 90 <= m["id"] <= 120 or m["id"] in (150, 151):
            m["withheld"] = True  # Telegram leaves these out: pages come back short
    paid: list[int] = []
    fake, _ = build(scenario(channel(msgs=msgs)))

    async def budget() -> None:
        paid.append(len(fake.requests))

    src = TelethonSource(fake, clock=fake.clock, request_budget=budget)
    await src.start()
    got: list[int] = []
    for _ in range(10):  # poll from the checkpoint until nothing new comes, as the daemon does
        batch = await _poll(src, after_id=got[-1] if got else 0)
        if not batch:
            break
        got += batch
    expected = [m["id"] for m in msgs if not m.get("withheld")]
    assert got == expected  # in order, nothing lost, nothing twice
    history = [r for r in fake.requests if r.method == "iter_messages"]
    assert any(0 < len(r.message_ids) < r.params["limit"] for r in history[:-1])  # a short page mid-way
    assert len(paid) == len(fake.requests)  # one payment per request Telegram saw, not per call
    assert paid == list(range(len(paid)))  # each paid before it was sent


async def test_offset_id_takes_priority_over_offset_date(build: Build, clock: FrozenClock) -> None:
    fake, _src = build(scenario(channel(msgs=messages(50))))
    await fake.connect()
    peer = types.InputPeerChannel(1001, 10011)
    got = [m.id async for m in fake.iter_messages(peer, limit=5, offset_id=40, offset_date=T0 + timedelta(hours=2))]
    assert got == [39, 38, 37, 36, 35]


@pytest.mark.parametrize(
    "exc",
    [
        protocol_errors.InvalidBufferError(b"\x6c\xfe\xff\xff"),
        protocol_errors.InvalidChecksumError(1, 2),
        protocol_errors.SecurityError("Step 1 invalid nonce from server"),
        protocol_errors.TypeNotFoundError(0xDEADBEEF, b"rest"),
        protocol_errors.AuthKeyNotFound(),
        asyncio.IncompleteReadError(b"", 8),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_protocol_errors_are_connection_faults(build: Build, exc: BaseException) -> None:
    _fake, src = build(scenario(channel()))
    with pytest.raises(SourceConnectionError) as info, src._translate("ozod_sado", 1001):
        raise exc
    assert info.value.__cause__ is exc


# -- a real TelegramClient against misbehaving endpoints ---------------------------------------------------


def _real(port: int, *, session: bool, timeout: float = 20.0, key_file: Path | None = None) -> TelethonSource:
    connection = {"dc_id": 2, "host": "127.0.0.1", "port": port, "rsa_key_file": str(key_file) if key_file else None}
    return TelethonSource.from_credentials(
        12345,
        "0123456789abcdef0123456789abcdef",
        string_session_for(port) if session else None,
        connection=connection,
        connect_timeout=timeout,
    )


@pytest.mark.parametrize("session", [True, False], ids=["with-session", "no-session"])
async def test_an_endpoint_answering_garbage_is_a_connection_fault_at_once(session: bool) -> None:
    with endpoint("garbage") as server:
        src = _real(server.port, session=session)
        started = time.monotonic()
        with pytest.raises(SourceConnectionError, match="MTProto|Checksum|connection") as info:
            await src.start()
        assert time.monotonic() - started < 15  # the first fault ends it, not the 20 s bound
        assert not src.client.is_connected()  # Telethon's own reconnect loop is stopped too
        assert "Traceback" not in str(info.value)


class _DyingConnect:
    """A client whose connect() meets garbage just as it is cancelled, as Telethon's can on SIGTERM."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def connect(self) -> None:
        self.entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise protocol_errors.InvalidChecksumError(1, 2) from None

    def is_connected(self) -> bool:
        return False

    async def disconnect(self) -> None:
        return None


async def test_a_connect_cancelled_while_it_fails_leaves_no_unretrieved_error_behind() -> None:
    # The daemon's log once held "Task exception was never retrieved" with Telethon's traceback.
    import gc

    loop = asyncio.get_running_loop()
    reported: list[str] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(str(context.get("message"))))
    try:
        client = _DyingConnect()
        start = asyncio.ensure_future(TelethonSource(client, clock=FrozenClock(T0)).start())
        await asyncio.wait_for(client.entered.wait(), 10)
        start.cancel()
        with pytest.raises(asyncio.CancelledError):
            await start
        del start
        for _ in range(3):
            await asyncio.sleep(0)
            gc.collect()
    finally:
        loop.set_exception_handler(None)
    assert reported == []


@pytest.mark.parametrize("mode", ["random", "close"])
async def test_a_silent_or_closing_endpoint_ends_within_the_connect_bound(mode: str) -> None:
    with endpoint(mode) as server:  # type: ignore[arg-type]
        src = _real(server.port, session=True, timeout=3)
        started = time.monotonic()
        with pytest.raises(SourceConnectionError):
            await src.start()
        assert time.monotonic() - started < 10
        assert not src.client.is_connected()


async def test_login_against_garbage_is_a_clear_error_not_a_hang() -> None:
    with endpoint("random") as server:
        src = _real(server.port, session=False, timeout=3)
        started = time.monotonic()
        with pytest.raises(SourceConnectionError, match="cannot log in"):
            await src.log_in(phone=lambda: "+999", code=lambda: "1", password=lambda: "x")
        assert time.monotonic() - started < 10


async def test_a_wrong_server_key_for_a_custom_endpoint_is_reported_as_such(tmp_path: Path) -> None:
    pub, _ = rsa.newkeys(512)
    key_file = tmp_path / "server.pub"
    key_file.write_bytes(pub.save_pkcs1())
    with endpoint("respq") as server:
        src = _real(server.port, session=False, key_file=key_file)
        with pytest.raises(ConfigError, match="server key does not match") as info:
            await src.start()
        assert server.connections >= 1
        assert "rsa_key_file" in str(info.value)


@pytest.mark.parametrize(
    "value",
    ["collector", "/var/lib/monitor/collector.session", "1" + "A" * 350, "1" + "!" * 400, "x" * 400],
)
async def test_a_session_string_that_is_not_a_string_session_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.chdir(tmp_path)  # where a relative session file name would have been created
    with pytest.raises(ConfigError, match="not a valid Telethon string session") as info:
        TelethonSource.from_credentials(1, "x", value)
    assert value not in str(info.value)  # never echo what may be a secret
    assert not list(tmp_path.iterdir())  # noqa: ASYNC240 (and no session file was created for it)
