"""The alert outbox in SQLite: claim due deliveries, mark them, recover the ones left in doubt.

A mixin for ``SQLiteStore`` (it uses ``transaction()`` and ``_fetch()``): the
``deliveries`` table of migration 0003 holds one row per alert x sink.

Row life: pending -> sending -> delivered | digested | pending (retry) | failed.
``claim`` moves rows to 'sending' in its own committed transaction *before* the
network call, increments ``attempts`` and sets ``next_attempt_at`` to a lease
expiry. Every later mark is conditional on (state = 'sending', attempts = the
claimed value): a process whose lease was taken over cannot overwrite the new
owner's outcome. A 'sending' row whose lease has expired is "in doubt" (the
process died or hung between send and mark); ``recover_in_doubt`` resolves it
according to the Deliverer's policy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from monitor.models import Alert, ClaimedDelivery
from monitor.store.epoch import dt, ts

_ALERT_COLUMNS = (
    "a.id, a.rule, a.kind, a.dedup_key, a.fired_at, a.summary, a.details, a.channel_id, a.message_id,"
    " a.channel_username, a.link"
)


def _alert(row: Sequence[Any]) -> Alert:
    fired = dt(row[4])
    assert fired is not None
    try:
        details = json.loads(row[6] or "{}")
    except ValueError:
        details = {"details": row[6]}
    return Alert(
        id=int(row[0]),
        rule=row[1],
        kind=row[2],
        dedup_key=row[3],
        fired_at=fired,
        summary=row[5],
        details=details if isinstance(details, dict) else {"details": details},
        channel_id=row[7],
        message_id=row[8],
        channel_username=row[9],
        link=row[10],
    )


class DeliveryQueries:
    """Outbox SQL. Mixed into SQLiteStore; every write is one short BEGIN IMMEDIATE transaction."""

    transaction: Any  # provided by SQLiteStore
    _fetch: Any

    async def _claim(self, conn: Any, sink: str, rowids: Sequence[int], lease: int) -> list[ClaimedDelivery]:
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        cursor = await conn.execute(
            f"UPDATE deliveries SET state = 'sending', attempts = attempts + 1, next_attempt_at = ?"
            f" WHERE rowid IN ({marks}) AND state = 'pending' RETURNING alert_id, attempts",
            (lease, *rowids),
        )
        attempts = {int(r[0]): int(r[1]) for r in await cursor.fetchall()}
        if not attempts:
            return []
        ids = list(attempts)
        cursor = await conn.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE a.id IN ({','.join('?' * len(ids))})"
            " ORDER BY a.fired_at, a.id",
            ids,
        )
        return [ClaimedDelivery(alert, attempts[alert.id or 0]) for alert in map(_alert, await cursor.fetchall())]

    async def claim_deliveries(
        self, sink: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[ClaimedDelivery]:
        """Up to ``limit`` due pending rows of ``sink``, oldest first, now 'sending' until ``lease_until``."""
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "SELECT rowid FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ? AND sink = ?"
                " ORDER BY next_attempt_at, alert_id LIMIT ?",
                (ts(now), sink, limit),
            )
            rowids = [int(r[0]) for r in await cursor.fetchall()]
            return await self._claim(conn, sink, rowids, ts(lease_until) or 0)

    async def claim_digest(
        self, sink: str, *, now: datetime, period_seconds: int, lease_until: datetime, limit: int
    ) -> tuple[datetime, list[ClaimedDelivery]] | None:
        p = int(period_seconds)
        now_s = ts(now)
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "SELECT min((a.fired_at / ?) * ?) FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
                " WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND d.sink = ?"
                " AND (a.fired_at / ?) * ? + ? <= ?",
                (p, p, now_s, sink, p, p, p, now_s),
            )
            row = await cursor.fetchone()
            if row is None or row[0] is None:
                return None
            start = int(row[0])
            cursor = await conn.execute(
                "SELECT d.rowid FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
                " WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND d.sink = ?"
                " AND a.fired_at >= ? AND a.fired_at < ? ORDER BY a.fired_at, a.id LIMIT ?",
                (now_s, sink, start, start + p, limit),
            )
            rowids = [int(r[0]) for r in await cursor.fetchall()]
            claimed = await self._claim(conn, sink, rowids, ts(lease_until) or 0)
        moment = dt(start)
        assert moment is not None
        return moment, claimed

    async def _mark(self, sql: str, sink: str, items: Sequence[tuple[int, int]], head: Sequence[Any]) -> int:
        if not items:
            return 0
        async with self.transaction() as conn:
            changed = 0
            for alert_id, attempts in items:
                cursor = await conn.execute(
                    f"{sql} WHERE alert_id = ? AND sink = ? AND state = 'sending' AND attempts = ?",
                    (*head, alert_id, sink, attempts),
                )
                changed += cursor.rowcount
            return changed

    async def mark_delivered(
        self, sink: str, items: Sequence[tuple[int, int]], *, at: datetime, digested: bool = False
    ) -> int:
        """(alert_id, attempts) claims -> 'delivered' (or 'digested'); returns rows changed."""
        state = "digested" if digested else "delivered"
        return await self._mark(
            "UPDATE deliveries SET state = ?, delivered_at = ?, last_error = NULL",
            sink,
            items,
            (state, ts(at)),
        )

    async def mark_retry(
        self, sink: str, items: Sequence[tuple[int, int]], *, next_attempt_at: datetime, error: str
    ) -> int:
        return await self._mark_error(sink, items, "pending", next_attempt_at, error)

    async def mark_failed(
        self, sink: str, items: Sequence[tuple[int, int]], *, at: datetime, error: str
    ) -> int:
        return await self._mark_error(sink, items, "failed", at, error)

    async def _mark_error(
        self, sink: str, items: Sequence[tuple[int, int]], state: Literal["pending", "failed"], at: datetime, error: str
    ) -> int:
        """A failed send: back to 'pending' (due again at ``at``) or 'failed'; the error kept, capped."""
        return await self._mark(
            "UPDATE deliveries SET state = ?, next_attempt_at = ?, last_error = ?",
            sink,
            items,
            (state, ts(at), error[:500]),
        )

    async def recover_in_doubt(self, *, now: datetime, resend: bool, max_attempts: int) -> int:
        note = "in doubt: the process stopped between sending and recording the outcome"
        async with self.transaction() as conn:
            exhausted = 0
            if resend:
                spent = await conn.execute(
                    "UPDATE deliveries SET state = 'failed', last_error = ? || '; attempts used up'"
                    " WHERE state = 'sending' AND next_attempt_at <= ? AND attempts >= ?",
                    (note, ts(now), max_attempts),
                )
                exhausted = spent.rowcount
                cursor = await conn.execute(
                    "UPDATE deliveries SET state = 'pending', last_error = ? || '; resent'"
                    " WHERE state = 'sending' AND next_attempt_at <= ?",
                    (note, ts(now)),
                )
            else:
                cursor = await conn.execute(
                    "UPDATE deliveries SET state = 'failed', last_error = ? || '; not resent (at-most-once)'"
                    " WHERE state = 'sending' AND next_attempt_at <= ?",
                    (note, ts(now)),
                )
            return int(cursor.rowcount) + int(exhausted)

    async def requeue_failed(self, *, at: datetime, sink: str | None = None) -> int:
        """Give 'failed' rows a fresh start (after the analyst fixed a URL or token)."""
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?"
                " WHERE state = 'failed' AND (? IS NULL OR sink = ?)",
                (ts(at), sink, sink),
            )
            return int(cursor.rowcount)

    async def delivery_counts(self) -> dict[tuple[str, str], int]:
        """(sink, state) -> rows, for `monitor status` and `monitor alerts list`."""
        rows = await self._fetch("SELECT sink, state, count(*) FROM deliveries GROUP BY sink, state")
        return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}

    async def pending_sinks(self) -> list[str]:
        """Sinks that have pending or in-flight rows (to warn about sinks no longer configured)."""
        rows = await self._fetch(
            "SELECT DISTINCT sink FROM deliveries WHERE state IN ('pending', 'sending') ORDER BY sink"
        )
        return [str(r[0]) for r in rows]


__all__ = ["DeliveryQueries"]
