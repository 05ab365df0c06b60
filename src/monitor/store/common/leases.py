"""The half of the ``Leases`` port that both backends share: reads whose SQL is the same in both dialects,
and ``hold_account``'s arguments (the backend's ``_hold`` takes or renews the session in one statement or
transaction of its own)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.models import AccountState, CollectorInfo, Lease
from monitor.store.epoch import fts
from monitor.store.rows import account_state, collector_info, lease


class SharedLeaseQueries:
    """Mixed into both backends' lease mixins, which provide ``_fetch`` and ``_hold``."""

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def _hold(
        self, name: str, holder: str, *, now: float, until: float, requests_hour: int, steal_from: str | None
    ) -> str | None:
        """Take or renew ``name`` for ``holder`` (see ``Leases.hold_account``); times in float epoch seconds."""
        raise NotImplementedError

    async def collectors(self) -> list[CollectorInfo]:
        rows = await self._fetch(
            "SELECT id, host, pid, version, started_at, heartbeat_at, stopped_at, taking FROM collectors"
            " ORDER BY heartbeat_at DESC, id"
        )
        return [collector_info(r) for r in rows]

    async def leases(self) -> list[Lease]:
        rows = await self._fetch("SELECT key, collector_id, account, acquired_at, expires_at FROM leases ORDER BY key")
        return [lease(r) for r in rows]

    async def account_states(self) -> list[AccountState]:
        rows = await self._fetch(
            "SELECT name, state, reason, since, until, method, holder, held_until, requests_hour, beat_at"
            " FROM accounts ORDER BY name"
        )
        return [account_state(r) for r in rows]

    async def hold_account(
        self,
        name: str,
        holder: str,
        *,
        at: datetime,
        expiry: float,
        requests_hour: int = 0,
        steal_from: str | None = None,
    ) -> str | None:
        now = fts(at)
        assert now is not None
        return await self._hold(
            name, holder, now=now, until=now + expiry, requests_hour=requests_hour, steal_from=steal_from
        )


__all__ = ["SharedLeaseQueries"]
