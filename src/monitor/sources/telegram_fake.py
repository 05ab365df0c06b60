"""FakeTelegramClient: an offline Telegram that serves real Telethon objects from a scenario.

It implements the narrow slice of ``telethon.TelegramClient`` that
`TelethonSource` uses (connect, disconnect, is_connected, is_user_authorized,
get_entity, get_input_entity, iter_messages, get_messages) with Telegram's
semantics, so the source under test runs the same code it runs in production:

* history honours ``min_id``, ``max_id``, ``offset_id``, ``offset_date``,
  ``limit``, ``reverse`` and ``ids=`` like Telethon over Telegram, and serves at
  most 100 messages per request (GetHistory's hard cap);
* it is clock-driven: a message exists once ``clock.now() >= date`` and until
  ``deleted_at``; views and forwards are interpolated at ``clock.now()``; an edit
  shows from its ``at`` (with ``edit_date`` and ``edit_hide``);
* it raises Telethon's own errors: ``FloodWaitError(request=<the request>, capture=N)``,
  ``SlowModeWaitError``, ``FloodPremiumWaitError``, ``ChannelPrivateError``,
  ``ChannelBannedError``, ``UsernameNotOccupiedError`` (wrapped in ValueError by
  get_entity/get_input_entity, as Telethon does), ``UsernameInvalidError``,
  ``ChannelInvalidError``, ``ServerError``, ``TimedOutError``,
  ``RpcCallFailError``, Telethon's "Request was unsuccessful N time(s)",
  the protocol errors of an endpoint that answers with garbage
  (``InvalidBufferError``) and ``ConnectionError``, from the channel's status or
  on cue from the scenario's ``faults`` (``connect`` can fail too); a
  ``disconnect`` or ``garbage`` fault drops the connection until ``connect()``
  is called again;
* it is as strict as Telegram and Telethon where production depends on it:
  a revoked session (``AuthKeyUnregisteredError``, ``SessionRevokedError``,
  ``AuthKeyDuplicatedError``, ``UserDeactivated(Ban)Error``) stays revoked for
  every later request, and ``is_user_authorized`` caches its first answer like
  Telethon's; a username Telethon's own rule rejects raises ValueError without a
  request; a username may resolve to a ``ChannelForbidden``, a user, a bot or a
  supergroup (``kind``); a bare channel id works only once the session has seen
  the channel (resolved it, or met it in a forward), else Telethon's "Could not
  find the input entity"; GetHistory positions by ``offset_id`` and ignores
  ``offset_date`` when both are given; and like Telethon's ``iter_messages`` it
  keeps sending requests after a short page (``withheld`` messages make them),
  so one call can cost several requests;
* ``request_hook`` (as on `BudgetedTelegramClient`) is awaited before every
  request, so the source pays its budget per request Telegram would see;
* ``calls`` counts calls per method and ``requests`` records each request it
  served, so tests can assert, e.g., that polls never re-resolve usernames.

The scenario format is documented in `monitor.sources.scenario`.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telethon import TelegramClient, errors, utils
from telethon.errors import common as protocol_errors
from telethon.tl import functions, patched, types

from monitor.clock import Clock, to_utc
from monitor.identity import normalize_username
from monitor.sources.scenario import Scenario, ScenarioChannel, ScenarioFault, ScenarioMessage, load_scenario

MAX_CHUNK = 100  # Telegram returns at most 100 messages per GetHistory request
_URL = re.compile(r"(?i)\b(?:https?://|www\.|t\.me/|telegram\.me/)[^\s<>\"'«»]+")
_MENTION = re.compile(r"(?<![\w@./])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ServedRequest:
    """One request the fake answered (or refused): what was asked and which message ids went back."""

    method: str
    channel_id: int | None
    params: Mapping[str, Any]
    message_ids: tuple[int, ...] = ()
    error: str | None = None


@dataclass(slots=True)
class _FaultState:
    fault: ScenarioFault
    seen: int = 0
    fired: bool = False


def messages_slice(**fields: Any) -> types.messages.MessagesSlice:
    """messages.messagesSlice as the installed Telethon's layer spells it: ``topics`` came with Telethon
    1.42, and the oldest supported release (1.40) refuses it."""
    if "topics" not in inspect.signature(types.messages.MessagesSlice.__init__).parameters:
        fields.pop("topics", None)
    return types.messages.MessagesSlice(**fields)


@dataclass(slots=True)
class FakeTelegramClient:
    """A real implementation of the client calls the source makes; see the module docstring."""

    scenario: Scenario
    clock: Clock
    connected: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    requests: deque[ServedRequest] = field(default_factory=lambda: deque(maxlen=100_000))  # newest kept
    _by_id: dict[int, ScenarioChannel] = field(default_factory=dict)
    _by_name: dict[str, ScenarioChannel] = field(default_factory=dict)
    _faults: list[_FaultState] = field(default_factory=list)
    # discovery: channel id -> the channel ids GetChannelRecommendations answers with
    recommendations: dict[int, list[int]] = field(default_factory=dict)
    # Telegram's free daily post searches (what CheckSearchPostsFlood reports: searchPostsFlood's fields);
    # searches past them cost stars; query_is_free: this query uses no slot
    search_quota: dict[str, Any] = field(
        default_factory=lambda: {"total_daily": 10, "remains": 10, "stars_amount": 10, "wait_till": None}
    )
    stars_spent: int = 0  # stars a SearchPosts offered (allow_paid_stars): must stay 0
    _host: TelegramClient | None = None
    request_hook: Callable[[], Awaitable[None]] | None = None
    authorized: bool = True  # False: the session is logged out (a fresh one, or revoked)
    _auth_error: BaseException | None = None  # what every request raises once the session was revoked
    _authorized_cache: bool | None = None  # Telethon remembers is_user_authorized's first answer
    _seen: set[int] = field(default_factory=set)  # channel ids whose access hash the session holds

    def __post_init__(self) -> None:
        self._by_id = {c.id: c for c in self.scenario.channels}
        self._by_name = {c.username.lower(): c for c in self.scenario.channels if c.username}
        self._faults = [_FaultState(f) for f in self.scenario.faults]
        for chan in self.scenario.channels:
            if chan.similar:
                self.recommendations.setdefault(chan.id, list(chan.similar))

    @classmethod
    def from_scenario(
        cls, source: str | Path | Mapping[str, Any] | Scenario, clock: Clock, *, keep_requests: int = 100_000
    ) -> FakeTelegramClient:
        """The fake for a scenario; ``keep_requests``: how many of the newest answered requests
        `requests` keeps (the daemon's scenario source keeps few: a log entry is about 500 bytes)."""
        # a file is read lazily: each channel's messages stay JSON text until a request needs them
        scenario = source if isinstance(source, Scenario) else load_scenario(source, lazy=True)
        return cls(scenario=scenario, clock=clock, requests=deque(maxlen=keep_requests))

    # -- connection -------------------------------------------------------------------------------

    async def connect(self) -> None:
        self.calls["connect"] += 1
        self._check_faults("connect", None, None)
        self.connected = True

    async def disconnect(self) -> None:
        self.calls["disconnect"] += 1
        self.connected = False

    def is_connected(self) -> bool:
        return self.connected

    async def is_user_authorized(self) -> bool:
        """Telethon sends GetState once, answers False on any RPC error, and remembers the answer."""
        self.calls["is_user_authorized"] += 1
        if self._authorized_cache is None:
            try:
                await self._request("is_user_authorized", None)
                self._authorized_cache = True
            except errors.RPCError:
                self._authorized_cache = False
        return self._authorized_cache

    def revoke(self, error: BaseException | None = None) -> None:
        """What Telegram does to a logged-out session: every later request fails with ``error``."""
        self.authorized = False
        self._auth_error = error or errors.AuthKeyUnregisteredError(request=None)

    def drop_connection(self) -> None:
        """What a network failure does: every request fails until connect() is called again."""
        self.connected = False

    def add_fault(self, fault: ScenarioFault) -> None:
        """Arm a fault at run time; ``nth`` counts from now."""
        self._faults.append(_FaultState(fault, seen=0))

    # -- entities ---------------------------------------------------------------------------------

    async def get_entity(self, entity: Any) -> Any:
        self.calls["get_entity"] += 1
        chan = await self._resolve("get_entity", entity)
        self.requests.append(ServedRequest("get_entity", chan.id, {"entity": _describe(entity)}))
        return self.entity_object(chan)

    async def get_input_entity(self, entity: Any) -> Any:
        if isinstance(entity, types.InputPeerChannel):
            # Telethon answers this from the object itself, without a request.
            return entity
        self.calls["get_input_entity"] += 1
        chan = await self._resolve("get_input_entity", entity)
        self.requests.append(ServedRequest("get_input_entity", chan.id, {"entity": _describe(entity)}))
        return utils.get_input_peer(self.entity_object(chan))

    async def _resolve(self, method: str, entity: Any) -> ScenarioChannel:
        if isinstance(entity, str) and utils.parse_username(entity)[0] is None:
            # Telethon's own rule (utils.VALID_USERNAME_RE): no request is sent for such a name.
            raise ValueError(f'Cannot find any entity corresponding to "{entity}"')
        try:
            chan = await self._lookup(method, entity)
        except errors.UsernameNotOccupiedError as exc:
            # Telethon's get_entity turns this RPC error into a ValueError (users.py)
            raise ValueError(f'No user has "{entity}" as username') from exc
        self._seen.add(chan.id)  # Telethon's session caches every entity a response carries
        return chan

    # -- history ----------------------------------------------------------------------------------

    def iter_messages(
        self,
        entity: Any,
        limit: float | None = None,
        *,
        offset_date: datetime | None = None,
        offset_id: int = 0,
        max_id: int = 0,
        min_id: int = 0,
        add_offset: int = 0,
        reverse: bool = False,
        wait_time: float | None = None,
        ids: int | Sequence[int] | None = None,
        **unsupported: Any,
    ) -> AsyncIterator[Any]:
        """Like Telethon's: an async iterator over messages, paging 100 at a time."""
        if unsupported:
            raise TypeError(f"FakeTelegramClient.iter_messages does not support {sorted(unsupported)}")
        if add_offset:
            raise TypeError("FakeTelegramClient.iter_messages does not support add_offset")
        self.calls["iter_messages"] += 1
        if ids is not None:
            return self._iter_ids("iter_messages", entity, ids)
        return self._iter_history(
            entity,
            limit=limit,
            offset_date=offset_date,
            offset_id=offset_id,
            max_id=max_id,
            min_id=min_id,
            reverse=reverse,
            wait_time=wait_time,
        )

    async def get_messages(self, entity: Any, *args: Any, **kwargs: Any) -> Any:
        """Like Telethon's: a list for ``ids=`` (None where a message does not exist), else history."""
        ids = kwargs.pop("ids", None)
        if ids is None:
            self.calls["get_messages"] += 1
            limit = args[0] if args else kwargs.pop("limit", 1)
            return [m async for m in self._iter_history(entity, limit=limit, **kwargs)]
        self.calls["get_messages"] += 1
        single = isinstance(ids, int)
        out = [m async for m in self._iter_ids("get_messages", entity, [ids] if single else ids)]
        return out[0] if single else out

    async def _iter_ids(self, method: str, entity: Any, ids: int | Sequence[int]) -> AsyncIterator[Any]:
        id_list = [ids] if isinstance(ids, int) else list(ids)
        chan = await self._lookup(method, entity, fault_method=method)
        now = self.clock.now()
        for start in range(0, len(id_list), MAX_CHUNK):
            chunk = id_list[start : start + MAX_CHUNK]
            if start:
                await self._request(method, chan)
            by_id = {m.id: m for m in chan.messages}
            out = []
            for mid in chunk:
                sm = by_id.get(mid)
                shown = sm is not None and sm.visible_at(now) and not sm.withheld
                out.append(self.message_object(chan, sm, now) if shown and sm is not None else None)
            self.requests.append(
                ServedRequest(
                    method, chan.id, {"ids": tuple(chunk)}, tuple(m.id for m in out if m is not None)
                )
            )
            for msg in out:
                yield msg

    async def _iter_history(
        self,
        entity: Any,
        *,
        limit: float | None,
        offset_date: datetime | None = None,
        offset_id: int = 0,
        max_id: int = 0,
        min_id: int = 0,
        reverse: bool = False,
        wait_time: float | None = None,
    ) -> AsyncIterator[Any]:
        chan = await self._lookup("iter_messages", entity)
        remaining = float("inf") if limit is None else max(0, int(limit))
        if offset_id:
            offset_date = None  # Telegram positions by offset_id when it is given; the date is ignored
        # Telethon's convention: in reverse mode min_id acts as offset_id and offsets are "after".
        # Not reverse: Telethon starts below max(offset_id, max_id) and checks only min_id locally.
        lo = max(min_id, offset_id) if reverse else min_id
        hi = max_id if reverse else max(offset_id, max_id)
        first = True
        while remaining > 0:
            if not first:
                await self._request("iter_messages", chan)
            first = False
            now = self.clock.now()
            page_size = int(min(MAX_CHUNK, remaining))
            visible = [m for m in chan.messages if m.visible_at(now)]
            if reverse:
                # Telegram positions before offset_date and steps back: a post at exactly offset_date is in.
                window = [
                    m
                    for m in visible
                    if m.id > lo
                    and (not hi or m.id < hi)
                    and (offset_date is None or m.date >= to_utc(offset_date))
                ][:page_size]
            else:
                window = [
                    m
                    for m in reversed(visible)
                    if (not hi or m.id < hi)
                    and m.id > lo
                    and (offset_date is None or m.date < to_utc(offset_date))
                ][:page_size]
            # Withheld messages hold their place in the window but are left out: a short page.
            picked = [m for m in window if not m.withheld]
            self.requests.append(
                ServedRequest(
                    "iter_messages",
                    chan.id,
                    {
                        "min_id": lo,
                        "max_id": hi,
                        "limit": page_size,
                        "reverse": reverse,
                        "offset_date": offset_date,
                        # Telethon sleeps this long between the requests of one call (None: 1 s past 3,000)
                        "wait_time": wait_time,
                    },
                    tuple(m.id for m in picked),
                )
            )
            for sm in picked:
                yield self.message_object(chan, sm, now)
            remaining -= len(picked)
            # Telethon's stop rule (messages.py _load_next_chunk): a short page is NOT the end (some
            # channels leave messages out); it stops on an empty page, or when the newest id of a
            # newest-first page is <= the limit asked (ids start at 1). Else it asks again.
            if not picked or (not reverse and picked[0].id <= page_size):
                return
            if reverse:
                lo = picked[-1].id
            else:
                hi = picked[-1].id

    # -- faults and lookups -----------------------------------------------------------------------

    async def _lookup(self, method: str, entity: Any, *, fault_method: str | None = None) -> ScenarioChannel:
        """Resolve what the caller passed the way Telegram would, then apply status and faults."""
        chan: ScenarioChannel | None = None
        key: str
        now = self.clock.now()
        if isinstance(entity, types.InputPeerChannel):
            key = str(entity.channel_id)
            chan = self._by_id.get(entity.channel_id)
            chan = chan.at(now) if chan is not None else None
            await self._request(fault_method or method, chan, key)
            if chan is None or chan.access_hash != entity.access_hash:
                self._refuse(method, chan, errors.ChannelInvalidError(request=None))
        elif isinstance(entity, types.PeerChannel | types.Channel | int):
            if isinstance(entity, int):
                cid, peer_type = utils.resolve_id(entity)
            else:
                cid = entity.channel_id if isinstance(entity, types.PeerChannel) else entity.id
                peer_type = types.PeerChannel
            key = str(cid)
            chan = self._by_id.get(cid) if peer_type is types.PeerChannel else None
            chan = chan.at(now) if chan is not None else None
            if chan is None or cid not in self._seen:
                # Telethon needs the access hash from its session cache to build an input peer; for an
                # id it has never met it gives up before sending anything (users.py get_input_entity).
                self._refuse(
                    method,
                    None,
                    ValueError(
                        f"Could not find the input entity for {_describe_peer(entity)}. Please read"
                        " https://docs.telethon.dev/en/stable/concepts/entities.html to find out more details."
                    ),
                )
            await self._request(fault_method or method, chan, key)
        elif isinstance(entity, str):
            name = normalize_username(entity)
            key = (name or entity).lower()
            chan = self._named(key, now)
            await self._request(fault_method or method, chan, key)
            if name is None:
                self._refuse(method, None, errors.UsernameInvalidError(request=None))
            if chan is None or chan.status == "not_found":
                self._refuse(method, chan, errors.UsernameNotOccupiedError(request=None))
        else:
            raise TypeError(f"FakeTelegramClient cannot resolve {type(entity).__name__}")
        assert chan is not None
        if chan.status == "forbidden" and method in ("get_entity", "get_input_entity"):
            return chan  # the lookup answers with a ChannelForbidden; history requests are refused below
        status_error = {
            "private": errors.ChannelPrivateError(request=None),
            "banned": errors.ChannelBannedError(request=None),
            "invalid": errors.ChannelInvalidError(request=None),
            "not_found": errors.ChannelInvalidError(request=None),
            "forbidden": errors.ChannelPrivateError(request=None),
        }.get(chan.status)
        if status_error is not None:
            self._refuse(method, chan, status_error)
        return chan

    def _named(self, key: str, now: datetime) -> ScenarioChannel | None:
        """The channel holding username ``key`` at ``now`` (usernames move with a scenario's changes)."""
        for chan in self.scenario.channels:
            if chan.changes:
                current = chan.at(now)
                if current.username and current.username.lower() == key:
                    return current
        named = self._by_name.get(key)
        if named is None:
            return None
        current = named.at(now)
        return current if current.username and current.username.lower() == key else None

    # -- raw requests (client(request)) ---------------------------------------------------------------

    async def __call__(self, request: Any, ordered: bool = False, flood_sleep_threshold: Any = None) -> Any:
        """The raw requests the source sends: GetFullChannel (the profile sample), and for discovery
        GetChannelRecommendations (from ``recommendations``), CheckSearchPostsFlood and SearchPosts
        (hashtag search of every public scenario channel's visible posts, counted against
        ``search_quota`` like Telegram's free daily searches). Each request is serialized first, as
        Telethon does before sending, so a field of the wrong type fails here as it would there."""
        bytes(request)
        if isinstance(request, functions.channels.GetChannelRecommendationsRequest):
            chan = await self._channel_request("get_channel_recommendations", request.channel)
            now = self.clock.now()
            chats = [self.channel_object(self._by_id[i].at(now)) for i in self.recommendations.get(chan.id, ())
                     if i in self._by_id]
            return types.messages.Chats(chats=chats)
        if isinstance(request, functions.channels.CheckSearchPostsFloodRequest):
            self.calls["check_search_posts_flood"] += 1
            await self._request("check_search_posts_flood", None)
            self._renew_quota()
            self.requests.append(ServedRequest("check_search_posts_flood", None, {"query": request.query}))
            return self._search_flood()
        if isinstance(request, functions.channels.SearchPostsRequest):
            if request.offset_rate or request.offset_id or not isinstance(request.offset_peer, types.InputPeerEmpty):
                raise TypeError("FakeTelegramClient serves the first page of a post search only")
            self.calls["search_posts"] += 1
            await self._request("search_posts", None)
            self._renew_quota()
            if request.allow_paid_stars:
                self.stars_spent += int(request.allow_paid_stars)
            elif self.search_quota["remains"] <= 0 and not self.search_quota.get("query_is_free"):
                # A search past the free slots needs stars. Which error Telegram answers without them is
                # not documented; this one is the fake's stand-in (monitor never gets this far).
                self._refuse("search_posts", None, errors.RPCError(request=None, message="SEARCH_QUERY_FREE_LIMIT",
                                                                   code=400))
            if not self.search_quota.get("query_is_free"):  # a free query uses no slot
                self.search_quota["remains"] -= 1
                if self.search_quota["remains"] <= 0 and not self.search_quota.get("wait_till"):
                    # the last free slot spent: the quota comes back a day later (SearchPostsFlood.wait_till)
                    self.search_quota["wait_till"] = int(self.clock.now().timestamp()) + 86400
            self.requests.append(ServedRequest("search_posts", None, {"hashtag": request.hashtag, "limit": request.limit}))
            return self._search_result(request)
        if isinstance(request, functions.channels.GetFullChannelRequest):
            chan = await self._channel_request("get_full_channel", request.channel)
            return self.full_channel_object(chan)
        raise TypeError(f"FakeTelegramClient does not serve {type(request).__name__}")

    async def _channel_request(self, method: str, target: Any) -> ScenarioChannel:
        """Count, look up (an InputChannel as its peer) and record one raw request about a channel."""
        self.calls[method] += 1
        if isinstance(target, types.InputChannel):
            target = types.InputPeerChannel(target.channel_id, target.access_hash)
        chan = await self._lookup(method, target)
        self.requests.append(ServedRequest(method, chan.id, {}))
        return chan

    def _renew_quota(self) -> None:
        """Past ``wait_till`` the free daily searches are back (as Telegram's quota renews)."""
        q = self.search_quota
        wait = q.get("wait_till")
        if wait and self.clock.now().timestamp() >= wait:
            q.update(remains=q["total_daily"], wait_till=None)

    def _search_flood(self) -> types.SearchPostsFlood:
        q = self.search_quota
        return types.SearchPostsFlood(total_daily=q["total_daily"], remains=max(q["remains"], 0),
                                      stars_amount=q["stars_amount"], query_is_free=q.get("query_is_free"),
                                      wait_till=q.get("wait_till"))

    def _search_result(self, request: Any) -> Any:
        """messages.MessagesSlice of public broadcast posts carrying the hashtag, newest first."""
        tag = "#" + str(request.hashtag or "").lower()
        now = self.clock.now()
        hits: list[tuple[ScenarioChannel, ScenarioMessage]] = []
        for chan in self._by_id.values():
            current = chan.at(now)
            if current.status != "ok" or current.kind != "channel" or not current.username:
                continue
            for sm in current.messages:
                if sm.visible_at(now) and not sm.withheld and not sm.service and tag in (sm.text or "").lower():
                    hits.append((current, sm))
        hits.sort(key=lambda h: (h[1].date, h[0].id, h[1].id), reverse=True)
        hits = hits[: max(int(request.limit), 0)]
        chats = {c.id: self.channel_object(c) for c, _ in hits}
        return messages_slice(
            count=len(hits), messages=[self.message_object(c, sm, now) for c, sm in hits], topics=[],
            chats=list(chats.values()), users=[], search_flood=self._search_flood(),
        )

    async def _request(self, method: str, chan: ScenarioChannel | None, key: str | None = None) -> None:
        """Every request goes through here: the caller's hook, the connection and session checks, faults."""
        if self.request_hook is not None:
            await self.request_hook()
        self._require_connection(method, chan)
        if not self.authorized:
            self._refuse(method, chan, self._auth_error or errors.AuthKeyUnregisteredError(request=None))
        self._check_faults(method, chan, key)

    def _check_faults(self, method: str, chan: ScenarioChannel | None, key: str | None) -> None:
        names = {key} if key else set()
        if chan is not None:
            names |= {str(chan.id)} | ({chan.username.lower()} if chan.username else set())
        for state in self._faults:
            f = state.fault
            if state.fired or f.method != method or (f.channel is not None and f.channel not in names):
                continue
            state.seen += 1
            if state.seen == f.nth:
                state.fired = True
                error = _fault_error(f, _sent_request(method, chan, key))
                if isinstance(error, errors.UnauthorizedError | errors.AuthKeyError):
                    self.revoke(error)
                self._refuse(method, chan, error, reason=f"fault:{f.error}")

    def _require_connection(self, method: str, chan: ScenarioChannel | None) -> None:
        if not self.connected:
            self._refuse(method, chan, ConnectionError("Cannot send requests while disconnected"))

    def _refuse(
        self, method: str, chan: ScenarioChannel | None, exc: BaseException, reason: str = ""
    ) -> None:
        self.requests.append(
            ServedRequest(method, chan.id if chan else None, {}, (), reason or type(exc).__name__)
        )
        if isinstance(exc, ConnectionError | BufferError):
            self.connected = False
        raise exc

    # -- TL objects -------------------------------------------------------------------------------

    def entity_object(self, chan: ScenarioChannel) -> Any:
        """What resolving the scenario channel's username returns: its ``kind``, or ChannelForbidden."""
        if chan.status == "forbidden":
            return types.ChannelForbidden(
                id=chan.id, access_hash=chan.access_hash, title=chan.title, broadcast=True
            )
        if chan.kind in ("user", "bot"):
            return types.User(
                id=chan.id,
                access_hash=chan.access_hash,
                first_name=chan.title,
                username=chan.username,
                bot=chan.kind == "bot",
            )
        return self.channel_object(chan)

    def full_channel_object(self, chan: ScenarioChannel) -> Any:
        """What GetFullChannel answers: messages.ChatFull with the ChannelFull and the Channel itself."""
        full = types.ChannelFull(
            id=chan.id,
            about=chan.about,
            read_inbox_max_id=0,
            read_outbox_max_id=0,
            unread_count=0,
            chat_photo=types.PhotoEmpty(id=0),
            notify_settings=types.PeerNotifySettings(),
            bot_info=[],
            pts=1,
            participants_count=chan.subscribers,
            ttl_period=chan.ttl_period,
        )
        return types.messages.ChatFull(full_chat=full, chats=[self.entity_object(chan)], users=[])

    def channel_object(self, chan: ScenarioChannel) -> types.Channel:
        """The Channel Telegram would send for this scenario channel."""
        return types.Channel(
            restricted=bool(chan.restriction) or None,
            restriction_reason=[
                types.RestrictionReason(platform=r.platform, reason=r.reason, text=r.text) for r in chan.restriction
            ]
            or None,
            id=chan.id,
            title=chan.title,
            photo=types.ChatPhotoEmpty(),
            date=_EPOCH,
            broadcast=chan.kind == "channel",
            megagroup=chan.kind in ("megagroup", "gigagroup"),
            gigagroup=chan.kind == "gigagroup",
            access_hash=chan.access_hash,
            username=chan.username,
        )

    def message_object(self, chan: ScenarioChannel, sm: ScenarioMessage, now: datetime) -> Any:
        """The Message (or MessageService) Telegram would send for ``sm`` at ``now``."""
        peer = types.PeerChannel(chan.id)
        if sm.service:
            msg: Any = patched.MessageService(
                id=sm.id, peer_id=peer, date=sm.date, action=types.MessageActionPinMessage(), post=True
            )
            self._finish(msg, chan)
            return msg
        text, edit = sm.state_at(now)
        hours = sm.hours_since(now)
        fwd = None
        if sm.fwd_from is not None:
            f = sm.fwd_from
            fwd = types.MessageFwdHeader(
                date=f.date or sm.date,
                from_id=types.PeerChannel(f.channel_id) if f.channel_id is not None else None,
                from_name=f.name if f.channel_id is None else None,
                channel_post=f.message_id,
            )
        msg = patched.Message(
            id=sm.id,
            peer_id=peer,
            date=sm.date,
            message=text,
            post=True,
            entities=_entities(text) or None,
            media=_webpage(sm.preview, sm.id) if sm.preview is not None else _media(sm.media, sm.id, sm.date, text),
            views=sm.views.at(hours) if sm.views is not None else None,
            forwards=sm.forwards.at(hours) if sm.forwards is not None else None,
            replies=types.MessageReplies(replies=sm.replies, replies_pts=sm.id)
            if sm.replies is not None
            else None,
            edit_date=edit.at if edit is not None else None,
            edit_hide=edit.hide if edit is not None else None,
            post_author=sm.post_author,
            grouped_id=sm.grouped_id,
            fwd_from=fwd,
            reply_to=types.MessageReplyHeader(reply_to_msg_id=sm.reply_to)
            if sm.reply_to is not None
            else None,
            reactions=(
                types.MessageReactions(
                    results=[
                        types.ReactionCount(reaction=types.ReactionEmoji(e), count=n)
                        for e, n in sm.reactions.items()
                    ]
                )
                if sm.reactions
                else None
            ),
        )
        self._finish(msg, chan)
        return msg

    def _finish(self, msg: Any, chan: ScenarioChannel) -> None:
        """As Telethon does with a response's ``chats``: attach entities, so ``msg.forward.chat`` works."""
        ents: dict[int, Any] = {utils.get_peer_id(types.PeerChannel(chan.id)): self.channel_object(chan)}
        fwd = getattr(msg, "fwd_from", None)
        if fwd is not None and isinstance(fwd.from_id, types.PeerChannel):
            src = self._by_id.get(fwd.from_id.channel_id)
            if src is not None and src.status == "ok":
                ents[utils.get_peer_id(fwd.from_id)] = self.channel_object(src)
                self._seen.add(src.id)  # the response carried the source's entity; the session keeps it
        if self._host is None:
            # A never-connected client with an in-memory session, as Telethon's own tests use.
            self._host = TelegramClient(None, 1, "0", receive_updates=False)
        with suppress(AttributeError, TypeError):  # private API; the source does not depend on it
            msg._finish_init(self._host, ents, None)


def _describe(entity: Any) -> str:
    return entity if isinstance(entity, str) else type(entity).__name__


def _describe_peer(entity: Any) -> str:
    if isinstance(entity, int):
        return f"{entity} ({type(entity).__name__})"
    return f"{entity} ({type(entity).__name__})"


def _sent_request(method: str, chan: ScenarioChannel | None, key: str | None) -> Any:
    """The TL request Telethon sends for ``method`` (the ``request`` its RPC errors carry); None when
    the method sends no request of its own (connect)."""
    if method == "iter_messages" and chan is not None:
        return functions.messages.GetHistoryRequest(
            peer=types.InputPeerChannel(chan.id, chan.access_hash), offset_id=0, offset_date=None, add_offset=0,
            limit=100, max_id=0, min_id=0, hash=0,
        )
    if method in ("get_messages", "get_full_channel") and chan is not None:
        channel = types.InputChannel(chan.id, chan.access_hash)
        if method == "get_messages":
            return functions.channels.GetMessagesRequest(channel=channel, id=[])
        return functions.channels.GetFullChannelRequest(channel=channel)
    if method in ("get_entity", "get_input_entity"):
        return functions.contacts.ResolveUsernameRequest(username=(chan.username if chan else None) or key or "")
    if method == "is_user_authorized":
        return functions.updates.GetStateRequest()
    return None


def _fault_error(f: ScenarioFault, request: Any = None) -> BaseException:
    """The exception Telethon raises for the fault; each one is what Telethon really raises. Flood waits
    carry the request they answered (``request``), as Telethon's sender sets it."""
    errors_by_name: dict[str, Callable[[], BaseException]] = {
        "flood_wait": lambda: errors.FloodWaitError(request=request, capture=f.seconds),
        "slow_mode": lambda: errors.SlowModeWaitError(request=request, capture=f.seconds),
        "flood_premium": lambda: errors.FloodPremiumWaitError(request=request, capture=f.seconds),
        "private": lambda: errors.ChannelPrivateError(request=None),
        "not_found": lambda: errors.UsernameNotOccupiedError(request=None),
        "invalid": lambda: errors.UsernameInvalidError(request=None),
        "banned": lambda: errors.ChannelBannedError(request=None),
        "server_error": lambda: errors.ServerError(request=None, message="INTERNAL_SERVER_ERROR", code=500),
        "timed_out": lambda: errors.TimedOutError(request=None, message="Timeout", code=-503),
        "rpc_call_fail": lambda: errors.RpcCallFailError(request=None),
        # TelegramClient._call after request_retries 500-class answers (raise_last_call_error=False)
        "unsuccessful": lambda: ValueError("Request was unsuccessful 6 time(s)"),
        # what the sender raises when a middlebox answers with bytes that are not MTProto
        "garbage": lambda: protocol_errors.InvalidBufferError(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        "auth_key_unregistered": lambda: errors.AuthKeyUnregisteredError(request=None),
        "session_revoked": lambda: errors.SessionRevokedError(request=None),
        "auth_key_duplicated": lambda: errors.AuthKeyDuplicatedError(request=None),
        "user_deactivated": lambda: errors.UserDeactivatedError(request=None),
        "user_deactivated_ban": lambda: errors.UserDeactivatedBanError(request=None),
        "frozen_method_invalid": _frozen_error,
    }
    make = errors_by_name.get(f.error)
    return make() if make is not None else ConnectionError("Connection to Telegram failed (injected disconnect)")


def _frozen_error() -> BaseException:
    """What Telethon raises for FROZEN_METHOD_INVALID: its own class where it has one (1.40+), else the
    plain 420 FloodError its older releases build from that message."""
    cls = getattr(errors, "FrozenMethodInvalidError", None)
    if isinstance(cls, type):
        made: BaseException = cls(request=None)
        return made
    return errors.FloodError(request=None, message="FROZEN_METHOD_INVALID", code=420)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> list[Any]:
    """Real entities for links and @names in the text, with Telegram's UTF-16 offsets."""
    found: list[Any] = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?)]}'\"»…")
        found.append(types.MessageEntityUrl(offset=_utf16_len(text[: m.start()]), length=_utf16_len(url)))
    for m in _MENTION.finditer(text):
        found.append(
            types.MessageEntityMention(offset=_utf16_len(text[: m.start()]), length=_utf16_len(m.group(0)))
        )
    found.sort(key=lambda e: e.offset)
    return found


def _text_with_entities(text: str) -> Any:
    if hasattr(types, "TextWithEntities"):
        return types.TextWithEntities(text=text, entities=[])
    return text  # older layers took a plain string


def _document(mid: int, date: datetime, mime: str, attributes: Iterable[Any]) -> types.Document:
    return types.Document(
        id=mid * 1000 + 1,
        access_hash=mid,
        file_reference=b"",
        date=date,
        mime_type=mime,
        size=1024,
        dc_id=2,
        attributes=list(attributes),
    )


def _webpage(preview: Mapping[str, str | None], mid: int) -> Any:
    """The MessageMediaWebPage Telegram attaches when it built a preview of the post's link."""
    url = preview["url"] or ""
    page = types.WebPage(id=mid, url=url, display_url=url.split("://", 1)[-1], hash=0, type="article",
                         title=preview.get("title"), site_name=preview.get("site_name"))
    return types.MessageMediaWebPage(webpage=page)


def _media(kind: str | None, mid: int, date: datetime, text: str) -> Any:
    if kind is None:
        return None
    if kind == "photo":
        photo = types.Photo(
            id=mid * 1000,
            access_hash=mid,
            file_reference=b"",
            date=date,
            sizes=[types.PhotoSize(type="x", w=800, h=600, size=50_000)],
            dc_id=2,
        )
        return types.MessageMediaPhoto(photo=photo)
    docs = {
        "video": ("video/mp4", [types.DocumentAttributeVideo(duration=12, w=640, h=360)]),
        "video_note": (
            "video/mp4",
            [types.DocumentAttributeVideo(duration=8, w=240, h=240, round_message=True)],
        ),
        "gif": (
            "video/mp4",
            [types.DocumentAttributeAnimated(), types.DocumentAttributeVideo(duration=2, w=320, h=240)],
        ),
        "document": ("application/pdf", [types.DocumentAttributeFilename(file_name=f"file{mid}.pdf")]),
        "audio": ("audio/mpeg", [types.DocumentAttributeAudio(duration=180, title="track")]),
        "voice": ("audio/ogg", [types.DocumentAttributeAudio(duration=7, voice=True)]),
        "sticker": (
            "image/webp",
            [types.DocumentAttributeSticker(alt="🙂", stickerset=types.InputStickerSetEmpty())],
        ),
    }
    if kind in docs:
        mime, attrs = docs[kind]
        return types.MessageMediaDocument(document=_document(mid, date, mime, attrs))
    if kind == "poll":
        answers = [
            types.PollAnswer(text=_text_with_entities(t), option=bytes([i]))
            for i, t in enumerate(("ha", "yo'q"))
        ]
        extra = (
            {"hash": 0} if "hash" in inspect.signature(types.Poll.__init__).parameters else {}
        )  # newer layers
        poll = types.Poll(id=mid, question=_text_with_entities(text[:255] or "?"), answers=answers, **extra)
        return types.MessageMediaPoll(poll=poll, results=types.PollResults())
    if kind == "webpage":
        return types.MessageMediaWebPage(webpage=types.WebPageEmpty(id=mid))
    if kind == "geo":
        return types.MessageMediaGeo(geo=types.GeoPoint(long=69.24, lat=41.3, access_hash=mid))
    if kind == "contact":
        return types.MessageMediaContact(
            phone_number="", first_name="Contact", last_name="", vcard="", user_id=0
        )
    raise ValueError(f"unknown media kind {kind!r}")
