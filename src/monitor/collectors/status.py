"""What `monitor status` shows of a team: collectors, accounts, who polls each channel, and stalls.

Pure functions over records read through the store's ports, so the CLI stays thin and the rules
have unit tests. A stall is the failure nobody sees otherwise: a channel that has not been polled
for longer than three of its intervals, whichever collector was meant to poll it (all holders
dead, every account parked, a lease nobody renews). Channels Telegram refused (private, banned,
not found...) are retried slowly on purpose and are not stalls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.models import AccountState, CollectorInfo, Lease, WatchState

STALL_INTERVALS = 3
SLOW_RETRY = frozenset({"private", "not_found", "banned", "invalid", "renamed", "error", "unauthorized"})


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamStatus:
    collectors: list[CollectorInfo]
    leases: list[Lease]
    accounts: list[AccountState]
    now: datetime
    expiry: float

    def alive(self, c: CollectorInfo) -> bool:
        return c.stopped_at is None and (self.now - c.heartbeat_at).total_seconds() < self.expiry

    def state_of(self, c: CollectorInfo) -> str:
        if c.stopped_at is not None:
            return "stopped"
        if not self.alive(c):
            return "dead"
        return "running" if c.taking else "idle (no usable account)"

    def live_leases(self) -> dict[str, Lease]:
        """Unexpired leases by channel key."""
        return {lease.key: lease for lease in self.leases if lease.expires_at > self.now}

    def held_by(self, collector_id: str) -> int:
        return sum(1 for lease in self.live_leases().values() if lease.collector_id == collector_id)

    def channels_of(self, account: str) -> int:
        return sum(1 for lease in self.live_leases().values() if lease.account == account)


def stalled(
    channels: Sequence[WatchState], *, now: datetime, interval: float, running_since: datetime | None
) -> list[WatchState]:
    """Watched channels unpolled for more than STALL_INTERVALS of their interval (never-polled ones
    count from when the oldest running collector started)."""
    out = []
    for s in channels:
        if not s.watched or s.status in SLOW_RETRY:
            continue
        limit = STALL_INTERVALS * (s.poll_interval or interval)
        since = s.last_poll_at or running_since
        if s.status == "parked" and s.retry_at is not None and (since is None or s.retry_at > since):
            since = s.retry_at  # a channel's own flood wait: due again at its end
        if since is not None and (now - since).total_seconds() > limit:
            out.append(s)
    return out


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def collector_rows(team: TeamStatus) -> list[dict[str, Any]]:
    """The collectors as `monitor status` shows them (JSON-able)."""
    return [
        {
            "id": c.id,
            "host": c.host,
            "pid": c.pid,
            "version": c.version,
            "state": team.state_of(c),
            "started": _iso(c.started_at),
            "heartbeat": _iso(c.heartbeat_at),
            "heartbeat_age_seconds": round((team.now - c.heartbeat_at).total_seconds(), 1),
            "leases": team.held_by(c.id),
        }
        for c in team.collectors
    ]


def account_rows(team: TeamStatus) -> list[dict[str, Any]]:
    """The accounts as `monitor status` shows them (JSON-able); a hold past its time shows no holder."""
    return [
        {
            "name": a.name,
            "state": a.state,
            "reason": a.reason,
            "since": _iso(a.since),
            "parked_until": _iso(a.until) if a.state == "flood_wait" else None,
            "method": a.method,
            "holder": a.holder if a.held_until is not None and a.held_until > team.now else None,
            "requests_last_hour": a.requests_hour,
            "channels": team.channels_of(a.name),
        }
        for a in team.accounts
    ]


__all__ = ["STALL_INTERVALS", "TeamStatus", "account_rows", "collector_rows", "stalled"]
