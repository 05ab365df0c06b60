"""One poll of one channel: resolve once, fetch after the checkpoint, tag, store, re-sample.

No scheduling lives here (the daemon decides when); this is the unit the
scheduler, the tests and the demo all run. The rules it keeps:

* Resolve once. A channel the store already knows (id + access hash) is never
  resolved again: ResolveUsername is what earns flood bans.
* Save first, then move the checkpoint, in ONE store transaction per batch
  (``store.save_posts(..., checkpoint=...)``), so a ``kill -9`` at any moment
  loses nothing and a re-fetch after restart stores nothing twice.
* A source error ends this poll only: FloodWait parks the channel or the whole
  account (in the store, so the park survives a restart), ChannelUnavailable
  records the reason and schedules a slow retry, SourceConnectionError is
  reported so the caller reconnects with backoff. Whatever was committed stays.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol

from monitor import lifecycle
from monitor.clock import Clock
from monitor.errors import (
    ChannelUnavailable,
    FloodWait,
    PollStopped,
    SourceConnectionError,
    SourceError,
    SourceUnauthorized,
)
from monitor.models import Channel, ChannelRef, Post, SaveResult, TaggedPost, WatchState
from monitor.sources import Source
from monitor.store import Store
from monitor.store.ports import Evaluate

Outcome = Literal["ok", "parked", "unavailable", "disconnected", "unauthorized", "error", "skipped", "stopped"]
OnSaved = Callable[[Channel, Sequence[TaggedPost], SaveResult], Awaitable[None]]


class AlertStep(Protocol):
    """The alert engine as a save step (``monitor.alerts.AlertHooks``): evaluated INSIDE the save
    transaction, so a saved post is an evaluated post whatever moment the process dies at."""

    async def before_save(self, channel: Channel, tagged: Sequence[TaggedPost]) -> None: ...

    def evaluator(self, channel: Channel, tagged: Sequence[TaggedPost]) -> Evaluate: ...

    async def after_save(self, channel: Channel, tagged: Sequence[TaggedPost], result: SaveResult) -> None: ...


async def save_batch(
    store: Store,
    channel: Channel,
    tagged: Sequence[TaggedPost],
    *,
    alerts: AlertStep | None,
    at: datetime,
    checkpoint: int | None,
    store_text: bool,
    source: str,
) -> SaveResult:
    """The one save path of polls and imports: posts, checkpoint and the alert step in one transaction."""
    if alerts is not None:
        await alerts.before_save(channel, tagged)
    result = await store.save_posts(
        channel.id,
        tagged,
        at=at,
        checkpoint=checkpoint,
        store_text=store_text,
        source=source,
        evaluate=alerts.evaluator(channel, tagged) if alerts is not None else None,
    )
    if os.environ.get(CRASH_AFTER_SAVE_ENV) == "1" and result.inserted:
        os._exit(CRASH_EXIT)  # fault injection for the crash tests: die right after the commit
    if alerts is not None:
        await alerts.after_save(channel, tagged, result)
    return result


# Fault injection for tests/alerts/test_alert_crash.py: exit at once after a committed batch.
CRASH_AFTER_SAVE_ENV = "MONITOR_TEST_CRASH_AFTER_SAVE"
CRASH_EXIT = 86

_UNAVAILABLE_STATUS = {
    "private": "private",
    "not_found": "not_found",
    "deleted": "not_found",
    "banned": "banned",
    "invalid": "invalid",
    "renamed": "renamed",
}
REFRESH_CHUNK = 100  # ids per refresh request (GetMessages' cap)


class PostTagger(Protocol):
    version: str

    def tag_posts(self, posts: Sequence[Post]) -> list[TaggedPost]:
        """Tags and text fingerprints of a batch: all of a post's CPU work before it is stored."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PollOptions:
    """What one poll needs from the settings, as plain values (the pipeline never sees Settings)."""

    batch_size: int = 100
    backfill_posts: int | None = 200  # None = no count limit on first sight
    backfill_days: float | None = 30  # None = no age limit on first sight
    resample_days: float = 7
    unavailable_retry: float = 21600  # seconds
    store_text: bool = False
    source_name: str = "telegram"
    tag_in_thread: bool = True  # tagging a batch off the event loop keeps other channels responsive
    profile_every: float = 86400  # seconds between GetFullChannel samples of one channel (0 = never)


@dataclass(frozen=True, slots=True, kw_only=True)
class PollOutcome:
    """What one poll did; logged as one structured event and read by the daemon."""

    key: str
    outcome: Outcome
    channel_id: int | None = None
    channel: Channel | None = None  # as resolved (id + access hash), so callers can cache it
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    resampled: int = 0
    deleted: int = 0  # posts a re-sample found gone (auto-delete expiries not counted)
    batches: int = 0
    checkpoint: int = 0
    park_scope: str | None = None  # "account" or "channel:<key>"
    retry_at: datetime | None = None
    error: str | None = None
    method: str | None = None  # parked: the request Telegram flood-waited (GetHistoryRequest), when known
    duration: float = 0.0  # seconds of wall time
    saved: tuple[int, ...] = field(default=(), repr=False)  # message ids inserted, for tests and alerts


def park_scope(key: str, wait: FloodWait) -> str:
    return "account" if wait.scope == "account" else f"channel:{key}"


async def poll_channel(
    ref: ChannelRef,
    *,
    source: Source,
    store: Store,
    tagger: PostTagger,
    clock: Clock,
    options: PollOptions = PollOptions(),
    state: WatchState | None = None,
    on_saved: OnSaved | None = None,
    should_stop: Callable[[], bool] | None = None,
    alerts: AlertStep | None = None,
) -> PollOutcome:
    """Poll one configured channel once and return what happened; never raises a SourceError.

    ``state`` is the store's watch state of ``ref`` (read once by the caller for many
    channels); without it the store is asked. ``should_stop`` is checked between
    batches so a shutdown ends the poll right after a committed batch.
    """
    started = time.monotonic()
    now = clock.now()
    if state is None:
        state = next((s for s in await store.watch_states() if s.key == ref.key), None)
        if state is None:
            await store.add_watch(ref, at=now)
    known = state.channel if state is not None else None
    checkpoint = state.checkpoint if state is not None else 0
    progress = _Progress(key=ref.key, checkpoint=checkpoint)
    try:
        channel = await _resolve(ref, known, source=source, store=store, clock=clock)
        progress.channel_id = channel.id
        progress.channel = channel
        poll = _Poll(source, store, tagger, clock, options, on_saved, alerts)
        await _ingest(channel, progress, poll, should_stop)
        if should_stop is not None and should_stop():
            await store.record_poll(ref.key, at=clock.now())
            return progress.outcome("stopped", started)
        progress.resampled = await _resample(channel, progress, poll)
        await lifecycle.on_success(
            store, source, ref.key, channel, clock=clock, profile_every=options.profile_every
        )
        await store.record_poll(ref.key, at=clock.now())
        return progress.outcome("ok", started)
    except PollStopped:
        return progress.outcome("stopped", started)
    except FloodWait as exc:
        at = clock.now()
        scope = park_scope(ref.key, exc)
        until = at + timedelta(seconds=exc.seconds)
        await store.park(scope, until, reason=str(exc))
        await store.set_watch_status(
            ref.key,
            "parked",
            reason=f"flood wait {exc.seconds}s ({exc.scope})",
            retry_at=until,
            at=at,
            error=str(exc),
        )
        return progress.outcome(
            "parked", started, park_scope=scope, retry_at=until, error=str(exc), method=exc.method
        )
    except ChannelUnavailable as exc:
        if exc.reason == "invalid" and known is not None and known.access_hash is not None:
            # The stored access hash was refused: resolve the username once more to tell a
            # deleted channel from a renamed one, or to pick up a fresh hash.
            again = await _resolve_again(ref, known, source=source, store=store, clock=clock)
            if again is None:
                note = "the stored access hash was refused; the channel was resolved again"
                await store.record_poll(ref.key, at=clock.now(), error=note)
                return progress.outcome("error", started, error=note)
            exc = again
        at = clock.now()
        retry = at + timedelta(seconds=options.unavailable_retry)
        status = _UNAVAILABLE_STATUS.get(exc.reason, "error")
        await store.set_watch_status(
            ref.key, status, reason=exc.detail or exc.reason, retry_at=retry, at=at, error=str(exc)
        )
        await lifecycle.on_unavailable(store, ref.key, exc, known=known, at=at)
        return progress.outcome("unavailable", started, retry_at=retry, error=str(exc))
    except SourceConnectionError as exc:
        await store.record_poll(ref.key, at=clock.now(), error=str(exc))
        return progress.outcome("disconnected", started, error=str(exc))
    except SourceUnauthorized as exc:  # the account's problem, not this channel's: the caller records it
        return progress.outcome("unauthorized", started, error=str(exc))
    except SourceError as exc:
        # Telegram refused this request for a reason we do not know: note it, try again next time.
        await store.record_poll(ref.key, at=clock.now(), error=str(exc))
        return progress.outcome("error", started, error=str(exc))


@dataclass(slots=True)
class _Progress:
    key: str
    checkpoint: int
    channel_id: int | None = None
    channel: Channel | None = None
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    resampled: int = 0
    deleted: int = 0
    batches: int = 0
    saved: list[int] = field(default_factory=list)

    def outcome(self, outcome: Outcome, started: float, **extra: object) -> PollOutcome:
        return PollOutcome(
            key=self.key,
            outcome=outcome,
            channel_id=self.channel_id,
            channel=self.channel,
            fetched=self.fetched,
            inserted=self.inserted,
            updated=self.updated,
            resampled=self.resampled,
            deleted=self.deleted,
            batches=self.batches,
            checkpoint=self.checkpoint,
            duration=time.monotonic() - started,
            saved=tuple(self.saved),
            **extra,  # type: ignore[arg-type]  # extra holds only PollOutcome's optional fields, by name
        )


async def _resolve_again(
    ref: ChannelRef, known: Channel, *, source: Source, store: Store, clock: Clock
) -> ChannelUnavailable | None:
    """Resolve by username, ignoring the refused hash: None when that worked, else why the channel is gone."""
    if not ref.username:
        return ChannelUnavailable("invalid", "the stored access hash was refused and there is no username")
    try:
        channel = await source.resolve(ref, replace(known, access_hash=None))
    except ChannelUnavailable as exc:
        return exc  # "renamed" when the username now names another channel, "not_found" when it is gone
    except SourceError as exc:
        return ChannelUnavailable("invalid", f"the stored access hash was refused; resolving again failed: {exc}")
    await store.set_resolved(ref.key, channel, at=clock.now())
    return None


async def _resolve(
    ref: ChannelRef, known: Channel | None, *, source: Source, store: Store, clock: Clock
) -> Channel:
    if known is not None and known.access_hash is not None:
        return known  # resolved before: id + access hash are all a request needs
    channel = await source.resolve(ref, known)
    await store.set_resolved(ref.key, channel, at=clock.now())
    return channel


async def _tag(tagger: PostTagger, posts: Sequence[Post], in_thread: bool) -> list[TaggedPost]:
    if not posts:
        return []
    if in_thread:
        return await asyncio.to_thread(tagger.tag_posts, posts)
    return tagger.tag_posts(posts)


@dataclass(frozen=True, slots=True)
class _Poll:
    """What one poll works with, handed to both of its halves (new posts, then re-sampled ones)."""

    source: Source
    store: Store
    tagger: PostTagger
    clock: Clock
    options: PollOptions
    on_saved: OnSaved | None
    alerts: AlertStep | None

    async def save(
        self, channel: Channel, posts: Sequence[Post], checkpoint: int | None
    ) -> tuple[list[TaggedPost], SaveResult]:
        """Tag ``posts`` and save them (and the checkpoint, when given) with their alert step."""
        tagged = await _tag(self.tagger, posts, self.options.tag_in_thread)
        result = await save_batch(
            self.store,
            channel,
            tagged,
            alerts=self.alerts,
            at=self.clock.now(),
            checkpoint=checkpoint,
            store_text=self.options.store_text,
            source=self.options.source_name,
        )
        return tagged, result


async def _ingest(channel: Channel, progress: _Progress, poll: _Poll, should_stop: Callable[[], bool] | None) -> None:
    source, clock, options, on_saved = poll.source, poll.clock, poll.options, poll.on_saved
    first_sight = progress.checkpoint == 0
    limit = options.backfill_posts if first_sight else None
    since = (
        clock.now() - timedelta(days=options.backfill_days)
        if first_sight and options.backfill_days is not None
        else None
    )
    if first_sight and limit == 0:
        return
    batch: list[Post] = []

    async def flush() -> None:
        newest = max(p.message_id for p in batch)
        tagged, result = await poll.save(channel, batch, newest)
        progress.checkpoint = max(progress.checkpoint, newest)
        progress.batches += 1
        progress.inserted += result.inserted
        progress.updated += result.updated
        progress.saved.extend(k.message_id for k in result.inserted_keys)
        batch.clear()
        if on_saved is not None:
            await on_saved(channel, tagged, result)

    iterator = source.fetch(channel, after_id=progress.checkpoint, limit=limit, since=since)
    try:
        async for post in iterator:
            if post.message_id <= progress.checkpoint:
                continue  # a source that ignores after_id must not move us backwards
            batch.append(post)
            progress.fetched += 1
            if len(batch) >= options.batch_size:
                await flush()
                if should_stop is not None and should_stop():
                    return
        if batch:
            await flush()
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


async def _resample(channel: Channel, progress: _Progress, poll: _Poll) -> int:
    """Re-read recent posts: views and forwards become a time series, edits update the stored post."""
    source, store, clock, options = poll.source, poll.store, poll.clock, poll.options
    if options.resample_days <= 0:
        return 0
    fresh = set(progress.saved)
    ids = [
        i
        for i in await store.resample_candidates(
            channel.id, since=clock.now() - timedelta(days=options.resample_days)
        )
        if i not in fresh
    ]
    seen = 0
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        posts = await source.refresh(channel, chunk)
        gone = set(chunk) - {p.message_id for p in posts}
        if gone:  # asked for and not given back: deleted from the channel (or expired by its timer)
            deleted, _expired = await lifecycle.mark_gone(store, channel, gone, at=clock.now())
            progress.deleted += deleted
        if not posts:
            continue
        seen += len(posts)
        tagged, result = await poll.save(channel, posts, None)
        progress.updated += result.updated
        if poll.on_saved is not None and result.updated:
            await poll.on_saved(channel, tagged, result)
    return seen


__all__ = ["AlertStep", "OnSaved", "save_batch", "PollOptions", "PollOutcome", "PollStopped", "PostTagger", "park_scope", "poll_channel"]
