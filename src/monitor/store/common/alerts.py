"""The alert engine's history reads whose SQL is the same on both backends but for placeholders: rule
state, spike series counts, what is watched and labelled. Mixed into each backend's reads (over a
transaction's connection, or the read-only pool), which provide ``_args()`` (the placeholders of one
statement), ``_select(sql, args)`` and ``_COLLATE`` ('' or ' COLLATE "C"', so keys order by code point
as in SQLite). The term and discovered-channel reads stay per backend: SQLite reads long IN-lists in
chunks, PostgreSQL passes one array."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from monitor.identity import is_id_key, parse_id_key
from monitor.models import RuleNote, RuleRecord, Series, StoredAlert, TaggedPost
from monitor.store.common.alertrows import labelled_ids, stored_alert, watched_refs
from monitor.store.epoch import dt, ts
from monitor.store.rows import tagged_post

DAY = 86400


class Placeholders(Protocol):
    """The bound values of one statement, in the backend's placeholder style (numbered: a placeholder
    may stand in the statement more than once)."""

    def __call__(self, value: Any, cast: str = "") -> str:
        """Bind ``value``; its placeholder (``cast`` is PostgreSQL's type cast, ignored by SQLite)."""
        ...

    def any(self, column: str, values: Sequence[Any], cast: str) -> str:
        """``column`` is one of ``values`` (never true for none)."""
        ...


def time_bounds(bind: Callable[[Any], str], column: str, since: datetime | None, until: datetime | None) -> list[str]:
    """WHERE terms keeping ``column`` (epoch seconds) in [since, until), each bound through ``bind``."""
    terms = []
    if since is not None:
        terms.append(f"{column} >= {bind(ts(since))}")
    if until is not None:
        terms.append(f"{column} < {bind(ts(until))}")
    return terms


def rule_record(name: str, kind: str, detection_hash: str | None, seeded_at: int | None,
                last_fired_at: int | None, suppressed: int) -> RuleRecord:
    return RuleRecord(name, kind, detection_hash, dt(seeded_at), dt(last_fired_at), int(suppressed))


class SharedAlertReads:
    _COLLATE = ""

    def _args(self) -> Placeholders:
        raise NotImplementedError

    async def _select(self, sql: str, args: Placeholders) -> list[Sequence[Any]]:
        raise NotImplementedError

    async def _first(self, sql: str) -> datetime | None:
        rows = await self._select(sql, self._args())
        return None if not rows or rows[0][0] is None else dt(int(rows[0][0]))

    async def history_start(self) -> datetime | None:
        """When the oldest post the term history has counted was published (survives pruning of term_days)."""
        return await self._first("SELECT min(first_seen_at) FROM terms")

    async def posts_start(self) -> datetime | None:
        return await self._first("SELECT min(posted_at) FROM posts")

    async def rule_records(self) -> dict[str, RuleRecord]:
        rows = await self._select(
            "SELECT name, kind, detection_hash, seeded_at, last_fired_at, suppressed FROM alert_rules"
            f" ORDER BY name{self._COLLATE}",
            self._args(),
        )
        return {r[0]: rule_record(*r) for r in rows}

    async def alert_exists(self, dedup_key: str) -> bool:
        args = self._args()
        return bool(await self._select(f"SELECT 1 FROM alerts WHERE dedup_key = {args(dedup_key)}", args))

    async def series_counts(self, series: Series, windows: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """Posts of one series in each (start, end] window, by posted_at. Uses the day indexes."""
        counts: list[int] = []
        for start_at, end_at in windows:
            start, end = ts(start_at), ts(end_at)
            assert start is not None and end is not None
            a = self._args()
            if series.on == "group":
                sql = (
                    "SELECT count(*) FROM post_tags t JOIN posts p"
                    " ON p.channel_id = t.channel_id AND p.message_id = t.message_id"
                    f" WHERE t.kind = 'group' AND t.value = {a(series.value)}"
                    f" AND t.day BETWEEN {a(start // DAY)} AND {a(end // DAY)}"
                )
            elif series.on == "language":
                sql = (
                    f"SELECT count(*) FROM posts p WHERE p.lang = {a(series.value)}"
                    f" AND p.day BETWEEN {a(start // DAY)} AND {a(end // DAY)}"
                )
            else:
                sql = (
                    f"SELECT count(*) FROM posts p WHERE p.day BETWEEN {a(start // DAY)} AND {a(end // DAY)}"
                    f" AND p.channel_id = {a(int(series.value))}"
                )
            sql += f" AND p.posted_at > {a(start)} AND p.posted_at <= {a(end)}"
            if series.channel_ids is not None:
                sql += " AND " + a.any("p.channel_id", [int(c) for c in series.channel_ids], "::bigint")
            if series.languages:
                sql += " AND " + a.any("p.lang", list(series.languages), "::text")
            rows = await self._select(sql, a)
            counts.append(int(rows[0][0]))
        return counts

    async def watched_refs(self) -> frozenset[str]:
        rows = await self._select(
            "SELECT w.key, w.channel_id, c.username FROM watch w LEFT JOIN channels c ON c.id = w.channel_id"
            " WHERE w.watched = 1",
            self._args(),
        )
        return watched_refs(rows)

    async def channel_labels(self, channel_id: int) -> dict[str, str]:
        args = self._args()
        rows = await self._select(
            f"SELECT labels FROM watch WHERE channel_id = {args(int(channel_id))}"
            f" ORDER BY watched DESC, key{self._COLLATE} LIMIT 1",
            args,
        )
        return json.loads(rows[0][0] or "{}") if rows else {}

    async def channel_ids_with_labels(self, labels: Sequence[tuple[str, Sequence[str]]]) -> list[int]:
        rows = await self._select(
            f"SELECT channel_id, labels FROM watch WHERE channel_id IS NOT NULL ORDER BY key{self._COLLATE}",
            self._args(),
        )
        return labelled_ids(rows, labels)

    async def channel_ids_for_keys(self, keys: Sequence[str]) -> list[int]:
        """Channel ids of watch keys / usernames / "id:N" keys."""
        ids = {n for n in map(parse_id_key, keys) if n is not None}
        names = [k for k in keys if not is_id_key(k)]
        if names:
            a = self._args()
            rows = await self._select(
                f"SELECT id FROM channels WHERE {a.any('lower(username)', names, '::text')}"
                f" UNION SELECT channel_id FROM watch WHERE {a.any('key', names, '::text')} AND channel_id IS NOT NULL",
                a,
            )
            ids |= {int(r[0]) for r in rows}
        return sorted(ids)


class SharedAlertWrites:
    """The rule-state write of the engine's ``History`` (a transaction's reads object), the same SQL on
    both backends."""

    if TYPE_CHECKING:

        def _args(self) -> Placeholders: ...

        async def _select(self, sql: str, args: Placeholders) -> list[Sequence[Any]]: ...

    async def note_rule(self, note: RuleNote) -> None:
        a = self._args()
        name, kind, hash_ = a(note.name), a(note.kind), a(note.detection_hash, "::text")
        now, fired = a(ts(note.now), "::bigint"), a(note.fired, "::boolean")
        seeded, suppressed = a(note.seeded, "::boolean"), a(note.suppressed, "::integer")
        await self._select(
            "INSERT INTO alert_rules (name, kind, detection_hash, seeded_at, last_fired_at, suppressed, updated_at)"
            f" VALUES ({name}, {kind}, {hash_}, CASE WHEN {seeded} THEN {now} END, CASE WHEN {fired} THEN {now} END,"
            f" CASE WHEN {fired} THEN 0 ELSE {suppressed} END, {now})"
            " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,"
            f" detection_hash = coalesce({hash_}, alert_rules.detection_hash),"
            f" seeded_at = CASE WHEN {seeded} THEN {now} ELSE alert_rules.seeded_at END,"
            f" last_fired_at = CASE WHEN {fired} THEN {now} ELSE alert_rules.last_fired_at END,"
            f" suppressed = CASE WHEN {fired} THEN 0 ELSE alert_rules.suppressed + {suppressed} END,"
            f" updated_at = {now}",
            a,
        )


_FAR = 2**62
_REPLAYED = (
    "p.channel_id, p.message_id, p.posted_at, p.text, p.lang, p.script, p.lang_confidence, p.groups, p.people,"
    " p.keywords, p.matches, p.tagger_version, p.fwd_channel_id, p.fwd_name, p.fwd_message_id, p.mentions,"
    " p.views, p.forwards, c.username FROM posts p LEFT JOIN channels c ON c.id = p.channel_id"
)


class SharedAlertQueries:
    """The store's ``AlertHistory`` reads (``monitor alerts``, retro-hunts, replays). Mixed into both
    stores, which provide ``_alert_args()``, ``_alert_rows(sql, args)`` (dict rows on a read
    connection), ``_COLLATE``, ``_SEQ`` (the column of insertion order) and ``_STATES`` (each alert's
    deliveries as a JSON object of sink -> state, text)."""

    if TYPE_CHECKING:
        _COLLATE: str
    _SEQ = "p.rowid"
    _STATES = "json_group_object(d.sink, d.state)"

    def _alert_args(self) -> Placeholders:
        raise NotImplementedError

    async def _alert_rows(self, sql: str, args: Placeholders) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def list_alerts(
        self, *, since: datetime | None = None, rule: str | None = None, limit: int = 200
    ) -> list[StoredAlert]:
        a = self._alert_args()
        where = ["1 = 1", *time_bounds(a, "a.fired_at", since, None)]
        if rule is not None:
            where.append(f"a.rule = {a(rule, '::text')}")
        rows = await self._alert_rows(
            f"SELECT a.*, (SELECT {self._STATES} FROM deliveries d WHERE d.alert_id = a.id) AS states"
            f" FROM alerts a WHERE {' AND '.join(where)} ORDER BY a.fired_at DESC, a.id DESC LIMIT {a(int(limit))}",
            a,
        )
        return [stored_alert(r) for r in rows]

    async def rule_states(self) -> dict[str, RuleRecord]:
        rows = await self._alert_rows(
            "SELECT name, kind, detection_hash, seeded_at, last_fired_at, suppressed FROM alert_rules"
            f" ORDER BY name{self._COLLATE}",
            self._alert_args(),
        )
        return {r["name"]: rule_record(**r) for r in rows}

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
        a = self._alert_args()
        where = ["1 = 1", *time_bounds(a, "p.posted_at", since, until)]
        if after is not None:
            where.append(
                f"(p.posted_at, p.channel_id, p.message_id) > ({a(int(after[0]), '::bigint')},"
                f" {a(int(after[1]), '::bigint')}, {a(int(after[2]), '::bigint')})"
            )
        if text_only:
            where.append("p.text IS NOT NULL")
        if stored_before is not None:
            where.append(f"p.first_seen_at < {a(ts(stored_before))}")
        rows = await self._alert_rows(
            f"SELECT {_REPLAYED} WHERE {' AND '.join(where)}"
            f" ORDER BY p.posted_at, p.channel_id, p.message_id LIMIT {a(int(limit))}",
            a,
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
        a = self._alert_args()
        where = ["1 = 1"]
        if since is not None:  # the day bounds let the posts_day index narrow the scan
            start = ts(since)
            assert start is not None
            where.append(f"p.day >= {a(start // DAY)} AND p.posted_at >= {a(start)}")
        if until is not None:
            end = ts(until)
            assert end is not None
            where.append(f"p.day <= {a(end // DAY)} AND p.posted_at < {a(end)}")
        if after is not None:
            where.append(f"(p.first_seen_at, {self._SEQ}) > ({a(int(after[0]), '::bigint')}, {a(int(after[1]), '::bigint')})")
        rows = await self._alert_rows(
            f"SELECT {self._SEQ} AS seq, p.first_seen_at, {_REPLAYED} WHERE {' AND '.join(where)}"
            f" ORDER BY p.first_seen_at, {self._SEQ} LIMIT {a(int(limit))}",
            a,
        )
        out = []
        for r in rows:
            stored = dt(int(r["first_seen_at"]))
            assert stored is not None
            out.append((tagged_post(r), r["username"], stored, int(r["seq"])))
        return out

    async def newest_post_at(self) -> datetime | None:
        """When the newest stored post was published (None for an empty store)."""
        rows = await self._alert_rows("SELECT max(posted_at) AS t FROM posts", self._alert_args())
        return None if not rows or rows[0]["t"] is None else dt(int(rows[0]["t"]))

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
        a = self._alert_args()
        cutoff = ts(stored_before) if stored_before is not None else _FAR
        return await self._alert_rows(
            "SELECT t.channel_id, t.message_id, t.value, p.posted_at, p.lang, c.username"
            " FROM post_tags t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id"
            " LEFT JOIN channels c ON c.id = t.channel_id"
            f" WHERE t.kind = {a(kind)} AND {a.any('t.value', list(values), '::text')} AND p.first_seen_at < {a(cutoff)}"
            f" ORDER BY p.posted_at, t.channel_id, t.message_id, t.value{self._COLLATE} LIMIT {a(int(limit))}",
            a,
        )

    async def referencing_posts(
        self,
        *,
        after: tuple[int, int] | None = None,
        limit: int = 5000,
        stored_before: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Posts that forward from a channel or mention/link one, in key order (for new_channel seeding)."""
        a = self._alert_args()
        first = (after[0], after[1]) if after else (-_FAR, -_FAR)
        cutoff = ts(stored_before) if stored_before is not None else _FAR
        return await self._alert_rows(
            "SELECT channel_id, message_id, posted_at, fwd_channel_id, fwd_name, mentions FROM posts"
            f" WHERE (channel_id, message_id) > ({a(first[0], '::bigint')}, {a(first[1], '::bigint')})"
            " AND (fwd_channel_id IS NOT NULL OR mentions <> '[]')"
            f" AND first_seen_at < {a(cutoff)} ORDER BY channel_id, message_id LIMIT {a(int(limit))}",
            a,
        )


__all__ = ["DAY", "Placeholders", "SharedAlertQueries", "SharedAlertReads", "SharedAlertWrites", "rule_record", "time_bounds"]
