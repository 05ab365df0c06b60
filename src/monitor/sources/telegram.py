"""TelethonSource: Telegram through Telethon's high-level API, turned into `Post` records.

This is the only module of the package that imports Telethon (the fake client
aside). Telethon objects never leave it: messages become `Post`, and Telethon
errors become `monitor.errors` types, raised ``from`` the original.

Why it pages by hand instead of one long ``iter_messages``: each request is one
call of at most ``page_size`` (<= 100) messages, so the global request budget
is awaited before every request Telegram sees, and Telethon's own 1 s
``wait_time`` sleep for long iterations never applies. It uses only
``get_entity``, ``iter_messages`` and ``get_messages(ids=...)``, which behave
the same from Telethon 1.39 to the newest 1.x.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from telethon import TelegramClient, errors, utils
from telethon.sessions import MemorySession, StringSession
from telethon.tl import types

from monitor.clock import Clock, SystemClock, to_utc
from monitor.errors import (
    ChannelUnavailable,
    ConfigError,
    FloodWait,
    SourceConnectionError,
    SourceError,
    UnavailableReason,
)
from monitor.models import Channel, ChannelRef, ForwardOrigin, Post
from monitor.sources.links import Span, extract, utf16_slice

RequestBudget = Callable[[], Awaitable[None]]
FloodScope = Literal["channel", "account"]
MAX_PAGE = 100  # GetHistory's hard cap

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
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE}, got {page_size}")
        self._client = client
        self._clock = clock
        self._page = page_size
        self._budget = request_budget
        self._flood_scope: FloodScope = flood_scope
        self._titles: dict[int, str] = {}  # channel id -> title, from everything resolved so far
        self._blocked: dict[str, datetime] = {}  # "account" / "channel:<id>" -> end of a flood wait

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
    ) -> TelethonSource:
        """Build a real, not yet connected TelegramClient; never logs in, signs up, joins or posts.

        ``session`` is a path (``.session`` is appended like Telethon does; the
        file is created 0600 because it holds the account's auth key), a
        StringSession string, or None for an in-memory session.
        ``connection`` overrides the endpoint: ``{dc_id, host, port, rsa_key_file}``.
        ``flood_sleep_threshold`` defaults to 0 so every flood wait reaches the
        daemon, which parks the channel instead of Telethon sleeping inside a poll.
        """
        sess = _open_session(session)
        if connection:
            if sess is None:
                sess = MemorySession()
            _apply_connection(sess, connection)
        client = TelegramClient(
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
        return cls(client, clock=clock or SystemClock(), page_size=page_size, request_budget=request_budget)

    @property
    def client(self) -> Any:
        return self._client

    # -- Source -----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._client.is_connected():
            return
        with self._translate("connect", None):
            await self._client.connect()
            authorized = await self._client.is_user_authorized()
        if not authorized:
            raise ConfigError(
                "the Telegram session is not logged in; log in once interactively "
                "(the collector never signs in or up by itself)"
            )

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
            await self._client.connect()
            if await self._client.is_user_authorized():
                return False
            await self._client.start(phone=phone, code_callback=code, password=password)
        except (ConnectionError, OSError) as exc:
            raise SourceConnectionError(f"cannot reach Telegram to log in: {exc}") from exc
        except (errors.RPCError, RuntimeError, ValueError) as exc:  # bad phone or code, too many attempts
            raise SourceError(f"login failed: {exc}") from exc
        return True

    def string_session(self) -> str:
        """The logged-in session as a string, for MONITOR_SESSION (keep it secret: it is the account)."""
        return str(StringSession.save(self._client.session))

    async def close(self) -> None:
        with suppress(ConnectionError, OSError):  # already gone; the session is released either way
            await self._client.disconnect()

    async def resolve(self, ref: ChannelRef, known: Channel | None = None) -> Channel:
        if known is not None and known.access_hash is not None:
            self._titles[known.id] = known.title
            return known  # id + access hash is all a request needs; no ResolveUsername
        target: Any
        if ref.username:
            target = ref.username
        elif ref.channel_id is not None or (known is not None):
            target = types.PeerChannel(ref.channel_id if ref.channel_id is not None else known.id)  # type: ignore[union-attr]
        else:
            raise ChannelUnavailable("invalid", f"{ref.key}: neither a username nor an id")
        await self._spend(None)
        with self._translate(ref.key, None):
            entity = await self._client.get_entity(target)
        if isinstance(entity, types.ChannelForbidden):
            raise ChannelUnavailable("private", f"{ref.key}: access to the channel is forbidden")
        if not isinstance(entity, types.Channel):
            raise ChannelUnavailable("invalid", f"{ref.key}: a {type(entity).__name__}, not a channel")
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
            await self._spend(channel.id)
            with self._translate(channel.username or str(channel.id), channel.id):
                msgs = await self._client.get_messages(peer, ids=chunk)
            for msg in msgs:
                if msg is not None and not _is_service(msg):
                    out.append(self.to_post(msg, channel.id))
        return out

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
                    raise FloodWait(math.ceil((until - now).total_seconds()), scope=scope)  # type: ignore[arg-type]
                del self._blocked[key]
        if self._budget is not None:
            await self._budget()

    @contextmanager
    def _translate(self, what: str, channel_id: int | None) -> Iterator[None]:
        """Telethon and socket errors -> monitor.errors, so callers handle one family."""
        try:
            yield
        except errors.FloodError as exc:
            seconds = max(int(getattr(exc, "seconds", 0) or 0), 1)
            scope: FloodScope = "channel" if isinstance(exc, errors.SlowModeWaitError) else self._flood_scope
            if scope == "account":
                key = "account"
            else:
                key = f"channel:{channel_id}" if channel_id is not None else "resolve"
            until = self._clock.now() + timedelta(seconds=seconds)
            self._blocked[key] = max(until, self._blocked.get(key, until))
            raise FloodWait(seconds, scope=scope) from exc
        except ValueError as exc:
            if "unsuccessful" in str(exc):  # Telethon gave up retrying internal server errors
                raise SourceConnectionError(f"Telegram kept failing: {exc}") from exc
            # Telethon: no such username, or an id that is not in the session cache
            raise ChannelUnavailable("not_found", f"{what}: {exc}") from exc
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
            raise SourceConnectionError(f"connection to Telegram lost: {exc}") from exc


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
    if isinstance(session, str) and _looks_like_string_session(session):
        try:
            return StringSession(session)
        except ValueError as exc:
            raise ConfigError(f"the string session cannot be decoded: {exc}") from exc
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


def _looks_like_string_session(value: str) -> bool:
    # StringSession.save(): "1" + urlsafe base64 of >= 263 bytes; a path is never that.
    return value.startswith("1") and len(value) > 300 and "/" not in value and os.sep not in value


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
