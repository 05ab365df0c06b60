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

from monitor.identity import is_id_key, parse_id_key
from monitor.models import (
    Alert,
    DiscoveredRow,
    RuleNote,
    RuleRecord,
    Series,
    StoredAlert,
    TaggedPost,
    TermRow,
    TermStat,
)
from monitor.store.rows import tagged_post
from monitor.store.common.alertrows import alert_values, labelled_ids, stored_alert, watched_refs
from monitor.store.epoch import dt

_CHUNK = 400


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _at(value: int) -> datetime:
    """An epoch-seconds column that is never NULL -> aware datetime."""
    stamp = dt(int(value))
    assert stamp is not None
    return stamp


def _rule(name: str, kind: str, detection_hash: str | None, seeded_at: int | None, last_fired_at: int | None,
          suppressed: int) -> RuleRecord:
    return RuleRecord(name, kind, detection_hash, dt(seeded_at), dt(last_fired_at), int(suppressed))


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


class AlertReads:
    """The engine's history reads, over whichever connection ``_all`` uses."""

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

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

    async def history_start(self) -> datetime | None:
        """When the oldest post the term history has counted was published (survives pruning of term_days)."""
        rows = await self._all("SELECT min(first_seen_at) FROM terms")
        return None if not rows or rows[0][0] is None else _at(rows[0][0])

    async def discovered(self, refs: Sequence[str]) -> dict[str, int]:
        rows = await self._in_chunks("SELECT ref, hits FROM discovered_channels WHERE ref IN ({marks})", refs)
        return {r[0]: int(r[1]) for r in rows}

    async def rule_records(self) -> dict[str, RuleRecord]:
        rows = await self._all(
            "SELECT name, kind, detection_hash, seeded_at, last_fired_at, suppressed FROM alert_rules"
        )
        return {r[0]: _rule(*r) for r in rows}

    async def alert_exists(self, dedup_key: str) -> bool:
        rows = await self._all("SELECT 1 FROM alerts WHERE dedup_key = ?", (dedup_key,))
        return bool(rows)

    async def series_counts(self, series: Series, windows: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """Posts of one series in each (start, end] window, by posted_at. Uses the day indexes."""
        counts: list[int] = []
        extra, extra_params = "", []  # type: tuple[str, list[Any]]
        on, value = series.on, series.value
        if series.channel_ids is not None:
            extra += f" AND p.channel_id IN ({','.join('?' * len(series.channel_ids)) or 'NULL'})"
            extra_params += list(series.channel_ids)
        if series.languages:
            extra += f" AND p.lang IN ({','.join('?' * len(series.languages))})"
            extra_params += list(series.languages)
        for start_at, end_at in windows:
            start, end = _ts(start_at), _ts(end_at)
            days = (start // 86400, end // 86400)
            if on == "group":
                sql = (
                    "SELECT count(*) FROM post_tags t JOIN posts p"
                    " ON p.channel_id = t.channel_id AND p.message_id = t.message_id"
                    " WHERE t.kind = 'group' AND t.value = ? AND t.day BETWEEN ? AND ?"
                    " AND p.posted_at > ? AND p.posted_at <= ?"
                )
                params: list[Any] = [value, *days, start, end]
            elif on == "language":
                sql = (
                    "SELECT count(*) FROM posts p WHERE p.lang = ? AND p.day BETWEEN ? AND ?"
                    " AND p.posted_at > ? AND p.posted_at <= ?"
                )
                params = [value, *days, start, end]
            else:
                sql = (
                    "SELECT count(*) FROM posts p WHERE p.day BETWEEN ? AND ? AND p.channel_id = ?"
                    " AND p.posted_at > ? AND p.posted_at <= ?"
                )
                params = [*days, int(value), start, end]
            rows = await self._all(sql + extra, [*params, *extra_params])
            counts.append(int(rows[0][0]))
        return counts

    async def posts_start(self) -> datetime | None:
        rows = await self._all("SELECT min(posted_at) FROM posts")
        return None if not rows or rows[0][0] is None else _at(rows[0][0])

    async def watched_refs(self) -> frozenset[str]:
        rows = await self._all(
            "SELECT w.key, w.channel_id, c.username FROM watch w LEFT JOIN channels c ON c.id = w.channel_id"
            " WHERE w.watched = 1"
        )
        return watched_refs(rows)

    async def channel_labels(self, channel_id: int) -> dict[str, str]:
        rows = await self._all(
            "SELECT labels FROM watch WHERE channel_id = ? ORDER BY watched DESC LIMIT 1", (channel_id,)
        )
        return json.loads(rows[0][0] or "{}") if rows else {}

    async def channel_ids_with_labels(self, labels: Sequence[tuple[str, Sequence[str]]]) -> list[int]:
        rows = await self._all("SELECT channel_id, labels FROM watch WHERE channel_id IS NOT NULL")
        return labelled_ids(rows, labels)

    async def channel_ids_for_keys(self, keys: Sequence[str]) -> list[int]:
        """Channel ids of watch keys / usernames / "id:N" keys."""
        ids = {n for n in map(parse_id_key, keys) if n is not None}
        names = [k for k in keys if not is_id_key(k)]
        if names:
            marks = ",".join("?" * len(names))
            rows = await self._all(
                f"SELECT id FROM channels WHERE lower(username) IN ({marks})"
                f" UNION SELECT channel_id FROM watch WHERE key IN ({marks}) AND channel_id IS NOT NULL",
                [*names, *names],
            )
            ids |= {int(r[0]) for r in rows}
        return sorted(ids)


class QueryReads(AlertReads):
    """History reads through the store's read-only connection: dry-runs never take the write lock."""

    def __init__(self, store: _HasTransaction) -> None:
        self._store = store

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) for r in await self._store.query(sql, params)]


class AlertTx(AlertReads):
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
        await self.conn.executemany(
            "INSERT INTO term_days (term, day, count) VALUES (?, ?, ?)"
            " ON CONFLICT(term, day) DO UPDATE SET count = count + excluded.count",
            [(r.term, r.day, r.count) for r in rows],
        )
        await self.conn.executemany(
            "INSERT INTO terms (term, kind, first_seen_at, first_channel_id, first_message_id, total)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(term) DO UPDATE SET total = total + excluded.total,"
            " first_channel_id = CASE WHEN excluded.first_seen_at < first_seen_at"
            "   THEN excluded.first_channel_id ELSE first_channel_id END,"
            " first_message_id = CASE WHEN excluded.first_seen_at < first_seen_at"
            "   THEN excluded.first_message_id ELSE first_message_id END,"
            " first_seen_at = min(first_seen_at, excluded.first_seen_at)",
            [(r.term, r.kind, _ts(r.first_seen_at), r.channel_id, r.message_id, r.count) for r in rows],
        )

    async def seed_terms(self, rows: Sequence[TermRow]) -> None:
        """Merge counts recomputed from stored posts: max(), so a seed never double-counts live counts
        and seeding twice changes nothing."""
        if not rows:
            return
        await self.conn.executemany(
            "INSERT INTO term_days (term, day, count) VALUES (?, ?, ?)"
            " ON CONFLICT(term, day) DO UPDATE SET count = max(count, excluded.count)",
            [(r.term, r.day, r.count) for r in rows],
        )
        totals: dict[str, TermRow] = {}
        sums: dict[str, int] = {}
        for r in rows:
            sums[r.term] = sums.get(r.term, 0) + r.count
            if r.term not in totals or r.first_seen_at < totals[r.term].first_seen_at:
                totals[r.term] = r
        await self.conn.executemany(
            "INSERT INTO terms (term, kind, first_seen_at, first_channel_id, first_message_id, total)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(term) DO UPDATE SET total = max(total, excluded.total),"
            " first_channel_id = CASE WHEN excluded.first_seen_at < first_seen_at"
            "   THEN excluded.first_channel_id ELSE first_channel_id END,"
            " first_message_id = CASE WHEN excluded.first_seen_at < first_seen_at"
            "   THEN excluded.first_message_id ELSE first_message_id END,"
            " first_seen_at = min(first_seen_at, excluded.first_seen_at)",
            [(t, r.kind, _ts(r.first_seen_at), r.channel_id, r.message_id, sums[t]) for t, r in totals.items()],
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

    async def note_rule(self, note: RuleNote) -> None:
        await self.conn.execute(
            "INSERT INTO alert_rules"
            " (name, kind, detection_hash, seeded_at, last_fired_at, suppressed, updated_at)"
            " VALUES (:name, :kind, :hash, CASE WHEN :seeded THEN :now END, CASE WHEN :fired THEN :now END,"
            " CASE WHEN :fired THEN 0 ELSE :suppressed END, :now)"
            " ON CONFLICT(name) DO UPDATE SET kind = excluded.kind,"
            " detection_hash = coalesce(:hash, detection_hash),"
            " seeded_at = CASE WHEN :seeded THEN :now ELSE seeded_at END,"
            " last_fired_at = CASE WHEN :fired THEN :now ELSE last_fired_at END,"
            " suppressed = CASE WHEN :fired THEN 0 ELSE suppressed + :suppressed END,"
            " updated_at = :now",
            {
                "name": note.name,
                "kind": note.kind,
                "hash": note.detection_hash,
                "seeded": 1 if note.seeded else 0,
                "fired": 1 if note.fired else 0,
                "suppressed": note.suppressed,
                "now": _ts(note.now),
            },
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


class AlertQueries:
    """Mixin for SQLiteStore: the alert engine's transaction and the read queries of ``monitor alerts``."""

    @asynccontextmanager
    async def alert_transaction(self: _HasTransaction) -> AsyncIterator[AlertTx]:
        async with self.transaction() as conn:
            yield AlertTx(conn)

    def alert_reader(self: _HasTransaction) -> QueryReads:
        """History reads on the read-only connection (dry-runs, CLI)."""
        return QueryReads(self)

    async def list_alerts(
        self: _HasTransaction, *, since: datetime | None = None, rule: str | None = None, limit: int = 200
    ) -> list[StoredAlert]:
        where, params = ["1 = 1"], []  # type: list[str], list[Any]
        if since is not None:
            where.append("a.fired_at >= ?")
            params.append(_ts(since))
        if rule is not None:
            where.append("a.rule = ?")
            params.append(rule)
        rows = await self.query(
            "SELECT a.*, (SELECT json_group_object(d.sink, d.state) FROM deliveries d"
            f" WHERE d.alert_id = a.id) AS states FROM alerts a WHERE {' AND '.join(where)}"
            " ORDER BY a.fired_at DESC, a.id DESC LIMIT ?",
            [*params, limit],
        )
        return [stored_alert(r) for r in rows]

    async def rule_states(self: _HasTransaction) -> dict[str, RuleRecord]:
        rows = await self.query(
            "SELECT name, kind, detection_hash, seeded_at, last_fired_at, suppressed FROM alert_rules"
        )
        return {r["name"]: _rule(**r) for r in rows}

    async def replay_posts(
        self: _HasTransaction,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[int, int, int] | None = None,
        limit: int = 1000,
        text_only: bool = False,
        stored_before: datetime | None = None,
    ) -> list[tuple[TaggedPost, str | None]]:
        where, params = ["1 = 1"], []  # type: list[str], list[Any]
        if since is not None:
            where.append("p.posted_at >= ?")
            params.append(_ts(since))
        if until is not None:
            where.append("p.posted_at < ?")
            params.append(_ts(until))
        if after is not None:
            where.append("(p.posted_at, p.channel_id, p.message_id) > (?, ?, ?)")
            params += list(after)
        if text_only:
            where.append("p.text IS NOT NULL")
        if stored_before is not None:
            where.append("p.first_seen_at < ?")
            params.append(_ts(stored_before))
        rows = await self.query(
            "SELECT p.channel_id, p.message_id, p.posted_at, p.text, p.lang, p.script, p.lang_confidence,"
            " p.groups, p.people, p.keywords, p.matches, p.tagger_version, p.fwd_channel_id, p.fwd_name,"
            " p.fwd_message_id, p.mentions, p.views, p.forwards, c.username"
            f" FROM posts p LEFT JOIN channels c ON c.id = p.channel_id WHERE {' AND '.join(where)}"
            " ORDER BY p.posted_at, p.channel_id, p.message_id LIMIT ?",
            [*params, limit],
        )
        return [(tagged_post(r), r["username"]) for r in rows]

    async def replay_stored(
        self: _HasTransaction,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[int, int] | None = None,
        limit: int = 1000,
    ) -> list[tuple[TaggedPost, str | None, datetime, int]]:
        from datetime import UTC

        where, params = ["1 = 1"], []  # type: list[str], list[Any]
        if since is not None:  # the day bounds let the posts_day index narrow the scan
            where.append("p.day >= ? AND p.posted_at >= ?")
            params += [_ts(since) // 86400, _ts(since)]
        if until is not None:
            where.append("p.day <= ? AND p.posted_at < ?")
            params += [_ts(until) // 86400, _ts(until)]
        if after is not None:
            where.append("(p.first_seen_at, p.rowid) > (?, ?)")
            params += list(after)
        rows = await self.query(
            "SELECT p.rowid AS seq, p.first_seen_at, p.channel_id, p.message_id, p.posted_at, p.text, p.lang,"
            " p.script, p.lang_confidence, p.groups, p.people, p.keywords, p.matches, p.tagger_version,"
            " p.fwd_channel_id, p.fwd_name, p.fwd_message_id, p.mentions, p.views, p.forwards, c.username"
            f" FROM posts p LEFT JOIN channels c ON c.id = p.channel_id WHERE {' AND '.join(where)}"
            " ORDER BY p.first_seen_at, p.rowid LIMIT ?",
            [*params, limit],
        )
        return [
            (tagged_post(r), r["username"], datetime.fromtimestamp(r["first_seen_at"], UTC), int(r["seq"]))
            for r in rows
        ]

    async def newest_post_at(self: _HasTransaction) -> datetime | None:
        """When the newest stored post was published (None for an empty store)."""
        from datetime import UTC

        rows = await self.query("SELECT max(posted_at) AS t FROM posts")
        return None if not rows or rows[0]["t"] is None else datetime.fromtimestamp(rows[0]["t"], UTC)

    async def tagged_posts(
        self: _HasTransaction,
        kind: str,
        values: Sequence[str],
        *,
        limit: int = 100_000,
        stored_before: datetime | None = None,
    ) -> list[dict[str, Any]]:
        if not values:
            return []
        cutoff = _ts(stored_before) if stored_before is not None else 2**62
        return await self.query(
            "SELECT t.channel_id, t.message_id, t.value, p.posted_at, p.lang, c.username"
            " FROM post_tags t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id"
            " LEFT JOIN channels c ON c.id = t.channel_id"
            f" WHERE t.kind = ? AND t.value IN ({','.join('?' * len(values))}) AND p.first_seen_at < ?"
            " ORDER BY p.posted_at LIMIT ?",
            [kind, *values, cutoff, limit],
        )

    async def referencing_posts(
        self: _HasTransaction,
        *,
        after: tuple[int, int] | None = None,
        limit: int = 5000,
        stored_before: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Posts that forward from a channel or mention/link one, in key order (for new_channel seeding)."""
        params: list[Any] = [
            after[0] if after else -(2**62),
            after[1] if after else -(2**62),
            _ts(stored_before) if stored_before is not None else 2**62,
            limit,
        ]
        return await self.query(
            "SELECT channel_id, message_id, posted_at, fwd_channel_id, fwd_name, mentions FROM posts"
            " WHERE (channel_id, message_id) > (?, ?) AND (fwd_channel_id IS NOT NULL OR mentions != '[]')"
            " AND first_seen_at < ? ORDER BY channel_id, message_id LIMIT ?",
            params,
        )


__all__ = ["AlertQueries", "AlertReads", "AlertTx", "QueryReads", "RuleRecord", "StoredAlert", "TermStat"]


