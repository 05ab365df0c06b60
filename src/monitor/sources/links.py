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

from monitor.identity import looks_like_tme, normalize_tme, normalize_username, parse_channel
from monitor.models import ChannelRef

SpanKind = Literal["url", "text_url", "mention"]

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
        tme = normalize_tme(target) if looks_like_tme(target) else None
        if tme is not None:
            mentions[tme] = None
        elif looks_like_tme(target):
            continue  # t.me/share etc.: neither a channel nor an outgoing link
        elif not target.lower().startswith(("mailto:", "tel:", "tg:")):
            links[normalize_url(target)] = None
    return tuple(links), tuple(mentions)


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

    The grammar is `monitor.identity.parse_channel`; this adds the labels and interval.

    Raises ValueError with a human message when the text is none of these, so
    the config checker can say where it is.
    """
    ident = parse_channel(text)
    return ChannelRef(
        key=ident.key,
        username=ident.username,
        channel_id=ident.channel_id,
        labels=dict(labels or {}),
        poll_interval=poll_interval,
    )
