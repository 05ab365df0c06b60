"""One exception root for everything `monitor` raises on purpose.

    MonitorError
    ├── ConfigError            bad settings file, environment or arguments (carries every problem)
    ├── SourceError            a source could not deliver
    │   ├── FloodWait          Telegram asked us to wait; scope "channel" or "account"
    │   ├── ChannelUnavailable private, missing, renamed or banned channel (carries a reason)
    │   ├── SourceConnectionError  the connection dropped or could not be made
    │   └── SourceUnauthorized the session was revoked, logged out or never logged in
    ├── ImportFormatError      an export file that is not what it claims to be
    ├── StoreError             the database refused or is not usable
    │   ├── StoreClosedError   used after close()
    │   └── MigrationError     the schema could not be brought up to date
    └── DeliveryError          an alert sink could not deliver (retried later)
        ├── PermanentDeliveryError  the sink refused for good (monitor.alerts.sinks, to move here)
        └── RetryAfter              the sink asked to wait (monitor.alerts.sinks, to move here)

    PollStopped                shutdown: end the current poll now (control flow, not a MonitorError,
                               so no ``except MonitorError`` swallows it)

Adapters translate library exceptions into these with ``raise ... from``, so no
Telethon, sqlite or httpx exception type crosses a module boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class MonitorError(Exception):
    """Root of every error `monitor` raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a configuration, with where it is."""

    where: str  # "config/channels.toml: channels[3].poll_interval"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ConfigError(MonitorError):
    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("config", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = problems
        super().__init__("\n".join(str(p) for p in problems))


class SourceError(MonitorError):
    pass


class FloodWait(SourceError):
    """Telegram's FLOOD_WAIT: nothing of this scope may be asked for ``seconds``; ``method`` names the
    request Telegram answered it to (Telethon's request class, e.g. ``GetHistoryRequest``) when known."""

    def __init__(
        self, seconds: int, scope: Literal["channel", "account"] = "account", *, method: str | None = None
    ) -> None:
        self.seconds = seconds
        self.scope = scope
        self.method = method
        super().__init__(f"flood wait of {seconds}s ({scope})")


UnavailableReason = Literal["private", "not_found", "banned", "invalid", "renamed", "deleted"]


class ChannelUnavailable(SourceError):
    def __init__(self, reason: UnavailableReason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"channel unavailable: {reason}" + (f" ({detail})" if detail else ""))


class SourceConnectionError(SourceError):
    pass


class SourceUnauthorized(SourceError):
    """The account's session is not (or no longer) logged in: nothing can be fetched until it is again.

    Telegram revokes sessions (logged out from another device, an auth key used from two places,
    a banned or deleted account); reconnecting does not help, logging in again does. ``reason`` is
    Telegram's error name, e.g. ``AUTH_KEY_UNREGISTERED``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"the Telegram session is not authorized ({reason})" + (f": {detail}" if detail else ""))


class ImportFormatError(MonitorError):
    pass


class StoreError(MonitorError):
    pass


class StoreClosedError(StoreError):
    pass


class MigrationError(StoreError):
    pass


class DeliveryError(MonitorError):
    pass


class PollStopped(Exception):
    """Raised by a caller's hook (e.g. the request budget) while shutting down: end the poll now.

    Whatever was committed stays committed; the current, uncommitted batch is simply not written,
    and the next run fetches it again from the checkpoint.
    """
