"""``WebAccess`` on SQLite: dashboard users, the audit trail and alert acknowledgements (migration 0006).

A mixin for ``SQLiteStore`` (it uses ``transaction()`` and ``_fetch()``). Each write and its audit
entry commit in one BEGIN IMMEDIATE transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.models import AlertAck, AuditEntry, WebUser
from monitor.store.epoch import ts
from monitor.store.rows import alert_ack, audit_detail, audit_entry, user_record

_USER_COLUMNS = "name, password_hash, role, created_at, updated_at"


async def _audit(conn: Any, entry: AuditEntry) -> None:
    await conn.execute(
        "INSERT INTO web_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (ts(entry.at), entry.actor, entry.action, entry.target, audit_detail(entry)),
    )


class WebQueries:
    """Mixed into SQLiteStore."""

    transaction: Any  # provided by SQLiteStore
    _fetch: Any

    async def web_user(self, name: str) -> WebUser | None:
        rows = await self._fetch(f"SELECT {_USER_COLUMNS} FROM web_users WHERE name = ?", (name,))
        return user_record(rows[0]) if rows else None

    async def web_users(self) -> list[WebUser]:
        return [user_record(r) for r in await self._fetch(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY name")]

    async def save_web_user(self, user: WebUser, *, audit: AuditEntry) -> bool:
        async with self.transaction() as conn:
            cursor = await conn.execute("SELECT 1 FROM web_users WHERE name = ?", (user.name,))
            existed = await cursor.fetchone() is not None
            await conn.execute(
                f"INSERT INTO web_users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " password_hash = excluded.password_hash, role = excluded.role, updated_at = excluded.updated_at",
                (user.name, user.password_hash, user.role, ts(user.created_at), ts(user.updated_at)),
            )
            await _audit(conn, audit)
            return not existed

    async def remove_web_user(self, name: str, *, audit: AuditEntry) -> bool:
        async with self.transaction() as conn:
            cursor = await conn.execute("DELETE FROM web_users WHERE name = ?", (name,))
            if cursor.rowcount == 0:
                return False
            await _audit(conn, audit)
            return True

    async def record_audit(self, entry: AuditEntry) -> None:
        async with self.transaction() as conn:
            await _audit(conn, entry)

    async def audit_log(self, *, limit: int = 200) -> list[AuditEntry]:
        rows = await self._fetch(
            "SELECT id, at, actor, action, target, detail FROM web_audit ORDER BY id DESC LIMIT ?", (int(limit),)
        )
        return [audit_entry(r) for r in rows]

    async def acknowledge_alert(self, alert_id: int, *, actor: str, at: datetime) -> AlertAck | None:
        async with self.transaction() as conn:
            cursor = await conn.execute("SELECT 1 FROM alerts WHERE id = ?", (int(alert_id),))
            if await cursor.fetchone() is None:
                return None
            cursor = await conn.execute(
                "INSERT INTO alert_acks (alert_id, actor, at) VALUES (?, ?, ?) ON CONFLICT (alert_id) DO NOTHING",
                (int(alert_id), actor, ts(at)),
            )
            if cursor.rowcount:
                await _audit(conn, AuditEntry(actor=actor, action="alert.ack", target=str(int(alert_id)), at=at))
            cursor = await conn.execute("SELECT actor, at FROM alert_acks WHERE alert_id = ?", (int(alert_id),))
            row = await cursor.fetchone()
        return alert_ack(alert_id, row[0], row[1])

    async def alert_acks(self, alert_ids: Sequence[int]) -> dict[int, AlertAck]:
        if not alert_ids:
            return {}
        rows = await self._fetch(
            "SELECT alert_id, actor, at FROM alert_acks WHERE alert_id IN (SELECT value FROM json_each(?))",
            (json.dumps([int(i) for i in alert_ids]),),
        )
        return {int(r[0]): alert_ack(r[0], r[1], r[2]) for r in rows}
