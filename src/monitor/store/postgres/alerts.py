"""Alert history on PostgreSQL: terms, discovered channels, rule state and fired alerts.

The same contract as the SQLite mixin (``store/sqlite/alerts.py``): the engine reads its history
and writes what it decided in ONE transaction, handed to it as ``PostgresAlertTx(conn)``, either
inside ``save_posts`` or through ``alert_transaction()``; dry-runs read through
``alert_reader()``, which takes a pooled (read-only, for analysts) connection per query.

What PostgreSQL needs done differently:
- A batch's upserts go in as ONE statement over ``unnest`` of typed arrays, pre-merged in Python
  per key (PostgreSQL refuses an ``ON CONFLICT DO UPDATE`` that touches a row twice) with the
  exact result the SQLite backend gets by applying the rows one by one, and sorted by key, so
  two collectors evaluating at once lock term rows in the same order and do not deadlock.
- An alert whose dedup key is stored is skipped before the insert, so a duplicate never burns
  an id of the ``alerts`` sequence and ids stay dense as on SQLite.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from monitor.models import (
    Alert,
    DiscoveredRow,
    TermRow,
    TermStat,
)
from monitor.store.common.alerts import Placeholders, SharedAlertQueries, SharedAlertReads, SharedAlertWrites
from monitor.store.common.alertrows import alert_values
from monitor.store.postgres.reports import Args
from monitor.store.postgres.connection import Database

_FAR = 2**62


def _ts(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _dt(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(int(value), UTC)


def _at(value: int) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def _jdump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class Numbered(Args):
    """`Placeholders` in asyncpg's style: ``$n``, a list of values is one array."""

    def any(self, column: str, values: Sequence[Any], cast: str) -> str:
        return f"{column} = ANY({self(list(values), cast + '[]')})"


class PostgresAlertReads(SharedAlertReads):
    """The engine's history reads over whichever connection ``_fetch`` uses."""

    _COLLATE = ' COLLATE "C"'

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    def _args(self) -> Numbered:
        return Numbered()

    async def _select(self, sql: str, args: Placeholders) -> list[Sequence[Any]]:
        assert isinstance(args, Numbered)
        return await self._fetch(sql, *args.values)

    # -- terms -------------------------------------------------------------------------
    async def term_stats(self, terms: Sequence[str]) -> dict[str, TermStat]:
        if not terms:
            return {}
        rows = await self._fetch(
            "SELECT term, first_seen_at, total FROM terms WHERE term = ANY($1::text[])", list(terms)
        )
        return {r[0]: TermStat(_at(r[1]), int(r[2])) for r in rows}

    async def term_days(self, terms: Sequence[str], first_day: int, last_day: int) -> dict[str, dict[int, int]]:
        out: dict[str, dict[int, int]] = {}
        if not terms:
            return out
        rows = await self._fetch(
            "SELECT term, day, count FROM term_days WHERE day BETWEEN $1 AND $2 AND term = ANY($3::text[])"
            ' ORDER BY term COLLATE "C", day',
            int(first_day), int(last_day), list(terms),
        )
        for term, day, count in rows:
            out.setdefault(term, {})[int(day)] = int(count)
        return out

    async def discovered(self, refs: Sequence[str]) -> dict[str, int]:
        if not refs:
            return {}
        rows = await self._fetch(
            "SELECT ref, hits FROM discovered_channels WHERE ref = ANY($1::text[])", list(refs)
        )
        return {r[0]: int(r[1]) for r in rows}


class PostgresAlertReader(PostgresAlertReads):
    """History reads through the store's pool, one short read per call: dry-runs never hold a writer."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        async def work(conn: Any) -> list[Any]:
            return list(await conn.fetch(sql, *args))

        return await self._db.run(work, write=False)


class PostgresAlertTx(PostgresAlertReads, SharedAlertWrites):
    """Alert-state reads and writes inside one transaction on ``conn`` (the ``History`` of the port)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self.conn.fetch(sql, *args))

    async def add_terms(self, rows: Sequence[TermRow]) -> None:
        """Count a batch of NEW posts into the history (only new posts: nothing is counted twice)."""
        if not rows:
            return
        days: dict[tuple[str, int], int] = {}
        for r in rows:
            days[(r.term, int(r.day))] = days.get((r.term, int(r.day)), 0) + int(r.count)
        await self._upsert_days(days, "term_days.count + excluded.count")
        await self._upsert_terms(_first_of_each(rows), _sums(rows), "terms.total + excluded.total")

    async def seed_terms(self, rows: Sequence[TermRow]) -> None:
        """Merge counts recomputed from stored posts: greatest(), so a seed never double-counts live counts
        and seeding twice changes nothing."""
        if not rows:
            return
        days: dict[tuple[str, int], int] = {}
        for r in rows:
            key = (r.term, int(r.day))
            days[key] = max(days.get(key, int(r.count)), int(r.count))
        await self._upsert_days(days, "greatest(term_days.count, excluded.count)")
        await self._upsert_terms(_first_of_each(rows, seed=True), _sums(rows), "greatest(terms.total, excluded.total)")

    async def _upsert_days(self, days: Mapping[tuple[str, int], int], merge: str) -> None:
        keys = sorted(days, key=lambda k: (k[0].encode("utf-8"), k[1]))
        await self.conn.execute(
            "INSERT INTO term_days (term, day, count)"
            " SELECT t, d, c FROM unnest($1::text[], $2::integer[], $3::bigint[]) WITH ORDINALITY AS u(t, d, c, n)"
            " ORDER BY n"
            f" ON CONFLICT (term, day) DO UPDATE SET count = {merge}",
            [k[0] for k in keys], [k[1] for k in keys], [days[k] for k in keys],
        )

    async def _upsert_terms(self, firsts: Mapping[str, TermRow], totals: Mapping[str, int], merge: str) -> None:
        terms = sorted(firsts, key=lambda t: t.encode("utf-8"))
        await self.conn.execute(
            "INSERT INTO terms (term, kind, first_seen_at, first_channel_id, first_message_id, total)"
            " SELECT t, k, f, c, m, n FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[],"
            " $5::bigint[], $6::bigint[]) WITH ORDINALITY AS u(t, k, f, c, m, n, o) ORDER BY o"
            f" ON CONFLICT (term) DO UPDATE SET total = {merge},"
            " first_channel_id = CASE WHEN excluded.first_seen_at < terms.first_seen_at"
            "   THEN excluded.first_channel_id ELSE terms.first_channel_id END,"
            " first_message_id = CASE WHEN excluded.first_seen_at < terms.first_seen_at"
            "   THEN excluded.first_message_id ELSE terms.first_message_id END,"
            " first_seen_at = least(terms.first_seen_at, excluded.first_seen_at)",
            terms,
            [firsts[t].kind for t in terms],
            [_ts(firsts[t].first_seen_at) for t in terms],
            [firsts[t].channel_id for t in terms],
            [firsts[t].message_id for t in terms],
            [totals[t] for t in terms],
        )

    async def prune_term_days(self, before_day: int) -> int:
        status = await self.conn.execute("DELETE FROM term_days WHERE day < $1", int(before_day))
        return _count(status)

    async def add_discovered(self, rows: Sequence[DiscoveredRow], *, seed: bool = False) -> None:
        if not rows:
            return
        # rows applied one by one (the SQLite backend) keep the first row's via/channel/message, the
        # first non-NULL name, the earliest sighting and the summed (seed: largest) hits
        merged: dict[str, list[Any]] = {}
        for r in rows:
            item = merged.get(r.ref)
            if item is None:
                merged[r.ref] = [r.name, r.via, _ts(r.seen_at), r.channel_id, r.message_id, int(r.hits)]
                continue
            item[0] = item[0] if item[0] is not None else r.name
            item[2] = min(item[2], _ts(r.seen_at))
            item[5] = max(item[5], int(r.hits)) if seed else item[5] + int(r.hits)
        refs = sorted(merged, key=lambda t: t.encode("utf-8"))
        merge = "greatest(discovered_channels.hits, excluded.hits)" if seed else "discovered_channels.hits + excluded.hits"
        await self.conn.execute(
            "INSERT INTO discovered_channels (ref, name, via, first_seen_at, first_channel_id, first_message_id, hits)"
            " SELECT r, n, v, f, c, m, h FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],"
            " $6::bigint[], $7::bigint[]) WITH ORDINALITY AS u(r, n, v, f, c, m, h, o) ORDER BY o"
            f" ON CONFLICT (ref) DO UPDATE SET hits = {merge},"
            " name = coalesce(discovered_channels.name, excluded.name),"
            " first_seen_at = least(discovered_channels.first_seen_at, excluded.first_seen_at)",
            refs, *([merged[r][i] for r in refs] for i in range(6)),
        )

    async def insert_alert(self, alert: Alert, sinks: Sequence[str], *, now: datetime) -> Alert | None:
        """Store an alert and one pending delivery per sink; None when its dedup_key is already stored."""
        alert_id = await self.conn.fetchval(
            "INSERT INTO alerts (rule, kind, dedup_key, fired_at, summary, details, channel_id, message_id,"
            " channel_username, link)"
            " SELECT $1, $2, $3::text, $4, $5, $6, $7, $8, $9, $10"
            " WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE dedup_key = $3::text)"
            " ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
            *alert_values(alert),
        )
        if alert_id is None:
            return None
        names = list(dict.fromkeys(sinks))
        if names:
            await self.conn.execute(
                "INSERT INTO deliveries (alert_id, sink, state, attempts, next_attempt_at)"
                " SELECT $1, s, 'pending', 0, $3 FROM unnest($2::text[]) WITH ORDINALITY AS u(s, o) ORDER BY o"
                " ON CONFLICT (alert_id, sink) DO NOTHING",
                int(alert_id), names, _ts(now),
            )
        return replace(alert, id=int(alert_id))


def _first_of_each(rows: Sequence[TermRow], *, seed: bool = False) -> dict[str, TermRow]:
    """Per term, the row the SQLite backend keeps: the first with the earliest sighting. Its kind is the
    first row's when counting (rows are applied one by one and an upsert never changes ``kind``), the
    earliest row's when seeding (merged first there)."""
    out: dict[str, TermRow] = {}
    kinds: dict[str, str] = {}
    for r in rows:
        kinds.setdefault(r.term, r.kind)
        if r.term not in out or r.first_seen_at < out[r.term].first_seen_at:
            out[r.term] = r
    return out if seed else {t: replace(r, kind=kinds[t]) for t, r in out.items()}


def _sums(rows: Sequence[TermRow]) -> dict[str, int]:
    sums: dict[str, int] = {}
    for r in rows:
        sums[r.term] = sums.get(r.term, 0) + int(r.count)
    return sums


def _count(status: str) -> int:
    """Rows changed, from a command tag such as ``DELETE 3`` or ``UPDATE 2``."""
    try:
        return int(status.rsplit(" ", 1)[-1])
    except (ValueError, AttributeError):
        return 0


class PostgresAlertQueries(SharedAlertQueries):
    """``AlertHistory`` (and the ``History`` handed to the engine inside a save); ``self.db`` is the pool."""

    db: Database
    _SEQ = "p.seq"
    _STATES = 'json_object_agg(d.sink, d.state ORDER BY d.sink COLLATE "C")::text'

    @asynccontextmanager
    async def alert_transaction(self) -> AsyncIterator[PostgresAlertTx]:
        async with self.db.transaction() as conn:
            yield PostgresAlertTx(conn)

    def alert_reader(self) -> PostgresAlertReader:
        """History reads on pooled connections (read-only for analysts): dry-runs, CLI."""
        return PostgresAlertReader(self.db)

    def _alert_args(self) -> Numbered:
        return Numbered()

    async def _alert_rows(self, sql: str, args: Placeholders) -> list[dict[str, Any]]:
        assert isinstance(args, Numbered)

        async def work(conn: Any) -> list[dict[str, Any]]:
            return [dict(r) for r in await conn.fetch(sql, *args.values)]

        return await self.db.run(work, write=False)



__all__ = ["PostgresAlertQueries", "PostgresAlertReader", "PostgresAlertReads", "PostgresAlertTx"]
