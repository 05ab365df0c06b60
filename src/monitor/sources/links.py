"""Outgoing links and Telegram references in a post, and channel-name normalisation.

Pure helpers shared by the live source and the export reader: both turn their
own entity types into `Span`s first, so one rule decides what a link is.
Why split links from mentions: ``links`` feed "where does this channel send
readers", ``mentions`` (``@name`` and t.me paths) feed channel discovery.

Normal forms (what ``Post.mentions`` holds):

* ``@Durov``, ``t.me/durov``, ``https://telegram.me/s/durov``, ``t.me/durov/123`` -> ``durov``
* ``t.me/+AbC``, ``t.me/joinchat/AbC`` -> ``+AbC`` (invite hashes are case-sensitive)
* ``t.me/c/1234567/89`` -> ``c/1234567`` (a private channel by bare id)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from monitor.models import ChannelRef

SpanKind = Literal["url", "text_url", "mention"]

# Telegram's rule is 5-32 characters; collectible (Fragment) names can be 4.
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,31}")
_TG_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog", "www.t.me", "www.telegram.me"})
# Paths under t.me that are not channel names.
_TG_RESERVED = frozenset(
    {
        "s",
        "c",
        "joinchat",
        "addstickers",
        "addemoji",
        "share",
        "proxy",
        "socks",
        "login",
        "iv",
        "addlist",
        "setlanguage",
        "addtheme",
        "bg",
        "invoice",
        "boost",
        "m",
        "k",
        "z",
        "a",
        "contact",
        "i",
    }
)
# Plain-text fallbacks, used only when a source gives no entities.
_URL_IN_TEXT = re.compile(r"(?i)\b(?:https?://|www\.|t\.me/|telegram\.me/)[^\s<>\"'«»]+")
_MENTION_IN_TEXT = re.compile(r"(?<![\w@./])@([A-Za-z][A-Za-z0-9_]{3,31})\b")
_TRAILING = ".,;:!?)]}'\"»…"


@dataclass(frozen=True, slots=True)
class Span:
    """A link-ish entity in neutral form: ``text`` is what is shown, ``url`` the target of a text link."""

    kind: SpanKind
    text: str
    url: str | None = None


def normalize_username(value: str) -> str | None:
    """``@Durov`` / ``durov`` / a t.me link to a public name -> ``durov``; None when it is not a username."""
    value = value.strip()
    if "/" in value or "." in value:
        ref = normalize_tme(value)
        return ref if ref is not None and _USERNAME.fullmatch(ref) else None
    value = value.removeprefix("@")
    return value.lower() if _USERNAME.fullmatch(value) else None


def normalize_tme(url: str) -> str | None:
    """The normal form of a t.me / telegram.me link (see module docstring), or None if it is not one."""
    raw = url.strip().rstrip(_TRAILING)
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host not in _TG_HOSTS:
        # username.t.me is also a public-channel link
        if host.endswith(".t.me") and _USERNAME.fullmatch(host[: -len(".t.me")]):
            return host[: -len(".t.me")]
        return None
    segs = [s for s in parts.path.split("/") if s]
    if not segs:
        return None
    head = segs[0]
    if head.startswith("+") and len(head) > 1:
        return head
    if head == "joinchat" and len(segs) > 1:
        return "+" + segs[1]
    if head == "c" and len(segs) > 1 and segs[1].isdigit():
        return f"c/{int(segs[1])}"
    if head == "s" and len(segs) > 1:
        head = segs[1]
    elif head.lower() in _TG_RESERVED:
        return None
    head = head.removeprefix("@")
    return head.lower() if _USERNAME.fullmatch(head) else None


def normalize_url(url: str) -> str:
    """Trim punctuation a sentence glued on and give a bare ``www.x`` a scheme; otherwise keep it as is."""
    url = url.strip().rstrip(_TRAILING)
    if "://" not in url:
        url = "http://" + url
    return url


def extract(text: str, spans: Iterable[Span] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(links, mentions)`` of a post, each unique and in order of appearance.

    With ``spans`` None (a source that gives no entities) the text is scanned;
    with spans given, only they count, because Telegram already decided what is
    a link and a regex would find "@116" prices in deal posts.
    """
    if spans is None:
        spans = _spans_from_text(text)
    links: dict[str, None] = {}
    mentions: dict[str, None] = {}
    for span in spans:
        if span.kind == "mention":
            name = normalize_username(span.text)
            if name is not None:
                mentions[name] = None
            continue
        target = span.url if span.kind == "text_url" and span.url else span.text
        if not target or not target.strip():
            continue
        tme = normalize_tme(target) if _looks_like_tme(target) else None
        if tme is not None:
            mentions[tme] = None
        elif _looks_like_tme(target):
            continue  # t.me/share etc.: neither a channel nor an outgoing link
        elif not target.lower().startswith(("mailto:", "tel:", "tg:")):
            links[normalize_url(target)] = None
    return tuple(links), tuple(mentions)


def _looks_like_tme(target: str) -> bool:
    low = target.strip().lower()
    for prefix in ("https://", "http://"):
        low = low.removeprefix(prefix)
    host = low.split("/", 1)[0]
    return host in _TG_HOSTS or host.endswith(".t.me")


def _spans_from_text(text: str) -> list[Span]:
    found: list[tuple[int, Span]] = []
    for m in _URL_IN_TEXT.finditer(text):
        found.append((m.start(), Span("url", m.group(0))))
    for m in _MENTION_IN_TEXT.finditer(text):
        found.append((m.start(), Span("mention", "@" + m.group(1))))
    return [s for _, s in sorted(found, key=lambda p: p[0])]


def utf16_slice(text: str, offset: int, length: int) -> str:
    """Telegram entity offsets count UTF-16 code units; emoji before a link would shift a naive slice."""
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def parse_channel_ref(
    text: str,
    *,
    labels: Mapping[str, str] | None = None,
    poll_interval: float | None = None,
) -> ChannelRef:
    """A configured channel (``@name``, ``name``, t.me link, bare or ``-100``-marked id) -> ChannelRef.

    Raises ValueError with a human message when the text is none of these, so
    the config checker can say where it is.
    """
    raw = text.strip()

    def ref(key: str, username: str | None = None, channel_id: int | None = None) -> ChannelRef:
        return ChannelRef(
            key=key,
            username=username,
            channel_id=channel_id,
            labels=dict(labels or {}),
            poll_interval=poll_interval,
        )

    digits = raw.removeprefix("-")
    if digits.isdigit():
        num = int(digits)
        if raw.startswith("-100") and len(raw) > 4:
            num = int(raw[4:])
        elif raw.startswith("-"):
            raise ValueError(f"{text!r} is a group or user id, not a channel id")
        if num <= 0:
            raise ValueError(f"{text!r} is not a valid channel id")
        return ref(f"id:{num}", channel_id=num)
    if "/" in raw or "." in raw:
        tme = normalize_tme(raw)
        if tme is None:
            raise ValueError(f"{text!r} is not a t.me link to a channel")
        if tme.startswith("c/"):
            num = int(tme[2:])
            return ref(f"id:{num}", channel_id=num)
        if tme.startswith("+"):
            raise ValueError(f"{text!r} is an invite link; the collector never joins channels")
        return ref(tme, username=tme)
    name = normalize_username(raw)
    if name is None:
        raise ValueError(f"{text!r} is not a valid Telegram username (5-32 letters, digits, _)")
    return ref(name, username=name)
