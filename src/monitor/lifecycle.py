"""Channels that die and come back: what a poll learns about a channel's life, recorded in the store.

Why a module of its own: the pipeline only says what happened (the channel answered, Telegram refused
it, a re-sample came back short); this module turns that into lifecycle events with a time and a
reason, profile history (title, username, description, subscribers) and deletion marks, so a volume
drop can be told apart from a takedown. See docs/lifecycle.md.

States (``ChannelEvent.state``):

* ``active``: the channel answered.
* ``private``: Telegram says CHANNEL_PRIVATE (made private, or the account is kept out).
* ``banned``: ChannelForbidden, CHANNEL_BANNED: Telegram took it down or keeps this account out.
* ``deleted``: the stored access hash was refused and the username is free: the channel is gone.
* ``restricted``: the channel answers but carries Telegram's restriction_reason (the reason is kept).
* ``not_found``: a configured username that never resolved (never seen alive: not a takedown).
* ``invalid``: not a valid username, or not a broadcast channel.

Changes (events that leave the state as it was): ``username_changed`` (old -> new),
``username_freed`` (the channel dropped its username, or the name now belongs to another channel).

A takedown is an entry into banned, deleted, restricted or private from any other state; a return is
``active`` after one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any


from monitor.clock import Clock
from monitor.errors import ChannelUnavailable, FloodWait, SourceConnectionError, SourceError, SourceUnauthorized
from monitor.models import Channel, ChannelEvent, ChannelSnapshot, PostKey
from monitor.store.ports import ChannelHistory
from monitor.logger import get_logger

log = get_logger("monitor.lifecycle")

STATES = ("active", "private", "banned", "deleted", "restricted", "not_found", "invalid")
CHANGES = ("username_changed", "username_freed")
TAKEDOWN_STATES = frozenset({"private", "banned", "deleted", "restricted"})
_BY_REASON = {"private": "private", "banned": "banned", "deleted": "deleted", "invalid": "invalid",
              "renamed": "username_freed"}
MAX_REASON = 500  # characters of a reason kept (Telegram's restriction text is long, errors are short)


def unavailable_state(reason: str, *, known: bool) -> str:
    """The lifecycle state of a ChannelUnavailable reason; ``known``: the channel was resolved before.

    A username that resolves to nothing is ``deleted`` for a channel seen alive (the pipeline asks
    again by username only after the stored access hash was refused) and ``not_found`` otherwise.
    """
    if reason == "not_found":
        return "deleted" if known else "not_found"
    return _BY_REASON.get(reason, "invalid")


def current_state(events: Iterable[ChannelEvent]) -> ChannelEvent | None:
    """The newest state event (changes such as username_changed are not states)."""
    last = None
    for event in events:
        if event.state not in CHANGES:
            last = event
    return last


async def record_state(
    store: ChannelHistory, key: str, state: str, *, at: datetime, channel_id: int | None, reason: str | None = None
) -> ChannelEvent | None:
    """Record ``state`` for ``key`` when it differs from the current one (a restriction whose reason
    changed is a new event too); returns the event recorded, or None."""
    reason = reason.split(" (caused by ")[0][:MAX_REASON] if reason else None  # Telethon appends the request
    last = current_state(await store.channel_events(keys=[key]))
    if last is not None and last.state == state and (state != "restricted" or last.reason == reason):
        return None
    event = ChannelEvent(key=key, channel_id=channel_id, state=state, at=at, reason=reason)
    await store.add_channel_event(event)
    if last is not None:
        log.warning("channel state changed", channel=key, state=state, was=last.state if last else None,
                    reason=reason)
    return event


async def on_unavailable(store: ChannelHistory, key: str, exc: ChannelUnavailable, *, known: Channel | None,
                         at: datetime) -> ChannelEvent | None:
    """A poll ended with ChannelUnavailable: record the state it means."""
    state = unavailable_state(exc.reason, known=known is not None)
    detail = exc.detail or exc.reason
    if state == "username_freed":
        # The name now belongs to another channel: a change of the old channel; it is gone from view.
        await store.add_channel_event(ChannelEvent(key=key, channel_id=known.id if known else None,
                                                   state="username_freed", at=at, reason=detail[:MAX_REASON]))
        state = "deleted" if known is not None else "not_found"
    return await record_state(store, key, state, at=at, channel_id=known.id if known else None, reason=detail)


def profile_changes(key: str, previous: ChannelSnapshot | None, now: ChannelSnapshot) -> list[ChannelEvent]:
    """Username changes between two profile samples (a title change is history, not an event)."""
    if previous is None or not previous.username:
        return []
    old, new = previous.username, now.username
    if new is None:
        return [ChannelEvent(key=key, channel_id=now.channel_id, state="username_freed", at=now.observed_at,
                             reason=f"@{old} dropped")]
    if new.lower() != old.lower():
        return [ChannelEvent(key=key, channel_id=now.channel_id, state="username_changed", at=now.observed_at,
                             reason=f"@{old} -> @{new}")]
    return []


async def on_success(
    store: Any,
    source: Any,
    key: str,
    channel: Channel,
    *,
    clock: Clock,
    profile_every: float,
) -> ChannelSnapshot | None:
    """A poll worked: sample the profile when due, record username changes and the state.

    ``profile_every`` (seconds, 0 = never) is the cadence of GetFullChannel per channel. A source
    without ``channel_info`` or a profile request Telegram refuses for a reason we do not know leaves
    the state as the poll showed it (active); a flood wait, a lost connection or an unavailable channel
    is raised to the poll like any other request's.
    """
    now = clock.now()
    snap: ChannelSnapshot | None = None
    ask = getattr(source, "channel_info", None)
    if profile_every > 0 and ask is not None:
        history: list[ChannelSnapshot] = await store.channel_snapshots(channel.id)
        previous = history[-1] if history else None
        if previous is None or previous.observed_at <= now - timedelta(seconds=profile_every):
            try:
                snap = await ask(channel)
            except (FloodWait, ChannelUnavailable, SourceConnectionError, SourceUnauthorized):
                raise
            except SourceError as exc:
                log.warning("profile sample failed", channel=key, error=str(exc))
            if snap is not None:
                await store.add_channel_snapshot(snap)
                for event in profile_changes(key, previous, snap):
                    await store.add_channel_event(event)
                    log.info("channel renamed", channel=key, change=event.state, reason=event.reason)
    if snap is not None and snap.restriction:
        await record_state(store, key, "restricted", at=now, channel_id=channel.id, reason=snap.restriction)
        return snap
    last = current_state(await store.channel_events(keys=[key]))
    if snap is None and last is not None and last.state == "restricted":
        return None  # no new sample: the restriction stands until a sample says otherwise
    await record_state(store, key, "active", at=now, channel_id=channel.id)
    return snap


async def mark_gone(
    store: Any, channel: Channel, gone: Iterable[int], *, at: datetime
) -> tuple[int, int]:
    """Posts a re-sample asked for and did not get back: (deleted, expired) marked now.

    A post older than the channel's auto-delete timer (its last profile sample's ttl_period) expired:
    recorded apart and not counted as a deletion.
    """
    ids = sorted(set(gone))
    if not ids:
        return 0, 0
    history: list[ChannelSnapshot] = await store.channel_snapshots(channel.id)
    ttl = history[-1].ttl_period if history else None
    expired: list[int] = []
    deleted: list[int] = []
    for mid in ids:
        if ttl:
            post = await store.get_post(PostKey(channel.id, mid))
            if post is not None and post.posted_at + timedelta(seconds=ttl) <= at:
                expired.append(mid)
                continue
        deleted.append(mid)
    n_deleted = await store.mark_deleted(channel.id, deleted, at=at, kind="deleted") if deleted else 0
    n_expired = await store.mark_deleted(channel.id, expired, at=at, kind="expired") if expired else 0
    if n_deleted:
        log.info("posts deleted from the channel", channel=channel.username or channel.id, posts=n_deleted)
    return n_deleted, n_expired


__all__ = ["CHANGES", "STATES", "TAKEDOWN_STATES", "current_state", "mark_gone", "on_success", "on_unavailable",
           "profile_changes", "record_state", "unavailable_state"]
