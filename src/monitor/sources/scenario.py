"""Scenario files: a scripted Telegram for the fake client, the demo and the daemon tests.

Pure: JSON in, frozen dataclasses out; no Telethon here, so the demo corpus and
the daemon tests can read a scenario without the fake. The format
(``"format": "monitor-scenario/1"``)::

    {"format": "monitor-scenario/1",
     "channels": [{
        "id": 1001,                      # bare positive channel id
        "username": "ozod_sado",         # null for a channel without a public name
        "title": "Ozod Sado",
        "access_hash": 111,              # optional, default derived from id
        "status": "ok",                  # ok | private | banned | not_found | invalid | forbidden
                                         # (forbidden: the username resolves to ChannelForbidden)
        "kind": "channel",               # channel | megagroup | gigagroup | user | bot: what the
                                         # username resolves to (only a channel can be collected)
        "subscribers": 1200,             # optional: GetFullChannel's participants_count (null: not said)
        "about": "...",                  # optional: the channel's description
        "ttl_period": 86400,             # optional: the auto-delete timer in seconds
        "restriction": [{"platform": "all", "reason": "terms", "text": "..."}],
                                         # optional: Telegram's restriction_reason (restricted=True)
        "similar": [1002, 1003],         # optional: ids of the channels Telegram recommends as similar
                                         # to this one (channels.getChannelRecommendations)
        "changes": [{"at": "2024-03-01T00:00:00Z", "status": "forbidden"}],
                                         # optional: from ``at`` on, any of status, username, title,
                                         # subscribers, about, ttl_period, restriction take new values
                                         # (a takedown, a return, a rename, a freed username)
        "messages": [{
           "id": 1,
           "date": "2024-01-03T08:15:00Z",           # ISO 8601 with offset (or Z); UTC assumed if none
           "text": "...",                            # links/@names in it become real entities
           "media": null,                            # null or one of MEDIA_KINDS (photo, video, poll...)
           "views": [[0, 10], [24, 300], [168, 800]],  # [hours after date, value] or a plain int
           "forwards": [[0, 0], [48, 12]],           # same shape as views
           "replies": 2,
           "reactions": {"👍": 5, "🔥": 2},
           "fwd_from": {"channel_id": 1002, "message_id": 5, "date": "...", "name": "..."},
                                                     # or {"name": "Hidden User"} for a hidden user
           "reply_to": 3, "grouped_id": 77, "post_author": "...",
           "service": false,                         # true: a service message (pinned, created...)
           "edits": [{"at": "2024-01-03T09:00:00Z", "text": "...", "hide": false}],
                                                     # text omitted = unchanged (a reaction "edit")
           "deleted_at": null,
           "withheld": false,                        # true: never served (e.g. withheld by local law),
                                                     # so GetHistory answers with a short page
           "preview": {"url": "...", "title": "...", "site_name": null}}]}],
                                                     # Telegram's link preview (MessageMediaWebPage)

     "faults": [{"method": "iter_messages",          # iter_messages|get_messages|get_entity|get_input_entity
                                                     # |connect|is_user_authorized
                 "channel": "ozod_sado",             # username or id; omitted = any channel
                 "nth": 3,                           # the nth request of that method (for that channel),
                                                     # 1-based; each page of <= 100 messages is one request
                 "error": "flood_wait",              # flood_wait|private|not_found|invalid|banned|disconnect
                                                     # |slow_mode|flood_premium (with seconds)
                                                     # |server_error|timed_out|rpc_call_fail|unsuccessful
                                                     # |garbage (the endpoint stops speaking MTProto)
                                                     # |auth_key_unregistered|session_revoked
                                                     # |auth_key_duplicated|user_deactivated
                                                     # |user_deactivated_ban (these also log the
                                                     # session out for good)|frozen_method_invalid
                 "seconds": 40}]}

Series are linearly interpolated at the clock time, clamped to the first and
last points. Errors name the JSON path, e.g. ``channels[0].messages[3].date``.
"""

from __future__ import annotations

import functools
import json
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from monitor.clock import to_utc
from monitor.errors import ImportFormatError

FORMAT = "monitor-scenario/1"
ChannelStatus = Literal["ok", "private", "banned", "not_found", "invalid", "forbidden"]
ChannelKind = Literal["channel", "megagroup", "gigagroup", "user", "bot"]
FaultError = Literal[
    "flood_wait",
    "private",
    "not_found",
    "invalid",
    "banned",
    "disconnect",
    "slow_mode",
    "flood_premium",
    "server_error",
    "timed_out",
    "rpc_call_fail",
    "unsuccessful",
    "garbage",
    "auth_key_unregistered",
    "session_revoked",
    "auth_key_duplicated",
    "user_deactivated",
    "user_deactivated_ban",
    "frozen_method_invalid",
]
FaultMethod = Literal[
    "iter_messages", "get_messages", "get_entity", "get_input_entity", "connect", "is_user_authorized",
    "get_full_channel", "get_channel_recommendations", "check_search_posts_flood", "search_posts",
]

_STATUSES = ("ok", "private", "banned", "not_found", "invalid", "forbidden")
_KINDS = ("channel", "megagroup", "gigagroup", "user", "bot")
_ERRORS: tuple[str, ...] = FaultError.__args__  # type: ignore[attr-defined]  # a Literal's __args__ is its tuple of values; typing does not declare it
_METHODS: tuple[str, ...] = FaultMethod.__args__  # type: ignore[attr-defined]  # a Literal's __args__ is its tuple of values; typing does not declare it
MEDIA_KINDS = (
    "photo",
    "video",
    "document",
    "audio",
    "voice",
    "sticker",
    "gif",
    "video_note",
    "poll",
    "webpage",
    "geo",
    "contact",
)


@dataclass(frozen=True, slots=True)
class Series:
    """``(hours after the post date, value)`` points; linear in between, flat outside."""

    points: tuple[tuple[float, int], ...]

    def at(self, hours: float) -> int:
        pts = self.points
        if not pts:
            return 0
        if hours <= pts[0][0]:
            return pts[0][1]
        for (h0, v0), (h1, v1) in pairwise(pts):
            if hours <= h1:
                if h1 == h0:
                    return v1
                return round(v0 + (v1 - v0) * (hours - h0) / (h1 - h0))
        return pts[-1][1]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioForward:
    channel_id: int | None = None
    message_id: int | None = None
    date: datetime | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioEdit:
    at: datetime
    text: str | None = None  # None: the text did not change (a reaction "edit")
    hide: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioMessage:
    id: int
    date: datetime
    text: str = ""
    media: str | None = None
    views: Series | None = None
    forwards: Series | None = None
    replies: int | None = None
    reactions: Mapping[str, int] = field(default_factory=dict)
    fwd_from: ScenarioForward | None = None
    reply_to: int | None = None
    grouped_id: int | None = None
    post_author: str | None = None
    service: bool = False
    edits: tuple[ScenarioEdit, ...] = ()
    deleted_at: datetime | None = None
    withheld: bool = False  # takes its place in history but is never served
    preview: Mapping[str, str | None] | None = None  # Telegram's link preview: url, title, site_name

    def visible_at(self, now: datetime) -> bool:
        return self.date <= now and (self.deleted_at is None or now < self.deleted_at)

    def state_at(self, now: datetime) -> tuple[str, ScenarioEdit | None]:
        """The text and the latest edit shown at ``now``."""
        text, last = self.text, None
        for edit in self.edits:
            if edit.at <= now:
                last = edit
                if edit.text is not None:
                    text = edit.text
        return text, last

    def hours_since(self, now: datetime) -> float:
        return (now - self.date) / timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Restriction:
    platform: str
    reason: str
    text: str = ""


_CHANGEABLE = ("status", "username", "title", "subscribers", "about", "ttl_period", "restriction")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioChange:
    """From ``at`` on, the channel's fields named in ``values`` take these values."""

    at: datetime
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioChannel:
    id: int
    username: str | None
    title: str
    access_hash: int
    status: ChannelStatus = "ok"
    messages: Sequence[ScenarioMessage] = ()  # a tuple, or `LazyMessages` from ``load_scenario(lazy=True)``
    kind: ChannelKind = "channel"
    subscribers: int | None = None
    about: str = ""
    ttl_period: int | None = None
    restriction: tuple[Restriction, ...] = ()
    changes: tuple[ScenarioChange, ...] = ()
    similar: tuple[int, ...] = ()  # ids GetChannelRecommendations answers with

    def at(self, now: datetime) -> ScenarioChannel:
        """The channel as it is at ``now``: every change dated at or before it applied, in order."""
        if not self.changes:
            return self
        values: dict[str, Any] = {}
        for change in self.changes:
            if change.at <= now:
                values.update(change.values)
        return replace(self, **values) if values else self


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioFault:
    method: FaultMethod
    error: FaultError
    nth: int = 1
    channel: str | None = None  # lower-case username or str(id)
    seconds: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    channels: tuple[ScenarioChannel, ...]
    faults: tuple[ScenarioFault, ...] = ()


class LazyMessages(Sequence[ScenarioMessage]):
    """A channel's messages kept as their compact JSON text (UTF-8, zlib level 1) and parsed when asked for.

    Why: the daemon's scenario source (`monitor run` on a scenario, its benchmarks, the demo) held
    every message of every channel as objects, about 1.5 KB per message once parsed (issue 16,
    memory); the compressed text is a few hundred bytes per channel (as a str, 1.3 KB per message). The last few channels parsed are kept (`_parse_messages`), so a
    poll that reads its channel several times parses it once. The file was checked whole when it was
    loaded, so parsing again cannot fail, and gives equal (frozen) objects every time.
    """

    __slots__ = ("_raw", "_where")
    __hash__ = None  # type: ignore[assignment]  # compared by content, like the tuple it stands for

    def __init__(self, raw: bytes, where: str) -> None:
        self._raw = raw
        self._where = where

    def _parsed(self) -> tuple[ScenarioMessage, ...]:
        return _parse_messages(self._raw, self._where)

    def __len__(self) -> int:
        return len(self._parsed())

    def __iter__(self) -> Iterator[ScenarioMessage]:
        return iter(self._parsed())

    def __getitem__(self, index: Any) -> Any:
        return self._parsed()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyMessages | tuple):
            return self._parsed() == tuple(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"LazyMessages({self._parsed()!r})"


def _pack(messages: Any) -> bytes:
    """Compact JSON, UTF-8 (surrogatepass: a lone surrogate escape is a str Python's reader accepts), zlib 1."""
    return zlib.compress(json.dumps(messages, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"), 1)


@functools.lru_cache(maxsize=64)
def _parse_messages(raw: bytes, where: str) -> tuple[ScenarioMessage, ...]:
    return _Parser().messages(json.loads(zlib.decompress(raw).decode("utf-8", "surrogatepass")), where)


def load_scenario(source: str | Path | Mapping[str, Any], *, lazy: bool = False) -> Scenario:
    """Parse a scenario from a path or an already-decoded dict; ImportFormatError names what is wrong.

    ``lazy`` (a path only): the file is read as a stream, one channel at a time, and each channel's
    messages are kept as `LazyMessages`, so memory is about the messages' JSON text rather than
    the whole parsed file plus every message as objects. The same checks run, on every message;
    a file the streaming reader does not take as it is (not an object, bad JSON, any error) is read
    again the plain way, so errors are reported with the same messages.
    """
    if lazy and not isinstance(source, Mapping):
        try:
            return _stream(Path(source))
        except Exception:  # noqa: BLE001 - anything odd: the plain reading below is the reference
            pass  # and reports the problem the way it always has
    if isinstance(source, Mapping):
        data: Any = source
    else:
        path = Path(source)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ImportFormatError(f"{path}: cannot read scenario: {exc}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportFormatError(f"{path}: not a JSON scenario: {exc}") from exc
    return _Parser().scenario(data)


def _stream(path: Path) -> Scenario:
    """``load_scenario(path, lazy=True)``: ijson yields one channel's object at a time; each is checked
    whole (messages included) and kept with its messages as compact JSON text."""
    import ijson  # type: ignore[import-untyped]  # ijson ships no type information

    with path.open("rb") as fh:  # the top level: an object, "channels" an array, "faults" absent or one
        top = [(p, e, v) for p, e, v in ijson.parse(fh) if p in ("", "channels", "faults")]
    keys = [v for p, e, v in top if p == "" and e == "map_key"]
    starts = {p: e for p, e, _ in top if p and e.startswith("start_")}
    if (
        not top
        or top[0][1] != "start_map"
        or keys.count("channels") != 1
        or keys.count("faults") > 1
        or keys.count("format") != 1
        or starts.get("channels") != "start_array"
        or ("faults" in keys and starts.get("faults") != "start_array")
    ):
        raise ImportFormatError(f"{path}: not a plain scenario object")  # the plain reading says what is wrong
    with path.open("rb") as fh:
        fmt = next(ijson.items(fh, "format", use_float=True), None)
    if fmt != FORMAT:
        raise ImportFormatError(f"format: expected {FORMAT!r}, got {fmt!r}")
    parser = _Parser()
    channels: list[ScenarioChannel] = []
    with path.open("rb") as fh:
        for i, obj in enumerate(ijson.items(fh, "channels.item", use_float=True)):
            where = f"channels[{i}]"
            chan = parser.channel(obj, where)  # every check, on every message; the objects are dropped
            channels.append(replace(chan, messages=LazyMessages(_pack(obj.get("messages", [])), f"{where}.messages")))
    ids = [c.id for c in channels]
    if len(set(ids)) != len(ids):
        raise ImportFormatError("channels: duplicate channel id")
    with path.open("rb") as fh:
        faults = tuple(
            parser.fault(f, f"faults[{i}]") for i, f in enumerate(ijson.items(fh, "faults.item", use_float=True))
        )
    return Scenario(channels=tuple(channels), faults=faults)


class _Parser:
    def scenario(self, data: Any) -> Scenario:
        obj = self._dict(data, "scenario")
        if obj.get("format") != FORMAT:
            raise ImportFormatError(f"format: expected {FORMAT!r}, got {obj.get('format')!r}")
        chans = self._list(obj.get("channels"), "channels")
        channels = tuple(self.channel(c, f"channels[{i}]") for i, c in enumerate(chans))
        ids = [c.id for c in channels]
        if len(set(ids)) != len(ids):
            raise ImportFormatError("channels: duplicate channel id")
        faults = tuple(
            self.fault(f, f"faults[{i}]") for i, f in enumerate(self._list(obj.get("faults", []), "faults"))
        )
        return Scenario(channels=channels, faults=faults)

    def channel(self, data: Any, where: str) -> ScenarioChannel:
        obj = self._dict(data, where)
        cid = self._int(obj.get("id"), f"{where}.id", positive=True)
        status = obj.get("status", "ok")
        if status not in _STATUSES:
            raise ImportFormatError(f"{where}.status: {status!r} is not one of {', '.join(_STATUSES)}")
        kind = obj.get("kind", "channel")
        if kind not in _KINDS:
            raise ImportFormatError(f"{where}.kind: {kind!r} is not one of {', '.join(_KINDS)}")
        username = obj.get("username")
        if username is not None and not isinstance(username, str):
            raise ImportFormatError(f"{where}.username: expected a string or null")
        msgs = self.messages(obj.get("messages", []), f"{where}.messages")
        access_hash = obj.get("access_hash")
        username = username.removeprefix("@") if username else None
        changes = tuple(
            sorted(
                (self.change(c, f"{where}.changes[{i}]") for i, c in enumerate(self._list(obj.get("changes", []), f"{where}.changes"))),
                key=lambda c: c.at,
            )
        )
        return ScenarioChannel(
            subscribers=self._opt_int(obj.get("subscribers"), f"{where}.subscribers"),
            about=self._str(obj.get("about"), f"{where}.about"),
            ttl_period=self._opt_int(obj.get("ttl_period"), f"{where}.ttl_period"),
            restriction=self.restriction(obj.get("restriction"), f"{where}.restriction"),
            changes=changes,
            similar=tuple(
                self._int(x, f"{where}.similar[{i}]", positive=True)
                for i, x in enumerate(self._list(obj.get("similar", []), f"{where}.similar"))
            ),
            id=cid,
            username=username,
            title=str(obj.get("title") or username or cid),
            access_hash=(
                self._int(access_hash, f"{where}.access_hash") if access_hash is not None else cid * 7919 + 13
            ),
            status=status,
            messages=msgs,
            kind=kind,
        )

    def messages(self, data: Any, where: str) -> tuple[ScenarioMessage, ...]:
        """A channel's ``messages`` array, sorted by id; ``where`` is its path (``channels[0].messages``)."""
        msgs = tuple(self.message(m, f"{where}[{i}]") for i, m in enumerate(self._list(data, where)))
        if len({m.id for m in msgs}) != len(msgs):
            raise ImportFormatError(f"{where}: duplicate message id")
        return tuple(sorted(msgs, key=lambda m: m.id))

    def restriction(self, value: Any, where: str) -> tuple[Restriction, ...]:
        if value is None:
            return ()
        out = []
        for i, item in enumerate(self._list(value, where)):
            obj = self._dict(item, f"{where}[{i}]")
            out.append(Restriction(platform=self._str(obj.get("platform"), f"{where}[{i}].platform") or "all",
                                   reason=self._str(obj.get("reason"), f"{where}[{i}].reason"),
                                   text=self._str(obj.get("text"), f"{where}[{i}].text")))
        return tuple(out)

    def change(self, data: Any, where: str) -> ScenarioChange:
        obj = self._dict(data, where)
        at = self._date(obj.get("at"), f"{where}.at")
        values: dict[str, Any] = {}
        for name, value in obj.items():
            if name == "at":
                continue
            if name not in _CHANGEABLE:
                raise ImportFormatError(f"{where}.{name}: not a changeable field ({', '.join(_CHANGEABLE)})")
            if name == "status":
                if value not in _STATUSES:
                    raise ImportFormatError(f"{where}.status: {value!r} is not one of {', '.join(_STATUSES)}")
                values[name] = value
            elif name == "username":
                if value is not None and not isinstance(value, str):
                    raise ImportFormatError(f"{where}.username: expected a string or null")
                values[name] = value.removeprefix("@") if value else None
            elif name in ("title", "about"):
                values[name] = self._str(value, f"{where}.{name}")
            elif name == "restriction":
                values[name] = self.restriction(value, f"{where}.restriction")
            else:
                values[name] = self._opt_int(value, f"{where}.{name}")
        return ScenarioChange(at=at, values=values)

    def message(self, data: Any, where: str) -> ScenarioMessage:
        obj = self._dict(data, where)
        media = obj.get("media")
        if media is not None and media not in MEDIA_KINDS:
            raise ImportFormatError(f"{where}.media: {media!r} is not one of {', '.join(MEDIA_KINDS)}")
        reactions = self._dict(obj.get("reactions") or {}, f"{where}.reactions")
        fwd = obj.get("fwd_from")
        edits = self._list(obj.get("edits") or [], f"{where}.edits")
        return ScenarioMessage(
            id=self._int(obj.get("id"), f"{where}.id", positive=True),
            date=self._date(obj.get("date"), f"{where}.date"),
            text=self._str(obj.get("text"), f"{where}.text"),
            media=media,
            views=self._series(obj.get("views"), f"{where}.views"),
            forwards=self._series(obj.get("forwards"), f"{where}.forwards"),
            replies=self._opt_int(obj.get("replies"), f"{where}.replies"),
            reactions={str(k): self._int(v, f"{where}.reactions.{k}") for k, v in reactions.items()},
            fwd_from=None if fwd is None else self.forward(fwd, f"{where}.fwd_from"),
            reply_to=self._opt_int(obj.get("reply_to"), f"{where}.reply_to"),
            grouped_id=self._opt_int(obj.get("grouped_id"), f"{where}.grouped_id"),
            post_author=obj.get("post_author"),
            service=bool(obj.get("service", False)),
            edits=tuple(
                sorted((self.edit(e, f"{where}.edits[{i}]") for i, e in enumerate(edits)), key=lambda e: e.at)
            ),
            deleted_at=(
                None
                if obj.get("deleted_at") is None
                else self._date(obj["deleted_at"], f"{where}.deleted_at")
            ),
            withheld=bool(obj.get("withheld", False)),
            preview=self.preview(obj.get("preview"), f"{where}.preview"),
        )

    def preview(self, value: Any, where: str) -> Mapping[str, str | None] | None:
        if value is None:
            return None
        obj = self._dict(value, where)
        url = self._str(obj.get("url"), f"{where}.url")
        if not url:
            raise ImportFormatError(f"{where}.url: a preview needs the url it shows")
        return {"url": url, "title": obj.get("title") if isinstance(obj.get("title"), str) else None,
                "site_name": obj.get("site_name") if isinstance(obj.get("site_name"), str) else None}

    def forward(self, data: Any, where: str) -> ScenarioForward:
        obj = self._dict(data, where)
        if obj.get("channel_id") is None and not obj.get("name"):
            raise ImportFormatError(f"{where}: needs channel_id or name")
        return ScenarioForward(
            channel_id=self._opt_int(obj.get("channel_id"), f"{where}.channel_id"),
            message_id=self._opt_int(obj.get("message_id"), f"{where}.message_id"),
            date=None if obj.get("date") is None else self._date(obj["date"], f"{where}.date"),
            name=obj.get("name"),
        )

    def edit(self, data: Any, where: str) -> ScenarioEdit:
        obj = self._dict(data, where)
        text = obj.get("text")
        return ScenarioEdit(
            at=self._date(obj.get("at"), f"{where}.at"),
            text=None if text is None else self._str(text, f"{where}.text"),
            hide=bool(obj.get("hide", False)),
        )

    def fault(self, data: Any, where: str) -> ScenarioFault:
        obj = self._dict(data, where)
        method, error = obj.get("method"), obj.get("error")
        if method not in _METHODS:
            raise ImportFormatError(f"{where}.method: {method!r} is not one of {', '.join(_METHODS)}")
        if error not in _ERRORS:
            raise ImportFormatError(f"{where}.error: {error!r} is not one of {', '.join(_ERRORS)}")
        channel = obj.get("channel")
        return ScenarioFault(
            method=method,
            error=error,
            nth=self._int(obj.get("nth", 1), f"{where}.nth", positive=True),
            channel=None if channel is None else str(channel).removeprefix("@").lower(),
            seconds=self._int(obj.get("seconds", 0), f"{where}.seconds"),
        )

    # -- leaves -----------------------------------------------------------------------------------

    @staticmethod
    def _dict(value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise ImportFormatError(f"{where}: expected an object, got {type(value).__name__}")
        return value

    @staticmethod
    def _list(value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise ImportFormatError(f"{where}: expected an array, got {type(value).__name__}")
        return value

    @staticmethod
    def _int(value: Any, where: str, *, positive: bool = False) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or (positive and value <= 0):
            raise ImportFormatError(
                f"{where}: expected a {'positive ' if positive else ''}integer, got {value!r}"
            )
        return value

    def _opt_int(self, value: Any, where: str) -> int | None:
        return None if value is None else self._int(value, where)

    @staticmethod
    def _str(value: Any, where: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ImportFormatError(f"{where}: expected a string, got {type(value).__name__}")
        return value

    @staticmethod
    def _date(value: Any, where: str) -> datetime:
        if not isinstance(value, str):
            raise ImportFormatError(f"{where}: expected an ISO 8601 date string, got {value!r}")
        try:
            return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError as exc:
            raise ImportFormatError(f"{where}: {value!r} is not an ISO 8601 date") from exc

    def _series(self, value: Any, where: str) -> Series | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return Series(((0.0, value),))
        points: list[tuple[float, int]] = []
        for i, pt in enumerate(self._list(value, where)):
            if (
                not isinstance(pt, list)
                or len(pt) != 2
                or not isinstance(pt[0], int | float)
                or isinstance(pt[1], bool)
                or not isinstance(pt[1], int)
            ):
                raise ImportFormatError(f"{where}[{i}]: expected [hours, count], got {pt!r}")
            points.append((float(pt[0]), pt[1]))
        points.sort()
        return Series(tuple(points))
