"""``WebAccess`` on PostgreSQL: dashboard users, the audit trail and alert acknowledgements (migration 0001).

The same behaviour as ``store/sqlite/web.py``; each write and its audit entry commit in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.models import AlertAck, AuditEntry, WebUser
from monitor.store.epoch import ts
from monitor.store.rows import alert_ack, audit_detail, audit_entry, user_record
from monitor.store.postgres.connection import Database

_USER_COLUMNS = "name, password_hash, role, created_at, updated_at"


def _ts(value: datetime) -> int:
    seconds = ts(value)
    assert seconds is not None
    return seconds


async def _audit(conn: Any, entry: AuditEntry) -> None:
    await conn.execute(
        "INSERT INTO web_audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
        _ts(entry.at), entry.actor, entry.action, entry.target, audit_detail(entry),
    )


class PostgresWebQueries:
    """``WebAccess``; ``self.db`` is the pool."""

    db: Database

    async def _web_rows(self, sql: str, *args: Any) -> list[Any]:
        async def work(conn: Any) -> list[Any]:
            return list(await conn.fetch(sql, *args))

        return await self.db.run(work, write=False)

    async def web_user(self, name: str) -> WebUser | None:
        rows = await self._web_rows(f"SELECT {_USER_COLUMNS} FROM web_users WHERE name = $1", name)
        return user_record(rows[0]) if rows else None

    async def web_users(self) -> list[WebUser]:
        return [user_record(r) for r in await self._web_rows(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY name")]

    async def save_web_user(self, user: WebUser, *, audit: AuditEntry) -> bool:
        async def work(conn: Any) -> bool:
            existed = await conn.fetchval("SELECT 1 FROM web_users WHERE name = $1", user.name) is not None
            await conn.execute(
                f"INSERT INTO web_users ({_USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE"
                " SET password_hash = excluded.password_hash, role = excluded.role, updated_at = excluded.updated_at",
                user.name, user.password_hash, user.role, _ts(user.created_at), _ts(user.updated_at),
            )
            await _audit(conn, audit)
            return not existed

        return await self.db.run(work)

    async def remove_web_user(self, name: str, *, audit: AuditEntry) -> bool:
        async def work(conn: Any) -> bool:
            status = await conn.execute("DELETE FROM web_users WHERE name = $1", name)
            if status == "DELETE 0":
                return False
            await _audit(conn, audit)
            return True

        return await self.db.run(work)

    async def record_audit(self, entry: AuditEntry) -> None:
        async def work(conn: Any) -> None:
            await _audit(conn, entry)

        await self.db.run(work)

    async def audit_log(self, *, limit: int = 200) -> list[AuditEntry]:
        rows = await self._web_rows(
            "SELECT id, at, actor, action, target, detail FROM web_audit ORDER BY id DESC LIMIT $1", int(limit)
        )
        return [audit_entry(r) for r in rows]

    async def acknowledge_alert(self, alert_id: int, *, actor: str, at: datetime) -> AlertAck | None:
        async def work(conn: Any) -> AlertAck | None:
            if await conn.fetchval("SELECT 1 FROM alerts WHERE id = $1", int(alert_id)) is None:
                return None
            status = await conn.execute(
                "INSERT INTO alert_acks (alert_id, actor, at) VALUES ($1, $2, $3) ON CONFLICT (alert_id) DO NOTHING",
                int(alert_id), actor, _ts(at),
            )
            if status != "INSERT 0 0":
                await _audit(conn, AuditEntry(actor=actor, action="alert.ack", target=str(int(alert_id)), at=at))
            row = await conn.fetchrow("SELECT actor, at FROM alert_acks WHERE alert_id = $1", int(alert_id))
            return alert_ack(alert_id, row[0], row[1])

        return await self.db.run(work)

    async def alert_acks(self, alert_ids: Sequence[int]) -> dict[int, AlertAck]:
        if not alert_ids:
            return {}
        rows = await self._web_rows(
            "SELECT alert_id, actor, at FROM alert_acks WHERE alert_id = ANY($1::bigint[])", [int(i) for i in alert_ids]
        )
        return {int(r[0]): alert_ack(r[0], r[1], r[2]) for r in rows}
