"""A real TelegramClient whose network layer answers raw MTProto requests from a scenario.

Why: FakeTelegramClient re-implements Telethon's high-level calls, so on its
own it could agree with TelethonSource and both be wrong. Here Telethon's own
code runs end to end (``iter_messages`` paging with its reverse-mode
``offset_id + 1`` / ``add_offset = -limit`` trick, ``get_messages(ids=)``,
``get_entity`` through ResolveUsername, ``_call``'s flood-wait memory,
``_finish_init``); only ``sender.send`` is replaced by `LoopbackServer`, which
answers ``messages.getHistory`` the way Telegram documents it: position at
``offset_id`` (or ``offset_date``), shift by ``add_offset``, take ``limit``
(<= 100), newest first, then drop ids outside ``(min_id, max_id)``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from telethon import errors, functions, types

from monitor.clock import Clock, to_utc
from monitor.sources.scenario import Scenario, ScenarioChannel
from monitor.sources.telegram import BudgetedTelegramClient
from monitor.sources.telegram_fake import FakeTelegramClient


class LoopbackServer:
    """Answers the handful of requests a read-only collector sends."""

    def __init__(self, scenario: Scenario, clock: Clock) -> None:
        self.clock = clock
        self.objects = FakeTelegramClient(scenario=scenario, clock=clock)  # builds the TL objects
        self.by_id = {c.id: c for c in scenario.channels}
        self.by_name = {c.username.lower(): c for c in scenario.channels if c.username}
        self.seen: Counter[str] = Counter()
        self.fail_next: dict[type, BaseException] = {}

    def handle(self, request: Any) -> Any:
        if isinstance(request, functions.InvokeWithoutUpdatesRequest):
            request = request.query
        self.seen[type(request).__name__] += 1
        if type(request) in self.fail_next:
            raise self.fail_next.pop(type(request))
        if isinstance(request, functions.updates.GetStateRequest):
            return types.updates.State(pts=1, qts=0, date=self.clock.now(), seq=0, unread_count=0)
        if isinstance(request, functions.contacts.ResolveUsernameRequest):
            chan = self.by_name.get(request.username.lower())
            if chan is None or chan.status == "not_found":
                raise errors.UsernameNotOccupiedError(request=request)
            self._check_status(chan, request)
            return types.contacts.ResolvedPeer(
                peer=types.PeerChannel(chan.id), chats=[self.objects.channel_object(chan)], users=[]
            )
        if isinstance(request, functions.channels.GetChannelsRequest):
            chans = [self._channel(c.channel_id, c.access_hash, request) for c in request.id]
            return types.messages.Chats(chats=[self.objects.channel_object(c) for c in chans])
        if isinstance(request, functions.messages.GetHistoryRequest):
            peer = request.peer
            chan = self._channel(peer.channel_id, peer.access_hash, request)
            return self._reply(chan, self._history(chan, request))
        if isinstance(request, functions.channels.GetMessagesRequest):
            chan = self._channel(request.channel.channel_id, request.channel.access_hash, request)
            now = self.clock.now()
            by_id = {m.id: m for m in chan.messages if m.visible_at(now)}
            msgs = [
                self.objects.message_object(chan, by_id[i.id], now)
                if i.id in by_id
                else types.MessageEmpty(id=i.id, peer_id=types.PeerChannel(chan.id))
                for i in request.id
            ]
            return self._reply(chan, msgs)
        raise errors.RPCError(request, "METHOD_NOT_EMULATED", 400)

    def _history(self, chan: ScenarioChannel, req: Any) -> list[Any]:
        now = self.clock.now()
        newest_first = [m for m in reversed(chan.messages) if m.visible_at(now)]
        if req.offset_id:
            start = next((i for i, m in enumerate(newest_first) if m.id < req.offset_id), len(newest_first))
        elif req.offset_date:
            cut = to_utc(req.offset_date)
            start = next((i for i, m in enumerate(newest_first) if m.date < cut), len(newest_first))
        else:
            start = 0
        lo = start + req.add_offset
        hi = lo + min(req.limit, 100)
        window = newest_first[max(lo, 0) : max(hi, 0)]
        window = [
            m
            for m in window
            if (not req.min_id or m.id > req.min_id) and (not req.max_id or m.id < req.max_id)
        ]
        return [self.objects.message_object(chan, m, now) for m in window]

    def _reply(self, chan: ScenarioChannel, msgs: list[Any]) -> Any:
        chats = {chan.id: self.objects.channel_object(chan)}
        for m in msgs:
            fwd = getattr(m, "fwd_from", None)
            if fwd is not None and isinstance(fwd.from_id, types.PeerChannel):
                src = self.by_id.get(fwd.from_id.channel_id)
                if src is not None:
                    chats[src.id] = self.objects.channel_object(src)
        return types.messages.ChannelMessages(
            pts=1, count=len(chan.messages), messages=msgs, topics=[], chats=list(chats.values()), users=[]
        )

    def _channel(self, cid: int, access_hash: int, request: Any) -> ScenarioChannel:
        chan = self.by_id.get(cid)
        if chan is None or chan.access_hash != access_hash:
            raise errors.ChannelInvalidError(request=request)
        self._check_status(chan, request)
        return chan

    @staticmethod
    def _check_status(chan: ScenarioChannel, request: Any) -> None:
        if chan.status == "private":
            raise errors.ChannelPrivateError(request=request)
        if chan.status == "banned":
            raise errors.ChannelBannedError(request=request)


class _Sender:
    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.up = False

    def send(self, request: Any, ordered: bool = False) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self.up:
            fut.set_exception(ConnectionError("Cannot send requests while disconnected"))
            return fut
        try:
            fut.set_result(self.server.handle(request))
        except BaseException as exc:  # handed to Telethon exactly as a network reply would be
            fut.set_exception(exc)
        return fut

    def is_connected(self) -> bool:
        return self.up


class LoopbackTelegramClient(BudgetedTelegramClient):
    """The production TelegramClient subclass, with an in-memory session, whose requests go to a LoopbackServer."""

    def __init__(self, server: LoopbackServer) -> None:
        super().__init__(
            None,
            1,
            "0",
            receive_updates=False,
            flood_sleep_threshold=0,
            raise_last_call_error=True,
            request_retries=1,
        )
        self.server = server
        self._sender = _Sender(server)  # type: ignore[assignment]

    async def connect(self) -> None:
        self._sender.up = True  # type: ignore[attr-defined]

    async def disconnect(self) -> None:  # type: ignore[override]
        self._sender.up = False  # type: ignore[attr-defined]
