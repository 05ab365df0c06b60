"""``WebAccess`` on SQLite: dashboard users, the audit trail and alert acknowledgements (migration 0010).

A mixin for ``SQLiteStore`` (it uses ``transaction()`` and ``_fetch()``). Each write and its audit
entry commit in one BEGIN IMMEDIATE transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.models import AlertAck, AuditEntry, WebUser
from monitor.store.epoch import dt, ts

_USER_COLUMNS = "name, password_hash, role, created_at, updated_at"


def _user(row: Sequence[Any]) -> WebUser:
    created, updated = dt(row[3]), dt(row[4])
    assert created is not None and updated is not None
    return WebUser(name=row[0], password_hash=row[1], role=row[2], created_at=created, updated_at=updated)


def _detail(text: str | None) -> dict[str, object]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"detail": text}
    return value if isinstance(value, dict) else {"detail": value}


async def _audit(conn: Any, entry: AuditEntry) -> None:
    await conn.execute(
        "INSERT INTO web_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (ts(entry.at), entry.actor, entry.action, entry.target,
         json.dumps(dict(entry.detail), ensure_ascii=False, sort_keys=True, default=str)),
    )


class WebQueries:
    """Mixed into SQLiteStore."""

    transaction: Any  # provided by SQLiteStore
    _fetch: Any

    async def web_user(self, name: str) -> WebUser | None:
        rows = await self._fetch(f"SELECT {_USER_COLUMNS} FROM web_users WHERE name = ?", (name,))
        return _user(rows[0]) if rows else None

    async def web_users(self) -> list[WebUser]:
        return [_user(r) for r in await self._fetch(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY name")]

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
        out = []
        for r in rows:
            at = dt(r[1])
            assert at is not None
            out.append(AuditEntry(id=int(r[0]), at=at, actor=r[2], action=r[3], target=r[4], detail=_detail(r[5])))
        return out

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
        when = dt(row[1])
        assert when is not None
        return AlertAck(alert_id=int(alert_id), actor=row[0], at=when)

    async def alert_acks(self, alert_ids: Sequence[int]) -> dict[int, AlertAck]:
        if not alert_ids:
            return {}
        rows = await self._fetch(
            "SELECT alert_id, actor, at FROM alert_acks WHERE alert_id IN (SELECT value FROM json_each(?))",
            (json.dumps([int(i) for i in alert_ids]),),
        )
        out: dict[int, AlertAck] = {}
        for r in rows:
            when = dt(r[2])
            assert when is not None
            out[int(r[0])] = AlertAck(alert_id=int(r[0]), actor=r[1], at=when)
        return out
