"""Team mode on PostgreSQL: collectors, channel leases and the account pool (migration 0001).

A mixin for ``PostgresStore`` (it uses ``db.run``, ``_fetch`` and ``_execute``). Why leases are
claimed this way: every collector runs the same claim at the same time, so the claim locks the
candidate ``watch`` rows with ``FOR UPDATE ... SKIP LOCKED`` (a row another claim is taking is
skipped, not waited for: no collector queues behind another) and the upsert into ``leases`` only
overwrites a lease that has expired. A holder renewing at the same moment wins or loses as a whole:
the upsert's WHERE is checked again on the row's newest version, so two holders never both win.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.models import AccountState, CollectorInfo, TaskState
from monitor.store.common.leases import SharedLeaseQueries
from monitor.store.epoch import fdt, fdt_required, fts


_CLAIM = """
WITH candidates AS (
    SELECT w.key, u.ord
    FROM unnest($2::text[]) WITH ORDINALITY AS u(key, ord)
    JOIN watch w ON w.key = u.key
    LEFT JOIN leases l ON l.key = w.key
    WHERE (w.watched = 1 OR EXISTS (SELECT 1 FROM quarantine q WHERE q.key = w.key AND q.accepted_at IS NULL))
        AND (l.key IS NULL OR l.expires_at <= $3)
    ORDER BY u.ord
    LIMIT $5
    FOR UPDATE OF w SKIP LOCKED
)
INSERT INTO leases (key, collector_id, account, acquired_at, expires_at)
SELECT key, $1, NULL, $3, $4 FROM candidates
ON CONFLICT (key) DO UPDATE SET collector_id = excluded.collector_id, account = NULL,
    acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
WHERE leases.expires_at <= $3
RETURNING key
"""

_HOLD = """
INSERT INTO accounts (name, holder, held_until, requests_hour, beat_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until,
    requests_hour = excluded.requests_hour, beat_at = excluded.beat_at
WHERE accounts.holder IS NULL OR accounts.holder = excluded.holder OR accounts.held_until <= excluded.beat_at
    OR accounts.holder = $6
RETURNING name
"""


_HOLD_TASK = """
INSERT INTO tasks (name, collector_id, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET collector_id = excluded.collector_id, expires_at = excluded.expires_at
WHERE tasks.collector_id IS NULL OR tasks.collector_id = excluded.collector_id OR tasks.expires_at <= $4
RETURNING name, collector_id, expires_at, started_at, finished_at, ran_by
"""

_START_TASK = """
UPDATE tasks SET started_at = $3, finished_at = NULL, ran_by = $2
WHERE name = $1 AND collector_id = $2 AND expires_at > $3
    AND (started_at IS NULL OR finished_at IS NULL OR started_at <= $4)
"""


def _task(r: Any) -> TaskState:
    return TaskState(name=r[0], collector_id=r[1], expires_at=fdt(r[2]), started_at=fdt(r[3]),
                     finished_at=fdt(r[4]), ran_by=r[5])


class PostgresLeaseQueries(SharedLeaseQueries):
    """The ``Leases`` port on PostgreSQL."""

    db: Any

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    async def _execute(self, sql: str, *args: Any) -> str:
        raise NotImplementedError

    async def register_collector(self, info: CollectorInfo) -> None:
        await self._execute(
            "INSERT INTO collectors (id, host, pid, version, started_at, heartbeat_at, stopped_at, taking)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET host = excluded.host,"
            " pid = excluded.pid, version = excluded.version, started_at = excluded.started_at,"
            " heartbeat_at = excluded.heartbeat_at, stopped_at = excluded.stopped_at, taking = excluded.taking",
            info.id, info.host, info.pid, info.version, fts(info.started_at), fts(info.heartbeat_at),
            fts(info.stopped_at), int(info.taking),
        )

    async def collector_beat(self, collector_id: str, *, at: datetime, taking: bool = True) -> None:
        await self._execute(
            "UPDATE collectors SET heartbeat_at = $2, taking = $3 WHERE id = $1", collector_id, fts(at), int(taking)
        )

    async def collector_stopped(self, collector_id: str, *, at: datetime) -> int:
        async def work(conn: Any) -> int:
            status = await conn.execute("DELETE FROM leases WHERE collector_id = $1", collector_id)
            await conn.execute(
                "UPDATE accounts SET holder = NULL, held_until = NULL WHERE holder = $1", collector_id
            )
            await conn.execute(
                "UPDATE tasks SET collector_id = NULL, expires_at = NULL WHERE collector_id = $1", collector_id
            )
            await conn.execute(
                "UPDATE collectors SET stopped_at = $2, heartbeat_at = $2 WHERE id = $1", collector_id, fts(at)
            )
            return int(str(status).split()[-1])

        result: int = await self.db.run(work)
        return result

    async def claim_leases(
        self, collector_id: str, keys: Sequence[str], *, at: datetime, expiry: float, limit: int
    ) -> list[str]:
        if limit <= 0 or not keys:
            return []
        now = fts(at)
        assert now is not None
        rows = await self._fetch_write(_CLAIM, collector_id, list(keys), now, now + expiry, limit)
        taken = {r[0] for r in rows}
        return [k for k in dict.fromkeys(keys) if k in taken]

    async def _fetch_write(self, sql: str, *args: Any) -> list[Any]:
        async def work(conn: Any) -> list[Any]:
            return list(await conn.fetch(sql, *args))

        result: list[Any] = await self.db.run(work)
        return result

    async def renew_leases(self, collector_id: str, *, at: datetime, expiry: float) -> list[str]:
        now = fts(at)
        assert now is not None
        rows = await self._fetch_write(
            "UPDATE leases SET expires_at = $2 WHERE collector_id = $1 RETURNING key", collector_id, now + expiry
        )
        return sorted(r[0] for r in rows)

    async def release_leases(self, collector_id: str, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        status = await self._execute(
            "DELETE FROM leases WHERE collector_id = $1 AND key = ANY($2::text[])", collector_id, list(keys)
        )
        return int(status.split()[-1])

    async def set_lease_accounts(self, collector_id: str, accounts: Mapping[str, str | None]) -> None:
        if not accounts:
            return
        await self._execute(
            "UPDATE leases l SET account = u.a FROM unnest($2::text[], $3::text[]) AS u(k, a)"
            " WHERE l.key = u.k AND l.collector_id = $1",
            collector_id, list(accounts), list(accounts.values()),
        )

    async def set_account_state(self, state: AccountState) -> None:
        await self._execute(
            "INSERT INTO accounts (name, state, reason, since, until, method) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (name) DO UPDATE SET state = excluded.state, reason = excluded.reason,"
            " since = excluded.since, until = excluded.until, method = excluded.method",
            state.name, state.state, state.reason, fts(state.since), fts(state.until), state.method,
        )

    async def _hold(
        self, name: str, holder: str, *, now: float, until: float, requests_hour: int, steal_from: str | None
    ) -> str | None:
        async def work(conn: Any) -> str | None:
            won = await conn.fetch(_HOLD, name, holder, until, requests_hour, now, steal_from)
            if won:
                return None
            other = await conn.fetchval("SELECT holder FROM accounts WHERE name = $1", name)
            return str(other)

        result: str | None = await self.db.run(work)
        return result

    async def release_account(self, name: str, holder: str) -> bool:
        status = await self._execute(
            "UPDATE accounts SET holder = NULL, held_until = NULL WHERE name = $1 AND holder = $2", name, holder
        )
        return status.endswith(" 1")

    async def hold_task(self, name: str, collector_id: str, *, at: datetime, expiry: float) -> TaskState | None:
        now = fts(at)
        assert now is not None
        rows = await self._fetch_write(_HOLD_TASK, name, collector_id, now + expiry, now)
        return _task(rows[0]) if rows else None

    async def release_tasks(self, collector_id: str, names: Sequence[str]) -> int:
        if not names:
            return 0
        status = await self._execute(
            "UPDATE tasks SET collector_id = NULL, expires_at = NULL WHERE collector_id = $1 AND name = ANY($2::text[])",
            collector_id, list(names),
        )
        return int(status.split()[-1])

    async def start_task(self, name: str, collector_id: str, *, at: datetime, due_before: datetime) -> bool:
        status = await self._execute(_START_TASK, name, collector_id, fts(at), fts(due_before))
        return status.endswith(" 1")

    async def finish_task(self, name: str, collector_id: str, *, at: datetime) -> None:
        await self._execute(
            "UPDATE tasks SET finished_at = $3 WHERE name = $1 AND ran_by = $2 AND finished_at IS NULL",
            name, collector_id, fts(at),
        )

    async def tasks(self) -> list[TaskState]:
        rows = await self._fetch(
            "SELECT name, collector_id, expires_at, started_at, finished_at, ran_by FROM tasks ORDER BY name"
        )
        return [_task(r) for r in rows]

    async def recommendations_asked(self, keys: Sequence[str]) -> dict[str, datetime]:
        if not keys:
            return {}
        rows = await self._fetch(
            "SELECT key, asked_at FROM recommendations_asked WHERE key = ANY($1::text[])", list(keys)
        )
        return {r[0]: fdt_required(r[1]) for r in rows}

    async def set_recommendations_asked(self, keys: Sequence[str], *, at: datetime) -> None:
        if not keys:
            return
        await self._execute(
            "INSERT INTO recommendations_asked (key, asked_at) SELECT k, $2 FROM unnest($1::text[]) AS u(k)"
            " ON CONFLICT (key) DO UPDATE SET asked_at = excluded.asked_at",
            list(dict.fromkeys(keys)), fts(at),
        )


__all__ = ["PostgresLeaseQueries"]
