"""TelethonSource: Telegram through Telethon's high-level API, turned into `Post` records.

This is the only module of the package that imports Telethon (the fake client
aside). Telethon objects never leave it: messages become `Post`, and Telethon
errors become `monitor.errors` types, raised ``from`` the original.

Why it pages by hand instead of one long ``iter_messages``: each call asks for
at most ``page_size`` (<= 100) messages, and Telethon's own 1 s ``wait_time``
sleep for long iterations never applies. The global request budget is paid
per request Telegram really sees: the client calls the source's request hook
before each one (`BudgetedTelegramClient`, and the fake does the same), because
one ``iter_messages`` call sends several requests when Telegram answers with a
short page in the middle of a history. It uses only ``get_entity``,
``iter_messages`` and ``get_messages(ids=...)``, which behave the same from
Telethon 1.39 to the newest 1.x; discovery's hashtag search sends
channels.checkSearchPostsFlood, which Telethon has from 1.40 (the floor).

Faults are sorted into the four kinds the daemon handles differently: flood
waits (park), unavailable channels (slow retry), connection faults (reconnect
with backoff: dropped sockets, Telegram's 500s, and an endpoint that answers
with bytes that are not MTProto) and an unauthorized session (revoked, logged
out, or used from two places: nothing helps but logging in again).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from telethon import TelegramClient, errors, utils
from telethon.errors import common as protocol_errors
from telethon.sessions import MemorySession, StringSession
from telethon.tl import functions, types

from monitor.clock import Clock, SystemClock, to_utc
from monitor.errors import (
    ChannelUnavailable,
    ConfigError,
    FloodWait,
    SourceConnectionError,
    SourceError,
    SourceUnauthorized,
    UnavailableReason,
)
from monitor.models import Channel, ChannelRef, ChannelSnapshot, DiscoveryLead, ForwardOrigin, LinkPreview, Post, SearchQuota
from monitor.sources.links import Span, extract, utf16_slice

RequestBudget = Callable[[], Awaitable[None]]
FloodScope = Literal["channel", "account"]
MAX_PAGE = 100  # GetHistory's hard cap
CONNECT_TIMEOUT = 30.0  # seconds for connect() plus the authorization check, whatever the endpoint does
# What an endpoint that is not (or no longer) speaking MTProto makes Telethon raise: a middlebox
# answering with garbage, a proxy closing mid-handshake, a truncated or corrupted frame.
_PROTOCOL_FAULTS: tuple[type[BaseException], ...] = (
    protocol_errors.InvalidBufferError,
    protocol_errors.InvalidChecksumError,
    protocol_errors.SecurityError,
    protocol_errors.TypeNotFoundError,
    protocol_errors.AuthKeyNotFound,
    protocol_errors.BadMessageError,
    BufferError,
    EOFError,  # asyncio.IncompleteReadError
    AssertionError,  # Telethon's plain sender asserts on malformed replies
)
_LOGIN_FAULTS: tuple[type[BaseException], ...] = (ConnectionError, OSError, *_PROTOCOL_FAULTS)
_KEY_MISMATCH = "could not find a valid key for fingerprints"
# (channel id or None for a resolve) of the call in flight, for the request hook; per task.
_CALL: ContextVar[tuple[int | None] | None] = ContextVar("monitor_telegram_call", default=None)

# Media class name -> kind; by name so a class missing from an older Telethon layer costs nothing.
_MEDIA_KINDS: Mapping[str, str] = {
    "MessageMediaPhoto": "photo",
    "MessageMediaPoll": "poll",
    "MessageMediaWebPage": "webpage",
    "MessageMediaGeo": "geo",
    "MessageMediaGeoLive": "geo",
    "MessageMediaVenue": "venue",
    "MessageMediaContact": "contact",
    "MessageMediaDice": "dice",
    "MessageMediaGame": "game",
    "MessageMediaInvoice": "invoice",
    "MessageMediaStory": "story",
    "MessageMediaGiveaway": "giveaway",
    "MessageMediaGiveawayResults": "giveaway",
    "MessageMediaPaidMedia": "paid_media",
    "MessageMediaToDo": "todo",
    "MessageMediaUnsupported": "unsupported",
}


class TelethonSource:
    """A `monitor.sources.Source` over a Telethon client (or `FakeTelegramClient`).

    ``request_budget`` is awaited before every request (the daemon's global
    per-minute budget); ``flood_scope`` is the scope reported with FloodWait.
    """

    def __init__(
        self,
        client: Any,
        *,
        clock: Clock,
        page_size: int = MAX_PAGE,
        request_budget: RequestBudget | None = None,
        flood_scope: FloodScope = "account",
        connect_timeout: float = CONNECT_TIMEOUT,
        custom_server_key: bool = False,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE}, got {page_size}")
        self._client = client
        self._connect_timeout = connect_timeout
        self._custom_key = custom_server_key
        self._unauthorized: SourceUnauthorized | None = None  # set once Telegram refused the session
        self._watch: _TelethonWatch | None = None  # Telethon's sender log, watched while connected
        # Pay the budget per request Telegram sees when the client lets us; else once per call.
        self._per_request = hasattr(client, "request_hook")
        if self._per_request:
            client.request_hook = self._on_request
        self._clock = clock
        self._page = page_size
        self._budget = request_budget
        self._flood_scope: FloodScope = flood_scope
        self._titles: dict[int, str] = {}  # channel id -> title, from everything resolved so far
        self._blocked: dict[str, datetime] = {}  # "account" / "channel:<id>" -> end of a flood wait
        self._blocked_by: dict[str, str | None] = {}  # same keys -> the request Telegram flood-waited

    @classmethod
    def from_credentials(
        cls,
        api_id: int,
        api_hash: str,
        session: str | Path | None,
        *,
        connection: Mapping[str, Any] | None = None,
        flood_sleep_threshold: int = 0,
        clock: Clock | None = None,
        page_size: int = MAX_PAGE,
        request_budget: RequestBudget | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> TelethonSource:
        """Build a real, not yet connected TelegramClient; never logs in, signs up, joins or posts.

        ``session`` is a path (``.session`` is appended like Telethon does; the
        file is created 0600 because it holds the account's auth key), a
        StringSession string (a ``str`` is only ever that: one that does not
        decode is refused, never taken for a file name), or None for an
        in-memory session.
        ``connection`` overrides the endpoint: ``{dc_id, host, port, rsa_key_file}``.
        ``flood_sleep_threshold`` defaults to 0 so every flood wait reaches the
        daemon, which parks the channel instead of Telethon sleeping inside a poll.
        """
        sess = _open_session(session)
        if connection:
            if sess is None:
                sess = MemorySession()
            _apply_connection(sess, connection)
        client = BudgetedTelegramClient(
            sess,
            int(api_id),
            str(api_hash),
            flood_sleep_threshold=flood_sleep_threshold,
            receive_updates=False,  # a poller: updates would only fill memory
            request_retries=2,
            raise_last_call_error=True,  # the real RPC error, not "Request was unsuccessful"
            connection_retries=2,
            auto_reconnect=True,
        )
        return cls(
            client,
            clock=clock or SystemClock(),
            page_size=page_size,
            request_budget=request_budget,
            connect_timeout=connect_timeout,
            custom_server_key=bool(connection and connection.get("rsa_key_file")),
        )

    @property
    def client(self) -> Any:
        return self._client

    # -- Source -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and check the session within ``connect_timeout``; see `Source.start`.

        Raises SourceConnectionError (retry with backoff), SourceUnauthorized (log in
        again) or ConfigError (the custom endpoint's server key does not match).
        """
        if self._client.is_connected() and self._unauthorized is None:
            return
        watch = self._watch_protocol()
        try:
            with self._translate("connect", None):
                authorized = await self._connect_checked(watch)
        except SourceConnectionError as exc:
            await self.close()  # stop Telethon's own reconnect attempts until the caller retries
            if self._custom_key and watch.key_mismatch:
                raise ConfigError(
                    "the custom MTProto endpoint's server key does not match telegram.connection.rsa_key_file"
                    f" (the server offered key fingerprints {watch.key_mismatch}); fix the key file"
                ) from exc
            raise
        except BaseException:
            await self.close()
            raise
        if self._unauthorized is not None:
            # Telethon caches "authorized" per client; a key Telegram refused stays refused.
            raise self._unauthorized
        if not authorized:
            self._unauthorized = SourceUnauthorized(
                "NOT_LOGGED_IN",
                "log in once interactively with `monitor login` (the collector never signs in or up by itself)",
            )
            raise self._unauthorized

    def _watch_protocol(self) -> _TelethonWatch:
        """A fresh watch of Telethon's sender log, kept until close(); the client fails requests when it trips."""
        if self._watch is not None:
            self._watch.remove()
        self._watch = _TelethonWatch().install()
        if hasattr(self._client, "protocol_watch"):
            self._client.protocol_watch = self._watch
        return self._watch

    async def _connect_checked(self, watch: _TelethonWatch) -> bool:
        """connect() and is_user_authorized(), bounded in time and ended by the first protocol fault.

        Why the watch: with an auth key, Telethon meets an endpoint that answers with
        garbage by reconnecting forever inside its own tasks (a warning each time)
        while our request waits; its log is the only place the fault shows.
        """

        async def work() -> bool:
            await self._client.connect()
            return bool(await self._client.is_user_authorized())

        job = _owned(asyncio.ensure_future(work()))
        tripped = asyncio.ensure_future(watch.tripped.wait())
        try:
            async with asyncio.timeout(self._connect_timeout):
                await asyncio.wait({job, tripped}, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError as exc:
            raise SourceConnectionError(
                f"Telegram did not complete the connection within {self._connect_timeout:g}s"
                " (the endpoint is unreachable or does not speak MTProto)"
            ) from exc
        finally:
            for task in (job, tripped):
                if not task.done():
                    task.cancel()
            with suppress(BaseException):
                await asyncio.wait({job, tripped})  # let the cancelled task finish; its error is ours below
        if job.done() and not job.cancelled():
            return job.result()
        if watch.key_mismatch:
            raise SourceConnectionError(f"the server key was refused: {watch.key_mismatch}")
        raise SourceConnectionError(f"the Telegram endpoint does not answer in MTProto ({watch.fault})")

    @property
    def unauthorized(self) -> SourceUnauthorized | None:
        """Why Telegram refused this session, once it has; None while it is (as far as we know) fine."""
        return self._unauthorized

    async def log_in(
        self,
        *,
        phone: Callable[[], str],
        code: Callable[[], str],
        password: Callable[[], str],
    ) -> bool:
        """Log the session in once, interactively (`monitor login`); False when it already was.

        The only place the project signs in: the collector itself never does. Telethon
        asks for the phone number, the login code and, with two-step verification,
        the password through the callbacks.
        """
        try:
            try:
                with _quiet_telethon():  # its warnings would land between the prompts; faults are raised
                    authorized = await self._connect_checked(self._watch_protocol())
            except SourceConnectionError as exc:
                await self.close()
                raise SourceConnectionError(f"cannot log in: {exc}") from exc
            if authorized:
                return False
            await self._client.start(phone=phone, code_callback=code, password=password)
        except _LOGIN_FAULTS as exc:
            await self.close()
            what = "the endpoint does not answer in MTProto" if isinstance(exc, _PROTOCOL_FAULTS) else "Telegram is unreachable"
            raise SourceConnectionError(f"cannot log in: {what} ({_describe(exc)})") from exc
        except (errors.RPCError, RuntimeError, ValueError) as exc:  # bad phone or code, too many attempts
            raise SourceError(f"login failed: {exc}") from exc
        return True

    def string_session(self) -> str:
        """The logged-in session as a string, for MONITOR_SESSION (keep it secret: it is the account)."""
        return str(StringSession.save(self._client.session))

    async def close(self) -> None:
        with suppress(ConnectionError, OSError):  # already gone; the session is released either way
            await self._client.disconnect()
        if self._watch is not None:
            self._watch.remove()
            self._watch = None
            if hasattr(self._client, "protocol_watch"):
                self._client.protocol_watch = None

    async def resolve(self, ref: ChannelRef, known: Channel | None = None) -> Channel:
        if known is not None and known.access_hash is not None:
            self._titles[known.id] = known.title
            return known  # id + access hash is all a request needs; no ResolveUsername
        target: Any
        if ref.username:
            target = ref.username
        elif ref.channel_id is not None or (known is not None):
            target = types.PeerChannel(ref.channel_id if ref.channel_id is not None else known.id)  # type: ignore[union-attr]  # the elif guarantees known is set when channel_id is None
        else:
            raise ChannelUnavailable("invalid", f"{ref.key}: neither a username nor an id")
        if isinstance(target, str) and utils.parse_username(target)[0] is None:
            # Telethon's own rule; it would not even send the request.
            raise ChannelUnavailable("invalid", f"{ref.key}: not a valid Telegram username")
        with self._call(None):
            if not self._per_request:
                await self._spend(None)
            with self._translate(ref.key, None):
                entity = await self._client.get_entity(target)
        if isinstance(entity, types.ChannelForbidden):
            raise ChannelUnavailable("banned", f"{ref.key}: the account is banned from the channel (ChannelForbidden)")
        if not isinstance(entity, types.Channel):
            raise ChannelUnavailable("invalid", f"{ref.key}: a {_kind(entity)}, not a broadcast channel")
        if not entity.broadcast:
            raise ChannelUnavailable("invalid", f"{ref.key}: a {_kind(entity)}, not a broadcast channel")
        expected = ref.channel_id if ref.channel_id is not None else (known.id if known is not None else None)
        if expected is not None and entity.id != expected:
            raise ChannelUnavailable(
                "renamed", f"{ref.key}: the username now belongs to channel {entity.id}, not {expected}"
            )
        channel = Channel(
            id=entity.id,
            username=_public_username(entity) or ref.username,
            title=entity.title or "",
            access_hash=entity.access_hash,
        )
        self._titles[channel.id] = channel.title
        return channel

    def fetch(
        self,
        channel: Channel,
        *,
        after_id: int,
        limit: int | None = None,
        since: datetime | None = None,
    ) -> AsyncIterator[Post]:
        if after_id < 0:
            raise ValueError("after_id must be >= 0")
        if after_id > 0 or (limit is None and since is None):
            return self._fetch_after(channel, after_id, limit)
        return self._fetch_backfill(channel, limit, to_utc(since) if since is not None else None)

    async def refresh(self, channel: Channel, message_ids: Sequence[int]) -> list[Post]:
        peer = self._peer(channel)
        out: list[Post] = []
        ids = list(dict.fromkeys(message_ids))
        for start in range(0, len(ids), MAX_PAGE):
            chunk = ids[start : start + MAX_PAGE]
            with self._call(channel.id):
                if not self._per_request:
                    await self._spend(channel.id)
                with self._translate(channel.username or str(channel.id), channel.id):
                    msgs = await self._client.get_messages(peer, ids=chunk)
            for msg in msgs:
                if msg is not None and not _is_service(msg):
                    out.append(self.to_post(msg, channel.id))
        return out

    async def channel_info(self, channel: Channel) -> ChannelSnapshot:
        """The channel's profile now (one GetFullChannel request, paid from the budget like any other).

        Raises ChannelUnavailable when Telegram answers with a ChannelForbidden or refuses the channel,
        FloodWait as every request; fields Telegram leaves out are None.
        """
        if channel.access_hash is None:
            raise SourceError(f"{channel.username or channel.id}: no access hash to ask for the profile with")
        request = functions.channels.GetFullChannelRequest(channel=types.InputChannel(channel.id, channel.access_hash))
        with self._call(channel.id):
            if not self._per_request:
                await self._spend(channel.id)
            with self._translate(channel.username or str(channel.id), channel.id):
                full = await self._client(request)
        return self.to_snapshot(full, channel)

    # -- discovery: what Telegram itself points to (read only: nothing is joined) -------------------

    async def similar_channels(self, channel: Channel) -> list[DiscoveryLead]:
        """Telegram's similar-channel recommendations for a watched channel (one
        channels.getChannelRecommendations request, paid from the budget; FloodWait as every request)."""
        if channel.access_hash is None:
            raise SourceError(f"{channel.username or channel.id}: no access hash to ask for recommendations with")
        request = functions.channels.GetChannelRecommendationsRequest(
            channel=types.InputChannel(channel.id, channel.access_hash))
        with self._call(channel.id):
            if not self._per_request:
                await self._spend(channel.id)
            with self._translate(channel.username or str(channel.id), channel.id):
                answer = await self._client(request)
        basis = f"@{channel.username}" if channel.username else f"id:{channel.id}"
        now = self._clock.now()
        out = []
        for chat in getattr(answer, "chats", None) or []:
            if not isinstance(chat, types.Channel) or not chat.broadcast or chat.id == channel.id:
                continue  # a ChannelForbidden, a group: not a channel to propose
            username = _public_username(chat)
            out.append(DiscoveryLead(
                ref=f"@{username.lower()}" if username else f"id:{chat.id}", username=username, channel_id=chat.id,
                title=chat.title if isinstance(chat.title, str) else None, via="recommended", basis=basis,
                seen_at=now))
        return out

    async def search_quota(self, hashtag: str) -> SearchQuota:
        """What Telegram says a public post search would cost now (channels.checkSearchPostsFlood)."""
        answer = await self._search_request(functions.channels.CheckSearchPostsFloodRequest(query="#" + hashtag))
        return _quota(answer)

    async def search_hashtag(self, hashtag: str, *, limit: int = 100) -> tuple[list[DiscoveryLead], SearchQuota | None]:
        """Public channel posts carrying ``#hashtag`` (one channels.searchPosts request), as one lead per
        channel with its number of posts, and the quota Telegram reported with them. Never offers stars
        (``allow_paid_stars`` is left out): a search past the free quota is refused by Telegram."""
        request = functions.channels.SearchPostsRequest(
            offset_rate=0, offset_peer=types.InputPeerEmpty(), offset_id=0, limit=limit, hashtag=hashtag)
        answer = await self._search_request(request)
        chats = {c.id: c for c in getattr(answer, "chats", None) or [] if isinstance(c, types.Channel)}
        hits: dict[int, int] = {}
        for msg in getattr(answer, "messages", None) or []:
            peer = getattr(msg, "peer_id", None)
            if isinstance(peer, types.PeerChannel) and peer.channel_id in chats:
                hits[peer.channel_id] = hits.get(peer.channel_id, 0) + 1
        now = self._clock.now()
        leads = []
        for cid, n in hits.items():
            chat = chats[cid]
            if not chat.broadcast:
                continue
            username = _public_username(chat)
            leads.append(DiscoveryLead(
                ref=f"@{username.lower()}" if username else f"id:{cid}", username=username, channel_id=cid,
                title=chat.title if isinstance(chat.title, str) else None, via="hashtag", basis=f"#{hashtag}",
                hits=n, seen_at=now))
        flood = getattr(answer, "search_flood", None)
        return leads, (_quota(flood) if isinstance(flood, types.SearchPostsFlood) else None)

    async def _search_request(self, request: Any) -> Any:
        """A search request: paid from the budget; a flood wait on it blocks only searches ("search")."""
        now = self._clock.now()
        for key, scope in (("account", "account"), ("search", "channel")):
            until = self._blocked.get(key)
            if until is not None and now < until:
                raise FloodWait(math.ceil((until - now).total_seconds()), scope=scope)  # type: ignore[arg-type]  # scope is one of the FloodWait scope literals
        if self._budget is not None:
            await self._budget()
        flood: errors.FloodError | None = None
        with self._translate("search", None):
            try:
                return await self._client(request)
            except errors.FloodError as exc:
                if _frozen(exc):
                    raise  # not a wait: _translate says the account is frozen
                flood = exc
        seconds = max(int(getattr(flood, "seconds", 0) or 0), 1)
        until = self._clock.now() + timedelta(seconds=seconds)
        self._blocked["search"] = max(until, self._blocked.get("search", until))
        raise FloodWait(seconds, scope="channel") from flood

    def to_snapshot(self, full: Any, channel: Channel) -> ChannelSnapshot:
        """messages.ChatFull -> ChannelSnapshot; a missing or odd field becomes None, never an error."""
        chat = next((c for c in getattr(full, "chats", None) or [] if getattr(c, "id", None) == channel.id), None)
        if isinstance(chat, types.ChannelForbidden):
            raise ChannelUnavailable("banned", f"{channel.username or channel.id}: ChannelForbidden")
        info = getattr(full, "full_chat", None)
        subscribers = getattr(info, "participants_count", None)
        ttl = getattr(info, "ttl_period", None)
        about = getattr(info, "about", None)
        title = getattr(chat, "title", None) if chat is not None else None
        if title:
            self._titles[channel.id] = title
        return ChannelSnapshot(
            channel_id=channel.id,
            observed_at=self._clock.now(),
            title=title if isinstance(title, str) else None,
            username=_public_username(chat) if chat is not None else None,
            about=about if isinstance(about, str) else None,
            subscribers=subscribers if isinstance(subscribers, int) else None,
            restriction=restriction_text(chat),
            ttl_period=ttl if isinstance(ttl, int) and ttl > 0 else None,
        )

    # -- history ----------------------------------------------------------------------------------

    async def _fetch_after(self, channel: Channel, after_id: int, limit: int | None) -> AsyncIterator[Post]:
        """Oldest first from ``after_id``, one request per page, the cursor advanced by the last id seen."""
        peer = self._peer(channel)
        cursor, left = after_id, limit
        while left is None or left > 0:
            size = self._page if left is None else min(self._page, left)
            page = await self._page_of(channel, peer, min_id=cursor, limit=size, reverse=True)
            fresh = sorted((m for m in page if m.id > cursor), key=lambda m: m.id)
            for msg in fresh:
                if not _is_service(msg):
                    yield self.to_post(msg, channel.id)
                    if left is not None:
                        left -= 1
                cursor = msg.id
            if len(page) < size or not fresh:
                return

    async def _fetch_backfill(
        self, channel: Channel, limit: int | None, since: datetime | None
    ) -> AsyncIterator[Post]:
        """First sight: walk back from the newest post to the depth, then hand them out oldest first."""
        peer = self._peer(channel)
        kept: list[Post] = []
        offset_id = 0
        done = False
        while not done:
            size = self._page if limit is None else min(self._page, limit - len(kept))
            if size <= 0:
                break
            page = await self._page_of(channel, peer, offset_id=offset_id, limit=size, reverse=False)
            page = sorted((m for m in page if not offset_id or m.id < offset_id), key=lambda m: -m.id)
            for msg in page:
                offset_id = msg.id
                if since is not None and to_utc(msg.date) < since:
                    done = True
                    break
                if not _is_service(msg):
                    kept.append(self.to_post(msg, channel.id))
                    if limit is not None and len(kept) >= limit:
                        done = True
                        break
            if len(page) < size:
                break
        for post in reversed(kept):
            yield post

    async def _page_of(self, channel: Channel, peer: Any, **kwargs: Any) -> list[Any]:
        """One ``iter_messages`` call: one request, or several when Telegram answers with short pages."""
        with self._call(channel.id):
            if not self._per_request:
                await self._spend(channel.id)
            with self._translate(channel.username or str(channel.id), channel.id):
                return [m async for m in self._client.iter_messages(peer, wait_time=0, **kwargs)]

    # -- mapping ----------------------------------------------------------------------------------

    def to_post(self, msg: Any, channel_id: int) -> Post:
        """Telethon Message -> Post; every field the model has, nothing Telethon-typed left."""
        text = msg.message or ""
        links, mentions = extract(text, _spans(text, msg.entities, msg.media))
        return Post(
            channel_id=channel_id,
            message_id=msg.id,
            posted_at=to_utc(msg.date),
            text=text,
            edited_at=to_utc(msg.edit_date) if msg.edit_date else None,
            edit_hidden=bool(msg.edit_hide),
            views=msg.views,
            forwards=msg.forwards,
            replies=msg.replies.replies if msg.replies is not None else None,
            reactions=_reactions_total(msg.reactions),
            forward=self._forward(msg),
            reply_to_id=getattr(msg.reply_to, "reply_to_msg_id", None) if msg.reply_to else None,
            grouped_id=msg.grouped_id,
            media_kind=media_kind(msg.media),
            author=msg.post_author,
            links=links,
            mentions=mentions,
            preview=link_preview(msg.media),
        )

    def _forward(self, msg: Any) -> ForwardOrigin | None:
        fwd = msg.fwd_from
        if fwd is None:
            return None
        channel_id: int | None = None
        name: str | None = fwd.from_name
        if isinstance(fwd.from_id, types.PeerChannel):
            channel_id = fwd.from_id.channel_id
            name = self._titles.get(channel_id) or name
            chat = getattr(getattr(msg, "forward", None), "chat", None)  # set when Telegram sent the entity
            if isinstance(chat, types.Channel) and chat.title:
                name = chat.title
                self._titles[channel_id] = chat.title
        elif fwd.from_id is not None and name is None:
            sender = getattr(getattr(msg, "forward", None), "sender", None)
            name = utils.get_display_name(sender) or None if sender is not None else None
        return ForwardOrigin(
            channel_id=channel_id,
            name=name,
            message_id=fwd.channel_post,
            date=to_utc(fwd.date) if fwd.date else None,
        )

    # -- plumbing ---------------------------------------------------------------------------------

    @contextmanager
    def _call(self, channel_id: int | None) -> Iterator[None]:
        token = _CALL.set((channel_id,))
        try:
            yield
        finally:
            _CALL.reset(token)

    async def _on_request(self) -> None:
        """The client's hook before each request: only requests made for a resolve or a poll pay."""
        call = _CALL.get()
        if call is not None:
            await self._spend(call[0])

    def _peer(self, channel: Channel) -> Any:
        if channel.access_hash is not None:
            return types.InputPeerChannel(channel.id, channel.access_hash)
        # Without a hash Telethon looks in its session cache (no request when cached).
        return channel.username or types.PeerChannel(channel.id)

    async def _spend(self, channel_id: int | None) -> None:
        """Before every request: refuse while a flood wait is running, then pay the request budget.

        Why here and not only in the daemon: polls of other channels already in
        flight when an account-wide wait arrives would otherwise keep asking
        Telegram during the wait, which is how waits escalate into long bans.
        (Telethon's own per-request memory does not work with receive_updates=False.)
        """
        now = self._clock.now()
        own = (
            (f"channel:{channel_id}", "channel") if channel_id is not None else ("resolve", self._flood_scope)
        )
        for key, scope in (("account", "account"), own):
            until = self._blocked.get(key)
            if until is not None:
                if now < until:
                    raise FloodWait(math.ceil((until - now).total_seconds()), scope=scope,  # type: ignore[arg-type]  # scope is a FloodWait scope literal
                                    method=self._blocked_by.get(key))
                del self._blocked[key]
        if self._budget is not None:
            await self._budget()

    @contextmanager
    def _translate(self, what: str, channel_id: int | None) -> Iterator[None]:
        """Telethon and socket errors -> monitor.errors, so callers handle one family."""
        try:
            yield
        except errors.FloodError as exc:
            if _frozen(exc):  # a 420 like a flood wait, but no wait ends it: the account is frozen
                self._unauthorized = SourceUnauthorized("FROZEN_METHOD_INVALID", str(exc).split(" (caused by ")[0])
                raise self._unauthorized from exc
            seconds = max(int(getattr(exc, "seconds", 0) or 0), 1)
            scope: FloodScope = "channel" if isinstance(exc, errors.SlowModeWaitError) else self._flood_scope
            if scope == "account":
                key = "account"
            else:
                key = f"channel:{channel_id}" if channel_id is not None else "resolve"
            until = self._clock.now() + timedelta(seconds=seconds)
            method = _request_name(exc)
            if until >= self._blocked.get(key, until):
                self._blocked_by[key] = method
            self._blocked[key] = max(until, self._blocked.get(key, until))
            raise FloodWait(seconds, scope=scope, method=method) from exc
        except ValueError as exc:
            if "unsuccessful" in str(exc):  # Telethon gave up retrying internal server errors
                raise SourceConnectionError(f"Telegram kept failing: {exc}") from exc
            if "Could not find the input entity" in str(exc):
                # A bare id whose access hash this session never saw (Telethon sends nothing).
                raise ChannelUnavailable(
                    "not_found",
                    f"{what}: this session has never seen the channel, so its id alone cannot be used;"
                    " configure it by username or t.me link",
                ) from exc
            # Telethon: no such username
            raise ChannelUnavailable("not_found", f"{what}: {exc}") from exc
        except (errors.UnauthorizedError, errors.AuthKeyError) as exc:
            self._unauthorized = SourceUnauthorized(_rpc_name(exc), str(exc).split(" (caused by ")[0])
            raise self._unauthorized from exc
        except errors.RPCError as exc:
            reason = _unavailable_reason(exc)
            if reason is not None:
                detail = f"{what}: {exc}"
                if isinstance(exc, errors.ChannelInvalidError) and channel_id is not None:
                    detail += (
                        " (the stored access hash was refused: deleted channel, or another account's hash;"
                    )
                    detail += " resolve again without it to tell)"
                raise ChannelUnavailable(reason, detail) from exc
            if isinstance(exc, errors.ServerError | errors.TimedOutError):
                raise SourceConnectionError(f"Telegram server error: {exc}") from exc
            raise SourceError(f"Telegram refused the request ({what}): {exc}") from exc
        except (ConnectionError, OSError) as exc:
            raise SourceConnectionError(f"connection to Telegram lost: {_describe(exc)}") from exc
        except _PROTOCOL_FAULTS as exc:
            raise SourceConnectionError(
                f"the Telegram endpoint does not answer in MTProto ({_describe(exc)})"
            ) from exc


REQUEST_TIMEOUT = 120.0  # seconds one request may take; Telethon itself never gives up on a live socket


class BudgetedTelegramClient(TelegramClient):
    """A TelegramClient that pays ``request_hook`` before every request and never waits forever for one.

    Why: Telethon's high-level calls may send several requests for one call (short
    history pages, retries), and the request budget must see each of them. And when
    the endpoint starts answering with garbage, Telethon reconnects inside its own
    tasks forever while the request waits: the request fails at once instead
    (``protocol_watch`` trips), or after ``request_timeout``.
    """

    request_hook: Callable[[], Awaitable[None]] | None = None
    protocol_watch: _TelethonWatch | None = None
    request_timeout: float = REQUEST_TIMEOUT

    async def __call__(self, request: Any, ordered: bool = False, flood_sleep_threshold: Any = None) -> Any:
        hook = self.request_hook
        if hook is not None:
            await hook()
        call = _owned(asyncio.ensure_future(super().__call__(request, ordered, flood_sleep_threshold)))
        watch = self.protocol_watch
        tripped = asyncio.ensure_future(watch.tripped.wait()) if watch is not None else None
        try:
            async with asyncio.timeout(self.request_timeout):
                await asyncio.wait({call, *([tripped] if tripped else [])}, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            raise ConnectionError(f"no answer from Telegram within {self.request_timeout:g}s") from None
        finally:
            for task in (call, tripped):
                if task is not None and not task.done():
                    task.cancel()
        if call.done() and not call.cancelled():
            return call.result()
        assert watch is not None
        raise ConnectionError(f"the endpoint stopped speaking MTProto ({watch.fault or watch.key_mismatch})")


# What Telethon's sender logs (and then reconnects, forever) when the bytes it reads are not MTProto.
_GARBAGE_LOGS = (
    "Server sent invalid buffer",
    "Invalid buffer",
    "Unhandled error while receiving data",
    "Unhandled error while decrypting data",
    "Security error while unpacking",
)


class _TelethonWatch:
    """Watches Telethon's sender log while connected: protocol garbage, and a refused server key.

    Telethon handles both inside its own tasks (it reconnects after garbage, forever,
    and retries a failed key exchange before raising a plain ConnectionError); its
    log is the only place that tells what went wrong. One filter on the sender's
    logger hands each record to every live watch; the garbage records (each with a
    traceback) are dropped: the daemon logs the classified fault once per attempt.
    """

    def __init__(self) -> None:
        self.fault = ""
        self.key_mismatch = ""
        self.tripped = asyncio.Event()

    def see(self, record: logging.LogRecord) -> bool:
        """False for a record this watch consumed."""
        message = record.getMessage()
        if _KEY_MISMATCH in message:
            self.key_mismatch = message.rsplit(":", 1)[-1].strip()
            self.tripped.set()
            return False
        if message.startswith(_GARBAGE_LOGS):
            exc = record.exc_info[1] if record.exc_info else None
            self.fault = _describe(exc) if exc is not None else message
            self.tripped.set()
            return False
        return True

    def install(self) -> _TelethonWatch:
        _SenderLogFilter.shared().watches.add(self)
        return self

    def remove(self) -> None:
        _SenderLogFilter.shared().watches.discard(self)


class _SenderLogFilter(logging.Filter):
    """The one filter on Telethon's sender logger; a filter sees every record whatever the levels."""

    _instance: _SenderLogFilter | None = None

    def __init__(self) -> None:
        super().__init__()
        self.watches: weakref.WeakSet[_TelethonWatch] = weakref.WeakSet()

    @classmethod
    def shared(cls) -> _SenderLogFilter:
        if cls._instance is None:
            cls._instance = cls()
            logging.getLogger("telethon.network.mtprotosender").addFilter(cls._instance)
        return cls._instance

    def filter(self, record: logging.LogRecord) -> bool:
        keep = True
        for watch in list(self.watches):
            keep = watch.see(record) and keep
        return keep


def _owned(task: asyncio.Future[Any]) -> asyncio.Future[Any]:
    """``task``, its error marked as seen: the caller reports it, or was cancelled and no longer cares.

    Why: a Telethon call cancelled on shutdown may still end in an error (garbage read
    during the cancel); unread, asyncio logs it with a traceback when the task is collected.
    """
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return task


def _frozen(exc: BaseException) -> bool:
    """FROZEN_METHOD_INVALID: Telegram froze the account. Newer Telethon raises FrozenMethodInvalidError
    (a FloodError subclass); older releases a plain FloodError carrying that message."""
    cls = getattr(errors, "FrozenMethodInvalidError", None)
    return (isinstance(cls, type) and isinstance(exc, cls)) or getattr(exc, "message", None) == "FROZEN_METHOD_INVALID"


def _request_name(exc: BaseException) -> str | None:
    """The TL request Telegram answered with ``exc`` (``GetHistoryRequest``), from the ``request`` Telethon
    sets on its RPC errors, unwrapped from the envelopes it may send it in (InvokeWithLayer,
    InitConnection); None when Telethon did not say (the request is not stored in every path)."""
    request = getattr(exc, "request", None)
    while request is not None and type(request).__name__.startswith(("Invoke", "InitConnection")):
        inner = getattr(request, "query", None)
        if inner is None:
            break
        request = inner
    if request is None or isinstance(request, list | tuple):
        return None
    return type(request).__name__


def _rpc_name(exc: Any) -> str:
    """Telegram's name of an RPC error (AUTH_KEY_UNREGISTERED), from its Telethon class when it is a specific one."""
    if type(exc) in (errors.RPCError, errors.UnauthorizedError, errors.AuthKeyError):
        return str(exc.message or type(exc).__name__)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__.removesuffix("Error")).upper()


@contextmanager
def _quiet_telethon() -> Iterator[None]:
    """Telethon's records are still made (so the watch sees them) but printed nowhere."""
    logger = logging.getLogger("telethon")
    null = logging.NullHandler()
    logger.addHandler(null)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.propagate = propagate
        logger.removeHandler(null)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _kind(entity: Any) -> str:
    if isinstance(entity, types.Channel):
        return "gigagroup" if entity.gigagroup else "supergroup" if entity.megagroup else "channel"
    if isinstance(entity, types.User | types.UserEmpty):
        return "bot" if getattr(entity, "bot", False) else "user"
    if isinstance(entity, types.Chat | types.ChatForbidden | types.ChatEmpty):
        return "group"
    return type(entity).__name__


def _quota(flood: Any) -> SearchQuota:
    wait = getattr(flood, "wait_till", None)
    return SearchQuota(
        total_daily=int(getattr(flood, "total_daily", 0) or 0), remains=int(getattr(flood, "remains", 0) or 0),
        stars_amount=int(getattr(flood, "stars_amount", 0) or 0), query_is_free=bool(getattr(flood, "query_is_free", False)),
        wait_till=datetime.fromtimestamp(int(wait), UTC) if isinstance(wait, int) and wait > 0 else None,
    )


def _public_username(entity: Any) -> str | None:
    """The channel's username; channels with collectible names may only list them under ``usernames``."""
    if entity.username:
        return str(entity.username)
    for item in getattr(entity, "usernames", None) or []:
        if getattr(item, "active", False):
            return str(item.username)
    return None


def _unavailable_reason(exc: BaseException) -> UnavailableReason | None:
    if isinstance(exc, errors.UsernameNotOccupiedError):
        return "not_found"
    if isinstance(exc, errors.UsernameInvalidError | errors.ChannelInvalidError | errors.PeerIdInvalidError):
        return "invalid"
    if isinstance(exc, errors.ChannelPrivateError | errors.ChatForbiddenError):
        return "private"
    if isinstance(exc, errors.ChannelBannedError | errors.UserBannedInChannelError):
        return "banned"
    return None


def restriction_text(entity: Any) -> str | None:
    """Telegram's restriction_reason of a Channel as "platform:reason: text; ..." (None when unrestricted)."""
    if entity is None or not getattr(entity, "restricted", False):
        return None
    parts = []
    for item in getattr(entity, "restriction_reason", None) or []:
        platform, reason = getattr(item, "platform", "") or "", getattr(item, "reason", "") or ""
        text = (getattr(item, "text", "") or "").strip()
        parts.append(f"{platform}:{reason}" + (f": {text}" if text else ""))
    return "; ".join(parts) or "restricted"


def link_preview(media: Any) -> LinkPreview | None:
    """Telegram's own preview of the post's link (title, site name) when it built one; never fetched."""
    if not isinstance(media, types.MessageMediaWebPage):
        return None
    page = media.webpage
    url = getattr(page, "url", None)
    if not isinstance(url, str) or not url:
        return None  # WebPageEmpty / WebPagePending: Telegram has nothing (yet)
    title, site = getattr(page, "title", None), getattr(page, "site_name", None)
    return LinkPreview(url=url, title=title if isinstance(title, str) and title else None,
                       site_name=site if isinstance(site, str) and site else None)


def _is_service(msg: Any) -> bool:
    return (
        isinstance(msg, types.MessageService | types.MessageEmpty) or getattr(msg, "action", None) is not None
    )


def _reactions_total(reactions: Any) -> int | None:
    if reactions is None:
        return None
    return sum(int(r.count) for r in (reactions.results or []))


def media_kind(media: Any) -> str | None:
    """The kind of a message's media by its TL class and document attributes; never downloads anything."""
    if media is None or isinstance(media, types.MessageMediaEmpty):
        return None
    if isinstance(media, types.MessageMediaDocument):
        doc = media.document
        attrs = list(getattr(doc, "attributes", None) or [])
        if any(isinstance(a, types.DocumentAttributeSticker) for a in attrs):
            return "sticker"
        for a in attrs:
            if isinstance(a, types.DocumentAttributeAudio):
                return "voice" if a.voice else "audio"
        if any(isinstance(a, types.DocumentAttributeAnimated) for a in attrs):
            return "gif"
        for a in attrs:
            if isinstance(a, types.DocumentAttributeVideo):
                return "video_note" if a.round_message else "video"
        return "document"
    return _MEDIA_KINDS.get(type(media).__name__, "other")


def _spans(text: str, entities: Any, media: Any) -> list[Span]:
    spans: list[Span] = []
    for ent in entities or []:
        if isinstance(ent, types.MessageEntityUrl):
            spans.append(Span("url", utf16_slice(text, ent.offset, ent.length)))
        elif isinstance(ent, types.MessageEntityTextUrl):
            spans.append(Span("text_url", utf16_slice(text, ent.offset, ent.length), ent.url))
        elif isinstance(ent, types.MessageEntityMention):
            spans.append(Span("mention", utf16_slice(text, ent.offset, ent.length)))
    if isinstance(media, types.MessageMediaWebPage):
        url = getattr(media.webpage, "url", None)
        if url:
            spans.append(Span("url", url))
    return spans


# -- session construction --------------------------------------------------------------------------


def _open_session(session: str | Path | None) -> Any:
    if session is None:
        return None  # Telethon's MemorySession
    if isinstance(session, str):
        return _string_session(session)
    path = Path(session).expanduser()
    if path.suffix != ".session":
        path = path.with_name(path.name + ".session")
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: the session directory does not exist")
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)  # an existing file may have been created wider
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the session file: {exc}") from exc
    return str(path)


_STRING_SESSION_HELP = (
    "MONITOR_SESSION (or session_string) is not a valid Telethon string session; set it to what"
    " `monitor login --print-string-session` prints, or unset it to use telegram.session_file"
)


def _string_session(value: str) -> StringSession:
    """A string session, or a ConfigError that never repeats the value (it would be the account's key)."""
    import base64
    import binascii

    text = value.strip()
    # StringSession.save(): version "1" + urlsafe base64 of dc id, address (4 or 16 bytes), port, 256-byte key.
    if not text.startswith("1") or len(text) < 300:
        raise ConfigError(_STRING_SESSION_HELP)
    try:
        raw = base64.urlsafe_b64decode(text[1:])
    except (binascii.Error, ValueError):
        raise ConfigError(_STRING_SESSION_HELP) from None
    if len(raw) not in (263, 275):
        raise ConfigError(_STRING_SESSION_HELP)
    try:
        return StringSession(text)
    except (ValueError, TypeError, binascii.Error):
        raise ConfigError(_STRING_SESSION_HELP) from None


def _apply_connection(session: Any, connection: Mapping[str, Any]) -> None:
    """Point the session at another MTProto endpoint and trust its RSA key (test servers, mirrors)."""
    from telethon.sessions import SQLiteSession

    try:
        dc_id, host, port = int(connection["dc_id"]), str(connection["host"]), int(connection["port"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"connection override needs dc_id, host and port: {exc}") from exc
    key_file = connection.get("rsa_key_file")
    if key_file:
        add_rsa_key(Path(key_file))  # before touching the session, so a bad key leaves nothing open
    if isinstance(session, MemorySession) and not isinstance(session, SQLiteSession):
        session.set_dc(dc_id, host, port)
        return
    # A path: write the DC into the file now; the client reads it back when it opens the session.
    sqlite_session = SQLiteSession(str(session))
    try:
        sqlite_session.set_dc(dc_id, host, port)
        sqlite_session.save()
    finally:
        sqlite_session.close()


def add_rsa_key(path: Path) -> int:
    """Trust one more server key (PEM, PKCS#1 or SubjectPublicKeyInfo); returns its fingerprint."""
    import rsa as pyrsa  # Telethon's own dependency
    from telethon.crypto import rsa as telethon_rsa

    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the RSA key: {exc}") from exc
    try:
        if b"BEGIN RSA PUBLIC KEY" in pem:
            key = pyrsa.PublicKey.load_pkcs1(pem)
            telethon_rsa.add_key(pem.decode("ascii"), old=False)  # the public way, for the usual form
        else:
            key = pyrsa.PublicKey.load_pkcs1_openssl_pem(pem)
            telethon_rsa.add_key(key.save_pkcs1().decode("ascii"), old=False)
    except (ValueError, IndexError, TypeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not an RSA public key in PEM form: {exc}") from exc
    return int(telethon_rsa._compute_fingerprint(key))
