"""Discovery candidates polled in quarantine (docs/lifecycle.md, `[discovery] quarantine_above`).

An analyst decides what is watched; quarantine only saves the posts of a likely candidate from the
moment it looked likely, so that accepting it later keeps its history. A quarantined channel is
polled like a watched one (the same ``poll_channel``: same budget, parks, lifecycle), but its watch
row stays unwatched and ``monitor.reports.spec.resolve`` leaves its channel out of every report until
`monitor discovery accept` ends the quarantine (or a report asks with ``--quarantined``).

Only candidates known by a public username are quarantined: a bare channel id cannot be resolved
without an access hash, and nothing is ever joined.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor import logs
from monitor.models import ChannelRef, Quarantined
from monitor.pipeline import PollOptions, PollOutcome, poll_channel
from monitor.reports.queue import DEFAULT_LANGS, build_queue
from monitor.sources.links import parse_channel_ref

log = logs.get_logger("monitor.quarantine")
Guard = Callable[[str, Callable[[], Awaitable[PollOutcome]]], Awaitable[PollOutcome | None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineRule:
    """The `[discovery]` values quarantine needs, as plain values (0 = off)."""

    above: float = 0.0
    most: int = 10
    depth: int = 2
    langs: tuple[str, ...] = DEFAULT_LANGS

    @property
    def on(self) -> bool:
        return self.above > 0


async def refresh(store: Any, rule: QuarantineRule, *, at: datetime) -> list[Quarantined]:
    """Put undecided candidates at or above the threshold into quarantine (highest priority first, up
    to ``rule.most`` open at once); returns the open quarantine. Decided candidates never enter."""
    if not rule.on:
        return []
    open_now = await store.quarantined()
    room = rule.most - len(open_now)
    if room > 0:
        held = {q.ref for q in open_now} | {q.ref for q in await store.quarantined(include_accepted=True)}
        for cand in await build_queue(store, depth_limit=rule.depth, langs=rule.langs):
            if room <= 0 or cand.priority < rule.above:
                break  # the queue is ordered by priority
            if cand.decision is not None or cand.ref in held or cand.username is None:
                continue
            ref = parse_channel_ref(f"@{cand.username}")
            if await store.add_quarantine(ref.key, cand.ref, cand.priority, at=at):
                log.info("candidate in quarantine", channel=ref.key, priority=cand.priority)
                room -= 1
        open_now = await store.quarantined()
    return list(open_now)


async def poll_quarantined(
    store: Any,
    *,
    source: Any,
    tagger: Any,
    clock: Any,
    options: PollOptions,
    rule: QuarantineRule,
    skip: Callable[[str], str | None] = lambda key: None,
    fill: bool = True,
    guard: Guard | None = None,
) -> list[PollOutcome]:
    """One round: refresh the quarantine (unless ``fill`` is False: in team mode one collector does
    that for the team), then poll each open one once (``skip(key)`` gives a reason not to, e.g. a park
    in force, or in team mode a channel another collector leases). ``guard(key, poll)`` runs each poll
    (team mode: under the channel's lease; None back = the lease ran out and the poll was stopped).
    Returns the outcomes; never raises a SourceError."""
    outcomes = []
    open_now = await refresh(store, rule, at=clock.now()) if fill else await store.quarantined()
    if not open_now or all(skip(q.key) is not None for q in open_now):
        return []  # nothing to poll here (in team mode: none leased to this collector): no watch table read
    states = {s.key: s for s in await store.watch_states(include_unwatched=True)}
    for q in open_now:
        if (reason := skip(q.key)) is not None:
            log.debug("quarantine poll skipped", channel=q.key, reason=reason)
            continue
        ref = ChannelRef(key=q.key, username=q.key if not q.key.startswith("id:") else None,
                         channel_id=q.channel_id, labels={"quarantine": q.ref})

        async def poll(ref: ChannelRef = ref, key: str = q.key) -> PollOutcome:
            return await poll_channel(ref, source=source, store=store, tagger=tagger, clock=clock, options=options,
                                      state=states.get(key))

        got = await poll() if guard is None else await guard(q.key, poll)
        if got is None:
            continue
        outcome = got
        outcomes.append(outcome)
        if outcome.outcome == "parked" and outcome.park_scope == "account":
            break  # the whole account waits: the rest of the round too
    return outcomes


def rule_of(settings: Any) -> QuarantineRule:
    d = settings.discovery
    return QuarantineRule(above=d.quarantine_above, most=d.quarantine_max, depth=d.quarantine_depth)


__all__ = ["QuarantineRule", "poll_quarantined", "refresh", "rule_of"]
