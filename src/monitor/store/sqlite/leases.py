"""Team mode's tables in SQLite (migration 0006): the same port as PostgreSQL, one collector.

A mixin for ``SQLiteStore`` (it uses ``transaction()`` and ``_fetch()``). SQLite has one writer,
so a claim inside ``BEGIN IMMEDIATE`` already excludes every other claim: there is nothing to
skip. A second `monitor run` on the same file is refused before it gets here (monitor/leases.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from monitor.models import AccountState, CollectorInfo, TaskState
from monitor.store.common.leases import SharedLeaseQueries
from monitor.store.epoch import fdt, fdt_required, fts

_CHUNK = 400  # keys per IN (...) list


class LeaseQueries(SharedLeaseQueries):
    """The ``Leases`` port on SQLite."""

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def register_collector(self, info: CollectorInfo) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO collectors (id, host, pid, version, started_at, heartbeat_at, stopped_at, taking)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET host = excluded.host,"
                " pid = excluded.pid, version = excluded.version, started_at = excluded.started_at,"
                " heartbeat_at = excluded.heartbeat_at, stopped_at = excluded.stopped_at, taking = excluded.taking",
                (info.id, info.host, info.pid, info.version, fts(info.started_at), fts(info.heartbeat_at),
                 fts(info.stopped_at), int(info.taking)),
            )

    async def collector_beat(self, collector_id: str, *, at: datetime, taking: bool = True) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "UPDATE collectors SET heartbeat_at = ?, taking = ? WHERE id = ?", (fts(at), int(taking), collector_id)
            )

    async def collector_stopped(self, collector_id: str, *, at: datetime) -> int:
        async with self.transaction() as conn:
            cursor = await conn.execute("DELETE FROM leases WHERE collector_id = ?", (collector_id,))
            released = int(cursor.rowcount)
            await conn.execute("UPDATE accounts SET holder = NULL, held_until = NULL WHERE holder = ?", (collector_id,))
            await conn.execute("UPDATE tasks SET collector_id = NULL, expires_at = NULL WHERE collector_id = ?",
                               (collector_id,))
            await conn.execute(
                "UPDATE collectors SET stopped_at = ?, heartbeat_at = ? WHERE id = ?", (fts(at), fts(at), collector_id)
            )
        return released

    async def claim_leases(
        self, collector_id: str, keys: Sequence[str], *, at: datetime, expiry: float, limit: int
    ) -> list[str]:
        wanted = list(dict.fromkeys(keys))
        if limit <= 0 or not wanted:
            return []
        now = fts(at)
        assert now is not None
        async with self.transaction() as conn:
            free: set[str] = set()
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                cursor = await conn.execute(
                    f"SELECT w.key FROM watch w LEFT JOIN leases l ON l.key = w.key WHERE w.key IN ({marks})"
                    " AND (w.watched = 1 OR EXISTS (SELECT 1 FROM quarantine q WHERE q.key = w.key"
                    " AND q.accepted_at IS NULL)) AND (l.key IS NULL OR l.expires_at <= ?)",
                    (*chunk, now),
                )
                free |= {r[0] for r in await cursor.fetchall()}
            taken = [k for k in wanted if k in free][:limit]
            await conn.executemany(
                "INSERT INTO leases (key, collector_id, account, acquired_at, expires_at) VALUES (?, ?, NULL, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET collector_id = excluded.collector_id, account = NULL,"
                " acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
                [(k, collector_id, now, now + expiry) for k in taken],
            )
        return taken

    async def renew_leases(self, collector_id: str, *, at: datetime, expiry: float) -> list[str]:
        now = fts(at)
        assert now is not None
        async with self.transaction() as conn:
            await conn.execute("UPDATE leases SET expires_at = ? WHERE collector_id = ?", (now + expiry, collector_id))
            cursor = await conn.execute("SELECT key FROM leases WHERE collector_id = ? ORDER BY key", (collector_id,))
            return [r[0] for r in await cursor.fetchall()]

    async def release_leases(self, collector_id: str, keys: Sequence[str]) -> int:
        released = 0
        async with self.transaction() as conn:
            for start in range(0, len(keys), _CHUNK):
                chunk = list(keys[start : start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                cursor = await conn.execute(
                    f"DELETE FROM leases WHERE collector_id = ? AND key IN ({marks})", (collector_id, *chunk)
                )
                released += int(cursor.rowcount)
        return released

    async def set_lease_accounts(self, collector_id: str, accounts: Mapping[str, str | None]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(
                "UPDATE leases SET account = ? WHERE key = ? AND collector_id = ?",
                [(account, key, collector_id) for key, account in accounts.items()],
            )

    async def set_account_state(self, state: AccountState) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO accounts (name, state, reason, since, until, method) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET state = excluded.state, reason = excluded.reason,"
                " since = excluded.since, until = excluded.until, method = excluded.method",
                (state.name, state.state, state.reason, fts(state.since), fts(state.until), state.method),
            )

    async def _hold(
        self, name: str, holder: str, *, now: float, until: float, requests_hour: int, steal_from: str | None
    ) -> str | None:
        async with self.transaction() as conn:
            cursor = await conn.execute("SELECT holder, held_until FROM accounts WHERE name = ?", (name,))
            row = await cursor.fetchone()
            if row is not None and row[0] is not None and row[0] not in (holder, steal_from) and (row[1] or 0) > now:
                return str(row[0])
            await conn.execute(
                "INSERT INTO accounts (name, holder, held_until, requests_hour, beat_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until,"
                " requests_hour = excluded.requests_hour, beat_at = excluded.beat_at",
                (name, holder, until, requests_hour, now),
            )
        return None

    async def release_account(self, name: str, holder: str) -> bool:
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE accounts SET holder = NULL, held_until = NULL WHERE name = ? AND holder = ?", (name, holder)
            )
            return int(cursor.rowcount) == 1

    async def hold_task(self, name: str, collector_id: str, *, at: datetime, expiry: float) -> TaskState | None:
        now = fts(at)
        assert now is not None
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO tasks (name, collector_id, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET collector_id = excluded.collector_id, expires_at = excluded.expires_at"
                " WHERE tasks.collector_id IS NULL OR tasks.collector_id = excluded.collector_id"
                " OR tasks.expires_at <= ?"
                " RETURNING name, collector_id, expires_at, started_at, finished_at, ran_by",
                (name, collector_id, now + expiry, now),
            )
            row = await cursor.fetchone()
        return _task(row) if row is not None else None

    async def release_tasks(self, collector_id: str, names: Sequence[str]) -> int:
        released = 0
        async with self.transaction() as conn:
            for name in names:
                cursor = await conn.execute(
                    "UPDATE tasks SET collector_id = NULL, expires_at = NULL WHERE collector_id = ? AND name = ?",
                    (collector_id, name),
                )
                released += int(cursor.rowcount)
        return released

    async def start_task(self, name: str, collector_id: str, *, at: datetime, due_before: datetime) -> bool:
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE tasks SET started_at = ?, finished_at = NULL, ran_by = ? WHERE name = ? AND collector_id = ?"
                " AND expires_at > ? AND (started_at IS NULL OR finished_at IS NULL OR started_at <= ?)",
                (fts(at), collector_id, name, collector_id, fts(at), fts(due_before)),
            )
            return int(cursor.rowcount) == 1

    async def finish_task(self, name: str, collector_id: str, *, at: datetime) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "UPDATE tasks SET finished_at = ? WHERE name = ? AND ran_by = ? AND finished_at IS NULL",
                (fts(at), name, collector_id),
            )

    async def tasks(self) -> list[TaskState]:
        rows = await self._fetch(
            "SELECT name, collector_id, expires_at, started_at, finished_at, ran_by FROM tasks ORDER BY name"
        )
        return [_task(r) for r in rows]

    async def recommendations_asked(self, keys: Sequence[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self._fetch(f"SELECT key, asked_at FROM recommendations_asked WHERE key IN ({marks})", chunk)
            found.update({r[0]: fdt_required(r[1]) for r in rows})
        return found

    async def set_recommendations_asked(self, keys: Sequence[str], *, at: datetime) -> None:
        async with self.transaction() as conn:
            await conn.executemany(
                "INSERT INTO recommendations_asked (key, asked_at) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET asked_at = excluded.asked_at",
                [(k, fts(at)) for k in dict.fromkeys(keys)],
            )


def _task(r: Any) -> TaskState:
    return TaskState(name=r[0], collector_id=r[1], expires_at=fdt(r[2]), started_at=fdt(r[3]),
                     finished_at=fdt(r[4]), ran_by=r[5])


__all__ = ["LeaseQueries"]
