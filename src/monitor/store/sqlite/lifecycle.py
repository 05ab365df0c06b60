"""The ``ChannelHistory`` port on SQLite: lifecycle events, profile snapshots, deletions, out-links and
discovery decisions (migration 0006). Mixed into SQLiteStore, which provides the connections."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.models import ChannelEvent, ChannelSnapshot, DiscoveryLead, Quarantined
from monitor.store.common.alerts import time_bounds
from monitor.store.common.lifecycle import SharedLifecycleReads
from monitor.store.common.reports import Bound, PostFilter
from monitor.store.sqlite.reports import Positional
from monitor.store.epoch import dt, ts

_CHUNK = 400
_JSON_LIST = "(SELECT value FROM json_each(?))"


def _event(r: Any) -> ChannelEvent:
    at = dt(int(r[3]))
    assert at is not None
    return ChannelEvent(key=r[0], channel_id=r[1], state=r[2], at=at, reason=r[4])


class LifecycleQueries(SharedLifecycleReads):
    """Async lifecycle queries; the class that mixes this in provides the connections."""

    if TYPE_CHECKING:
        from contextlib import AbstractAsyncContextManager

        def transaction(self) -> AbstractAsyncContextManager[Any]: ...

        async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

        async def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]: ...

        def _post_where(self, f: PostFilter, *, day_index: bool = True) -> tuple[list[str], list[Any]]: ...

    def _filtered(self, f: PostFilter, *, day_index: bool = True) -> tuple[list[str], Bound]:
        where, params = self._post_where(f, day_index=day_index)
        return where, Positional(params)

    async def add_channel_event(self, event: ChannelEvent) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO channel_events (key, channel_id, state, at, reason) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(key, at, state) DO UPDATE SET reason = excluded.reason,"
                " channel_id = coalesce(excluded.channel_id, channel_events.channel_id)",
                (event.key, event.channel_id, event.state, ts(event.at), event.reason),
            )

    async def channel_events(
        self, *, keys: Sequence[str] | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> list[ChannelEvent]:
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if keys is not None:
            where.append(f"key IN {_JSON_LIST}")
            params.append(json.dumps(list(keys)))

        def bind(value: Any) -> str:
            params.append(value)
            return "?"

        where += time_bounds(bind, "at", since, until)
        rows = await self._fetch(
            "SELECT key, channel_id, state, at, reason FROM channel_events WHERE "
            + " AND ".join(where) + " ORDER BY at, key, state",
            params,
        )
        return [_event(r) for r in rows]

    async def add_channel_snapshot(self, snapshot: ChannelSnapshot) -> None:
        s = snapshot
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO channel_snapshots (channel_id, observed_at, title, username, about,"
                " subscribers, restriction, ttl_period) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (s.channel_id, ts(s.observed_at), s.title, s.username, s.about, s.subscribers, s.restriction,
                 s.ttl_period),
            )

    async def channel_snapshots(self, channel_id: int, *, since: datetime | None = None) -> list[ChannelSnapshot]:
        rows = await self._fetch(
            "SELECT channel_id, observed_at, title, username, about, subscribers, restriction, ttl_period"
            " FROM channel_snapshots WHERE channel_id = ? AND observed_at >= ? ORDER BY observed_at",
            (channel_id, ts(since) if since is not None else -(2**62)),
        )
        out = []
        for r in rows:
            at = dt(int(r[1]))
            assert at is not None
            out.append(ChannelSnapshot(channel_id=int(r[0]), observed_at=at, title=r[2], username=r[3], about=r[4],
                                       subscribers=r[5], restriction=r[6], ttl_period=r[7]))
        return out

    async def mark_deleted(self, channel_id: int, message_ids: Sequence[int], *, at: datetime, kind: str) -> int:
        ids = sorted({int(i) for i in message_ids})
        marked = 0
        async with self.transaction() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                cursor = await conn.execute(
                    "UPDATE posts SET deleted_at = ?, deleted_kind = ? WHERE channel_id = ? AND deleted_at IS NULL"
                    f" AND message_id IN {_JSON_LIST}",
                    (ts(at), kind, channel_id, json.dumps(chunk)),
                )
                marked += cursor.rowcount
        return marked

    async def set_discovery_decision(self, ref: str, decision: str, *, at: datetime, note: str | None = None) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO discovery_decisions (ref, decision, at, note) VALUES (?, ?, ?, ?)",
                (ref, decision, ts(at), note),
            )

    async def discovery_decisions(self) -> dict[str, tuple[str, datetime, str | None]]:
        out: dict[str, tuple[str, datetime, str | None]] = {}
        for r in await self._fetch("SELECT ref, decision, at, note FROM discovery_decisions ORDER BY ref"):
            at = dt(int(r[2]))
            assert at is not None
            out[str(r[0])] = (str(r[1]), at, r[3])
        return out

    async def add_quarantine(self, key: str, ref: str, priority: float, *, at: datetime) -> bool:
        async with self.transaction() as conn:
            cursor = await conn.execute("SELECT 1 FROM watch WHERE key = ? AND watched = 1", (key,))
            if await cursor.fetchone() is not None:
                return False  # watched already: quarantine would take it out of the reports
            cursor = await conn.execute(
                "INSERT INTO quarantine (key, ref, priority, since) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
                (key, ref, float(priority), ts(at)),
            )
            added = cursor.rowcount > 0
            await conn.execute(
                "INSERT INTO watch (key, labels, watched, added_at) VALUES (?, ?, 0, ?) ON CONFLICT(key) DO NOTHING",
                (key, json.dumps({"quarantine": ref}), ts(at)),
            )
            return added

    async def quarantined(self, *, include_accepted: bool = False) -> list[Quarantined]:
        where = "" if include_accepted else " WHERE q.accepted_at IS NULL"
        rows = await self._fetch(
            "SELECT q.key, q.ref, q.priority, q.since, w.channel_id, q.accepted_at"
            " FROM quarantine q LEFT JOIN watch w ON w.key = q.key" + where + " ORDER BY q.key"
        )
        out = []
        for r in rows:
            since = dt(int(r[3]))
            assert since is not None
            out.append(Quarantined(key=r[0], ref=r[1], priority=float(r[2]), since=since, channel_id=r[4],
                                   accepted_at=dt(int(r[5])) if r[5] is not None else None))
        return out

    async def accept_quarantined(self, key: str, *, at: datetime) -> bool:
        async with self.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE quarantine SET accepted_at = ? WHERE key = ? AND accepted_at IS NULL", (ts(at), key)
            )
            return cursor.rowcount > 0

    async def add_discovery_leads(self, leads: Sequence[DiscoveryLead]) -> None:
        if not leads:
            return
        async with self.transaction() as conn:
            await conn.executemany(
                "INSERT INTO discovery_leads (ref, via, basis, username, channel_id, title, hits, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ref, via, basis) DO UPDATE SET"
                " username = coalesce(excluded.username, discovery_leads.username),"
                " channel_id = coalesce(excluded.channel_id, discovery_leads.channel_id),"
                " title = coalesce(excluded.title, discovery_leads.title), hits = excluded.hits,"
                " seen_at = excluded.seen_at",
                [(x.ref, x.via, x.basis, x.username, x.channel_id, x.title, x.hits, ts(x.seen_at)) for x in leads],
            )

    async def discovery_leads(self) -> list[DiscoveryLead]:
        rows = await self._fetch(
            "SELECT ref, via, basis, username, channel_id, title, hits, seen_at FROM discovery_leads"
            " ORDER BY ref, via, basis"
        )
        out = []
        for r in rows:
            seen = dt(int(r[7]))
            assert seen is not None
            out.append(DiscoveryLead(ref=r[0], via=r[1], basis=r[2], username=r[3], channel_id=r[4], title=r[5],
                                     hits=int(r[6]), seen_at=seen))
        return out


_UPSERT_LINKS = (
    "INSERT INTO post_links (channel_id, message_id, url, domain, day, preview_title, preview_site)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(channel_id, message_id, url) DO UPDATE SET"
    " preview_title = coalesce(excluded.preview_title, post_links.preview_title),"
    " preview_site = coalesce(excluded.preview_site, post_links.preview_site)"
)

__all__ = ["LifecycleQueries"]
