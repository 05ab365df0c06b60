"""The daemon's account of itself, as `monitor status` and the container health check read it.

What is written (through existing store methods, so every backend keeps it):

* a clean stop writes the heartbeat once more with pid ``STOPPED_PID`` (0, which is
  never a running process), so status can say "stopped at T" instead of "ok";
* a session Telegram refused (revoked, logged out, used from two places, account
  banned) puts every watched channel in status ``unauthorized`` with the reason and
  the time; the first successful poll after a new login sets them active again;
* an unexpected error from one channel's poll gives that channel status ``error``
  with the reason and the slow retry, like a known error.

What is read: `assess` turns the heartbeat and the channel states into one verdict,
and `current_error` says whether a channel's last error still stands (the store sets
``last_poll_at`` with every error and ``last_success_at`` with every success, so an
error older than the last success is resolved).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from monitor.models import WatchState
from monitor.store import Store

STOPPED_PID = 0
UNAUTHORIZED = "unauthorized"
State = Literal["running", "stale", "stopped", "never", "unauthorized"]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """One verdict: healthy only when the daemon beats, was not stopped, and Telegram takes its session."""

    healthy: bool
    state: State
    summary: str


def assess(
    heartbeat: tuple[int, datetime, datetime] | None,
    channels: Sequence[WatchState],
    *,
    now: datetime,
    stale_after: float,
) -> Health:
    if heartbeat is None:
        return Health(healthy=False, state="never", summary="heartbeat: none (the daemon has never run here)")
    pid, _started, beat = heartbeat
    refused = [s for s in channels if s.status == UNAUTHORIZED]
    if pid == STOPPED_PID:
        why = f"; UNAUTHORIZED: {refused[0].status_reason}" if refused else ""
        return Health(healthy=False, state="stopped", summary=f"daemon stopped at {iso(beat)}{why}")
    age = (now - beat).total_seconds()
    if refused:
        reason = refused[0].status_reason or "the Telegram session was refused"
        return Health(
            healthy=False,
            state="unauthorized",
            summary=f"UNAUTHORIZED: {reason}; log in again with `monitor login` and restart",
        )
    if age > stale_after:
        return Health(
            healthy=False,
            state="stale",
            summary=f"heartbeat: pid {pid} at {iso(beat)} ({age:.1f}s ago; stale after {stale_after:g}s): STALE",
        )
    return Health(
        healthy=True,
        state="running",
        summary=f"heartbeat: pid {pid} at {iso(beat)} ({age:.1f}s ago; stale after {stale_after:g}s): ok",
    )


def current_error(state: WatchState) -> tuple[str | None, datetime | None]:
    """The channel's last error and when it happened, or (None, None) once a later poll succeeded."""
    if state.last_error is None or state.last_poll_at is None:
        return None, None
    if state.last_success_at is not None and state.last_success_at >= state.last_poll_at:
        return None, None  # resolved: the latest poll succeeded
    return state.last_error, state.last_poll_at


# -- writing ------------------------------------------------------------------------------------------


async def mark_stopped(store: Store, *, started_at: datetime, at: datetime) -> None:
    await store.heartbeat(pid=STOPPED_PID, started_at=started_at, at=at)


async def mark_unauthorized(
    store: Store, keys: Iterable[str], reason: str, *, at: datetime, since: datetime | None = None
) -> str:
    """Every watched channel of the account: status unauthorized, with the reason and since when (the first refusal)."""
    why = f"the Telegram session was refused since {iso(since or at)}: {reason}"
    for key in keys:
        await store.set_watch_status(key, UNAUTHORIZED, reason=why, retry_at=None, at=at, error=reason)
    return why


async def mark_failed(store: Store, key: str, error: str, *, at: datetime, retry_after: float) -> datetime:
    """An unexpected error in one channel's poll: status error, the reason, and the slow retry's time."""
    retry = at + timedelta(seconds=retry_after)
    await store.set_watch_status(key, "error", reason=f"internal error: {error}", retry_at=retry, at=at, error=error)
    return retry


__all__ = [
    "STOPPED_PID",
    "UNAUTHORIZED",
    "Health",
    "assess",
    "current_error",
    "iso",
    "mark_failed",
    "mark_stopped",
    "mark_unauthorized",
]
