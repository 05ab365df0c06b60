"""The delivery outbox on PostgreSQL: claims use FOR UPDATE SKIP LOCKED, so two senders never take one row.

The same state machine as the SQLite outbox (``store/sqlite/delivery.py``): pending -> sending ->
delivered | digested | pending (retry) | failed. A claim moves rows to 'sending' in its own
committed transaction before the network call, adds one to ``attempts`` and sets
``next_attempt_at`` to the lease expiry; every later mark is conditional on (state = 'sending',
attempts = the claimed value), so a sender whose lease was taken over cannot overwrite the new
owner's outcome.

Why SKIP LOCKED: on SQLite one writer at a time makes a claim atomic by itself; here two daemons
(or two deliverers of one daemon) claim at the same moment. ``SELECT ... FOR UPDATE SKIP LOCKED``
lets each take rows the other has not locked, and the UPDATE re-checks ``state = 'pending'``, so a
row is claimed by exactly one of them and neither waits for the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from monitor.models import Alert, ClaimedDelivery
from monitor.store.postgres.connection import Database

_ALERT_COLUMNS = (
    "a.id, a.rule, a.kind, a.dedup_key, a.fired_at, a.summary, a.details, a.channel_id, a.message_id,"
    " a.channel_username, a.link"
)
_NOTE = "in doubt: the process stopped between sending and recording the outcome"


def _ts(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _count(status: str) -> int:
    """Rows changed, from a command tag such as ``UPDATE 3``."""
    try:
        return int(status.rsplit(" ", 1)[-1])
    except (ValueError, AttributeError):
        return 0


def _alert(row: Mapping[str, Any]) -> Alert:
    try:
        details = json.loads(row["details"] or "{}")
    except ValueError:
        details = {"details": row["details"]}
    return Alert(
        id=int(row["id"]),
        rule=row["rule"],
        kind=row["kind"],
        dedup_key=row["dedup_key"],
        fired_at=datetime.fromtimestamp(int(row["fired_at"]), UTC),
        summary=row["summary"],
        details=details if isinstance(details, dict) else {"details": details},
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        channel_username=row["channel_username"],
        link=row["link"],
    )


async def _claim(conn: Any, sink: str, alert_ids: Sequence[int], lease: int) -> list[ClaimedDelivery]:
    """Rows of ``sink`` locked by this transaction -> 'sending'; the claims, oldest alert first."""
    if not alert_ids:
        return []
    rows = await conn.fetch(
        "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, next_attempt_at = $1"
        " WHERE sink = $2 AND alert_id = ANY($3::bigint[]) AND state = 'pending' RETURNING alert_id, attempts",
        lease, sink, list(alert_ids),
    )
    attempts = {int(r["alert_id"]): int(r["attempts"]) for r in rows}
    if not attempts:
        return []
    alerts = await conn.fetch(
        f"SELECT {_ALERT_COLUMNS} FROM alerts a WHERE a.id = ANY($1::bigint[]) ORDER BY a.fired_at, a.id",
        list(attempts),
    )
    return [ClaimedDelivery(alert, attempts[alert.id or 0]) for alert in map(_alert, alerts)]


class PostgresDeliveryQueries:
    """``Outbox``; ``self.db`` is the pool. Every write is one short transaction."""

    db: Database

    async def _outbox_rows(self, sql: str) -> list[Any]:
        async def work(conn: Any) -> list[Any]:
            return list(await conn.fetch(sql))

        return await self.db.run(work, write=False)

    async def claim_deliveries(
        self, sink: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[ClaimedDelivery]:
        """Up to ``limit`` due pending rows of ``sink``, oldest first, now 'sending' until ``lease_until``."""
        async def work(conn: Any) -> list[ClaimedDelivery]:
            rows = await conn.fetch(
                "SELECT alert_id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1 AND sink = $2"
                " ORDER BY next_attempt_at, alert_id LIMIT $3 FOR UPDATE SKIP LOCKED",
                _ts(now), sink, int(limit),
            )
            return await _claim(conn, sink, [int(r["alert_id"]) for r in rows], _ts(lease_until))

        return await self.db.run(work)

    async def claim_digest(
        self, sink: str, *, now: datetime, period_seconds: int, lease_until: datetime, limit: int
    ) -> tuple[datetime, list[ClaimedDelivery]] | None:
        p = int(period_seconds)
        now_s = _ts(now)

        async def work(conn: Any) -> tuple[datetime, list[ClaimedDelivery]] | None:
            # integer division truncates toward zero on both backends (fired_at is never negative here)
            first = await conn.fetchval(
                "SELECT min((a.fired_at / $1) * $1) FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
                " WHERE d.state = 'pending' AND d.next_attempt_at <= $2 AND d.sink = $3"
                " AND (a.fired_at / $1) * $1 + $1 <= $2",
                p, now_s, sink,
            )
            if first is None:
                return None
            start = int(first)
            rows = await conn.fetch(
                "SELECT d.alert_id FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
                " WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.sink = $2"
                " AND a.fired_at >= $3 AND a.fired_at < $4 ORDER BY a.fired_at, a.id LIMIT $5"
                " FOR UPDATE OF d SKIP LOCKED",
                now_s, sink, start, start + p, int(limit),
            )
            claimed = await _claim(conn, sink, [int(r["alert_id"]) for r in rows], _ts(lease_until))
            return datetime.fromtimestamp(start, UTC), claimed

        return await self.db.run(work)

    async def _mark(self, set_sql: str, sink: str, items: Sequence[tuple[int, int]], head: Sequence[Any]) -> int:
        """``UPDATE deliveries SET <set_sql>`` for each (alert_id, attempts) claim still held; rows changed."""
        if not items:
            return 0
        n = len(head)
        ids = [int(a) for a, _ in items]
        attempts = [int(t) for _, t in items]
        sql = (
            f"UPDATE deliveries d SET {set_sql} FROM unnest(${n + 2}::bigint[], ${n + 3}::integer[]) AS c(id, n)"
            f" WHERE d.alert_id = c.id AND d.sink = ${n + 1} AND d.state = 'sending' AND d.attempts = c.n"
        )

        async def work(conn: Any) -> int:
            return _count(await conn.execute(sql, *head, sink, ids, attempts))

        return await self.db.run(work)

    async def mark_delivered(
        self, sink: str, items: Sequence[tuple[int, int]], *, at: datetime, digested: bool = False
    ) -> int:
        """(alert_id, attempts) claims -> 'delivered' (or 'digested'); returns rows changed."""
        return await self._mark(
            "state = $1, delivered_at = $2, last_error = NULL", sink, items,
            ("digested" if digested else "delivered", _ts(at)),
        )

    async def mark_retry(
        self, sink: str, items: Sequence[tuple[int, int]], *, next_attempt_at: datetime, error: str
    ) -> int:
        return await self._mark(
            "state = 'pending', next_attempt_at = $1, last_error = $2", sink, items,
            (_ts(next_attempt_at), error[:500]),
        )

    async def mark_failed(self, sink: str, items: Sequence[tuple[int, int]], *, at: datetime, error: str) -> int:
        return await self._mark(
            "state = 'failed', next_attempt_at = $1, last_error = $2", sink, items, (_ts(at), error[:500])
        )

    async def recover_in_doubt(self, *, now: datetime, resend: bool, max_attempts: int) -> int:
        async def work(conn: Any) -> int:
            exhausted = 0
            if resend:
                exhausted = _count(await conn.execute(
                    "UPDATE deliveries SET state = 'failed', last_error = $1 || '; attempts used up'"
                    " WHERE state = 'sending' AND next_attempt_at <= $2 AND attempts >= $3",
                    _NOTE, _ts(now), int(max_attempts),
                ))
                status = await conn.execute(
                    "UPDATE deliveries SET state = 'pending', last_error = $1 || '; resent'"
                    " WHERE state = 'sending' AND next_attempt_at <= $2",
                    _NOTE, _ts(now),
                )
            else:
                status = await conn.execute(
                    "UPDATE deliveries SET state = 'failed', last_error = $1 || '; not resent (at-most-once)'"
                    " WHERE state = 'sending' AND next_attempt_at <= $2",
                    _NOTE, _ts(now),
                )
            return _count(status) + exhausted

        return await self.db.run(work)

    async def requeue_failed(self, *, at: datetime, sink: str | None = None) -> int:
        """Give 'failed' rows a fresh start (after the analyst fixed a URL or token)."""
        async def work(conn: Any) -> int:
            return _count(await conn.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1"
                " WHERE state = 'failed' AND ($2::text IS NULL OR sink = $2::text)",
                _ts(at), sink,
            ))

        return await self.db.run(work)

    async def delivery_counts(self) -> dict[tuple[str, str], int]:
        """(sink, state) -> rows, for `monitor status` and `monitor alerts list`."""
        rows = await self._outbox_rows(
            'SELECT sink, state, count(*) AS n FROM deliveries GROUP BY sink, state ORDER BY sink COLLATE "C",'
            ' state COLLATE "C"'
        )
        return {(str(r["sink"]), str(r["state"])): int(r["n"]) for r in rows}

    async def pending_sinks(self) -> list[str]:
        """Sinks that have pending or in-flight rows (to warn about sinks no longer configured)."""
        rows = await self._outbox_rows(
            "SELECT sink FROM deliveries WHERE state IN ('pending', 'sending') GROUP BY sink"
            ' ORDER BY sink COLLATE "C"'
        )
        return [str(r["sink"]) for r in rows]


__all__ = ["PostgresDeliveryQueries"]
