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
from datetime import datetime

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


__all__ = ["STALL_INTERVALS", "TeamStatus", "stalled"]
