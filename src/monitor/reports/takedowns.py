"""Takedowns and returns of watched channels over time, by group, label or channel.

Why: a volume trend that drops may mean the group went quiet or that its channels were taken
down; the lifecycle events (``monitor.lifecycle``) tell which. A takedown is a channel entering
banned, deleted, restricted or private from a state that was not one of those; a return is the
channel answering again after one. A channel first seen already down is not counted as taken
down in the period (it was down before we looked). Renames (username changed or freed) are
counted apart: they are how a channel dodges a ban by name.

A channel belongs to the group its posts in the range named most (``(none)`` when they named
none); ``--group`` keeps channels whose posts named any of the groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from monitor.errors import ConfigError, Problem
from monitor.lifecycle import CHANGES, TAKEDOWN_STATES
from monitor.models import ChannelEvent
from monitor.reports.periods import bucket_start, buckets, label, to_day
from monitor.reports.spec import CHANNEL_SCOPE, NONE, ReportSpec, Resolved, refuse_unused, resolve
from monitor.reports.table import Report

_BY_OK = ("group", "channel")


def _check_by(spec: ReportSpec) -> None:
    for name in spec.by:
        if name not in _BY_OK and not name.startswith("label:"):
            raise ConfigError(Problem("--by", f"{name!r}: takedowns are counted by group, channel or label:<key>"))


async def main_groups(store: Any, res: Resolved, channel_ids: Sequence[int] | None) -> dict[int, str]:
    """Channel id -> the group its posts in the range named most."""
    rows, _ = await store.report_volume(since_day=res.since_day, until_day=res.until_day, every="month",
                                        dims=("channel", "group"), channel_ids=channel_ids)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r.get("tag_group") not in (None, NONE):
            counts[int(r["channel_id"])][str(r["tag_group"])] += int(r["posts"] or 0)
    return {cid: sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for cid, groups in counts.items()}


async def _group_members(store: Any, res: Resolved, groups: Sequence[str]) -> set[int]:
    rows, _ = await store.report_volume(since_day=res.since_day, until_day=res.until_day, every="month",
                                        dims=("channel",), tags={"group": list(groups)})
    return {int(r["channel_id"]) for r in rows if int(r["posts"] or 0) > 0}


def classify(events: Sequence[ChannelEvent]) -> list[tuple[ChannelEvent, str, str | None]]:
    """Each event with its kind (takedown, return, rename, other) and the state before it, per key in time order."""
    out: list[tuple[ChannelEvent, str, str | None]] = []
    state: dict[str, str] = {}
    for event in sorted(events, key=lambda e: (e.at, e.key, e.state)):
        before = state.get(event.key)
        if event.state in CHANGES:
            out.append((event, "rename", before))
            continue
        if event.state in TAKEDOWN_STATES and before is not None and before not in TAKEDOWN_STATES:
            kind = "takedown"
        elif event.state == "active" and before in TAKEDOWN_STATES:
            kind = "return"
        else:
            kind = "other"
        state[event.key] = event.state
        out.append((event, kind, before))
    return out


async def takedown_events(store: Any, res: Resolved) -> list[tuple[ChannelEvent, str, str | None, int | None]]:
    """Classified events in the report's range and channel scope, each with its channel id (None if never resolved)."""
    rows = await store.report_channels()
    id_of = {k: int(r["id"]) for r in rows if r["id"] is not None for k in r["keys"]}
    scope = set(res.channel_ids) if res.channel_ids is not None else None
    if res.spec.groups:
        members = await _group_members(store, res, res.spec.groups)
        scope = members if scope is None else scope & members
    out = []
    for event, kind, before in classify(await store.channel_events()):
        day = to_day(event.at)
        if not res.since_day <= day <= res.until_day:
            continue
        cid = event.channel_id if event.channel_id is not None else id_of.get(event.key)
        if scope is not None and (cid is None or cid not in scope):
            continue
        out.append((event, kind, before, cid))
    return out


def _dims(res: Resolved, cid: int | None, key: str, groups: Mapping[int, str]) -> tuple[str, ...]:
    values = []
    for name in res.by:
        if name == "group":
            values.append(groups.get(cid, NONE) if cid is not None else NONE)
        elif name == "channel":
            values.append(res.channel_name(cid) if cid is not None else key)
        else:
            info = res.channels.get(cid) if cid is not None else None
            values.append((info.labels.get(name[6:]) if info else None) or NONE)
    return tuple(values)


async def takedowns(store: Any, spec: ReportSpec, *, list_events: bool = False) -> Report:
    refuse_unused(spec, "takedowns", CHANNEL_SCOPE | {"groups", "by", "every"},
                  "; it counts channel takedowns (scope: --channel, --label, --group)")
    _check_by(spec)
    res = await resolve(store, spec)
    events = await takedown_events(store, res)
    groups = await main_groups(store, res, res.channel_ids)
    if list_events:
        rows = [
            (event.at.isoformat(), res.channel_name(cid) if cid is not None else event.key,
             groups.get(cid, NONE) if cid is not None else NONE, kind, before or "", event.state, event.reason or "")
            for event, kind, before, cid in events
        ]
        return Report(name="takedowns", columns=("at", "channel", "group", "kind", "before", "state", "reason"),
                      rows=rows, meta=res.meta() | {"listing": "every lifecycle event in the range"})
    every = spec.period
    counts: dict[tuple[int, tuple[str, ...]], list[Any]] = defaultdict(lambda: [0, 0, 0, set()])
    combos: set[tuple[str, ...]] = set()
    for event, kind, _before, cid in events:
        if kind == "other":
            continue
        combo = _dims(res, cid, event.key, groups)
        combos.add(combo)
        cell = counts[(bucket_start(to_day(event.at), every), combo)]
        cell[{"takedown": 0, "return": 1, "rename": 2}[kind]] += 1
        if kind == "takedown":
            cell[3].add(res.channel_name(cid) if cid is not None else event.key)
    deleted: dict[tuple[int, tuple[str, ...]], list[int]] = defaultdict(lambda: [0, 0])
    for r in await store.report_deletions(since_day=res.since_day, until_day=res.until_day,
                                          channel_ids=res.channel_ids):
        if not (r["deleted"] or r["expired"]):
            continue
        combo = _dims(res, int(r["channel_id"]), str(r["channel_id"]), groups)
        if res.spec.groups and groups.get(int(r["channel_id"])) not in res.spec.groups:
            continue
        combos.add(combo)
        cell = deleted[(bucket_start(int(r["day"]), every), combo)]
        cell[0] += int(r["deleted"] or 0)
        cell[1] += int(r["expired"] or 0)
    if not combos:
        combos = {()} if not res.by else set()
    out = []
    for start in buckets(res.since_day, res.until_day, every):
        for combo in sorted(combos):
            took, back, renamed, names = counts.get((start, combo), [0, 0, 0, set()])
            gone, expired = deleted.get((start, combo), [0, 0])
            out.append((label(start, every), *combo, took, back, renamed, gone, expired, ", ".join(sorted(names))))
    meta = res.meta() | {
        "takedown": "entered banned, deleted, restricted or private from another state",
        "return": "answered again after a takedown",
        "group": "the group a channel's posts in the range named most",
        "posts_deleted": "posts of the period found gone from their channel by a re-sample (auto-delete apart:"
                         " posts_expired)",
    }
    return Report(name="takedowns", columns=("period", *res.by, "takedowns", "returns", "renames", "posts_deleted",
                                             "posts_expired", "taken_down"),
                  rows=out, meta=meta)


async def with_takedowns(store: Any, spec: ReportSpec, report: Report) -> Report:
    """A volume or trend report with one more column: how many of the channels that carried each row's
    series in the range were taken down in that row's period."""
    res = await resolve(store, spec)
    dims = tuple(dict.fromkeys((*res.sql_dims, "channel")))
    rows, _ = await store.report_volume(since_day=res.since_day, until_day=res.until_day, every=spec.period,
                                        dims=dims, **res.filters())
    carriers: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for r in rows:
        if int(r["posts"] or 0) > 0:
            carriers[res.dim_values(r)].add(int(r["channel_id"]))
    down: dict[str, set[int]] = defaultdict(set)  # period label -> channels taken down in it
    for event, kind, _before, cid in await takedown_events(store, res):
        if kind == "takedown" and cid is not None:
            down[label(bucket_start(to_day(event.at), spec.period), spec.period)].add(cid)
    width = len(res.by)
    out = [(*row, len(carriers.get(tuple(row[1 : 1 + width]), set()) & down.get(str(row[0]), set())))
           for row in report.rows]
    meta = dict(report.meta) | {"channels_taken_down": "channels that carried the row's series in the range and"
                                " were taken down in the row's period (monitor report takedowns)"}
    return Report(name=report.name, columns=(*report.columns, "channels_taken_down"), rows=out, meta=meta)
