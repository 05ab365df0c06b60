"""The ``ChannelHistory`` port on PostgreSQL (migration 0001): the same rows and answers as SQLite's
``store/sqlite/lifecycle.py``. Mixed into PostgresStore, whose ``db`` is the pool."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.models import ChannelEvent, ChannelSnapshot, DiscoveryLead, Quarantined
from monitor.store.common.alerts import time_bounds
from monitor.store.common.lifecycle import SharedLifecycleReads
from monitor.store.common.reports import Bound, PostFilter
from monitor.store.postgres.connection import Database
from monitor.store.postgres.reports import Args


def _ts(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _dt(value: int) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


class PostgresLifecycleQueries(SharedLifecycleReads):
    db: Database

    if TYPE_CHECKING:

        @staticmethod
        def _post_where(args: Args, f: PostFilter) -> list[str]: ...

    def _filtered(self, f: PostFilter, *, day_index: bool = True) -> tuple[list[str], Bound]:
        """``day_index`` is SQLite's hint; PostgreSQL's planner chooses between the indexes by itself."""
        args = Args()
        return self._post_where(args, f), args

    async def _write(self, sql: str, *values: Any) -> str:
        async def work(conn: Any) -> str:
            return str(await conn.execute(sql, *values))

        return await self.db.run(work)

    async def add_channel_event(self, event: ChannelEvent) -> None:
        await self._write(
            "INSERT INTO channel_events (key, channel_id, state, at, reason) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (key, at, state) DO UPDATE SET reason = excluded.reason,"
            " channel_id = coalesce(excluded.channel_id, channel_events.channel_id)",
            event.key, event.channel_id, event.state, _ts(event.at), event.reason,
        )

    async def channel_events(
        self, *, keys: Sequence[str] | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> list[ChannelEvent]:
        args = Args()
        where = ["TRUE"]
        if keys is not None:
            where.append(f"key = ANY({args([str(k) for k in keys], '::text[]')})")
        where += time_bounds(args, "at", since, until)
        rows = await self._rows(
            "SELECT key, channel_id, state, at, reason FROM channel_events WHERE " + " AND ".join(where)
            + ' ORDER BY at, key COLLATE "C", state COLLATE "C"',
            args,
        )
        return [ChannelEvent(key=r["key"], channel_id=r["channel_id"], state=r["state"], at=_dt(r["at"]),
                             reason=r["reason"]) for r in rows]

    async def add_channel_snapshot(self, snapshot: ChannelSnapshot) -> None:
        s = snapshot
        await self._write(
            "INSERT INTO channel_snapshots (channel_id, observed_at, title, username, about, subscribers, restriction,"
            " ttl_period) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (channel_id, observed_at) DO UPDATE SET"
            " title = excluded.title, username = excluded.username, about = excluded.about,"
            " subscribers = excluded.subscribers, restriction = excluded.restriction, ttl_period = excluded.ttl_period",
            s.channel_id, _ts(s.observed_at), s.title, s.username, s.about, s.subscribers, s.restriction, s.ttl_period,
        )

    async def channel_snapshots(self, channel_id: int, *, since: datetime | None = None) -> list[ChannelSnapshot]:
        rows = await self._rows(
            "SELECT channel_id, observed_at, title, username, about, subscribers, restriction, ttl_period"
            " FROM channel_snapshots WHERE channel_id = $1 AND observed_at >= $2 ORDER BY observed_at",
            [int(channel_id), _ts(since) if since is not None else -(2**62)],
        )
        return [ChannelSnapshot(channel_id=int(r["channel_id"]), observed_at=_dt(r["observed_at"]), title=r["title"],
                                username=r["username"], about=r["about"], subscribers=r["subscribers"],
                                restriction=r["restriction"], ttl_period=r["ttl_period"]) for r in rows]

    async def mark_deleted(self, channel_id: int, message_ids: Sequence[int], *, at: datetime, kind: str) -> int:
        ids = sorted({int(i) for i in message_ids})
        if not ids:
            return 0
        status = await self._write(
            "UPDATE posts SET deleted_at = $1, deleted_kind = $2 WHERE channel_id = $3 AND deleted_at IS NULL"
            " AND message_id = ANY($4::bigint[])",
            _ts(at), kind, int(channel_id), ids,
        )
        try:
            return int(status.rsplit(" ", 1)[-1])
        except ValueError:
            return 0

    async def set_discovery_decision(self, ref: str, decision: str, *, at: datetime, note: str | None = None) -> None:
        await self._write(
            "INSERT INTO discovery_decisions (ref, decision, at, note) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (ref) DO UPDATE SET decision = excluded.decision, at = excluded.at, note = excluded.note",
            ref, decision, _ts(at), note,
        )

    async def discovery_decisions(self) -> dict[str, tuple[str, datetime, str | None]]:
        rows = await self._rows('SELECT ref, decision, at, note FROM discovery_decisions ORDER BY ref COLLATE "C"')
        return {str(r["ref"]): (str(r["decision"]), _dt(r["at"]), r["note"]) for r in rows}

    async def add_quarantine(self, key: str, ref: str, priority: float, *, at: datetime) -> bool:
        async def work(conn: Any) -> bool:
            async with conn.transaction():
                if await conn.fetchval("SELECT 1 FROM watch WHERE key = $1 AND watched = 1", key) is not None:
                    return False  # watched already: quarantine would take it out of the reports
                row = await conn.fetchrow(
                    "INSERT INTO quarantine (key, ref, priority, since) VALUES ($1, $2, $3, $4)"
                    " ON CONFLICT (key) DO NOTHING RETURNING key",
                    key, ref, float(priority), _ts(at),
                )
                await conn.execute(
                    "INSERT INTO watch (key, labels, watched, added_at) VALUES ($1, $2, 0, $3)"
                    " ON CONFLICT (key) DO NOTHING",
                    key, json.dumps({"quarantine": ref}), _ts(at),
                )
                return row is not None

        return bool(await self.db.run(work))

    async def quarantined(self, *, include_accepted: bool = False) -> list[Quarantined]:
        where = "" if include_accepted else " WHERE q.accepted_at IS NULL"
        rows = await self._rows(
            "SELECT q.key, q.ref, q.priority, q.since, w.channel_id, q.accepted_at"
            ' FROM quarantine q LEFT JOIN watch w ON w.key = q.key' + where + ' ORDER BY q.key COLLATE "C"'
        )
        return [
            Quarantined(key=str(r["key"]), ref=str(r["ref"]), priority=float(r["priority"]), since=_dt(r["since"]),
                        channel_id=r["channel_id"],
                        accepted_at=_dt(r["accepted_at"]) if r["accepted_at"] is not None else None)
            for r in rows
        ]

    async def accept_quarantined(self, key: str, *, at: datetime) -> bool:
        status = await self._write(
            "UPDATE quarantine SET accepted_at = $1 WHERE key = $2 AND accepted_at IS NULL", _ts(at), key
        )
        return status.endswith(" 1")

    async def add_discovery_leads(self, leads: Sequence[DiscoveryLead]) -> None:
        if not leads:
            return

        async def work(conn: Any) -> None:
            await conn.executemany(
                "INSERT INTO discovery_leads (ref, via, basis, username, channel_id, title, hits, seen_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (ref, via, basis) DO UPDATE SET"
                " username = coalesce(excluded.username, discovery_leads.username),"
                " channel_id = coalesce(excluded.channel_id, discovery_leads.channel_id),"
                " title = coalesce(excluded.title, discovery_leads.title), hits = excluded.hits,"
                " seen_at = excluded.seen_at",
                [(x.ref, x.via, x.basis, x.username, x.channel_id, x.title, x.hits, _ts(x.seen_at)) for x in leads],
            )

        await self.db.run(work)

    async def discovery_leads(self) -> list[DiscoveryLead]:
        rows = await self._rows(
            "SELECT ref, via, basis, username, channel_id, title, hits, seen_at FROM discovery_leads"
            ' ORDER BY ref COLLATE "C", via COLLATE "C", basis COLLATE "C"'
        )
        return [DiscoveryLead(ref=str(r["ref"]), via=str(r["via"]), basis=str(r["basis"]), username=r["username"],
                              channel_id=r["channel_id"], title=r["title"], hits=int(r["hits"]),
                              seen_at=_dt(r["seen_at"])) for r in rows]


# post_links upsert for save_posts (unnest of seven columns).
UPSERT_LINKS = (
    "INSERT INTO post_links (channel_id, message_id, url, domain, day, preview_title, preview_site)"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[])"
    " ON CONFLICT (channel_id, message_id, url) DO UPDATE SET"
    " preview_title = coalesce(excluded.preview_title, post_links.preview_title),"
    " preview_site = coalesce(excluded.preview_site, post_links.preview_site)"
)

__all__ = ["PostgresLifecycleQueries", "UPSERT_LINKS"]
