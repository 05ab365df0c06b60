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

How it reads (docs/import.md): the file is *streamed* with ijson (its C backend,
yajl2_c, when installed), one message object at a time, so memory stays bounded
whatever the export's size (an account export can be several GB). It is read
twice: opening an `ExportFile` checks every message of every chat (structure,
types, dates within Telegram's lifetime, integers within 64 bits) without keeping
any of them, so a bad export fails with `ImportFormatError` before anything
reaches the store; `records()` then streams the file again and builds each post
once. If the file changes between the two passes, the second pass raises the same
error where it finds the problem; an import that stops part-way (that, or a kill)
is resumed by running it again: saving is idempotent per (channel, message id).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any

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
# Telegram launched in August 2013: an earlier date is a broken or forged export.
EARLIEST = datetime(2013, 8, 1, tzinfo=UTC)
# How far past the importing machine's clock a date may be (clock skew between machines).
FUTURE_SKEW = timedelta(days=1)
INT64_MAX = (1 << 63) - 1
_CHUNK = 1 << 16
_CHAT_PREFIXES = ("chats.list.item", "left_chats.list.item")

Progress = Callable[[int, int], None]  # (bytes read so far, file size)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportChat:
    """One chat of an export, with where it sits in the file (for error messages)."""

    channel: Channel
    chat_type: str
    where: str
    messages: int  # message objects in the file (services included)
    posts: int  # of which posts


def export_path(path: str | Path) -> Path:
    """The JSON file to read: ``path`` itself, or ``result.json`` inside an export folder."""
    path = Path(path)
    if path.is_dir():
        found = path / "result.json"
        if not found.is_file():
            raise ImportFormatError(f"{path}: a folder without result.json; give the export's result.json")
        return found
    return path


class ExportFile:
    """A checked export; `records()` streams (Channel, Post) in file order.

    Opening it reads the whole file once to check it (bounded memory); ``on_progress``
    is called with (bytes read, file size) during both passes.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        assume_tz: tzinfo = UTC,
        chat_types: Collection[str] | None = None,
        now: datetime | None = None,
        on_progress: Progress | None = None,
    ) -> None:
        self.path = export_path(path)
        self._tz = assume_tz
        self._types = frozenset(chat_types) if chat_types is not None else None
        self._latest = (now or datetime.now(UTC)) + FUTURE_SKEW
        self._progress = on_progress
        self.size = _check_readable(self.path)
        all_chats: list[ExportChat] = []
        count = posts = 0
        for head, where, msg in self._walk():
            if where is None:  # the chat's object is complete
                head.check(self)
                all_chats.append(_finish(head, count, posts))
                count = posts = 0
                continue
            count += 1
            if self._post(None, msg, where) is not None:
                posts += 1
        self._all = all_chats
        self.chats: list[ExportChat] = [c for c in all_chats if self._wanted(c.chat_type)]
        self.post_count = sum(c.posts for c in self.chats)

    def records(self) -> Iterator[tuple[Channel, Post]]:
        """Stream the file again, building each wanted post once."""
        for head, where, msg in self._walk():
            if where is None or head.index >= len(self._all):
                continue
            chat = self._all[head.index]
            if not self._wanted(chat.chat_type):
                continue
            post = self._post(chat, msg, where)
            if post is not None:
                yield chat.channel, post

    def _wanted(self, chat_type: str) -> bool:
        return self._types is None or chat_type in self._types

    # -- the streaming walk -----------------------------------------------------------------------------

    def _walk(self) -> Iterator[tuple[_ChatHead, str | None, Any]]:
        """(chat, where, message) per message in file order, then (chat, None, None) once its object ends."""
        import ijson  # type: ignore[import-untyped]  # ijson ships no type information

        with self.path.open("rb") as raw:
            reader = _Reader(raw, self.size, self._progress)
            events = ijson.parse(reader, use_float=True, buf_size=_CHUNK)
            try:
                yield from self._root(events)
            except ijson.JSONError as exc:
                raise self._json_error(exc, reader) from exc

    def _root(self, events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[_ChatHead, str | None, Any]]:
        first = next(events, None)
        if first is None:
            raise self._error("", "the file is empty; expected Telegram Desktop's result.json")
        if first[1] != "start_map":
            raise self._error("", f"the top level is {_event_kind(first[1])}, not an object")
        root_fields: dict[str, tuple[str, Any]] = {}
        root: _ChatHead | None = None
        sections: dict[str, bool] = {}  # "chats"/"left_chats" -> has its 'list' array been seen
        counters = dict.fromkeys(_CHAT_PREFIXES, 0)
        index = 0
        for prefix, event, value in events:
            if prefix == "":
                if event == "end_map":
                    break
                if value == "messages" and root is None:  # a one-chat export: the root is the chat
                    root = _ChatHead("", index, root_fields)
                    index += 1
                    yield from self._messages(events, root, "messages")
                elif value in ("chats", "left_chats"):
                    sections[value] = False
            elif prefix in ("id", "type", "name"):
                root_fields[prefix] = (event, value)
            elif prefix in sections:
                if event not in ("start_map", "map_key") and not (event == "end_map" and sections[prefix]):
                    raise self._error(prefix, "expected an object with a 'list' array")
            elif prefix.endswith(".list") and prefix[:-5] in sections:
                if event == "start_array":
                    sections[prefix[:-5]] = True
                elif event != "end_array":
                    raise self._error(prefix[:-5], "expected an object with a 'list' array")
            elif prefix in counters:
                where = f"{prefix[:-10]}.list[{counters[prefix]}]"
                counters[prefix] += 1
                if event != "start_map":
                    raise self._error(where, f"expected a chat object, got {_event_kind(event)}")
                head = _ChatHead(where, index, {})
                index += 1
                yield from self._chat(events, prefix, head)
        if root is not None:
            yield root, None, None
        elif not sections:
            raise self._error(
                "",
                "not a Telegram Desktop export: expected 'messages' (one chat) or 'chats.list' "
                "(whole account) at the top level",
            )

    def _chat(self, events: Iterator[tuple[str, str, Any]], prefix: str,
              head: _ChatHead) -> Iterator[tuple[_ChatHead, str | None, Any]]:
        fields = {f"{prefix}.id": "id", f"{prefix}.type": "type", f"{prefix}.name": "name"}
        saw_messages = False
        for p, event, value in events:
            if p == prefix:
                if event == "end_map":
                    break
                if value == "messages":
                    saw_messages = True
                    yield from self._messages(events, head, f"{prefix}.messages")
                continue
            key = fields.get(p)
            if key is not None:
                head.values[key] = (event, value)
        if not saw_messages:
            raise self._error(_join(head.where, "messages"), "expected an array, got nothing")
        yield head, None, None

    def _messages(self, events: Iterator[tuple[str, str, Any]], head: _ChatHead,
                  prefix: str) -> Iterator[tuple[_ChatHead, str | None, Any]]:
        """Each message object of the array at ``prefix``, built one at a time."""
        import ijson

        where = _join(head.where, "messages")
        _p, event, _v = next(events)
        if event != "start_array":
            raise self._error(where, f"expected an array, got {_event_kind(event)}")
        i = 0
        for _p, event, value in events:
            if event == "end_array":
                return
            if event == "start_map" or event == "start_array":
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth = 1
                for _p2, ev, val in events:
                    builder.event(ev, val)
                    if ev == "start_map" or ev == "start_array":
                        depth += 1
                    elif ev == "end_map" or ev == "end_array":
                        depth -= 1
                        if depth == 0:
                            break
                yield head, f"{where}[{i}]", builder.value
            else:
                yield head, f"{where}[{i}]", value
            i += 1

    # -- messages -----------------------------------------------------------------------------------------

    def _post(self, chat: ExportChat | None, msg: Any, where: str) -> Post | None:
        """The post of a message (None for service messages); with no chat, only check it."""
        if not isinstance(msg, dict):
            raise self._error(where, f"expected a message object, got a {_kind(msg)}")
        kind = msg.get("type", "message")
        if kind != "message":
            return None  # service, unsupported
        mid = msg.get("id")
        if isinstance(mid, bool) or not isinstance(mid, int) or mid <= 0:
            raise self._error(_join(where, "id"), f"expected a positive integer, got {mid!r}")
        self._int64(mid, where, "id", mid)
        text, array_spans = self._text(msg.get("text", ""), _join(where, "text"))
        spans = self._entities(msg.get("text_entities"), _join(where, "text_entities"))
        posted_at = self._when(msg, "date", where, mid, required=True)
        edited_at = self._when(msg, "edited", where, mid, required=False)
        reactions = self._reactions(msg.get("reactions"), _join(where, "reactions"), mid)
        reply_to = _opt_int(msg.get("reply_to_message_id"))
        if reply_to is not None:
            self._int64(reply_to, where, "reply_to_message_id", mid)
        forward = self._forward(msg, where, mid)
        if chat is None:
            return _CHECKED
        links, mentions = extract(text, spans if spans is not None else array_spans)
        return Post(
            channel_id=chat.channel.id,
            message_id=mid,
            posted_at=posted_at,  # type: ignore[arg-type]  # posted_at was checked above (_CHECKED returned when it is None); mypy cannot follow it
            text=text,
            edited_at=edited_at,
            edit_hidden=False,
            reactions=reactions,
            forward=forward,
            reply_to_id=reply_to,
            media_kind=_media_kind(msg),
            author=msg.get("author") if isinstance(msg.get("author"), str) else None,
            links=links,
            mentions=mentions,
        )

    def _int64(self, value: int, where: str, field: str, mid: int) -> None:
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise self._error(_join(where, field), f"message {mid}: integer {value} does not fit in 64 bits")

    def _when(self, msg: Mapping[str, Any], field: str, where: str, mid: int, *, required: bool) -> datetime | None:
        unix = msg.get(f"{field}_unixtime")
        if unix is not None:
            try:
                seconds = int(unix)
                value = datetime.fromtimestamp(seconds, UTC)
            except (TypeError, ValueError, OverflowError, OSError) as exc:
                raise self._error(_join(where, f"{field}_unixtime"), f"{unix!r} is not a Unix time") from exc
            return self._in_range(value, _join(where, f"{field}_unixtime"), mid)
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
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError as exc:
            raise self._error(_join(where, field), f"{local!r} is out of range") from exc
        return self._in_range(parsed, _join(where, field), mid)

    def _in_range(self, value: datetime, where: str, mid: int) -> datetime:
        if value < EARLIEST:
            raise self._error(where, f"message {mid}: {value:%Y-%m-%d} is before Telegram existed (August 2013)")
        if value > self._latest:
            raise self._error(where, f"message {mid}: {value:%Y-%m-%d %H:%M} UTC is in the future")
        return value

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

    def _reactions(self, value: Any, where: str, mid: int) -> int | None:
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
        self._int64(total, where, "count", mid)
        return total

    def _forward(self, msg: Mapping[str, Any], where: str, mid: int) -> ForwardOrigin | None:
        if "forwarded_from" not in msg and "forwarded_from_id" not in msg:
            return None
        name = msg.get("forwarded_from")
        fid = msg.get("forwarded_from_id")
        channel_id = None
        if isinstance(fid, str) and fid.startswith("channel") and fid[7:].isdigit():
            channel_id = int(fid[7:])
            self._int64(channel_id, where, "forwarded_from_id", mid)
        return ForwardOrigin(channel_id=channel_id, name=name if isinstance(name, str) else None)

    # -- errors ---------------------------------------------------------------------------------------------

    def _error(self, where: str, message: str) -> ImportFormatError:
        return ImportFormatError(f"{self.path}: {where + ': ' if where else ''}{message}")

    def _json_error(self, exc: Exception, reader: _Reader) -> ImportFormatError:
        detail = str(exc)
        if detail.startswith("b'") or detail.startswith('b"'):
            detail = detail[2:-1].encode().decode("unicode_escape", "replace")
        first = detail.strip().splitlines()[0] if detail.strip() else "invalid JSON"
        first = first.removeprefix("parse error: ").removeprefix("lexical error: ").rstrip(".")
        offset = _error_offset(detail, reader)
        line, column = _line_column(self.path, offset)
        if "integer overflow" in first:
            return self._error("", f"an integer beyond 64 bits at line {line}, column {column}")
        if "invalid bytes in UTF8" in first:
            return self._error("", f"not UTF-8 text at line {line}, column {column}")
        truncated = "premature EOF" in first or reader.at_end and "premature" in detail
        hint = " (the file looks truncated)" if truncated else ""
        return self._error("", f"corrupt JSON at line {line}, column {column}: {first}{hint}")


_CHECKED: Any = object()  # what _post returns for a checked post when not building


class _ChatHead:
    """A chat's id, type and name as the walk meets them (they may come after its messages)."""

    def __init__(self, where: str, index: int, values: dict[str, tuple[str, Any]]) -> None:
        self.where = where
        self.index = index
        self.values = values  # field -> (ijson event, value)

    def check(self, export: ExportFile) -> None:
        event, chat_id = self.values.get("id", ("null", None))
        if event != "number" or isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise export._error(_join(self.where, "id"), f"expected an integer chat id, got {_shown(event, chat_id)}")
        if not -INT64_MAX - 1 <= chat_id <= INT64_MAX:
            raise export._error(_join(self.where, "id"), f"chat id {chat_id} does not fit in 64 bits")
        event, chat_type = self.values.get("type", ("string", ""))
        if event != "string":
            raise export._error(_join(self.where, "type"), f"expected a string, got {_event_kind(event)}")


def _shown(event: str, value: Any) -> str:
    return repr(value) if event in ("number", "string", "null", "boolean") else _event_kind(event)


def _finish(head: _ChatHead, messages: int, posts: int) -> ExportChat:
    chat_id = head.values["id"][1]
    name = head.values.get("name", ("null", None))
    return ExportChat(
        channel=Channel(id=abs(chat_id), username=None, title=name[1] if name[0] == "string" else ""),
        chat_type=head.values.get("type", ("string", ""))[1],
        where=head.where,
        messages=messages,
        posts=posts,
    )


class _Reader:
    """The file as ijson reads it: a UTF-8 BOM skipped, progress reported, the last chunk kept for errors."""

    def __init__(self, raw: IO[bytes], size: int, progress: Progress | None) -> None:
        self._raw = raw
        self._size = size
        self._progress = progress
        self.done = 0
        self.last = b""
        self.at_end = False
        head = raw.read(3)
        if head != b"\xef\xbb\xbf":
            self._pending = head
        else:
            self._pending = b""
            self.done = 3

    def read(self, n: int = -1) -> bytes:
        if n == 0:
            return b""  # ijson probes the type with read(0)
        data = self._pending + self._raw.read(max(n - len(self._pending), 1) if n > 0 else -1)
        self._pending = b""
        self.last_start = self.done
        self.done += len(data)
        self.last = data
        if not data:
            self.at_end = True
        if self._progress is not None:
            self._progress(self.done, self._size)
        return data


def _check_readable(path: Path) -> int:
    """The file's size after cheap checks: readable, not empty, and starting as UTF-8 text."""
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(4096)
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read the export: {exc.strerror or exc}") from exc
    if not head.removeprefix(b"\xef\xbb\xbf").strip():
        raise ImportFormatError(f"{path}: the file is empty; expected Telegram Desktop's result.json")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3 or len(head) < 4096:
            if exc.start >= len(head) - 3 and len(head) == size:
                raise ImportFormatError(f"{path}: the file ends inside a character (truncated?)") from exc
            raise ImportFormatError(f"{path}: not UTF-8 text, so not a Telegram Desktop export") from exc
    return size


def _error_offset(detail: str, reader: _Reader) -> int:
    """Byte offset of a parse error: yajl shows the text around it; find that text in the last chunk."""
    lines = detail.splitlines()
    if reader.at_end and "premature EOF" in detail:
        return reader.done
    if len(lines) >= 3 and "(right here)" in lines[2]:
        snippet_line = lines[1]
        caret = lines[2].index("^")
        snippet = snippet_line.strip().encode("utf-8", "replace")
        at = reader.last.find(snippet)
        if snippet and at >= 0:
            indent = len(snippet_line) - len(snippet_line.lstrip())
            return getattr(reader, "last_start", 0) + at + max(0, caret - indent)
    return reader.done


def _line_column(path: Path, offset: int) -> tuple[int, int]:
    """1-based line and column of a byte offset, counted by streaming the file again."""
    line, last_nl, done = 1, -1, 0
    try:
        with path.open("rb") as fh:
            while done < offset:
                chunk = fh.read(min(_CHUNK * 16, offset - done))
                if not chunk:
                    break
                count = chunk.count(b"\n")
                if count:
                    line += count
                    last_nl = done + chunk.rfind(b"\n")
                done += len(chunk)
    except OSError:
        pass
    return line, max(1, offset - last_nl)


def read_export(
    path: str | Path,
    *,
    assume_tz: tzinfo = UTC,
    chat_types: Collection[str] | None = None,
) -> Iterator[tuple[Channel, Post]]:
    """Check the whole export, then yield its posts; ImportFormatError (before any yield) if it is bad."""
    return ExportFile(path, assume_tz=assume_tz, chat_types=chat_types).records()


def _event_kind(event: str) -> str:
    return {"start_map": "an object", "start_array": "an array", "string": "a string", "null": "null",
            "boolean": "a boolean", "number": "a number", "end_map": "nothing"}.get(event, event)


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
