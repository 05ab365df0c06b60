"""SQL for the alert engine, retro-hunts and ``monitor alerts``: a mixin for SQLiteStore.

Why a mixin with a transaction object: the engine reads history (term counts, window
counts, cool-downs) and writes what it decided (term counts, alerts, pending
deliveries) in ONE write transaction, so two batches evaluated at once can never both
see a term as new, and a crash leaves either all of a batch's alert state or none.
Reads that must see the same snapshot go through ``AlertTx`` on the writer connection.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any, Protocol

import aiosqlite

from monitor.models import (
    Alert,
    DiscoveredRow,
    RuleRecord,
    StoredAlert,
    TermRow,
    TermStat,
)
from monitor.store.common.alerts import Placeholders, SharedAlertQueries, SharedAlertReads, SharedAlertWrites
from monitor.store.common.alertrows import alert_values
from monitor.store.epoch import dt

_CHUNK = 400


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _at(value: int) -> datetime:
    """An epoch-seconds column that is never NULL -> aware datetime."""
    stamp = dt(int(value))
    assert stamp is not None
    return stamp


def _jdump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class _HasTransaction(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    async def query(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[dict[str, Any]]: ...


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class Qmarks(list[Any]):
    """`Placeholders` in SQLite's style: the n-th value is ``?n``."""

    def __call__(self, value: Any, cast: str = "") -> str:
        self.append(value)
        return f"?{len(self)}"

    def any(self, column: str, values: Sequence[Any], cast: str) -> str:
        return f"{column} IN ({', '.join(self(v) for v in values) or 'NULL'})"


class AlertReads(SharedAlertReads):
    """The engine's history reads, over whichever connection ``_all`` uses."""

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _args(self) -> Qmarks:
        return Qmarks()

    async def _select(self, sql: str, args: Placeholders) -> list[Sequence[Any]]:
        assert isinstance(args, Qmarks)
        return list(await self._all(sql, args))

    async def _in_chunks(self, sql: str, items: Sequence[Any], first: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """``sql``'s rows for every item: its ``{marks}`` list is filled a chunk of ``items`` at a time
        (SQLite bounds the parameters of one statement), after the parameters ``first``."""
        rows: list[tuple[Any, ...]] = []
        for chunk in _chunks(list(items)):
            rows += await self._all(sql.format(marks=",".join("?" * len(chunk))), [*first, *chunk])
        return rows

    # -- terms -------------------------------------------------------------------------
    async def term_stats(self, terms: Sequence[str]) -> dict[str, TermStat]:
        rows = await self._in_chunks("SELECT term, first_seen_at, total FROM terms WHERE term IN ({marks})", terms)
        return {r[0]: TermStat(_at(r[1]), int(r[2])) for r in rows}

    async def term_days(
        self, terms: Sequence[str], first_day: int, last_day: int
    ) -> dict[str, dict[int, int]]:
        out: dict[str, dict[int, int]] = {}
        rows = await self._in_chunks(
            "SELECT term, day, count FROM term_days WHERE day BETWEEN ? AND ? AND term IN ({marks})",
            terms, [first_day, last_day],
        )
        for term, day, count in rows:
            out.setdefault(term, {})[int(day)] = int(count)
        return out

    async def discovered(self, refs: Sequence[str]) -> dict[str, int]:
        rows = await self._in_chunks("SELECT ref, hits FROM discovered_channels WHERE ref IN ({marks})", refs)
        return {r[0]: int(r[1]) for r in rows}


class QueryReads(AlertReads):
    """History reads through the store's read-only connection: dry-runs never take the write lock."""

    def __init__(self, store: _HasTransaction) -> None:
        self._store = store

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) for r in await self._store.query(sql, params)]


class AlertTx(AlertReads, SharedAlertWrites):
    """Alert-state reads and writes inside one write transaction (see module docstring)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = await self.conn.execute(sql, params)
        return [tuple(r) for r in await cursor.fetchall()]

    async def add_terms(self, rows: Sequence[TermRow]) -> None:
        """Count a batch of NEW posts into the history (only new posts: nothing is counted twice)."""
        if not rows:
            return
        await self._upsert_days(rows, "count + excluded.count")
        await self._upsert_terms(
            [(r.term, r.kind, _ts(r.first_seen_at), r.channel_id, r.message_id, r.count) for r in rows],
            "total + excluded.total",
        )

    async def seed_terms(self, rows: Sequence[TermRow]) -> None:
        """Merge counts recomputed from stored posts: max(), so a seed never double-counts live counts
        and seeding twice changes nothing."""
        if not rows:
            return
        await self._upsert_days(rows, "max(count, excluded.count)")
        totals: dict[str, TermRow] = {}
        sums: dict[str, int] = {}
        for r in rows:
            sums[r.term] = sums.get(r.term, 0) + r.count
            if r.term not in totals or r.first_seen_at < totals[r.term].first_seen_at:
                totals[r.term] = r
        await self._upsert_terms(
            [(t, r.kind, _ts(r.first_seen_at), r.channel_id, r.message_id, sums[t]) for t, r in totals.items()],
            "max(total, excluded.total)",
        )

    async def _upsert_days(self, rows: Sequence[TermRow], merge: str) -> None:
        """One row a (term, day); ``merge`` (fixed SQL of the two callers) folds a count into a stored one."""
        await self.conn.executemany(
            "INSERT INTO term_days (term, day, count) VALUES (?, ?, ?)"
            f" ON CONFLICT(term, day) DO UPDATE SET count = {merge}",
            [(r.term, r.day, r.count) for r in rows],
        )

    async def _upsert_terms(self, values: Sequence[tuple[Any, ...]], merge: str) -> None:
        """One row a term, the earliest sighting kept; ``merge`` (fixed SQL) folds a total into the stored one."""
        await self.conn.executemany(
            "INSERT INTO terms (term, kind, first_seen_at, first_channel_id, first_message_id, total)"
            f" VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(term) DO UPDATE SET total = {merge},"
            " first_channel_id = CASE WHEN excluded.first_seen_at < first_seen_at"
            "   THEN excluded.first_channel_id ELSE first_channel_id END,"
            " first_message_id = CASE WHEN excluded.first_seen_at < first_seen_at"
            "   THEN excluded.first_message_id ELSE first_message_id END,"
            " first_seen_at = min(first_seen_at, excluded.first_seen_at)",
            values,
        )

    async def prune_term_days(self, before_day: int) -> int:
        cursor = await self.conn.execute("DELETE FROM term_days WHERE day < ?", (before_day,))
        return cursor.rowcount

    async def add_discovered(self, rows: Sequence[DiscoveredRow], *, seed: bool = False) -> None:
        if not rows:
            return
        merge = "max(hits, excluded.hits)" if seed else "hits + excluded.hits"
        await self.conn.executemany(
            "INSERT INTO discovered_channels"
            " (ref, name, via, first_seen_at, first_channel_id, first_message_id,"
            " hits) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ref) DO UPDATE SET"
            f" hits = {merge}, name = coalesce(name, excluded.name),"
            " first_seen_at = min(first_seen_at, excluded.first_seen_at)",
            [(r.ref, r.name, r.via, _ts(r.seen_at), r.channel_id, r.message_id, r.hits) for r in rows],
        )

    async def insert_alert(self, alert: Alert, sinks: Sequence[str], *, now: datetime) -> Alert | None:
        """Store an alert and one pending delivery per sink; None when its dedup_key is already stored."""
        cursor = await self.conn.execute(
            "INSERT INTO alerts (rule, kind, dedup_key, fired_at, summary, details, channel_id, message_id,"
            " channel_username, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(dedup_key) DO NOTHING",
            alert_values(alert),
        )
        if cursor.rowcount != 1:
            return None
        alert_id = int(cursor.lastrowid or 0)
        await self.conn.executemany(
            "INSERT OR IGNORE INTO deliveries (alert_id, sink, state, attempts, next_attempt_at)"
            " VALUES (?, ?, 'pending', 0, ?)",
            [(alert_id, sink, _ts(now)) for sink in dict.fromkeys(sinks)],
        )
        from dataclasses import replace

        return replace(alert, id=alert_id)


class AlertQueries(SharedAlertQueries):
    """Mixin for SQLiteStore: the alert engine's transaction and the read queries of ``monitor alerts``."""

    def _alert_args(self) -> Qmarks:
        return Qmarks()

    async def _alert_rows(self: _HasTransaction, sql: str, args: Placeholders) -> list[dict[str, Any]]:
        assert isinstance(args, Qmarks)
        return await self.query(sql, args)

    @asynccontextmanager
    async def alert_transaction(self: _HasTransaction) -> AsyncIterator[AlertTx]:
        async with self.transaction() as conn:
            yield AlertTx(conn)

    def alert_reader(self: _HasTransaction) -> QueryReads:
        """History reads on the read-only connection (dry-runs, CLI)."""
        return QueryReads(self)


__all__ = ["AlertQueries", "AlertReads", "AlertTx", "QueryReads", "RuleRecord", "StoredAlert", "TermStat"]


