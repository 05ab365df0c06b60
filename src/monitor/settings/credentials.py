"""Telegram API credentials: from ``MONITOR_API_ID``/``MONITOR_API_HASH``/``MONITOR_SESSION`` or a file.

Kept apart from the rest of the settings because it is the one part that holds secrets:
`Credentials.__repr__` never shows them, and a credentials file inside a git repository
is refused (it would be one ``git add .`` away from being published).
"""

from __future__ import annotations

import base64
import binascii
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

Report = Callable[[str, str], None]  # (key, message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """Telegram API credentials; repr never shows the secrets."""

    api_id: int
    api_hash: str = field(repr=False)
    session: str | None = field(default=None, repr=False)  # string session; None = session file
    origin: str = ""  # "environment" or the credentials file path

    def __repr__(self) -> str:
        session = "***" if self.session else None
        return f"Credentials(api_id={self.api_id}, api_hash=***, session={session}, origin={self.origin!r})"


NOT_A_STRING_SESSION = (
    "is not a string session (the value `monitor login --print-string-session` prints); a session"
    " file is set with telegram.session_file, never here. The value is not shown: it is a secret"
)


def is_string_session(value: str) -> bool:
    """A Telethon string session: "1" + URL-safe base64 of DC id, IPv4 or IPv6 address, port and
    the 256-byte auth key (263 or 275 bytes). Anything else given as MONITOR_SESSION used to be
    taken as a session file name, which put the secret into a file name; it is refused instead."""
    if not value.startswith("1") or not 300 < len(value) < 400:
        return False
    body = value[1:]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(raw) in (263, 275) and body.rstrip("=").replace("-", "").replace("_", "").isalnum()


def read_credentials(
    env: Mapping[str, str], credentials_file: Path | None, *, required: bool, problem: Report
) -> Credentials | None:
    """Credentials from the environment (first) or the file; each problem goes to ``problem(key, message)``."""
    env_id, env_hash = env.get("MONITOR_API_ID"), env.get("MONITOR_API_HASH")
    env_session = env.get("MONITOR_SESSION") or None
    if env_session is not None and not is_string_session(env_session):
        problem("environment MONITOR_SESSION", NOT_A_STRING_SESSION)
        env_session = None
    if env_id or env_hash:
        if not (env_id and env_hash):
            problem("environment", "set both MONITOR_API_ID and MONITOR_API_HASH, or neither")
            return None
        if not (env_id.strip().isascii() and env_id.strip().isdigit()) or len(env_id.strip()) > 18:
            problem("environment MONITOR_API_ID", "must be the numeric api_id from my.telegram.org")
            return None
        return Credentials(api_id=int(env_id), api_hash=env_hash.strip(), session=env_session, origin="environment")
    if credentials_file is not None:
        return _from_file(credentials_file, env_session, problem)
    if required:
        problem(
            "telegram",
            "no Telegram credentials: set MONITOR_API_ID and MONITOR_API_HASH, or"
            " telegram.credentials_file (a file outside the repository)",
        )
    return None


def _from_file(p: Path, env_session: str | None, problem: Report) -> Credentials | None:
    key = "telegram.credentials_file"
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except OSError as exc:
        problem(key, f"cannot read credentials file {p}: {exc.strerror or exc}")
        return None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        problem(key, f"{p} is not a TOML file: {exc}")
        return None
    repo = git_root(p)
    if repo is not None:
        problem(key, f"{p} is inside the repository {repo}; keep credentials outside it")
    api_id, api_hash = data.get("api_id"), data.get("api_hash")
    session = data.get("session_string") or env_session
    ok = True
    if isinstance(api_id, bool) or not isinstance(api_id, int) or not 0 < api_id < 2**63:
        problem(key, f"{p}: api_id must be a positive integer")
        ok = False
    if not isinstance(api_hash, str) or not api_hash:
        problem(key, f"{p}: api_hash must be a non-empty string")
        ok = False
    if session is not None and not isinstance(session, str):
        problem(key, f"{p}: session_string must be a string")
        ok = False
    elif isinstance(session, str) and not is_string_session(session):
        problem(key, f"{p}: session_string {NOT_A_STRING_SESSION}")
        ok = False
    if not ok or not isinstance(api_id, int):
        return None
    return Credentials(api_id=api_id, api_hash=str(api_hash), session=session, origin=str(p))


def git_root(p: Path) -> Path | None:
    """The git work tree holding ``p``, if any."""
    for parent in p.resolve().parents:
        if (parent / ".git").exists():
            return parent
    return None


__all__ = ["Credentials", "git_root", "is_string_session", "read_credentials"]
