"""TelethonSource pinned down exactly: the requests each call sends (how many, with which limits), which
scope a flood wait blocks, the error each Telethon fault becomes (type, reason, wording), log-in's
paths, and what the watch on Telethon's sender log makes of each record. Found by mutation testing
(docs/testing.md): the older tests showed each path is taken, not what it sends or says."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from telethon import errors, types
from telethon.errors import common as protocol_errors
from telethon.tl import functions

from monitor.clock import FrozenClock, SystemClock
from monitor.errors import ChannelUnavailable, ConfigError, FloodWait, SourceConnectionError, SourceError, SourceUnauthorized
from monitor.models import Channel, ChannelRef
from monitor.sources.scenario import ScenarioFault
from monitor.sources.telegram import TelethonSource, _TelethonWatch

from sources.builders import T0, Build, channel, messages, scenario

REF = ChannelRef(key="ozod_sado", username="ozod_sado")
KNOWN = Channel(id=1001, username="ozod_sado", title="Kanal 1001", access_hash=10011)
OTHER = Channel(id=1002, username="boshqa", title="Kanal 1002", access_hash=10021)


def _pages(fake: Any) -> list[tuple[int, int]]:
    """(limit asked, posts served) of each history request."""
    return [(r.params["limit"], len(r.message_ids)) for r in fake.requests if r.method == "iter_messages"]


# -- what is asked ----------------------------------------------------------------------------------


async def test_backfill_by_count_asks_only_for_what_is_missing(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(250))))
    await src.start()
    assert [p.message_id async for p in src.fetch(KNOWN, after_id=0, limit=130)] == list(range(121, 251))
    assert _pages(fake) == [(100, 100), (30, 30)]
    fake.requests.clear()
    assert [p.message_id async for p in src.fetch(KNOWN, after_id=0, limit=101)] == list(range(150, 251))
    assert _pages(fake) == [(100, 100), (1, 1)]
    fake.requests.clear()
    assert [p.message_id async for p in src.fetch(KNOWN, after_id=0, limit=1)] == [250]
    assert _pages(fake) == [(1, 1)]


async def test_a_backfill_of_nothing_asks_nothing(build: Build) -> None:
    paid: list[int] = []
    fake, _ = build(scenario(channel(msgs=messages(5))))

    async def budget() -> None:
        paid.append(1)

    src = TelethonSource(fake, clock=fake.clock, request_budget=budget)
    await src.start()
    assert [p async for p in src.fetch(KNOWN, after_id=0, limit=0)] == []
    assert paid == [] and not fake.requests


async def test_backfill_by_date_stops_asking_once_past_since(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(250, step=timedelta(hours=1)))))
    await src.start()
    since = T0 + timedelta(hours=180)  # post 181
    got = [p.message_id async for p in src.fetch(KNOWN, after_id=0, since=since)]
    assert got == list(range(181, 251))
    assert _pages(fake) == [(100, 100)]  # the first page already reached past since: no second request


async def test_backfill_leaves_out_service_messages_and_keeps_walking_back(build: Build) -> None:
    msgs = messages(12)
    for m in msgs[8:]:
        m["service"] = True  # 9..12: the newest four are pins
    fake, src = build(scenario(channel(msgs=msgs)), page_size=5)
    await src.start()
    assert [p.message_id async for p in src.fetch(KNOWN, after_id=0, limit=3)] == [6, 7, 8]
    assert _pages(fake) == [(3, 3), (3, 3), (1, 1)]  # 12-10 are pins, 9 too; 8, 7, then the one still missing


async def test_refresh_leaves_out_service_messages(build: Build) -> None:
    msgs = messages(4)
    msgs[1]["service"] = True
    fake, src = build(scenario(channel(msgs=msgs)))
    await src.start()
    assert [p.message_id for p in await src.refresh(KNOWN, [1, 2, 3, 3, 4])] == [1, 3, 4]
    [sent] = [r for r in fake.requests if r.method == "get_messages"]
    assert sent.params["ids"] == (1, 2, 3, 4)  # asked once each


# -- which scope a flood wait blocks --------------------------------------------------------------------


class _NoHook:
    """The fake without ``request_hook``: a client the source must pay once per call for (not per request)."""

    def __init__(self, fake: Any) -> None:
        self._fake = fake

    def __getattr__(self, name: str) -> Any:
        if name == "request_hook":
            raise AttributeError(name)
        return getattr(self._fake, name)

    async def __call__(self, request: Any) -> Any:
        return await self._fake(request)


@pytest.mark.parametrize("hook", [True, False], ids=["per-request", "per-call"])
@pytest.mark.parametrize("method", ["iter_messages", "get_messages", "get_full_channel", "get_channel_recommendations"])
async def test_a_channel_scoped_flood_wait_blocks_that_channel_only(
    build: Build, clock: FrozenClock, method: str, hook: bool
) -> None:
    faults = [{"method": method, "channel": "ozod_sado", "error": "flood_wait", "seconds": 50}]
    data = scenario(channel(msgs=messages(3), similar=[1002]), channel(1002, "boshqa", msgs=messages(2)), faults=faults)
    fake, src = build(data, flood_scope="channel")
    if not hook:
        src = TelethonSource(_NoHook(fake), clock=clock, flood_scope="channel")
    await src.start()
    asks = {
        "iter_messages": lambda: _list(src.fetch(KNOWN, after_id=0)),
        "get_messages": lambda: src.refresh(KNOWN, [1]),
        "get_full_channel": lambda: src.channel_info(KNOWN),
        "get_channel_recommendations": lambda: src.similar_channels(KNOWN),
    }
    with pytest.raises(FloodWait) as info:
        await asks[method]()
    assert (info.value.seconds, info.value.scope) == (50, "channel")
    served = len(fake.requests)
    clock.advance(timedelta(seconds=20))
    for ask in asks.values():  # every request about this channel is refused here, without asking Telegram
        with pytest.raises(FloodWait) as again:
            await ask()
        assert (again.value.seconds, again.value.scope, again.value.__cause__) == (30, "channel", None)
    assert len(fake.requests) == served
    # the other channel and resolving go on
    assert [p.message_id for p in await src.refresh(OTHER, [1, 2])] == [1, 2]
    assert (await src.resolve(ChannelRef(key="boshqa", username="boshqa"))).id == 1002
    clock.advance(timedelta(seconds=30))
    assert [p.message_id for p in await src.refresh(KNOWN, [1])] == [1]


async def _list(posts: Any) -> list[Any]:
    return [p async for p in posts]


async def test_a_flood_wait_on_resolve_with_channel_scope_blocks_resolves_only(build: Build, clock: FrozenClock) -> None:
    faults = [{"method": "get_entity", "error": "flood_wait", "seconds": 10}]
    fake, src = build(scenario(channel(msgs=messages(2)), faults=faults), flood_scope="channel")
    await src.start()
    with pytest.raises(FloodWait):
        await src.resolve(REF)
    with pytest.raises(FloodWait) as again:
        await src.resolve(ChannelRef(key="boshqa", username="boshqa"))
    assert (again.value.seconds, again.value.scope) == (10, "channel")
    assert [p.message_id async for p in src.fetch(KNOWN, after_id=0)] == [1, 2]


async def test_a_longer_wait_is_kept_and_a_shorter_one_does_not_shorten_it(build: Build, clock: FrozenClock) -> None:
    _fake, src = build(scenario(channel(msgs=messages(2))))
    await src.start()
    long = errors.FloodWaitError(request=functions.messages.GetHistoryRequest(
        peer=types.InputPeerEmpty(), offset_id=0, offset_date=None, add_offset=0, limit=1, max_id=0, min_id=0, hash=0),
        capture=300)
    short = errors.FloodWaitError(request=functions.updates.GetStateRequest(), capture=5)
    for exc in (long, short):
        with pytest.raises(FloodWait), src._translate("ozod_sado", 1001):
            raise exc
    with pytest.raises(FloodWait) as info:
        await src.refresh(KNOWN, [1])
    assert (info.value.seconds, info.value.method) == (300, "GetHistoryRequest")
    clock.advance(timedelta(seconds=300))
    assert [p.message_id for p in await src.refresh(KNOWN, [1])] == [1]  # over: asked again, and the wait forgotten
    assert "account" not in src._blocked


async def test_the_flood_waited_request_is_named_through_telethons_envelopes(build: Build) -> None:
    _fake, src = build(scenario(channel()))
    history = functions.messages.GetHistoryRequest(
        peer=types.InputPeerEmpty(), offset_id=0, offset_date=None, add_offset=0, limit=1, max_id=0, min_id=0, hash=0)
    init = functions.InitConnectionRequest(
        api_id=1, device_model="d", system_version="s", app_version="a", system_lang_code="en", lang_pack="",
        lang_code="en", query=history)
    wrapped = functions.InvokeWithLayerRequest(layer=1, query=init)
    bare_envelope = functions.InvokeWithLayerRequest(layer=1, query=None)
    cases = [(wrapped, "GetHistoryRequest"), (init, "GetHistoryRequest"), (history, "GetHistoryRequest"),
             ([history, history], None), (None, None), (bare_envelope, "InvokeWithLayerRequest")]
    for request, name in cases:
        src._blocked.clear()
        with pytest.raises(FloodWait) as info, src._translate("ozod_sado", 1001):
            raise errors.FloodWaitError(request=request, capture=3)
        assert info.value.method == name, request


# -- what each fault becomes --------------------------------------------------------------------------


def _rpc(cls: type, **kw: Any) -> BaseException:
    return cls(request=None, **kw)


@pytest.mark.parametrize(
    ("exc", "channel_id", "kind", "reason", "text"),
    [
        (_rpc(errors.UsernameNotOccupiedError), None, ChannelUnavailable, "not_found",
         "ozod_sado: The username is not in use by anyone else yet (caused by NoneType)"),
        (_rpc(errors.UsernameInvalidError), None, ChannelUnavailable, "invalid", None),
        (_rpc(errors.PeerIdInvalidError), None, ChannelUnavailable, "invalid", None),
        (_rpc(errors.ChannelInvalidError), None, ChannelUnavailable, "invalid",
         "ozod_sado: Invalid channel object. Make sure to pass the right types, for instance making sure that the "
         "request is designed for channels or otherwise look for a different one more suited (caused by NoneType)"),
        (_rpc(errors.ChannelInvalidError), 1001, ChannelUnavailable, "invalid",
         "ozod_sado: Invalid channel object. Make sure to pass the right types, for instance making sure that the "
         "request is designed for channels or otherwise look for a different one more suited (caused by NoneType)"
         " (the stored access hash was refused: deleted channel, or another account's hash; resolve again without"
         " it to tell)"),
        (_rpc(errors.ChatForbiddenError), 1001, ChannelUnavailable, "private", None),
        (_rpc(errors.UserBannedInChannelError), 1001, ChannelUnavailable, "banned", None),
        (ValueError("Request was unsuccessful 6 time(s)"), 1001, SourceConnectionError, None,
         "Telegram kept failing: Request was unsuccessful 6 time(s)"),
        (ValueError('No user has "ozod_sado" as username'), None, ChannelUnavailable, "not_found",
         'ozod_sado: No user has "ozod_sado" as username'),
        (ValueError("Could not find the input entity for PeerChannel(channel_id=1001)"), None, ChannelUnavailable,
         "not_found", "ozod_sado: this session has never seen the channel, so its id alone cannot be used; configure"
         " it by username or t.me link"),
        (errors.RPCError(request=None, message="CHAT_ADMIN_REQUIRED", code=400), 1001, SourceError, None,
         "Telegram refused the request (ozod_sado): RPCError 400: CHAT_ADMIN_REQUIRED (caused by NoneType)"),
        (errors.ServerError(request=None, message="INTERNAL", code=500), 1001, SourceConnectionError, None,
         "Telegram server error: RPCError 500: INTERNAL (caused by NoneType)"),
        (ConnectionResetError(104, "Connection reset by peer"), 1001, SourceConnectionError, None,
         "connection to Telegram lost: ConnectionResetError: [Errno 104] Connection reset by peer"),
        (ConnectionError(), 1001, SourceConnectionError, None, "connection to Telegram lost: ConnectionError"),
        (protocol_errors.InvalidChecksumError(1, 2), 1001, SourceConnectionError, None,
         "the Telegram endpoint does not answer in MTProto (InvalidChecksumError: Invalid checksum (1 when 2 was"
         " expected). This packet should be skipped.)"),
        (BufferError("short"), 1001, SourceConnectionError, None,
         "the Telegram endpoint does not answer in MTProto (BufferError: short)"),
        (AssertionError(), 1001, SourceConnectionError, None, "the Telegram endpoint does not answer in MTProto"
         " (AssertionError)"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
async def test_each_telethon_fault_becomes_one_of_the_projects_errors(
    build: Build, exc: BaseException, channel_id: int | None, kind: type, reason: str | None, text: str | None
) -> None:
    _fake, src = build(scenario(channel()))
    with pytest.raises(kind) as info, src._translate("ozod_sado", channel_id):
        raise exc
    assert type(info.value) is kind and info.value.__cause__ is exc
    if reason is not None:
        assert info.value.reason == reason
    if text is not None:
        assert (info.value.detail if isinstance(info.value, ChannelUnavailable) else str(info.value)) == text
    assert src.unauthorized is None


@pytest.mark.parametrize(
    ("exc", "reason", "detail"),
    [
        (errors.UnauthorizedError(request=None, message="SESSION_PASSWORD_NEEDED", code=401), "SESSION_PASSWORD_NEEDED",
         "RPCError 401: SESSION_PASSWORD_NEEDED"),
        (errors.UnauthorizedError(request=None, message="", code=401), "UnauthorizedError", "RPCError 401: "),
        (errors.AuthKeyError(request=None, message="AUTH_KEY_INVALID", code=401), "AUTH_KEY_INVALID",
         "RPCError 401: AUTH_KEY_INVALID"),
        (errors.AuthKeyUnregisteredError(request=None), "AUTH_KEY_UNREGISTERED",
         "The key is not registered in the system"),
        (errors.SessionRevokedError(request=None), "SESSION_REVOKED", None),
    ],
)
async def test_a_refused_session_is_named_as_telegram_names_it(
    build: Build, exc: BaseException, reason: str, detail: str | None
) -> None:
    _fake, src = build(scenario(channel()))
    with pytest.raises(SourceUnauthorized) as info, src._translate("ozod_sado", 1001):
        raise exc
    assert info.value.reason == reason and src.unauthorized is info.value
    if detail is not None:
        assert info.value.detail == detail


async def test_a_frozen_account_in_the_old_telethon_form_is_unauthorized(build: Build) -> None:
    _fake, src = build(scenario(channel()))
    old = errors.FloodError(request=None, message="FROZEN_METHOD_INVALID", code=420)
    with pytest.raises(SourceUnauthorized) as info, src._translate("ozod_sado", 1001):
        raise old
    assert info.value.reason == "FROZEN_METHOD_INVALID" and info.value.detail == "RPCError 420: FROZEN_METHOD_INVALID"
    assert not src._blocked
    plain = errors.FloodError(request=None, message="FLOOD", code=420)  # a 420 with no seconds: one second
    with pytest.raises(FloodWait) as wait, src._translate("ozod_sado", 1001):
        raise plain
    assert (wait.value.seconds, wait.value.scope) == (1, "account")


async def test_poll_errors_name_the_channel_by_username_or_id(build: Build) -> None:
    faults = [{"method": "get_messages", "error": "private"}, {"method": "iter_messages", "error": "banned"},
              {"method": "get_full_channel", "error": "private"}]
    fake, src = build(scenario(channel(msgs=messages(2)), faults=faults))
    await src.start()
    with pytest.raises(ChannelUnavailable) as refresh:
        await src.refresh(KNOWN, [1])
    assert refresh.value.detail.startswith("ozod_sado: The channel specified is private")
    unnamed = Channel(id=1001, username=None, title="", access_hash=10011)
    with pytest.raises(ChannelUnavailable) as poll:
        await _list(src.fetch(unnamed, after_id=0))
    assert poll.value.detail.startswith("1001: The channel is banned")
    with pytest.raises(ChannelUnavailable) as info:
        await src.channel_info(unnamed)
    assert info.value.detail.startswith("1001: The channel specified is private")
    fake.add_fault(ScenarioFault(method="get_messages", error="private"))
    with pytest.raises(ChannelUnavailable) as unnamed_refresh:
        await src.refresh(unnamed, [1])
    assert unnamed_refresh.value.detail.startswith("1001: The channel specified is private")


async def test_a_dropped_connection_says_so(build: Build) -> None:
    faults = [{"method": "get_messages", "error": "disconnect"}]
    _fake, src = build(scenario(channel(msgs=messages(2)), faults=faults))
    await src.start()
    with pytest.raises(SourceConnectionError) as info:
        await src.refresh(KNOWN, [1])
    assert str(info.value) == "connection to Telegram lost: ConnectionError: Connection to Telegram failed (injected disconnect)"


async def test_resolve_refusals_say_what_was_found(build: Build) -> None:
    fake, src = build(scenario(channel(kind="megagroup"), channel(1002, "boshqa", kind="user"),
                               channel(1003, "gigant", kind="gigagroup"), channel(1004, "robot", kind="bot"),
                               channel(1005, "yopiq", status="forbidden")))
    await src.start()
    expected = {"ozod_sado": "ozod_sado: a supergroup, not a broadcast channel",
                "boshqa": "boshqa: a user, not a broadcast channel",
                "gigant": "gigant: a gigagroup, not a broadcast channel",
                "robot": "robot: a bot, not a broadcast channel",
                "yopiq": "yopiq: the account is banned from the channel (ChannelForbidden)"}
    for name, detail in expected.items():
        with pytest.raises(ChannelUnavailable) as info:
            await src.resolve(ChannelRef(key=name, username=name))
        assert info.value.detail == detail
    with pytest.raises(ChannelUnavailable) as neither:
        await src.resolve(ChannelRef(key="x"))
    assert (neither.value.reason, neither.value.detail) == ("invalid", "x: neither a username nor an id")
    with pytest.raises(ChannelUnavailable) as bad:
        await src.resolve(ChannelRef(key="1bad", username="1bad"))
    assert bad.value.detail == "1bad: not a valid Telegram username"


def test_kinds_of_what_a_username_can_name() -> None:
    from monitor.sources.telegram import _kind

    def chan(**kw: Any) -> types.Channel:
        return types.Channel(id=1, title="t", photo=types.ChatPhotoEmpty(), date=T0, **kw)

    assert [_kind(chan(broadcast=True)), _kind(chan(megagroup=True)), _kind(chan(megagroup=True, gigagroup=True))] == [
        "channel", "supergroup", "gigagroup"]
    assert [_kind(types.User(id=1)), _kind(types.User(id=1, bot=True)), _kind(types.UserEmpty(id=1))] == [
        "user", "bot", "user"]
    assert [_kind(types.Chat(id=1, title="t", photo=types.ChatPhotoEmpty(), participants_count=1, date=T0, version=1)),
            _kind(types.ChatForbidden(id=1, title="t")), _kind(types.ChatEmpty(id=1)), _kind(object())] == [
        "group", "group", "group", "object"]


# -- log in ---------------------------------------------------------------------------------------------


class _LoginClient:
    """A client whose session is not logged in; start() does what the test says."""

    def __init__(self, outcome: BaseException | None = None, connect: BaseException | None = None) -> None:
        self.outcome, self.connect_error = outcome, connect
        self.started: dict[str, Any] | None = None
        self.disconnects = 0

    async def connect(self) -> None:
        if self.connect_error is not None:
            raise self.connect_error

    async def is_user_authorized(self) -> bool:
        return False

    def is_connected(self) -> bool:
        return False

    async def disconnect(self) -> None:
        self.disconnects += 1

    async def start(self, **kwargs: Any) -> None:
        self.started = kwargs
        if self.outcome is not None:
            raise self.outcome


def _answer(text: str) -> Any:
    return lambda: text


async def test_log_in_hands_telethon_the_three_prompts() -> None:
    client = _LoginClient()
    src = TelethonSource(client, clock=FrozenClock(T0))
    phone, code, password = _answer("+998"), _answer("12345"), _answer("secret")
    assert await src.log_in(phone=phone, code=code, password=password) is True
    assert client.started == {"phone": phone, "code_callback": code, "password": password}
    assert client.disconnects == 0


@pytest.mark.parametrize(
    ("outcome", "kind", "text", "closed"),
    [
        (ConnectionResetError(104, "reset"), SourceConnectionError,
         "cannot log in: Telegram is unreachable (ConnectionResetError: [Errno 104] reset)", True),
        (protocol_errors.InvalidBufferError(b"\x6c\xfe\xff\xff"), SourceConnectionError,
         "cannot log in: the endpoint does not answer in MTProto (InvalidBufferError: Invalid response buffer (HTTP"
         " code 404))", True),
        (errors.PhoneCodeInvalidError(request=None), SourceError,
         "login failed: The phone code entered was invalid (caused by NoneType)", False),
        (RuntimeError("too many attempts"), SourceError, "login failed: too many attempts", False),
        (ValueError("bad phone"), SourceError, "login failed: bad phone", False),
    ],
)
async def test_log_in_faults_say_what_failed(outcome: BaseException, kind: type, text: str, closed: bool) -> None:
    client = _LoginClient(outcome)
    src = TelethonSource(client, clock=FrozenClock(T0))
    with pytest.raises(kind) as info:
        await src.log_in(phone=_answer("+998"), code=_answer("1"), password=_answer("x"))
    assert type(info.value) is kind and str(info.value) == text and info.value.__cause__ is outcome
    assert client.disconnects == (1 if closed else 0)


async def test_log_in_that_cannot_connect_says_why() -> None:
    client = _LoginClient(connect=ConnectionRefusedError(111, "refused"))
    src = TelethonSource(client, clock=FrozenClock(T0))
    with pytest.raises(SourceConnectionError) as info:
        await src.log_in(phone=_answer("+998"), code=_answer("1"), password=_answer("x"))
    assert str(info.value) == (
        "cannot log in: Telegram is unreachable (ConnectionRefusedError: [Errno 111] refused)")
    assert client.started is None and client.disconnects == 1


# -- the watch on Telethon's sender log -------------------------------------------------------------------


def _record(message: str, exc: BaseException | None = None) -> logging.LogRecord:
    return logging.LogRecord("telethon.network.mtprotosender", logging.WARNING, __file__, 1, message, (),
                             (type(exc), exc, None) if exc is not None else None)


async def test_the_watch_trips_on_garbage_and_on_a_refused_key_and_lets_the_rest_through() -> None:
    watch = _TelethonWatch()
    assert watch.see(_record("Connecting to %s...")) is True and not watch.tripped.is_set()
    assert (watch.fault, watch.key_mismatch) == ("", "")
    assert watch.see(_record("Server sent invalid buffer", protocol_errors.InvalidChecksumError(1, 2))) is False
    assert watch.tripped.is_set()
    assert watch.fault == "InvalidChecksumError: Invalid checksum (1 when 2 was expected). This packet should be skipped."
    bare = _TelethonWatch()
    assert bare.see(_record("Unhandled error while receiving data")) is False
    assert bare.fault == "Unhandled error while receiving data"
    key = _TelethonWatch()
    # as Telethon's sender logs it: "Attempt %d at new auth_key failed: %s"
    message = "Attempt 1 at new auth_key failed: Step 2 could not find a valid key for fingerprints: [1311980579, -5595554452916591101]"
    assert key.see(_record(message)) is False and key.tripped.is_set()
    assert key.key_mismatch == "[1311980579, -5595554452916591101]"
    odd = _TelethonWatch()
    assert odd.see(logging.LogRecord("x", logging.WARNING, __file__, 1, "Invalid buffer %s", ("x:1",), None)) is False
    assert odd.fault == "Invalid buffer x:1"  # the record's arguments are merged in


async def test_the_sender_log_filter_drops_what_a_watch_consumed_and_keeps_the_rest() -> None:
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("telethon.network.mtprotosender")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    first, second = _TelethonWatch().install(), _TelethonWatch().install()
    try:
        logger.info("Connection to %s complete!", "127.0.0.1:1")
        logger.warning("Server sent invalid buffer")
        assert seen == ["Connection to 127.0.0.1:1 complete!"]
        assert first.tripped.is_set() and second.tripped.is_set()  # every live watch sees every record
        second.remove()
        logger.warning("Invalid buffer again")
        assert second.fault == "Server sent invalid buffer" and first.fault == "Invalid buffer again"
    finally:
        first.remove()
        second.remove()
        logger.removeHandler(handler)
        logger.setLevel(level)


# -- sessions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [299, 300])
def test_a_string_session_shorter_than_any_real_one_is_refused(length: int) -> None:
    text = "1" + "A" * (length - 1)
    with pytest.raises(ConfigError) as info:
        TelethonSource.from_credentials(1, "x", text)
    assert str(info.value) == (
        "config: MONITOR_SESSION (or session_string) is not a valid Telethon string session; set it to what"
        " `monitor login --print-string-session` prints, or unset it to use telegram.session_file")


# -- polls from a checkpoint ------------------------------------------------------------------------------


async def test_a_poll_from_a_checkpoint_asks_page_by_page_and_no_more(build: Build) -> None:
    paid: list[int] = []
    fake, _ = build(scenario(channel(msgs=messages(30))))

    async def budget() -> None:
        paid.append(1)

    src = TelethonSource(fake, clock=fake.clock, page_size=7, request_budget=budget)
    await src.start()
    assert [p.message_id async for p in src.fetch(KNOWN, after_id=1, limit=8)] == list(range(2, 10))
    assert _pages(fake) == [(7, 7), (1, 1)] and len(paid) == 2  # the limit reached: nothing more is asked
    assert all(r.params["wait_time"] == 0 for r in fake.requests if r.method == "iter_messages")  # no sleeping
    with pytest.raises(ValueError, match=r"^after_id must be >= 0$"):
        src.fetch(KNOWN, after_id=-1)


# -- mapping Telethon's objects ----------------------------------------------------------------------------


def _message(**kw: Any) -> Any:
    from telethon.tl import patched

    base: dict[str, Any] = {"id": 9, "peer_id": types.PeerChannel(1001), "date": T0, "message": "", "post": True}
    return patched.Message(**{**base, **kw})


def test_to_post_takes_links_and_mentions_from_telegrams_entities_only(clock: FrozenClock) -> None:
    src = TelethonSource(object(), clock=clock)
    text = "👍 Manba: bu yerda va @kanal_nomi; narx @116 emas, @not_marked ham"
    hidden = text.index("bu yerda")
    page = types.WebPage(id=1, url="https://kun.uz/a", display_url="kun.uz/a", hash=0, type="article",
                         title="Sarlavha", site_name="Kun.uz")
    msg = _message(message=text, media=types.MessageMediaWebPage(webpage=page), entities=[
        types.MessageEntityTextUrl(offset=hidden + 1, length=8, url="https://example.org/x"),  # +1: 👍 is two UTF-16 units
        types.MessageEntityMention(offset=text.index("@kanal") + 1, length=len("@kanal_nomi")),
        types.MessageEntityBold(offset=0, length=2),
    ], reply_to=types.MessageReplyHeader(reply_to_msg_id=4))
    post = src.to_post(msg, 1001)
    assert post.links == ("https://example.org/x", "https://kun.uz/a")
    assert post.mentions == ("kanal_nomi",)  # "@not_marked" is no entity: Telegram did not make it one
    assert post.preview is not None and (post.preview.url, post.preview.title, post.preview.site_name) == (
        "https://kun.uz/a", "Sarlavha", "Kun.uz")
    assert (post.text, post.reply_to_id, post.media_kind) == (text, 4, "webpage")
    bare = src.to_post(_message(message=None, media=types.MessageMediaEmpty()), 1001)
    assert (bare.text, bare.links, bare.mentions, bare.preview, bare.media_kind, bare.reply_to_id) == (
        "", (), (), None, None, None)
    assert bare.reactions is None and bare.replies is None and bare.forward is None and bare.edited_at is None


def test_link_previews_keep_only_what_telegram_filled_in() -> None:
    from monitor.sources.telegram import link_preview

    def page(**kw: Any) -> Any:
        return types.MessageMediaWebPage(webpage=types.WebPage(id=1, display_url="d", hash=0, **kw))

    assert link_preview(page(url="https://a.uz", title="", site_name=None)).__repr__() == (
        "LinkPreview(url='https://a.uz', title=None, site_name=None)")
    assert link_preview(page(url="")) is None
    assert link_preview(types.MessageMediaPhoto()) is None and link_preview(None) is None


def test_media_kinds_beyond_what_the_fake_sends() -> None:
    from monitor.sources.telegram import media_kind

    def doc(*attrs: Any) -> Any:
        return types.MessageMediaDocument(document=types.Document(
            id=1, access_hash=1, file_reference=b"", date=T0, mime_type="x", size=1, dc_id=2, attributes=list(attrs)))

    assert media_kind(doc()) == "document"
    assert media_kind(types.MessageMediaDocument()) == "document"  # the document is gone (expired)
    assert media_kind(doc(types.DocumentAttributeAudio(duration=1), types.DocumentAttributeSticker(
        alt="x", stickerset=types.InputStickerSetEmpty()))) == "sticker"
    assert media_kind(doc(types.DocumentAttributeVideo(duration=1, w=1, h=1), types.DocumentAttributeAudio(
        duration=1, voice=True))) == "voice"
    assert media_kind(types.MessageMediaDice(value=3, emoticon="🎲")) == "dice"
    assert media_kind(types.MessageMediaUnsupported()) == "unsupported"
    assert media_kind(types.MessageMediaGeoLive(geo=types.GeoPointEmpty(), period=60)) == "geo"
    assert media_kind(object()) == "other"


def test_restrictions_read_as_platform_reason_and_text() -> None:
    from monitor.sources.telegram import restriction_text

    def chan(**kw: Any) -> Any:
        return types.Channel(id=1, title="t", photo=types.ChatPhotoEmpty(), date=T0, **kw)

    reasons = [types.RestrictionReason(platform="android", reason="sensitive", text=" 18+ "),
               types.RestrictionReason(platform="", reason="", text="")]
    assert restriction_text(chan(restricted=True, restriction_reason=reasons)) == "android:sensitive: 18+; :"
    assert restriction_text(chan(restricted=True, restriction_reason=[])) == "restricted"
    assert restriction_text(chan(restricted=False, restriction_reason=reasons)) is None
    assert restriction_text(None) is None


async def test_a_forward_from_a_channel_is_named_by_the_best_title_known(build: Build) -> None:
    src = TelethonSource(object(), clock=FrozenClock(T0))

    def fwd(**kw: Any) -> Any:
        return _message(fwd_from=types.MessageFwdHeader(date=T0, **kw))

    from_channel = fwd(from_id=types.PeerChannel(1002), from_name="Eski nom", channel_post=5)
    assert src.to_post(from_channel, 1001).forward.name == "Eski nom"  # no title known: Telegram's name
    src._titles[1002] = "Manba"
    assert src.to_post(from_channel, 1001).forward.name == "Manba"  # a title seen before
    assert src.to_post(fwd(from_id=types.PeerChannel(1003)), 1001).forward.name is None
    assert src.to_post(fwd(from_id=types.PeerUser(7), from_name="Ism"), 1001).forward.name == "Ism"
    # with the entities Telegram sent alongside (Telethon attaches them: msg.forward.chat / .sender)
    fake, real = build(scenario(channel(msgs=messages(1, fwd_from={"channel_id": 1002, "message_id": 3})),
                                channel(1002, "manba", title="Yangi nom")))
    await real.start()
    real._titles[1002] = "Eski"
    [post] = [p async for p in real.fetch(KNOWN, after_id=0)]
    assert post.forward is not None and (post.forward.channel_id, post.forward.name) == (1002, "Yangi nom")
    assert real._titles[1002] == "Yangi nom"  # learned for forwards that come without the entity
    user = _message(fwd_from=types.MessageFwdHeader(date=T0, from_id=types.PeerUser(7)))
    user._forward = type("Forward", (), {"sender": types.User(id=7, first_name="Ali", last_name="Vali"), "chat": None})()
    assert src.to_post(user, 1001).forward.name == "Ali Vali"
    nameless = _message(fwd_from=types.MessageFwdHeader(date=T0, from_id=types.PeerUser(8)))
    nameless._forward = type("Forward", (), {"sender": types.User(id=8), "chat": None})()
    assert src.to_post(nameless, 1001).forward.name is None


# -- the real client's settings, close ----------------------------------------------------------------------


async def test_the_real_client_never_sleeps_on_a_flood_wait_and_retries_little() -> None:
    src = TelethonSource.from_credentials(12345, "0123456789abcdef", None)
    client = src.client
    assert client.flood_sleep_threshold == 0
    assert (client._request_retries, client._connection_retries, client._auto_reconnect) == (2, 2, True)
    assert client._raise_last_call_error is True and client._no_updates is True
    assert (client.api_id, client.api_hash) == (12345, "0123456789abcdef")
    assert src._page == 100 and src._connect_timeout == 30.0 and src._custom_key is False
    assert src.client.request_hook == src._on_request  # the budget is paid per request Telegram sees


async def test_close_forgets_a_connection_that_is_already_gone_and_the_watch() -> None:
    class Gone:
        protocol_watch: Any = None
        closed = 0

        async def connect(self) -> None:
            return None

        async def is_user_authorized(self) -> bool:
            return True

        def is_connected(self) -> bool:
            return False

        async def disconnect(self) -> None:
            self.closed += 1
            raise ConnectionError("already closed")

    client = Gone()
    src = TelethonSource(client, clock=FrozenClock(T0))
    await src.start()
    assert isinstance(client.protocol_watch, _TelethonWatch)
    await src.close()
    assert client.protocol_watch is None and client.closed == 1


async def test_the_real_client_is_built_with_what_it_was_given(tmp_path: Any) -> None:
    clock = FrozenClock(T0)

    async def budget() -> None:
        return None

    src = TelethonSource.from_credentials(7, "abc", tmp_path / "collector", clock=clock, page_size=20,
                                          request_budget=budget, connect_timeout=4.5, flood_sleep_threshold=15)
    assert (src._clock, src._page, src._budget, src._connect_timeout) == (clock, 20, budget, 4.5)
    assert src.client.flood_sleep_threshold == 15
    assert src.client.session.filename == str(tmp_path / "collector.session")
    assert isinstance(TelethonSource.from_credentials(7, "abc", None)._clock, type(SystemClock()))


def test_a_session_path_that_cannot_be_created_says_so(tmp_path: Any) -> None:
    (tmp_path / "taken.session").mkdir()
    with pytest.raises(ConfigError, match=r"taken\.session: cannot create the session file: \[Errno 21\]"):
        TelethonSource.from_credentials(1, "x", tmp_path / "taken")


@pytest.mark.parametrize("form", ["pkcs1", "openssl"])
def test_a_custom_server_key_is_trusted_as_a_current_key(tmp_path: Any, form: str) -> None:
    import rsa as pyrsa
    from telethon.crypto import rsa as telethon_rsa

    from monitor.sources.telegram import add_rsa_key

    pub, _ = pyrsa.newkeys(512)
    key_file = tmp_path / "server.pub"
    key_file.write_bytes(pub.save_pkcs1() if form == "pkcs1" else _openssl_pem(pub))
    fingerprint = add_rsa_key(key_file)
    key, old = telethon_rsa._server_keys[fingerprint]
    assert old is False and (key.n, key.e) == (pub.n, pub.e)
    with pytest.raises(ConfigError, match=r"nope\.pub: cannot read the RSA key: \[Errno 2\]"):
        add_rsa_key(tmp_path / "nope.pub")


def _openssl_pem(pub: Any) -> bytes:
    """SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"), the form openssl writes."""
    import base64

    from pyasn1.codec.der import encoder
    from pyasn1.type import univ
    from rsa.asn1 import OpenSSLPubKey

    info = OpenSSLPubKey()
    algorithm = info["header"]
    algorithm["oid"] = univ.ObjectIdentifier("1.2.840.113549.1.1.1")
    info["key"] = univ.BitString.fromOctetString(pub.save_pkcs1(format="DER"))
    body = base64.encodebytes(encoder.encode(info)).replace(b"\n", b"")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN PUBLIC KEY-----\n" + b"\n".join(lines) + b"\n-----END PUBLIC KEY-----\n"


async def test_refresh_hands_back_posts_only_not_gaps_pins_or_empties() -> None:
    from telethon.tl import patched

    class Answers:
        async def get_messages(self, peer: Any, ids: list[int]) -> list[Any]:
            assert peer == types.InputPeerChannel(1001, 10011) and ids == [1, 2, 3, 4, 5]
            pin = patched.MessageService(id=3, peer_id=types.PeerChannel(1001), date=T0,
                                         action=types.MessageActionPinMessage())
            return [None, types.MessageEmpty(id=2, peer_id=types.PeerChannel(1001)), pin, _message(id=4, message="bor"), _message(id=5)]

    src = TelethonSource(Answers(), clock=FrozenClock(T0))
    assert [(p.message_id, p.text) for p in await src.refresh(KNOWN, [1, 2, 3, 4, 5])] == [(4, "bor"), (5, "")]


# -- connecting ------------------------------------------------------------------------------------------


class _Connecting:
    """A client whose connect() logs what Telethon's sender would (if anything) and then never completes."""

    def __init__(self, record: str | None = None, exc: BaseException | None = None) -> None:
        self.record, self.exc = record, exc
        self.cancelled = False
        protocol_watch: Any = None
        self.protocol_watch = protocol_watch

    async def connect(self) -> None:
        import asyncio

        if self.record is not None:
            logging.getLogger("telethon.network.mtprotosender").warning(
                self.record, exc_info=(type(self.exc), self.exc, None) if self.exc is not None else None)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    async def is_user_authorized(self) -> bool:
        return True

    def is_connected(self) -> bool:
        return False

    async def disconnect(self) -> None:
        return None


async def test_a_connect_that_never_completes_ends_at_the_bound() -> None:
    client = _Connecting()
    src = TelethonSource(client, clock=FrozenClock(T0), connect_timeout=0.05)
    with pytest.raises(SourceConnectionError) as info:
        await src.start()
    assert str(info.value) == (
        "Telegram did not complete the connection within 0.05s (the endpoint is unreachable or does not speak MTProto)")
    assert isinstance(info.value.__cause__, TimeoutError) and client.cancelled


async def test_a_refused_server_key_ends_the_connect_at_once() -> None:
    record = "Attempt 1 at new auth_key failed: Step 2 could not find a valid key for fingerprints: [-3414540481677951611]"
    plain = TelethonSource(_Connecting(record), clock=FrozenClock(T0), connect_timeout=30)
    with pytest.raises(SourceConnectionError) as info:
        await plain.start()
    assert str(info.value) == "the server key was refused: [-3414540481677951611]"
    custom = TelethonSource(_Connecting(record), clock=FrozenClock(T0), connect_timeout=30, custom_server_key=True)
    with pytest.raises(ConfigError) as config:
        await custom.start()
    assert str(config.value) == (
        "config: the custom MTProto endpoint's server key does not match telegram.connection.rsa_key_file (the server"
        " offered key fingerprints [-3414540481677951611]); fix the key file")


async def test_garbage_on_the_wire_ends_the_connect_at_once() -> None:
    client = _Connecting("Server sent invalid buffer", protocol_errors.InvalidChecksumError(1, 2))
    src = TelethonSource(client, clock=FrozenClock(T0), connect_timeout=30, custom_server_key=True)
    with pytest.raises(SourceConnectionError) as info:
        await src.start()
    assert type(info.value) is SourceConnectionError and client.cancelled
    assert str(info.value) == ("the Telegram endpoint does not answer in MTProto (InvalidChecksumError: Invalid"
                               " checksum (1 when 2 was expected). This packet should be skipped.)")


async def test_a_connect_refused_by_telegram_and_a_session_never_logged_in_say_so(build: Build) -> None:
    class Refusing(_Connecting):
        async def connect(self) -> None:
            raise errors.RPCError(request=None, message="API_ID_INVALID", code=400)

    src = TelethonSource(Refusing(), clock=FrozenClock(T0), custom_server_key=True)
    with pytest.raises(SourceError) as info:
        await src.start()
    assert str(info.value) == "Telegram refused the request (connect): RPCError 400: API_ID_INVALID (caused by NoneType)"
    fake, logged_out = build(scenario(channel()))
    fake.revoke()
    with pytest.raises(SourceUnauthorized) as refused:
        await logged_out.start()
    assert (refused.value.reason, refused.value.detail) == (
        "NOT_LOGGED_IN", "log in once interactively with `monitor login` (the collector never signs in or up by itself)")


@pytest.mark.parametrize("size", [0, 101])
def test_a_page_size_telegram_would_not_serve_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match=rf"^page_size must be 1\.\.100, got {size}$"):
        TelethonSource(object(), clock=FrozenClock(T0), page_size=size)
    assert TelethonSource(object(), clock=FrozenClock(T0), page_size=1)._page == 1


# -- resolving ---------------------------------------------------------------------------------------------


async def test_resolve_takes_telegrams_spelling_and_checks_the_id_it_was_given(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(1))))
    await src.start()
    chan = await src.resolve(ChannelRef(key="ozod_sado", username="OZOD_SADO"))
    assert (chan.id, chan.username, chan.title, chan.access_hash) == (1001, "ozod_sado", "Kanal 1001", 10011)
    with pytest.raises(ChannelUnavailable) as moved:
        await src.resolve(ChannelRef(key="ozod_sado", username="ozod_sado", channel_id=2002))
    assert (moved.value.reason, moved.value.detail) == (
        "renamed", "ozod_sado: the username now belongs to channel 1001, not 2002")
    with pytest.raises(ChannelUnavailable) as missing:
        await src.resolve(ChannelRef(key="nobody_here", username="nobody_here"))
    assert missing.value.detail == 'nobody_here: No user has "nobody_here" as username'
    # a channel known by id only (no hash stored) is asked for by that id
    again = await src.resolve(ChannelRef(key="legacy"), Channel(id=1001, username=None, title="", access_hash=None))
    assert (again.id, again.access_hash) == (1001, 10011)


async def test_titles_learned_on_resolve_name_forwards_from_that_channel(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(1)), channel(1002, "manba", title="Manba")))
    await src.start()
    forwarded = _message(fwd_from=types.MessageFwdHeader(date=T0, from_id=types.PeerChannel(1002)))
    await src.resolve(ChannelRef(key="manba", username="manba"))
    assert src.to_post(forwarded, 1001).forward.name == "Manba"
    await src.resolve(REF, Channel(id=1002, username="manba", title="Saqlangan", access_hash=10021))
    assert src.to_post(forwarded, 1001).forward.name == "Saqlangan"  # the stored title of a known channel


async def test_a_channel_without_a_stored_hash_is_asked_for_by_username_or_id(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(2))))
    await src.start()
    by_name = Channel(id=1001, username="ozod_sado", title="", access_hash=None)
    assert [p.message_id async for p in src.fetch(by_name, after_id=0)] == [1, 2]
    await src.resolve(REF)  # now the session holds the channel's hash: its id alone will do
    by_id = Channel(id=1001, username=None, title="", access_hash=None)
    assert [p.message_id async for p in src.fetch(by_id, after_id=0)] == [1, 2]


async def test_a_string_session_of_an_ipv6_endpoint_is_accepted() -> None:
    import os

    from telethon.crypto import AuthKey
    from telethon.sessions import StringSession

    session = StringSession()
    session.set_dc(2, "2001:db8::1", 443)
    session.auth_key = AuthKey(os.urandom(256))
    text = session.save()
    src = TelethonSource.from_credentials(1, "x", text)
    assert (src.client.session.server_address, src.string_session()) == ("2001:db8::1", text)


async def test_a_backfill_deeper_than_the_history_hands_back_all_of_it(build: Build) -> None:
    fake, src = build(scenario(channel(msgs=messages(5))))
    await src.start()
    assert [p.message_id async for p in src.fetch(KNOWN, after_id=0, limit=10)] == [1, 2, 3, 4, 5]
    assert [p.message_id async for p in src.fetch(KNOWN, after_id=0, since=T0 - timedelta(days=1))] == [1, 2, 3, 4, 5]
