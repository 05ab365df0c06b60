"""Stored rows rebuilt as core records, once for both backends.

Why here: SQLite and PostgreSQL keep a post in the same columns (epoch seconds, JSON arrays of tags,
matches and mentions), and their reports and alert replays must be byte-identical, so the conversion
from a row (any mapping: sqlite3.Row, asyncpg.Record) to a record is written once, without SQL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from monitor.models import (
    AccountState,
    AlertAck,
    AuditEntry,
    CollectorInfo,
    ForwardOrigin,
    Lease,
    Match,
    Post,
    Tags,
    TaggedPost,
    WebUser,
)
from monitor.store.epoch import dt, fdt, fdt_required


def tagged_post(r: Mapping[str, Any]) -> TaggedPost:
    """A stored post row rebuilt as the TaggedPost the alert engine evaluates: text '' when not kept,
    and matches only while the text is kept (their offsets point into it)."""
    post = Post(
        channel_id=r["channel_id"],
        message_id=r["message_id"],
        posted_at=datetime.fromtimestamp(int(r["posted_at"]), UTC),
        text=r["text"] or "",
        views=r["views"],
        forwards=r["forwards"],
        forward=ForwardOrigin(channel_id=r["fwd_channel_id"], name=r["fwd_name"], message_id=r["fwd_message_id"])
        if r["fwd_channel_id"] is not None or r["fwd_name"] is not None
        else None,
        mentions=tuple(json.loads(r["mentions"] or "[]")),
    )
    matches = (
        tuple(
            Match(
                kind=m["kind"],
                canonical=m["canonical"],
                term=m["term"],
                start=m["start"],
                end=m["end"],
                rule=m["rule"],
                group=m.get("group"),
            )
            for m in json.loads(r["matches"] or "[]")
        )
        if r["text"]
        else ()
    )
    tags = Tags(
        lang=r["lang"],
        script=r["script"],
        confidence=r["lang_confidence"],
        groups=tuple(json.loads(r["groups"])),
        people=tuple(json.loads(r["people"])),
        keywords=tuple(json.loads(r["keywords"])),
        matches=matches,
    )
    return TaggedPost(post=post, tags=tags, tagger_version=r["tagger_version"])



def collector_info(r: Sequence[Any]) -> CollectorInfo:
    """A ``collectors`` row (id, host, pid, version, started_at, heartbeat_at, stopped_at, taking)."""
    return CollectorInfo(
        id=r[0], host=r[1], pid=int(r[2]), version=r[3], started_at=fdt_required(r[4]),
        heartbeat_at=fdt_required(r[5]), stopped_at=fdt(r[6]), taking=bool(r[7]),
    )


def lease(r: Sequence[Any]) -> Lease:
    """A ``leases`` row (key, collector_id, account, acquired_at, expires_at)."""
    return Lease(key=r[0], collector_id=r[1], account=r[2], acquired_at=fdt_required(r[3]),
                 expires_at=fdt_required(r[4]))


def account_state(r: Sequence[Any]) -> AccountState:
    """An ``accounts`` row (name, state, reason, since, until, method, holder, held_until, requests_hour,
    beat_at)."""
    return AccountState(
        name=r[0], state=r[1], reason=r[2], since=fdt(r[3]), until=fdt(r[4]), method=r[5], holder=r[6],
        held_until=fdt(r[7]), requests_hour=int(r[8]), beat_at=fdt(r[9]),
    )


def _when(value: int) -> datetime:
    moment = dt(int(value))
    assert moment is not None
    return moment


def user_record(r: Sequence[Any]) -> WebUser:
    """A ``web_users`` row (name, password_hash, role, created_at, updated_at)."""
    return WebUser(name=r[0], password_hash=r[1], role=r[2], created_at=_when(r[3]), updated_at=_when(r[4]))


def audit_detail(entry: AuditEntry) -> str:
    """An audit entry's detail as the JSON text the ``web_audit.detail`` column keeps."""
    return json.dumps(dict(entry.detail), ensure_ascii=False, sort_keys=True, default=str)


def _detail(text: str | None) -> dict[str, object]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"detail": text}
    return value if isinstance(value, dict) else {"detail": value}


def audit_entry(r: Sequence[Any]) -> AuditEntry:
    """A ``web_audit`` row (id, at, actor, action, target, detail); a detail that is not a JSON object is
    kept under "detail"."""
    return AuditEntry(id=int(r[0]), at=_when(r[1]), actor=r[2], action=r[3], target=r[4], detail=_detail(r[5]))


def alert_ack(alert_id: int, actor: str, at: int) -> AlertAck:
    """An ``alert_acks`` row."""
    return AlertAck(alert_id=int(alert_id), actor=actor, at=_when(at))


__all__ = [
    "account_state",
    "alert_ack",
    "audit_detail",
    "audit_entry",
    "collector_info",
    "lease",
    "tagged_post",
    "user_record",
]
