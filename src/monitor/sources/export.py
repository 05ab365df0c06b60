"""Telegram Desktop export reader: ``result.json`` of one chat or of a whole account -> (Channel, Post).

Facts it relies on (Telegram Desktop's JSON serializer; shared/docs/telegram-notes.md §2):

* ``date`` is the exporting machine's *local* time with no offset; ``date_unixtime``
  (a decimal string of UTC epoch seconds) is the truth. Old exports have only
  ``date``: it is then read in ``assume_tz`` (UTC unless told), and that guess is
  the caller's to make, because the file does not say where it was made.
* ``text`` is a string or a mixed array of strings and ``{"type", "text"}``
  objects; ``text_entities`` is the same content as a flat array and is used
  for links and mentions.
* ``edited`` means "touched": the server also marks a message edited on its
  first reaction, so ``edited_at`` is set but nothing claims the text changed.
* service and ``unsupported`` messages are skipped; views are not exported.

Why it parses the whole file before yielding anything: a truncated or corrupt
export must fail with `ImportFormatError` before a single post reaches the
store, so an import is all or nothing. Memory is the price (the standard
library has no streaming JSON parser); exports of a few hundred MB are fine.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from monitor.errors import ImportFormatError
from monitor.models import Channel, ForwardOrigin, Post
from monitor.sources.links import Span, extract

CHANNEL_TYPES = frozenset({"public_channel", "private_channel"})
CHAT_TYPES = frozenset(
    {
        "personal_chat",
        "bot_chat",
        "private_group",
        "private_supergroup",
        "public_supergroup",
        "private_channel",
        "public_channel",
        "saved_messages",
        "replies",
    }
)
_MEDIA_TYPES: Mapping[str, str] = {
    "sticker": "sticker",
    "video_message": "video_note",
    "voice_message": "voice",
    "animation": "gif",
    "video_file": "video",
    "audio_file": "audio",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportChat:
    """One chat of an export, with where it sits in the file (for error messages)."""

    channel: Channel
    chat_type: str
    where: str
    messages: list[Any]


class ExportFile:
    """A parsed and checked export; `records()` yields (Channel, Post) oldest file order first."""

    def __init__(
        self,
        path: str | Path,
        *,
        assume_tz: tzinfo = UTC,
        chat_types: Collection[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self._tz = assume_tz
        self._types = frozenset(chat_types) if chat_types is not None else None
        root = _load(self.path)
        self.chats: list[ExportChat] = [c for c in self._chats(root) if self._wanted(c.chat_type)]
        # Check every message now, so a bad one fails the import before anything is stored.
        self.post_count = sum(1 for _ in self._posts())

    def records(self) -> Iterator[tuple[Channel, Post]]:
        return self._posts()

    def _wanted(self, chat_type: str) -> bool:
        return self._types is None or chat_type in self._types

    def _posts(self) -> Iterator[tuple[Channel, Post]]:
        for chat in self.chats:
            for i, msg in enumerate(chat.messages):
                post = self._post(chat, msg, f"{chat.where}.messages[{i}]")
                if post is not None:
                    yield chat.channel, post

    # -- structure --------------------------------------------------------------------------------

    def _chats(self, root: Any) -> Iterator[ExportChat]:
        if not isinstance(root, dict):
            raise self._error("", f"the top level is a JSON {_kind(root)}, not an object")
        if "messages" in root:
            yield self._chat(root, "")
            return
        found = False
        for section in ("chats", "left_chats"):
            block = root.get(section)
            if block is None:
                continue
            if not isinstance(block, dict) or not isinstance(block.get("list"), list):
                raise self._error(section, "expected an object with a 'list' array")
            found = True
            for i, chat in enumerate(block["list"]):
                yield self._chat(chat, f"{section}.list[{i}]")
        if not found:
            raise self._error(
                "",
                "not a Telegram Desktop export: expected 'messages' (one chat) or 'chats.list' "
                "(whole account) at the top level",
            )

    def _chat(self, obj: Any, where: str) -> ExportChat:
        if not isinstance(obj, dict):
            raise self._error(where, f"expected a chat object, got a {_kind(obj)}")
        messages = obj.get("messages")
        if not isinstance(messages, list):
            raise self._error(_join(where, "messages"), f"expected an array, got {_kind(messages)}")
        chat_id = obj.get("id")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise self._error(_join(where, "id"), f"expected an integer chat id, got {chat_id!r}")
        chat_type = obj.get("type", "")
        if not isinstance(chat_type, str):
            raise self._error(_join(where, "type"), f"expected a string, got {_kind(chat_type)}")
        name = obj.get("name")
        return ExportChat(
            channel=Channel(id=abs(chat_id), username=None, title=name if isinstance(name, str) else ""),
            chat_type=chat_type,
            where=where,
            messages=messages,
        )

    # -- messages ---------------------------------------------------------------------------------

    def _post(self, chat: ExportChat, msg: Any, where: str) -> Post | None:
        if not isinstance(msg, dict):
            raise self._error(where, f"expected a message object, got a {_kind(msg)}")
        kind = msg.get("type", "message")
        if kind != "message":
            return None  # service, unsupported
        mid = msg.get("id")
        if isinstance(mid, bool) or not isinstance(mid, int) or mid <= 0:
            raise self._error(_join(where, "id"), f"expected a positive integer, got {mid!r}")
        text, array_spans = self._text(msg.get("text", ""), _join(where, "text"))
        spans = self._entities(msg.get("text_entities"), _join(where, "text_entities"))
        links, mentions = extract(text, spans if spans is not None else array_spans)
        return Post(
            channel_id=chat.channel.id,
            message_id=mid,
            posted_at=self._when(msg, "date", where, required=True),  # type: ignore[arg-type]
            text=text,
            edited_at=self._when(msg, "edited", where, required=False),
            edit_hidden=False,
            reactions=self._reactions(msg.get("reactions"), _join(where, "reactions")),
            forward=self._forward(msg),
            reply_to_id=_opt_int(msg.get("reply_to_message_id")),
            media_kind=_media_kind(msg),
            author=msg.get("author") if isinstance(msg.get("author"), str) else None,
            links=links,
            mentions=mentions,
        )

    def _when(self, msg: Mapping[str, Any], field: str, where: str, *, required: bool) -> datetime | None:
        unix = msg.get(f"{field}_unixtime")
        if unix is not None:
            try:
                return datetime.fromtimestamp(int(unix), UTC)
            except (TypeError, ValueError, OverflowError, OSError) as exc:
                raise self._error(_join(where, f"{field}_unixtime"), f"{unix!r} is not a Unix time") from exc
        local = msg.get(field)
        if local is None:
            if required:
                raise self._error(where, f"has neither {field}_unixtime nor {field}")
            return None
        try:
            parsed = datetime.fromisoformat(str(local))
        except ValueError as exc:
            raise self._error(_join(where, field), f"{local!r} is not an ISO date") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self._tz)
        return parsed.astimezone(UTC)

    def _text(self, value: Any, where: str) -> tuple[str, list[Span]]:
        if value is None:
            return "", []
        if isinstance(value, str):
            return value, []
        if not isinstance(value, list):
            raise self._error(where, f"expected a string or an array, got {_kind(value)}")
        parts: list[str] = []
        spans: list[Span] = []
        for i, part in enumerate(value):
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text", ""), str):
                parts.append(part.get("text", ""))
                span = _span(part)
                if span is not None:
                    spans.append(span)
            else:
                raise self._error(f"{where}[{i}]", f"expected a string or a text object, got {_kind(part)}")
        return "".join(parts), spans

    def _entities(self, value: Any, where: str) -> list[Span] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            raise self._error(where, f"expected an array, got {_kind(value)}")
        spans: list[Span] = []
        for i, ent in enumerate(value):
            if not isinstance(ent, dict):
                raise self._error(f"{where}[{i}]", f"expected an entity object, got {_kind(ent)}")
            span = _span(ent)
            if span is not None:
                spans.append(span)
        return spans

    def _reactions(self, value: Any, where: str) -> int | None:
        if value is None:
            return None
        if not isinstance(value, list):
            raise self._error(where, f"expected an array, got {_kind(value)}")
        total = 0
        for i, r in enumerate(value):
            count = r.get("count") if isinstance(r, dict) else None
            if isinstance(count, bool) or not isinstance(count, int):
                raise self._error(f"{where}[{i}].count", f"expected an integer, got {count!r}")
            total += count
        return total

    @staticmethod
    def _forward(msg: Mapping[str, Any]) -> ForwardOrigin | None:
        if "forwarded_from" not in msg and "forwarded_from_id" not in msg:
            return None
        name = msg.get("forwarded_from")
        fid = msg.get("forwarded_from_id")
        channel_id = None
        if isinstance(fid, str) and fid.startswith("channel") and fid[7:].isdigit():
            channel_id = int(fid[7:])
        return ForwardOrigin(channel_id=channel_id, name=name if isinstance(name, str) else None)

    def _error(self, where: str, message: str) -> ImportFormatError:
        return ImportFormatError(f"{self.path}: {where + ': ' if where else ''}{message}")


def read_export(
    path: str | Path,
    *,
    assume_tz: tzinfo = UTC,
    chat_types: Collection[str] | None = None,
) -> Iterator[tuple[Channel, Post]]:
    """Check the whole export, then yield its posts; ImportFormatError (before any yield) if it is bad."""
    return ExportFile(path, assume_tz=assume_tz, chat_types=chat_types).records()


def _load(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read the export: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise ImportFormatError(f"{path}: the file is empty; expected Telegram Desktop's result.json")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3:
            raise ImportFormatError(f"{path}: the file ends inside a character (truncated?)") from exc
        raise ImportFormatError(f"{path}: not UTF-8 text, so not a Telegram Desktop export") from exc
    del raw
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at_end = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
        hint = " (the file looks truncated)" if at_end else ""
        raise ImportFormatError(
            f"{path}: corrupt JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}"
        ) from exc
    except RecursionError as exc:
        raise ImportFormatError(f"{path}: JSON nested too deeply to be an export") from exc


def _span(ent: Mapping[str, Any]) -> Span | None:
    kind, text = ent.get("type"), ent.get("text")
    if not isinstance(text, str):
        return None
    if kind == "link":
        return Span("url", text)
    if kind == "text_link" and isinstance(ent.get("href"), str):
        return Span("text_url", text, ent["href"])
    if kind == "mention":
        return Span("mention", text)
    return None


def _media_kind(msg: Mapping[str, Any]) -> str | None:
    if "photo" in msg:
        return "photo"
    media_type = msg.get("media_type")
    if isinstance(media_type, str):
        return _MEDIA_TYPES.get(media_type, media_type)
    if "poll" in msg:
        return "poll"
    if "location_information" in msg:
        return "venue" if "place_name" in msg else "geo"
    if "contact_information" in msg:
        return "contact"
    if "game_title" in msg:
        return "game"
    if "invoice_information" in msg:
        return "invoice"
    if "file" in msg:
        return "document"
    return None


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _kind(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        int: "number",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
