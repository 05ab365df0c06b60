"""The watch list as the analyst's config file holds it: add and remove a channel, accept a discovery candidate.

Why a module of its own: `monitor channels add/remove`, `monitor discovery accept` and the dashboard's
"watch" button must edit the file the same way (monitor.config_file: only the changed
``[[channels]]`` tables are touched, comments stay), and the web may not import the CLI. The file
is the source of truth for what is watched; the store's watch list follows it (a running daemon
reloads the file within ``config_reload_interval``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.config_file import channel_entries, write_channels
from monitor.errors import ConfigError, MonitorError, Problem
from monitor.escape import one_line
from monitor.models import ChannelRef
from monitor.reports.queue import Candidate
from monitor.settings import ChannelEntry, check_value
from monitor.sources.links import parse_channel_ref


def entry_key(entry: Mapping[str, Any]) -> str | None:
    """The watch key of a ``[[channels]]`` table (None when its handle does not parse)."""
    try:
        return parse_channel_ref(str(entry.get("handle", ""))).key
    except ValueError:
        return None


def add_to_config(path: str | Path, handle: str, *, labels: Mapping[str, str] | None = None,
                  poll_interval: float | None = None) -> ChannelRef:
    """Append a ``[[channels]]`` table for ``handle`` to the config file (comments kept); returns its ref.

    Refused (ConfigError) when the handle does not parse, the interval is out of range or the
    channel is already in the file. The scheduler's own check of the interval (APScheduler) stays
    with the caller that may import it (`monitor channels add`)."""
    try:
        ref = parse_channel_ref(handle, labels=dict(labels) if labels else None, poll_interval=poll_interval)
    except ValueError as exc:
        raise ConfigError(Problem("channel", str(exc))) from exc
    bad_interval = check_value(ChannelEntry, "poll_interval", poll_interval)
    if bad_interval is not None:
        raise ConfigError(Problem("--interval", bad_interval))
    entries = channel_entries(path)
    if any(entry_key(e) == ref.key for e in entries):
        raise ConfigError(Problem(f"{path}: channels", f"{ref.key!r} is already watched"))
    entry: dict[str, Any] = {"handle": handle if not handle.strip().lstrip("-").isdigit() else int(handle)}
    if labels:
        entry["labels"] = dict(labels)
    if poll_interval is not None:
        entry["poll_interval"] = poll_interval
    write_channels(path, [*entries, entry])
    return ref


def remove_from_config(path: str | Path, handle: str) -> str:
    """Drop ``handle``'s ``[[channels]]`` table from the config file; returns its key."""
    try:
        key = parse_channel_ref(handle).key
    except ValueError as exc:
        raise ConfigError(Problem("channel", str(exc))) from exc
    entries = channel_entries(path)
    kept = [e for e in entries if entry_key(e) != key]
    if len(kept) == len(entries):
        raise ConfigError(Problem(f"{path}: channels", f"{key!r} is not in the watch list"))
    write_channels(path, kept)
    return key


def candidate_handle(c: Candidate) -> str:
    """How the config names a candidate: @username, else its numeric id."""
    if c.username:
        return f"@{c.username}"
    if c.channel_id is not None:
        return str(c.channel_id)
    raise MonitorError(f"{c.ref}: neither a username nor an id to watch it by")


def candidate_labels(c: Candidate, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labels an accepted candidate is watched with: where it came from, at what distance."""
    return {"discovered": one_line(c.source_label(), 200), "discovery_depth": str(c.distance), **(extra or {})}


def accept_candidate(path: str | Path, c: Candidate, *, extra: Mapping[str, str] | None = None) -> tuple[ChannelRef, dict[str, str]]:
    """Add a discovery candidate to the config's watch list with labels saying where it came from.

    The caller then records the decision and the watch in the store (``add_watch``,
    ``set_discovery_decision``), which it holds open."""
    labels = candidate_labels(c, extra)
    return add_to_config(path, candidate_handle(c), labels=labels), labels


async def remember_accepted(store: Any, ref: ChannelRef, c: Candidate, labels: Mapping[str, str], *,
                            at: datetime) -> None:
    """The store's side of an accepted candidate: watched from now, out of the queue and out of quarantine."""
    await store.add_watch(ref, at=at)
    await store.set_discovery_decision(c.ref, "accepted", at=at, note=labels["discovered"])
    # A channel polled in quarantine keeps its posts: the same channel id, now counted as watched.
    await store.accept_quarantined(ref.key, at=at)


__all__ = ["accept_candidate", "add_to_config", "candidate_handle", "candidate_labels", "entry_key",
           "remember_accepted", "remove_from_config"]
