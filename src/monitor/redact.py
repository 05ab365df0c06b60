"""Secrets out of every log line and message: a process-wide set of known secrets, and patterns.

Two kinds of masking, applied by ``redact(text)``:

1. Known values: whatever the process was configured with (Telegram API hash and string
   session, bot tokens, webhook URLs and the secret parts of them, SMTP and database
   passwords, HMAC secrets) is registered once, where it is read (``register``,
   ``register_url``), and every occurrence is replaced by ``<redacted>``. Values shorter
   than ``MIN_SECRET_CHARS`` are not registered: masking "pw" would mangle every line.
2. Shapes that are secrets whoever configured them: the Bot API path ``/bot<id>:<token>/``,
   a bare bot token, Slack's ``/services/T../B../...`` and Mattermost's ``/hooks/<id>``
   webhook paths, Discord's ``/api/webhooks/<id>/<token>``, and the password of a URL
   (``scheme://user:password@host``).

The logging layer (``monitor.logs``) runs every rendered line through ``redact``;
error messages that leave the process another way (the delivery ledger, ``alerts list``)
call it too. Stdlib only: a core module anyone may import.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import unquote, urlsplit

MIN_SECRET_CHARS = 6
MASK = "<redacted>"

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(/bot)\d{3,}:[A-Za-z0-9_-]{20,}"), r"\1" + MASK),
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"), MASK),
    (re.compile(r"(?i)(hooks\.slack\.com/)(?:services|workflows|triggers)/[^\s\"'<>]+"), r"\1" + MASK),
    (re.compile(r"(?i)(/hooks/)[A-Za-z0-9]{16,}"), r"\1" + MASK),
    (re.compile(r"(?i)(/api/webhooks/\d+/)[A-Za-z0-9_-]+"), r"\1" + MASK),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@\"'<>]*):[^\s/@\"'<>]+@"), r"\1:" + MASK + "@"),
)


def register(*values: str | None) -> None:
    """Remember secret values so that ``redact`` masks them wherever they appear."""
    global _pattern
    fresh = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_CHARS} - _secrets
    if not fresh:
        return
    with _lock:
        _secrets.update(fresh)
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: a URL before its path
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def register_url(url: str | None, *, password_only: bool = False) -> None:
    """A URL that is itself a secret (a webhook) or carries one: the whole URL, its password,
    and its path and query when they are long enough to be a token. ``password_only`` for a
    URL whose only secret is its password (a database URL)."""
    if not url:
        return
    if not password_only:
        register(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    if parts.password:
        register(parts.password, unquote(parts.password))
    if password_only:
        return
    if len(parts.path.strip("/")) >= 16:
        register(parts.path, unquote(parts.path))
    if len(parts.query) >= 16:
        register(parts.query)


def redact(text: str) -> str:
    """``text`` with every registered secret and every secret-shaped URL part masked."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for shape, replacement in _SHAPES:
        text = shape.sub(replacement, text)
    return text


def forget_all() -> None:
    """Drop every registered secret (tests)."""
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None


__all__ = ["MASK", "MIN_SECRET_CHARS", "forget_all", "redact", "register", "register_url"]
