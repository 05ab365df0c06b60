"""Channel identity: the one grammar of channel keys, handles, t.me links and post links.

Why one module: the watch list, alert rules, discovery and reports all name a
channel either by its lower-case username or, when it has none (or it is only
known by number), by the key ``id:<bare channel id>``. When each of them wrote
that grammar by hand, two lists of reserved t.me paths drifted apart and a
forward could be keyed differently from a watch entry. Stdlib only, pure, in
the core layer: every other layer may call it.

Normal forms:

* a *channel key* is a lower-case username (``durov``) or ``id:<n>`` with ``n`` the bare,
  positive channel id (``id:1234567``), as in ``t.me/c/1234567/89``;
* a *t.me reference* (what ``Post.mentions`` holds) is a username, ``+<invite hash>``
  (case kept) or ``c/<n>``;
* a *post link* is ``https://t.me/<username>/<message id>`` or ``https://t.me/c/<n>/<message id>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit

ChannelKey: TypeAlias = str
"""A lower-case username or ``id:<n>``; the form the watch list, rules and discovery share."""

ID_PREFIX = "id:"

# Telegram's rule is 5-32 characters; collectible (Fragment) names can be 4, older ones 3.
USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,31}")
TME_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog", "www.t.me", "www.telegram.me"})
RESERVED_TME_PATHS = frozenset(
    {
        "a", "addemoji", "addlist", "addstickers", "addtheme", "bg", "boost", "c", "contact", "i",
        "invoice", "iv", "joinchat", "k", "login", "m", "proxy", "s", "setlanguage", "share", "socks", "z",
    }
)
"""First path segments under t.me that are never a channel name (``t.me/share/...``, ``t.me/proxy?...``)."""

_TRAILING = ".,;:!?)]}'\"»…"
_MARKED_PREFIX = "-100"  # Bot API form of a channel id: -100<bare id>
_MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ChannelIdentity:
    """A channel as written in a config or command line, reduced to its key and what the key names."""

    key: ChannelKey
    username: str | None = None
    channel_id: int | None = None


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def id_key(channel_id: int) -> ChannelKey:
    """``id:<n>`` for a channel id (bare or negative); ValueError for 0, booleans and out-of-range ids."""
    if isinstance(channel_id, bool) or not isinstance(channel_id, int):
        raise ValueError(f"a channel id is an integer, not {type(channel_id).__name__}")
    bare = abs(channel_id)
    if bare == 0 or bare > _MAX_ID:
        raise ValueError(f"{channel_id} is not a channel id")
    return f"{ID_PREFIX}{bare}"


def parse_id_key(key: str) -> int | None:
    """The bare id of an ``id:<n>`` key; None for a username key or anything malformed."""
    if not isinstance(key, str) or not key.startswith(ID_PREFIX):
        return None
    digits = key[len(ID_PREFIX) :]
    if not _ascii_digits(digits) or len(digits) > 19:
        return None
    value = int(digits)
    return value if 0 < value <= _MAX_ID else None


def is_id_key(key: str) -> bool:
    """True for a well-formed ``id:<n>`` key."""
    return parse_id_key(key) is not None


def bare_channel_id(text: str) -> int | None:
    """A numeric id as written (``1234567``, Bot API ``-1001234567``) -> the bare id; None otherwise.

    A negative id without the ``-100`` mark is a group or user, not a channel: None.
    """
    raw = text.strip()
    if raw.startswith(_MARKED_PREFIX) and _ascii_digits(raw[len(_MARKED_PREFIX) :]):
        digits = raw[len(_MARKED_PREFIX) :]
    elif _ascii_digits(raw):
        digits = raw
    else:
        return None
    if len(digits) > 19:
        return None
    value = int(digits)
    return value if 0 < value <= _MAX_ID else None


def normalize_username(value: str) -> str | None:
    """``@Durov`` / ``durov`` / a t.me link to a public name -> ``durov``; None when it is not a username."""
    value = value.strip()
    if "/" in value or "." in value:
        ref = normalize_tme(value)
        return ref if ref is not None and USERNAME.fullmatch(ref) else None
    value = value.removeprefix("@")
    return value.lower() if USERNAME.fullmatch(value) else None


def is_tme_host(host: str) -> bool:
    """t.me, telegram.me, telegram.dog (with or without www.) and ``<name>.t.me``."""
    host = host.lower()
    return host in TME_HOSTS or host.endswith(".t.me")


def looks_like_tme(target: str) -> bool:
    """Whether a link points at a Telegram web host at all (a reserved path still counts)."""
    low = target.strip().lower()
    for prefix in ("https://", "http://"):
        low = low.removeprefix(prefix)
    return is_tme_host(low.split("/", 1)[0])


def _split(url: str) -> tuple[str, list[str]] | None:
    """(lower-case host, non-empty path segments) of a link written with or without a scheme."""
    raw = url.strip().rstrip(_TRAILING)
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    return host, [s for s in parts.path.split("/") if s]


def normalize_tme(url: str) -> str | None:
    """The t.me reference of a link (``durov``, ``+AbC``, ``c/123``), or None if it names no channel."""
    split = _split(url)
    if split is None:
        return None
    host, segs = split
    if host not in TME_HOSTS:
        # username.t.me is also a public-channel link
        if host.endswith(".t.me") and USERNAME.fullmatch(host[: -len(".t.me")]):
            return host[: -len(".t.me")]
        return None
    if not segs:
        return None
    head = segs[0]
    if head.startswith("+") and len(head) > 1:
        return head
    if head == "joinchat" and len(segs) > 1:
        return "+" + segs[1]
    if head == "c" and len(segs) > 1:
        bare = bare_channel_id(segs[1])
        return f"c/{bare}" if bare is not None and _ascii_digits(segs[1]) else None
    if head == "s" and len(segs) > 1:
        head = segs[1]
    elif head.lower() in RESERVED_TME_PATHS:
        return None
    head = head.removeprefix("@")
    return head.lower() if USERNAME.fullmatch(head) else None


def reference_key(reference: str) -> ChannelKey | None:
    """The channel key of a t.me reference: ``c/123`` -> ``id:123``, a username -> itself, invites -> None."""
    if reference.startswith("c/"):
        bare = bare_channel_id(reference[2:].split("/", 1)[0])
        return id_key(bare) if bare is not None else None
    if USERNAME.fullmatch(reference):
        return reference.lower()
    return None


def parse_channel(text: str) -> ChannelIdentity:
    """A channel as an analyst writes it (``@name``, ``name``, t.me link, bare or ``-100``-marked id).

    Raises ValueError with a one-line human message naming what is wrong, so a config
    checker can put it after the file and key.
    """
    raw = text.strip()
    if raw.lstrip("-").isdigit() or raw.startswith(ID_PREFIX):
        if raw.startswith(ID_PREFIX):
            num = parse_id_key(raw)
        elif raw.startswith("-") and not raw.startswith(_MARKED_PREFIX):
            raise ValueError(f"{text!r} is a group or user id, not a channel id")
        else:
            num = bare_channel_id(raw)
        if num is None:
            raise ValueError(f"{text!r} is not a valid channel id")
        return ChannelIdentity(id_key(num), channel_id=num)
    if "/" in raw or "." in raw:
        tme = normalize_tme(raw)
        if tme is None:
            raise ValueError(f"{text!r} is not a t.me link to a channel")
        if tme.startswith("+"):
            raise ValueError(f"{text!r} is an invite link; the collector never joins channels")
        if tme.startswith("c/"):
            num = int(tme[2:])
            return ChannelIdentity(id_key(num), channel_id=num)
        return ChannelIdentity(tme, username=tme)
    name = normalize_username(raw)
    if name is None:
        raise ValueError(f"{text!r} is not a valid Telegram username (5-32 letters, digits, _)")
    return ChannelIdentity(name, username=name)


def channel_key(value: object) -> ChannelKey | None:
    """Lenient form of `parse_channel` for filters: any written channel -> its key, or None.

    Unlike `parse_channel` it takes a negative id without the ``-100`` mark as the channel's
    id and ``name/123`` as ``name``: a filter should match what the analyst meant.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return id_key(value) if 0 < abs(value) <= _MAX_ID else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    digits = text.removeprefix("-")
    if _ascii_digits(digits):
        bare = bare_channel_id(text)
        if bare is None and len(digits) <= 19:
            bare = int(digits) if 0 < int(digits) <= _MAX_ID else None  # past 64 bits: no channel, not an error
        return id_key(bare) if bare is not None else None
    try:
        return parse_channel(text).key
    except ValueError:
        pass
    head = text.removeprefix("@").split("/", 1)[0]
    return head.lower() if USERNAME.fullmatch(head) else None


def keys_of(channel_id: int | None, username: str | None) -> frozenset[ChannelKey]:
    """Every key a channel answers to: ``id:<n>`` and its lower-case username."""
    keys: set[str] = set()
    if channel_id:
        keys.add(id_key(channel_id))
    if username:
        keys.add(username.lower())
    return frozenset(keys)


def display_name(username: str | None, channel_id: int | None) -> str:
    """``@name`` or ``id:<n>`` for showing a channel; "" when neither is known."""
    if username:
        return f"@{username}"
    if channel_id:
        return id_key(channel_id)
    return ""


def key_display(key: ChannelKey) -> str:
    """A channel key for people: ``id:<n>`` stays, a username gets its ``@``."""
    return key if is_id_key(key) else f"@{key}"


def post_link(message_id: int, *, username: str | None = None, channel_id: int | None = None) -> str | None:
    """``https://t.me/<username>/<id>`` or ``https://t.me/c/<n>/<id>``, built only from checked parts.

    A username that is not a valid one is not used (it may come from an attacker-influenced
    field); None when no valid link can be built.
    """
    if isinstance(message_id, bool) or not isinstance(message_id, int) or message_id <= 0:
        return None
    if username and USERNAME.fullmatch(username):
        return f"https://t.me/{username}/{message_id}"
    if channel_id:
        return f"https://t.me/c/{abs(int(channel_id))}/{message_id}"
    return None


def parse_post_link(url: str) -> tuple[ChannelKey, int] | None:
    """``t.me/name/123`` -> ``("name", 123)``, ``t.me/c/456/123`` -> ``("id:456", 123)``; None otherwise."""
    split = _split(url)
    if split is None:
        return None
    host, segs = split
    if host not in TME_HOSTS:
        return None
    if segs and segs[0] == "s":
        segs = segs[1:]
    if len(segs) == 3 and segs[0] == "c":
        bare = bare_channel_id(segs[1]) if _ascii_digits(segs[1]) else None
        key = id_key(bare) if bare is not None else None
    elif len(segs) == 2 and segs[0].lower() not in RESERVED_TME_PATHS and USERNAME.fullmatch(segs[0]):
        key = segs[0].lower()
    else:
        return None
    msg = segs[-1]
    if key is None or not _ascii_digits(msg) or len(msg) > 19 or int(msg) <= 0:
        return None
    return key, int(msg)


__all__ = [
    "ID_PREFIX",
    "RESERVED_TME_PATHS",
    "TME_HOSTS",
    "USERNAME",
    "ChannelIdentity",
    "ChannelKey",
    "bare_channel_id",
    "channel_key",
    "display_name",
    "id_key",
    "is_id_key",
    "is_tme_host",
    "key_display",
    "keys_of",
    "looks_like_tme",
    "normalize_tme",
    "normalize_username",
    "parse_channel",
    "parse_id_key",
    "parse_post_link",
    "post_link",
    "reference_key",
]
