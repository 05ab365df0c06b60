"""The alert history's rows as records, and an alert as the row both backends insert.

Why once: the alert engine replays the same history on either backend and must decide the same, so what
a stored row means (and which watch keys, ids and usernames count as watched) is written without SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.identity import id_key
from monitor.models import Alert, StoredAlert
from monitor.store.epoch import dt, ts


def _at(value: int) -> datetime:
    stamp = dt(int(value))
    assert stamp is not None
    return stamp


def jdump_details(details: Mapping[str, Any]) -> str:
    """An alert's details as stored: compact JSON, non-ASCII kept, anything else as its str()."""
    return json.dumps(dict(details), ensure_ascii=False, separators=(",", ":"), default=str)


def alert_values(alert: Alert) -> tuple[Any, ...]:
    """(rule, kind, dedup_key, fired_at, summary, details, channel_id, message_id, channel_username, link)."""
    return (
        alert.rule,
        alert.kind,
        alert.dedup_key,
        ts(alert.fired_at),
        alert.summary,
        jdump_details(alert.details),
        alert.channel_id,
        alert.message_id,
        alert.channel_username,
        alert.link,
    )


def stored_alert(row: Mapping[str, Any]) -> StoredAlert:
    """An ``alerts`` row with its ``states`` (JSON sink -> delivery state)."""
    alert = Alert(
        id=int(row["id"]),
        rule=row["rule"],
        kind=row["kind"],
        fired_at=_at(row["fired_at"]),
        dedup_key=row["dedup_key"],
        summary=row["summary"],
        details=json.loads(row["details"] or "{}"),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        channel_username=row["channel_username"],
        link=row["link"],
    )
    return StoredAlert(alert, json.loads(row["states"] or "{}"))


def watched_refs(rows: Iterable[Sequence[Any]]) -> frozenset[str]:
    """Every way the watched (key, channel_id, username) rows can be referred to: key, "id:<id>", username."""
    refs: set[str] = set()
    for key, cid, username in rows:
        refs.add(str(key).lower())
        if cid is not None:
            refs.add(id_key(int(cid)))
        if username:
            refs.add(str(username).lower())
    return frozenset(refs)


def labelled_ids(rows: Iterable[Sequence[Any]], labels: Sequence[tuple[str, Sequence[str]]]) -> list[int]:
    """The channel ids of (channel_id, labels JSON) rows whose labels hold one of the values of every key."""
    out = []
    for cid, raw in rows:
        have = json.loads(raw or "{}")
        if all(have.get(k) in vals for k, vals in labels):
            out.append(int(cid))
    return out


__all__ = ["alert_values", "jdump_details", "labelled_ids", "stored_alert", "watched_refs"]
