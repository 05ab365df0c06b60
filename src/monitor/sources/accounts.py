"""Telegram accounts' health: which Telethon error puts an account in which state.

States (stored with reason and time, `monitor status` shows them; docs/operations.md says what
to do about each):

* ``ok``;
* ``flood_wait``: Telegram said wait N seconds (FloodWaitError), until T; the account polls
  nothing until then and its channels move to another account;
* ``frozen``: FROZEN_METHOD_INVALID, the account was frozen by Telegram (it can log in, it may
  not read); an appeal (@SpamBot) may lift it;
* ``banned``: USER_DEACTIVATED_BAN / USER_DEACTIVATED, the account is gone for good;
* ``unauthorized``: AUTH_KEY_UNREGISTERED, SESSION_REVOKED, SESSION_EXPIRED...: logged out,
  `monitor login` again;
* ``duplicated``: AUTH_KEY_DUPLICATED, the session was used from two places at once and Telegram
  revoked it; log in again and never share a session between processes.

Pure functions of the errors, so they are tested with Telethon's own exception classes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.errors import FloodWait, SourceUnauthorized
from monitor.models import AccountState, AccountStateName

BANNED = frozenset({"USER_DEACTIVATED_BAN", "USER_DEACTIVATED"})
FROZEN = frozenset({"FROZEN_METHOD_INVALID", "FROZEN_PARTICIPANT_MISSING"})
DUPLICATED = frozenset({"AUTH_KEY_DUPLICATED"})
USABLE: frozenset[AccountStateName] = frozenset({"ok", "flood_wait"})  # flood_wait: usable again at ``until``


def refused_state(exc: SourceUnauthorized) -> AccountStateName:
    """The state of an account whose session Telegram refused, from Telegram's error name."""
    if exc.reason in BANNED:
        return "banned"
    if exc.reason in FROZEN:
        return "frozen"
    if exc.reason in DUPLICATED:
        return "duplicated"
    return "unauthorized"


def refused(name: str, exc: SourceUnauthorized, *, at: datetime) -> AccountState:
    return AccountState(name=name, state=refused_state(exc), reason=str(exc), since=at)


def flood_waited(name: str, wait: FloodWait, *, at: datetime) -> AccountState:
    """An account-wide flood wait; ``method`` is the request Telegram named, when it did."""
    return AccountState(
        name=name, state="flood_wait", reason=str(wait), since=at, until=at + timedelta(seconds=wait.seconds),
        method=wait.method,
    )


def usable(state: AccountState | None, *, now: datetime) -> bool:
    """True when the account may poll now: ok, or a flood wait that has ended."""
    if state is None or state.state == "ok":
        return True
    return state.state == "flood_wait" and (state.until is None or state.until <= now)


__all__ = ["BANNED", "DUPLICATED", "FROZEN", "USABLE", "flood_waited", "refused", "refused_state", "usable"]
