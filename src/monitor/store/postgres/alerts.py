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
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

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
from monitor.store.common.alertrows import alert_values, labelled_ids, stored_alert, watched_refs
from monitor.store.rows import tagged_post
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


def _rule(name: str, kind: str, detection_hash: str | None, seeded_at: int | None, last_fired_at: int | None,
          suppressed: int) -> RuleRecord:
    return RuleRecord(name, kind, detection_hash, _dt(seeded_at), _dt(last_fired_at), int(suppressed))


def _jdump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class PostgresAlertReads:
    """The engine's history reads over whichever connection ``_fetch`` uses."""

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

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

    async def history_start(self) -> datetime | None:
        """When the oldest post the term history has counted was published (survives pruning of term_days)."""
        rows = await self._fetch("SELECT min(first_seen_at) FROM terms")
        return None if not rows or rows[0][0] is None else _at(rows[0][0])

    async def discovered(self, refs: Sequence[str]) -> dict[str, int]:
        if not refs:
            return {}
        rows = await self._fetch(
            "SELECT ref, hits FROM discovered_channels WHERE ref = ANY($1::text[])", list(refs)
        )
        return {r[0]: int(r[1]) for r in rows}

    async def rule_records(self) -> dict[str, RuleRecord]:
        rows = await self._fetch(
            "SELECT name, kind, detection_hash, seeded_at, last_fired_at, suppressed FROM alert_rules"
            ' ORDER BY name COLLATE "C"'
        )
        return {r[0]: _rule(*r) for r in rows}

    async def alert_exists(self, dedup_key: str) -> bool:
        return bool(await self._fetch("SELECT 1 FROM alerts WHERE dedup_key = $1", dedup_key))

    async def series_counts(self, series: Series, windows: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """Posts of one series in each (start, end] window, by posted_at. Uses the day indexes."""
        counts: list[int] = []
        on, value = series.on, series.value
        for start_at, end_at in windows:
            start, end = _ts(start_at), _ts(end_at)
            if on == "group":
                sql = (
                    "SELECT count(*) FROM post_tags t JOIN posts p"
                    " ON p.channel_id = t.channel_id AND p.message_id = t.message_id"
                    " WHERE t.kind = 'group' AND t.value = $1 AND t.day BETWEEN $2 AND $3"
                    " AND p.posted_at > $4 AND p.posted_at <= $5"
                )
                args: list[Any] = [value, start // 86400, end // 86400, start, end]
            elif on == "language":
                sql = (
                    "SELECT count(*) FROM posts p WHERE p.lang = $1 AND p.day BETWEEN $2 AND $3"
                    " AND p.posted_at > $4 AND p.posted_at <= $5"
                )
                args = [value, start // 86400, end // 86400, start, end]
            else:
                sql = (
                    "SELECT count(*) FROM posts p WHERE p.day BETWEEN $2 AND $3 AND p.channel_id = $1"
                    " AND p.posted_at > $4 AND p.posted_at <= $5"
                )
                args = [int(value), start // 86400, end // 86400, start, end]
            if series.channel_ids is not None:
                args.append([int(c) for c in series.channel_ids])
                sql += f" AND p.channel_id = ANY(${len(args)}::bigint[])"
            if series.languages:
                args.append(list(series.languages))
                sql += f" AND p.lang = ANY(${len(args)}::text[])"
            rows = await self._fetch(sql, *args)
            counts.append(int(rows[0][0]))
        return counts

    async def posts_start(self) -> datetime | None:
        rows = await self._fetch("SELECT min(posted_at) FROM posts")
        return None if not rows or rows[0][0] is None else _at(rows[0][0])

    async def watched_refs(self) -> frozenset[str]:
        rows = await self._fetch(
            "SELECT w.key, w.channel_id, c.username FROM watch w LEFT JOIN channels c ON c.id = w.channel_id"
            " WHERE w.watched = 1"
        )
        return watched_refs(rows)

    async def channel_labels(self, channel_id: int) -> dict[str, str]:
        rows = await self._fetch(
            'SELECT labels FROM watch WHERE channel_id = $1 ORDER BY watched DESC, key COLLATE "C" LIMIT 1',
            int(channel_id),
        )
        return json.loads(rows[0][0] or "{}") if rows else {}

    async def channel_ids_with_labels(self, labels: Sequence[tuple[str, Sequence[str]]]) -> list[int]:
        rows = await self._fetch(
            'SELECT channel_id, labels FROM watch WHERE channel_id IS NOT NULL ORDER BY key COLLATE "C"'
        )
        return labelled_ids(rows, labels)

    async def channel_ids_for_keys(self, keys: Sequence[str]) -> list[int]:
        """Channel ids of watch keys / usernames / "id:N" keys."""
        ids = {n for n in map(parse_id_key, keys) if n is not None}
        names = [k for k in keys if not is_id_key(k)]
        if names:
            rows = await self._fetch(
                "SELECT id FROM channels WHERE lower(username) = ANY($1::text[])"
                " UNION SELECT channel_id FROM watch WHERE key = ANY($1::text[]) AND channel_id IS NOT NULL",
                names,
            )
            ids |= {int(r[0]) for r in rows}
        return sorted(ids)


class PostgresAlertReader(PostgresAlertReads):
    """History reads through the store's pool, one short read per call: dry-runs never hold a writer."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        async def work(conn: Any) -> list[Any]:
            return list(await conn.fetch(sql, *args))

        return await self._db.run(work, write=False)


class PostgresAlertTx(PostgresAlertReads):
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

    async def note_rule(self, note: RuleNote) -> None:
        await self.conn.execute(
            "INSERT INTO alert_rules"
            " (name, kind, detection_hash, seeded_at, last_fired_at, suppressed, updated_at)"
            " VALUES ($1, $2, $3::text, CASE WHEN $4::boolean THEN $7::bigint END,"
            " CASE WHEN $5::boolean THEN $7::bigint END,"
            " CASE WHEN $5::boolean THEN 0 ELSE $6::integer END, $7::bigint)"
            " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,"
            " detection_hash = coalesce($3::text, alert_rules.detection_hash),"
            " seeded_at = CASE WHEN $4::boolean THEN $7::bigint ELSE alert_rules.seeded_at END,"
            " last_fired_at = CASE WHEN $5::boolean THEN $7::bigint ELSE alert_rules.last_fired_at END,"
            " suppressed = CASE WHEN $5::boolean THEN 0 ELSE alert_rules.suppressed + $6::integer END,"
            " updated_at = $7::bigint",
            note.name, note.kind, note.detection_hash, bool(note.seeded), bool(note.fired), int(note.suppressed),
            _ts(note.now),
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


class PostgresAlertQueries:
    """``AlertHistory`` (and the ``History`` handed to the engine inside a save); ``self.db`` is the pool."""

    db: Database

    @asynccontextmanager
    async def alert_transaction(self) -> AsyncIterator[PostgresAlertTx]:
        async with self.db.transaction() as conn:
            yield PostgresAlertTx(conn)

    def alert_reader(self) -> PostgresAlertReader:
        """History reads on pooled connections (read-only for analysts): dry-runs, CLI."""
        return PostgresAlertReader(self.db)

    async def _alert_rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        async def work(conn: Any) -> list[dict[str, Any]]:
            return [dict(r) for r in await conn.fetch(sql, *args)]

        return await self.db.run(work, write=False)

    async def list_alerts(
        self, *, since: datetime | None = None, rule: str | None = None, limit: int = 200
    ) -> list[StoredAlert]:
        rows = await self._alert_rows(
            "SELECT a.*, (SELECT json_object_agg(d.sink, d.state ORDER BY d.sink COLLATE \"C\") FROM deliveries d"
            " WHERE d.alert_id = a.id)::text AS states FROM alerts a"
            " WHERE ($1::bigint IS NULL OR a.fired_at >= $1::bigint) AND ($2::text IS NULL OR a.rule = $2::text)"
            " ORDER BY a.fired_at DESC, a.id DESC LIMIT $3",
            None if since is None else _ts(since), rule, int(limit),
        )
        return [stored_alert(r) for r in rows]

    async def rule_states(self) -> dict[str, RuleRecord]:
        rows = await self._alert_rows(
            "SELECT name, kind, detection_hash, seeded_at, last_fired_at, suppressed FROM alert_rules"
            ' ORDER BY name COLLATE "C"'
        )
        return {r["name"]: _rule(**r) for r in rows}

    async def replay_posts(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[int, int, int] | None = None,
        limit: int = 1000,
        text_only: bool = False,
        stored_before: datetime | None = None,
    ) -> list[tuple[TaggedPost, str | None]]:
        where, args, arg = _published_between(since, until)
        if after is not None:
            where.append(
                f"(p.posted_at, p.channel_id, p.message_id) > ({arg(int(after[0]))}::bigint,"
                f" {arg(int(after[1]))}::bigint, {arg(int(after[2]))}::bigint)"
            )
        if text_only:
            where.append("p.text IS NOT NULL")
        if stored_before is not None:
            where.append(f"p.first_seen_at < {arg(_ts(stored_before))}")
        rows = await self._alert_rows(
            "SELECT p.channel_id, p.message_id, p.posted_at, p.text, p.lang, p.script, p.lang_confidence,"
            " p.groups, p.people, p.keywords, p.matches, p.tagger_version, p.fwd_channel_id, p.fwd_name,"
            " p.fwd_message_id, p.mentions, p.views, p.forwards, c.username"
            f" FROM posts p LEFT JOIN channels c ON c.id = p.channel_id WHERE {' AND '.join(where) or 'true'}"
            f" ORDER BY p.posted_at, p.channel_id, p.message_id LIMIT {arg(int(limit))}",
            *args,
        )
        return [(tagged_post(r), r["username"]) for r in rows]

    async def replay_stored(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[int, int] | None = None,
        limit: int = 1000,
    ) -> list[tuple[TaggedPost, str | None, datetime, int]]:
        """Insertion order is ``seq`` (SQLite's rowid)."""
        where, args, arg = _published_between(since, until)
        if after is not None:
            where.append(f"(p.first_seen_at, p.seq) > ({arg(int(after[0]))}::bigint, {arg(int(after[1]))}::bigint)")
        rows = await self._alert_rows(
            "SELECT p.seq, p.first_seen_at, p.channel_id, p.message_id, p.posted_at, p.text, p.lang, p.script,"
            " p.lang_confidence, p.groups, p.people, p.keywords, p.matches, p.tagger_version, p.fwd_channel_id,"
            " p.fwd_name, p.fwd_message_id, p.mentions, p.views, p.forwards, c.username"
            f" FROM posts p LEFT JOIN channels c ON c.id = p.channel_id WHERE {' AND '.join(where) or 'true'}"
            f" ORDER BY p.first_seen_at, p.seq LIMIT {arg(int(limit))}",
            *args,
        )
        return [
            (tagged_post(r), r["username"], datetime.fromtimestamp(r["first_seen_at"], UTC), int(r["seq"]))
            for r in rows
        ]

    async def newest_post_at(self) -> datetime | None:
        """When the newest stored post was published (None for an empty store)."""
        rows = await self._alert_rows("SELECT max(posted_at) AS t FROM posts")
        return None if not rows or rows[0]["t"] is None else datetime.fromtimestamp(rows[0]["t"], UTC)

    async def tagged_posts(
        self,
        kind: str,
        values: Sequence[str],
        *,
        limit: int = 100_000,
        stored_before: datetime | None = None,
    ) -> list[dict[str, Any]]:
        if not values:
            return []
        cutoff = _ts(stored_before) if stored_before is not None else _FAR
        return await self._alert_rows(
            "SELECT t.channel_id, t.message_id, t.value, p.posted_at, p.lang, c.username"
            " FROM post_tags t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id"
            " LEFT JOIN channels c ON c.id = t.channel_id"
            " WHERE t.kind = $1 AND t.value = ANY($2::text[]) AND p.first_seen_at < $3"
            ' ORDER BY p.posted_at, t.channel_id, t.message_id, t.value COLLATE "C" LIMIT $4',
            kind, list(values), cutoff, int(limit),
        )

    async def referencing_posts(
        self,
        *,
        after: tuple[int, int] | None = None,
        limit: int = 5000,
        stored_before: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Posts that forward from a channel or mention/link one, in key order (for new_channel seeding)."""
        return await self._alert_rows(
            "SELECT channel_id, message_id, posted_at, fwd_channel_id, fwd_name, mentions FROM posts"
            " WHERE (channel_id, message_id) > ($1::bigint, $2::bigint)"
            " AND (fwd_channel_id IS NOT NULL OR mentions <> '[]')"
            " AND first_seen_at < $3 ORDER BY channel_id, message_id LIMIT $4",
            after[0] if after else -_FAR,
            after[1] if after else -_FAR,
            _ts(stored_before) if stored_before is not None else _FAR,
            int(limit),
        )


def _published_between(
    since: datetime | None, until: datetime | None
) -> tuple[list[str], list[Any], Callable[[Any], str]]:
    """WHERE terms for posts published in [since, until), their arguments, and ``arg(value)`` that adds
    one more argument and returns its $n placeholder (the two replay queries page on other keys)."""
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if since is not None:
        where.append(f"p.posted_at >= {arg(_ts(since))}")
    if until is not None:
        where.append(f"p.posted_at < {arg(_ts(until))}")
    return where, args, arg


__all__ = ["PostgresAlertQueries", "PostgresAlertReader", "PostgresAlertReads", "PostgresAlertTx"]
