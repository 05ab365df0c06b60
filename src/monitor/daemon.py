"""The daemon's lifecycle: a scheduled poll of every channel until stopped.

It runs on `monitor.compose.Parts` (built by the composition root, `monitor.compose`, the one
place that names concrete adapters) and is the one place that imports APScheduler. Shape of a
running daemon:

* one APScheduler 3.x job per channel (``coalesce``, ``max_instances=1``, jitter); in team mode
  only per channel this collector leases (jobs follow the leases, see ``_sync_jobs``),
  a semaphore capping concurrent polls and a token bucket capping requests per
  minute over all channels (handed to the source, which awaits it before every
  request Telegram sees); a due channel's job only queues its key (once: a key
  already queued or polling is not queued again) and at most ``max_concurrent``
  worker tasks take keys off the queue, so thousands of channels falling due at
  start-up cost a queue entry each, not a waiting task and coroutine chain each
  (issue 16: about 20 KB a channel at 5,000 channels); the job runs inline in the
  event loop's thread (`_InlineExecutor`), not as a task of its own;
* parks (flood waits) and slow retries of unavailable channels are held in
  memory for cheap skips and in the store so they survive a restart;
* the config file is re-read when its mtime changes: channel jobs are added,
  removed and rescheduled without a restart;
* a heartbeat job (for ``monitor status``), a retention job (clears post text past
  its retention period) and a reconnect loop with exponential backoff;
* SIGTERM/SIGINT: stop scheduling, let in-flight polls commit their current batch
  (each batch is one transaction), close the source and the store.

With ``[source] clock = "virtual"`` (scenario sources only) time is a
`FrozenClock` moved by a tick loop: every tick advances it by ``virtual_step`` and
fires every channel's job once through the scheduler, and the next tick waits
for all of them, so months of a scenario replay in seconds with the same result
every time. `monitor demo` runs that. The polls of one tick run one at a time in
channel-key order (one worker, the smallest queued key first): a batch is judged by
the alert engine inside the transaction that saves it, against the posts already
committed, so concurrent polls committing in whatever order the threads finish made
a spike at its threshold fire in some runs and not others. Real time keeps
``max_concurrent`` workers taking keys in the order they fell due. A tick also runs the
quarantine round (before its polls) and, every ``search_every`` of virtual time, the discovery
round (after its polls, which resolve the channels it asks about).

In team mode (PostgreSQL), the rounds asked for the whole team (discovery, filling the quarantine)
are each run by the one collector holding that round (`monitor.collectors.tasks`), started from
the lease round as tasks of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections import deque
import random
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import account as connection, discovery_feed, health, logs, quarantine
from monitor.clock import FrozenClock
from monitor.collectors.tasks import DISCOVERY, QUARANTINE
from monitor.collectors.team import Team, team_for
from monitor.errors import ConfigError, MonitorError, StoreError
from monitor.models import ChannelRef, SaveResult, TaggedPost, WatchState
from monitor.pipeline import PollOptions, PollOutcome, poll_channel
from monitor.settings import Settings, load
from monitor.store import display_url

if TYPE_CHECKING:  # built by the composition root, which imports this module
    from monitor.compose import Parts

log = logs.get_logger("monitor.daemon")
T = TypeVar("T")
RETENTION_EVERY = 3600.0  # seconds between retention passes
FEED_AFTER = 10.0  # seconds after start before the first discovery round: the first polls resolve the channels
RECOMMEND_CHECK = 60.0  # team mode: at most this many seconds (4 lease rounds) between looks for due channels


def poll_options(settings: Settings) -> PollOptions:
    p = settings.polling
    return PollOptions(
        batch_size=p.batch_size,
        backfill_posts=p.backfill_posts,
        backfill_days=p.backfill_days,
        resample_days=p.resample_days,
        unavailable_retry=p.unavailable_retry,
        profile_every=p.profile_every,
        store_text=settings.monitor.store_text,
        source_name="scenario" if settings.source.kind == "scenario" else "telegram",
    )


class _InlineExecutor(BaseExecutor):
    """Runs a channel's poll job at once, in the event loop's thread: the job only queues its key
    (`Daemon._poll_job`), so it needs no task of its own. Why: the asyncio executor makes a task and
    a coroutine per due job, and thousands of channels fall due together at start-up (5,000 channels:
    about 10 MB of them at once, which the process keeps as its peak; issue 16, memory)."""

    def submit_job(self, job: Any, run_times: list[datetime]) -> None:
        # done before this returns, so max_instances holds without counting instances
        for event in run_job(job, job._jobstore_alias, run_times, self._logger.name):
            self._scheduler._dispatch_event(event)

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        raise NotImplementedError  # submit_job above does the work


# -- the daemon ----------------------------------------------------------------------------------------


class Daemon:
    """Schedules polls of the configured channels until stopped; see the module docstring."""

    def __init__(self, settings: Settings, parts: Parts) -> None:
        self.settings = settings
        self.parts = parts
        self.store = parts.store
        self.source = parts.source
        self.clock = parts.clock
        self.virtual = isinstance(parts.clock, FrozenClock) and parts.virtual_end is not None
        self.options = poll_options(settings)
        self.quarantine = quarantine.rule_of(settings)
        self.feed = discovery_feed.rule_of(settings)
        self.refs: dict[str, ChannelRef] = {r.key: r for r in settings.channels}
        self.states: dict[str, WatchState] = {}
        self.parks: dict[str, datetime] = {}
        self.retry_at: dict[str, datetime] = {}
        self.outcomes: dict[str, PollOutcome] = {}
        self.polls = 0
        self.stop_event = parts.stop
        self.stopping = False
        self.fatal: str | None = None  # why the daemon stopped itself (a damaged or read-only database)
        self.started_at = datetime.now(UTC)
        self._semaphore = asyncio.Semaphore(settings.polling.max_concurrent)
        self._inflight: set[asyncio.Task[None]] = set()
        self._due: deque[str] = deque()  # keys waiting for a worker, in the order they fell due
        self._pending: set[str] = set()  # keys queued or being polled
        self._workers: set[asyncio.Task[None]] = set()
        self._connected = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._config_mtime = _mtime(settings.path)
        self._tick_waiting: set[str] = set()
        self._tick_done = asyncio.Event()
        self._scheduler: AsyncIOScheduler | None = None
        self._rng = random.Random(0 if self.virtual else None)
        self._jobs: set[str] = set()  # team mode: the channels with a poll job (those this collector holds)
        self._quarantine_keys: list[str] = []  # team mode: open quarantine, leased like watched channels
        self._feed_at: datetime | None = None  # virtual clock: when the last discovery round ran
        self._recommending: asyncio.Task[None] | None = None  # team mode: the pass over leased channels
        self._recommend_next = 0.0  # team mode: monotonic time of the next look for due channels
        # Team mode (several collectors on one PostgreSQL store): poll only leased channels.
        bucket = parts.bucket
        self.team: Team | None = team_for(
            settings, parts.store, parts.clock, virtual=self.virtual, spent=lambda: bucket.spent if bucket else 0
        )

    # -- lifecycle ------------------------------------------------------------------------------------
    async def run(self, until: Callable[[Daemon], bool] | None = None) -> None:
        """Run until SIGTERM/SIGINT, `request_stop()`, ``until(self)`` turns true, or virtual time ends."""
        loop = asyncio.get_running_loop()
        installed = _install_signals(loop, self.request_stop)
        workers: list[asyncio.Task[None]] = []
        try:
            await self._startup()
            workers = [asyncio.create_task(w(self.stop_event)) for w in self.parts.workers]
            self._scheduler = self._make_scheduler()
            self._scheduler.start()
            log.info(
                "daemon started",
                channels=len(self.refs),
                pid=os.getpid(),
                virtual=self.virtual,
                database=display_url(self.settings.database_url),
            )
            if self.virtual:
                await self._virtual_loop(until)
            elif until is None:
                await self.stop_event.wait()
            else:
                while not self.stop_event.is_set() and not until(self):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop_event.wait(), 0.2)
        finally:
            await self._shutdown(workers)
            for sig in installed:
                loop.remove_signal_handler(sig)

    def request_stop(self) -> None:
        if not self.stop_event.is_set():
            log.info("shutdown requested")
        self.stopping = True
        self.stop_event.set()

    async def _startup(self) -> None:
        now = self.clock.now()
        await self.store.sync_watchlist(list(self.refs.values()), at=now)
        await self._reload_states()
        if self.team is not None:
            await self.team.start()  # refuses when another process holds this account's session
        self.parks = await self.store.parks(now=now)
        if self.team is not None:
            self.parks.pop("account", None)  # shared by every collector: each account's park is its state
        for state in self.states.values():
            if state.retry_at is not None and state.status not in ("active", "new", "parked"):
                self.retry_at[state.key] = state.retry_at
        if self.parks:
            log.info("parks in force", parks={k: v.isoformat() for k, v in self.parks.items()})
        await self.store.heartbeat(pid=os.getpid(), started_at=self.started_at, at=datetime.now(UTC))
        self._connected = await connection.connect_at_start(self.source, self.stop_event, self._refused)
        if not self._connected and not self.stopping:
            self._start_reconnect()
        elif self._connected and self.team is not None:
            await self.team.connected()
        await self._lease_round()

    async def _shutdown(self, workers: Sequence[asyncio.Task[None]]) -> None:
        self.stopping = True
        self.stop_event.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        pending = [t for t in self._inflight if not t.done()]
        if pending:
            log.info("waiting for in-flight polls", polls=len(pending))
            done, still = await asyncio.wait(pending, timeout=self.settings.monitor.shutdown_grace)
            for task in still:
                task.cancel()  # a cancelled batch rolls back in the store: nothing half-written
            if still:
                await asyncio.wait(still, timeout=5)
        for worker in list(self._workers):  # their in-flight polls were waited for above
            worker.cancel()
        if workers:
            done, still = await asyncio.wait(workers, timeout=self.settings.monitor.shutdown_grace)
            for task in still:
                task.cancel()
        if self.team is not None:
            await self.team.stop()  # after the in-flight polls: every lease released at once
        with contextlib.suppress(MonitorError, OSError, ConnectionError):
            await self.source.close()
        with contextlib.suppress(MonitorError):  # `monitor status` now says "stopped at T" and fails
            await health.mark_stopped(self.store, started_at=self.started_at, at=datetime.now(UTC))
        await self.store.close()
        log.info("daemon stopped", polls=self.polls)

    # -- scheduling --------------------------------------------------------------------------------------
    def _make_scheduler(self) -> AsyncIOScheduler:
        sched = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )
        sched.add_executor(_InlineExecutor(), "inline")
        if self.team is None:
            for ref in self.refs.values():
                self._add_job(sched, ref)
        else:  # only the channels leased so far; every lease round adds and removes jobs (`_sync_jobs`)
            self._sync_jobs(sched)
        m = self.settings.monitor
        sched.add_job(self._heartbeat, IntervalTrigger(seconds=m.heartbeat_interval), id="heartbeat")
        if self.team is not None:
            sched.add_job(self._lease_round, IntervalTrigger(seconds=self.team.renew_interval), id="leases")
        if self.settings.path is not None:
            sched.add_job(self._reload_config, IntervalTrigger(seconds=m.config_reload_interval), id="config")
        if self.quarantine.on and not self.virtual:
            sched.add_job(
                self._quarantine_round,
                IntervalTrigger(seconds=self.settings.polling.interval),
                id="quarantine",
                next_run_time=datetime.now(UTC) + timedelta(seconds=5),
            )
        if self.feed.on and not self.virtual and self.team is None:  # team mode: a team round (_run_tasks)
            sched.add_job(
                self._feed_round,
                IntervalTrigger(seconds=self.settings.discovery.search_every),
                id="discovery",
                next_run_time=datetime.now(UTC) + timedelta(seconds=FEED_AFTER),
            )
        if m.store_text:
            sched.add_job(
                self._retention,
                IntervalTrigger(seconds=RETENTION_EVERY),
                id="retention",
                next_run_time=datetime.now(UTC) + timedelta(seconds=5),
            )
        return sched

    def _interval(self, ref: ChannelRef) -> float:
        return ref.poll_interval or self.settings.polling.interval

    def _add_job(self, sched: AsyncIOScheduler, ref: ChannelRef, *, now: bool = False) -> None:
        job_id = f"poll:{ref.key}"
        if self.virtual:
            # Fired by the tick loop only; the interval is never reached in a virtual run.
            sched.add_job(
                self._poll_job,
                IntervalTrigger(days=3650),
                args=[ref.key],
                id=job_id,
                next_run_time=None,
                replace_existing=True,
                executor="inline",
            )
            return
        interval = self._interval(ref)
        jitter = self.settings.polling.jitter
        first = datetime.now(UTC)
        if not now:  # a channel just taken is polled at once, others spread over the first seconds
            first += timedelta(seconds=self._rng.uniform(0, min(interval, jitter, 5.0)))
        sched.add_job(
            self._poll_job,
            IntervalTrigger(seconds=interval, jitter=jitter or None),
            args=[ref.key],
            id=job_id,
            next_run_time=first,
            replace_existing=True,
            executor="inline",
        )

    async def _virtual_loop(self, until: Callable[[Daemon], bool] | None) -> None:
        assert isinstance(self.clock, FrozenClock) and self.parts.virtual_end is not None
        step = timedelta(seconds=self.settings.source.virtual_step)
        end = self.parts.virtual_end
        sched = self._scheduler
        assert sched is not None
        first = True
        while not self.stopping:
            if not first:
                if self.clock.now() >= end:
                    break
                self.clock.advance(min(step, end - self.clock.now()))
            first = False
            if self.settings.monitor.store_text:
                await self._retention()
            if self.quarantine.on:
                await self._quarantine_round()
            keys = sorted(self.refs)
            self._tick_waiting = set(keys)
            self._tick_done.clear()
            now = datetime.now(UTC)
            for key in keys:
                job = sched.get_job(f"poll:{key}")
                if job is None:
                    self._tick_waiting.discard(key)
                else:
                    job.modify(next_run_time=now)
            if self._tick_waiting:
                stop = asyncio.create_task(self.stop_event.wait())
                done = asyncio.create_task(self._tick_done.wait())
                await asyncio.wait({stop, done}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                done.cancel()
            if self.feed.on and self._feed_due() and not self.stopping:  # after the tick's polls resolved the channels
                self._feed_at = self.clock.now()
                await self._feed_round()
            if until is not None and until(self):
                break
        self.request_stop()

    def _tick_finished(self, key: str) -> None:
        if key in self._tick_waiting:
            self._tick_waiting.discard(key)
            if not self._tick_waiting:
                self._tick_done.set()

    # -- jobs ----------------------------------------------------------------------------------------------
    def _poll_job(self, key: str) -> None:
        """The scheduler's job: queue the channel's poll and return (see the module docstring); run
        by `_InlineExecutor` in the event loop's thread."""
        if self.stopping:
            self._tick_finished(key)
            return
        if key in self._pending:  # already queued or polling: as max_instances=1 would skip it
            return
        self._pending.add(key)
        self._due.append(key)
        if len(self._workers) < self._max_workers():
            worker = asyncio.ensure_future(self._work())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    def _max_workers(self) -> int:
        """Concurrent polls: ``max_concurrent`` in real time, one on a virtual clock (see the module
        docstring: a tick's batches must commit, and be judged, in the same order every run)."""
        return 1 if self.virtual else max(1, self.settings.polling.max_concurrent)

    def _next_due(self) -> str:
        """The next key to poll: the first that fell due, or on a virtual clock the smallest queued."""
        if not self.virtual:
            return self._due.popleft()
        key = min(self._due)
        self._due.remove(key)
        return key

    async def _work(self) -> None:
        """Poll queued keys until the queue is empty. Each poll is its own task, which a scheduler
        shutdown never cancels mid-batch; `_shutdown` waits for the in-flight ones."""
        while self._due and not self.stopping:
            key = self._next_due()
            task = asyncio.ensure_future(self._poll(key))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():
                    task.add_done_callback(functools.partial(self._polled_task, key))
                raise
            self._polled(key)
        while self._due and self.stopping:  # stopping: nothing more is polled, the tick loop is released
            self._polled(self._due.popleft())

    def _polled(self, key: str) -> None:
        self._pending.discard(key)
        self._tick_finished(key)

    def _polled_task(self, key: str, _task: asyncio.Task[None]) -> None:
        self._polled(key)

    def _skip_reason(self, key: str, now: datetime) -> str | None:
        if self.team is not None and (leased := self.team.skip_reason(key)) is not None:
            return leased
        account = self.parks.get("account")
        if account is not None and account > now:
            return f"account parked until {account.isoformat()}"
        mine = self.parks.get(f"channel:{key}")
        if mine is not None and mine > now:
            return f"channel parked until {mine.isoformat()}"
        retry = self.retry_at.get(key)
        if retry is not None and retry > now:
            return f"unavailable; next retry {retry.isoformat()}"
        if not self._connected:
            return "not connected"
        return None

    async def _poll(self, key: str) -> None:
        ref = self.refs.get(key)
        if ref is None or self.stopping:
            return
        async with self._semaphore:
            if self.stopping:
                return
            now = self.clock.now()
            reason = self._skip_reason(key, now)
            if reason is not None:
                log.debug("poll skipped", channel=key, reason=reason)
                return
            try:
                polled = await self._guarded(
                    key,
                    lambda: poll_channel(
                        ref,
                        source=self.source,
                        store=self.store,
                        tagger=self.parts.tagger,
                        clock=self.clock,
                        options=self.options,
                        state=self.states.get(key),
                        on_saved=self._on_saved if self.parts.on_saved is not None else None,
                        should_stop=lambda: self.stopping,
                        alerts=self.parts.alerts,
                    ),
                )
                if polled is None:
                    return  # the lease ran out mid-poll: another collector takes the channel over
                outcome = polled
            except Exception as exc:  # noqa: BLE001 - one channel's bug must never stop the daemon
                if (cause := _database_unusable(exc)) is not None:
                    # A damaged or read-only file fails every poll alike: stop, say so once, exit non-zero.
                    self.fatal = f"database {self.settings.database_url}: {cause}"
                    log.error("database unusable, stopping", error=self.fatal)
                    self.request_stop()
                    return
                if isinstance(exc, StoreError):
                    log.error("store refused a poll", channel=key, error=str(exc))
                    return
                # Once per slow retry, not at every interval: the channel gets a status and a retry time.
                log.exception("poll failed", channel=key, error=repr(exc))
                with contextlib.suppress(MonitorError):
                    self.retry_at[key] = await health.mark_failed(
                        self.store, key, repr(exc), at=self.clock.now(), retry_after=self.options.unavailable_retry
                    )
                return
        self.polls += 1
        self.outcomes[key] = outcome
        await self._after_poll(ref, outcome)

    async def _guarded(self, key: str, work: Callable[[], Awaitable[T]]) -> T | None:
        """The poll, under this collector's lease in team mode (stopped when the lease runs out)."""
        return await work() if self.team is None else await self.team.guard(key, work)

    async def _lease_round(self) -> None:
        if self.team is None or self.stopping:
            return
        mine = [k for k, ref in self.refs.items() if not ref.accounts or self.team.account in ref.accounts]
        pins = {k: self.refs[k].accounts for k in mine if self.refs[k].accounts}
        if self.quarantine.on:  # quarantined channels are leased and polled like watched ones
            try:
                self._quarantine_keys = [q.key for q in await self.store.quarantined() if q.key not in self.refs]
            except MonitorError as exc:  # keep the last list; the next round reads it again
                log.error("could not read the quarantine", error=str(exc))
            mine += self._quarantine_keys
        result = await self.team.round(
            mine, can_take=self.team.can_take(self._connected), pins=pins, tasks=self._team_tasks()
        )
        if result.taken:
            with contextlib.suppress(MonitorError):  # checkpoints another collector moved
                await self._reload_states()
            for key in result.taken:  # a channel another collector found unavailable keeps its retry time
                state = self.states.get(key)
                if state is not None and state.retry_at is not None and state.status not in ("active", "new", "parked"):
                    self.retry_at[key] = state.retry_at
                else:
                    self.retry_at.pop(key, None)
        if self._scheduler is not None:
            self._sync_jobs(self._scheduler, poll_now=result.taken)
        self._run_tasks()

    def _sync_jobs(self, sched: AsyncIOScheduler, *, poll_now: Sequence[str] = ()) -> None:
        """Team mode: a poll job and a cached watch state for each channel this collector holds, none
        for the others. Why: a collector's memory then grows with the channels it leases, not with the
        whole watch list (APScheduler jobs and watch states of 10,000 channels in every collector).
        Jobs of channels just taken (``poll_now``) run at once; channels given back, lost, or whose lease
        this collector no longer trusts lose their job (a later round that renews them adds it again)."""
        if self.team is None:
            return
        held = {k for k in self.team.keeper.held() if k in self.refs}
        for key in self._jobs - held:
            with contextlib.suppress(JobLookupError):
                sched.remove_job(f"poll:{key}")
            self.states.pop(key, None)
            self.outcomes.pop(key, None)
            self.retry_at.pop(key, None)  # read again from the watch state if the channel is taken again
        now = set(poll_now)
        for key in sorted(held - self._jobs):
            self._add_job(sched, self.refs[key], now=key in now)
        self._jobs = held

    async def _after_poll(self, ref: ChannelRef, outcome: PollOutcome) -> None:
        key = ref.key
        state = self.states.get(key)
        if state is None:
            await self._reload_states()
        else:
            # Keep the cache without re-reading the watch table (that costs a scan per channel).
            channel = outcome.channel if outcome.channel is not None else state.channel
            self.states[key] = replace(
                state, channel=channel, checkpoint=max(state.checkpoint, outcome.checkpoint)
            )
        fields = {
            "channel": key,
            "outcome": outcome.outcome,
            "fetched": outcome.fetched,
            "inserted": outcome.inserted,
            "updated": outcome.updated,
            "resampled": outcome.resampled,
            "checkpoint": outcome.checkpoint,
            "seconds": round(outcome.duration, 3),
        }
        if self.team is not None:  # the account's state, and its channels to others when it is lost
            if outcome.outcome == "parked" and outcome.park_scope == "account" and outcome.retry_at:
                await self.team.flood_waited(outcome.retry_at, outcome.error, method=outcome.method)
            elif outcome.outcome == "ok":
                await self.team.polled_ok(outcome.duration)
        if outcome.outcome == "parked" and outcome.park_scope and outcome.retry_at:
            self.parks[outcome.park_scope] = outcome.retry_at
            log.warning(
                "flood wait: parked", scope=outcome.park_scope, until=outcome.retry_at.isoformat(), **fields
            )
        elif outcome.outcome == "unavailable" and outcome.retry_at:
            self.retry_at[key] = outcome.retry_at
            log.warning(
                "channel unavailable", error=outcome.error, retry_at=outcome.retry_at.isoformat(), **fields
            )
        elif outcome.outcome == "disconnected":
            log.warning("connection lost", error=outcome.error, **fields)
            self._connected = False
            self._start_reconnect()
        elif outcome.outcome == "unauthorized":
            self._connected = False  # the reconnect loop records it, logs it and keeps trying slowly
            self._start_reconnect()
        elif outcome.outcome == "error":
            log.warning("poll error", error=outcome.error, **fields)
        else:
            self.retry_at.pop(key, None)
            if outcome.inserted or outcome.updated:
                log.info("polled", **fields)
            else:
                log.debug("polled", **fields)

    async def _on_saved(self, channel: Any, tagged: Sequence[TaggedPost], result: SaveResult) -> None:
        hook = self.parts.on_saved
        if hook is None:
            return
        try:
            await hook(channel, tagged, result)
        except Exception as exc:  # noqa: BLE001 - alerting must never stop collection
            log.exception("alert hook failed", error=repr(exc))

    async def _quarantine_round(self) -> None:
        """Poll the discovery candidates in quarantine once (docs/lifecycle.md); never stops the daemon.
        Team mode: only those this collector leases, each under its lease; one collector fills the
        quarantine for the team (the ``quarantine`` team round, ``_run_tasks``)."""
        if self.stopping or not self._connected:
            return
        try:
            async with self._semaphore:
                outcomes = await quarantine.poll_quarantined(
                    self.store, source=self.source, tagger=self.parts.tagger, clock=self.clock,
                    options=self.options, rule=self.quarantine,
                    skip=lambda key: self._skip_reason(key, self.clock.now()),
                    fill=self.team is None,
                    guard=self.team.guard if self.team is not None else None,
                )
        except MonitorError as exc:
            log.error("quarantine round failed", error=str(exc))
            return
        for outcome in outcomes:
            if self.team is not None and outcome.park_scope == "account" and outcome.retry_at is not None:
                await self.team.flood_waited(outcome.retry_at, outcome.error, method=outcome.method)
            if outcome.park_scope is not None and outcome.retry_at is not None:
                self.parks[outcome.park_scope] = outcome.retry_at
        if outcomes:
            log.info("quarantine polled", channels=len(outcomes),
                     saved=sum(o.inserted for o in outcomes))

    async def _fill_quarantine(self) -> None:
        """Team mode's ``quarantine`` round: strong candidates into quarantine, for the whole team."""
        await quarantine.refresh(self.store, self.quarantine, at=self.clock.now())

    def _feed_due(self) -> bool:
        """Virtual clock: a discovery round every ``search_every`` seconds of virtual time."""
        every = timedelta(seconds=self.settings.discovery.search_every)
        return self._feed_at is None or self.clock.now() - self._feed_at >= every

    async def _feed_round(self) -> None:
        """Recommendations and hashtag search into the discovery queue (docs/lifecycle.md). Team mode:
        run by the one collector holding the ``discovery`` team round (``_run_tasks``)."""
        if self.stopping or not self._connected:
            return
        try:
            done = await discovery_feed.feed_round(
                self.store, self.source, rule=self.feed, clock=self.clock, team=self.team is not None
            )
        except MonitorError as exc:
            log.error("discovery round failed", error=str(exc))
            return
        if self.team is not None:
            if done.account_wait is not None:
                until, why, method = done.account_wait
                self.parks["account"] = until
                await self.team.flood_waited(until, why, method=method)
        elif "account" in done.parked:
            self.parks["account"] = (await self.store.parks(now=self.clock.now())).get("account", self.clock.now())

    def _team_tasks(self) -> list[str]:
        """The team rounds this collector may run: the hashtag search (recommendations follow the
        channel leases, ``_recommend_leased``) and filling the quarantine."""
        return ([DISCOVERY] if self.feed.hashtags else []) + ([QUARANTINE] if self.quarantine.on else [])

    async def _recommend_leased(self) -> None:
        """Team mode: similar channels of the channels this collector leases and has polled (its account's
        access hash: another account's is refused), those nobody asked for within ``search_every``."""
        team = self.team
        if team is None or self.stopping or not team.can_take(self._connected):
            return
        keys = [
            k for k in team.keeper.held()
            if k in self.refs and (o := self.outcomes.get(k)) is not None and o.outcome == "ok"
            and (st := self.states.get(k)) is not None and st.channel is not None
        ]
        try:
            asked = await self.store.recommendations_asked(keys)
            before = self.clock.now() - timedelta(seconds=self.settings.discovery.search_every)
            due = [self.states[k] for k in keys if k not in asked or asked[k] <= before]
            if not due:
                return
            done = await discovery_feed.recommend_leased(self.store, self.source, due, clock=self.clock)
        except MonitorError as exc:
            log.error("recommendations failed", error=str(exc))
            return
        if done.account_wait is not None:
            until, why, method = done.account_wait
            self.parks["account"] = until
            await team.flood_waited(until, why, method=method)

    @staticmethod
    async def _team_round(team: Team, name: str, every: float, work: Callable[[], Awaitable[None]]) -> None:
        if await team.tasks.run(name, every, work):  # the quarantine's, every interval, only in the debug log
            (log.info if name == DISCOVERY else log.debug)("team round done", task=name, collector=team.id)

    def _run_tasks(self) -> None:
        """Team mode: start each team round this collector holds when it is due for the team; each runs
        as its own task (a long discovery round must not hold up the lease renewals)."""
        team = self.team
        if team is None or self.stopping:
            return
        if self.feed.recommendations and (self._recommending is None or self._recommending.done()):
            now = time.monotonic()
            if now >= self._recommend_next:  # the leased channels' asked times are read once a minute
                self._recommend_next = now + min(RECOMMEND_CHECK, 4 * team.renew_interval)
                self._recommending = asyncio.ensure_future(self._recommend_leased())
                self._inflight.add(self._recommending)
                self._recommending.add_done_callback(self._inflight.discard)
        rounds: list[tuple[str, float, Callable[[], Awaitable[None]]]] = []
        if self.feed.hashtags and datetime.now(UTC) >= self.started_at + timedelta(seconds=FEED_AFTER):
            rounds.append((DISCOVERY, self.settings.discovery.search_every, self._feed_round))
        if self.quarantine.on:
            rounds.append((QUARANTINE, self.settings.polling.interval, self._fill_quarantine))
        for name, every, work in rounds:
            if team.tasks.due(name, every):
                task = asyncio.ensure_future(self._team_round(team, name, every, work))
                self._inflight.add(task)  # a shutdown waits for it like for a poll
                task.add_done_callback(self._inflight.discard)

    async def _reload_states(self) -> None:
        """The watch states this daemon polls from: every channel's, or in team mode the held ones'."""
        states = await self.store.watch_states()
        if self.team is None:
            self.states = {s.key: s for s in states}
        else:
            held = set(self.team.keeper.held())
            self.states = {s.key: s for s in states if s.key in held}

    async def _heartbeat(self) -> None:
        try:
            await self.store.heartbeat(pid=os.getpid(), started_at=self.started_at, at=datetime.now(UTC))
        except MonitorError as exc:
            log.error("heartbeat failed", error=str(exc))

    async def _retention(self) -> None:
        days = self.settings.monitor.text_retention_days
        try:
            purged = await self.store.purge_text(before=self.clock.now() - timedelta(days=days))
        except MonitorError as exc:
            log.error("retention pass failed", error=str(exc))
            return
        if purged:
            log.info("post text past retention cleared", posts=purged, days=days)

    # -- reconnect -------------------------------------------------------------------------------------------
    def _start_reconnect(self) -> None:
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        ceiling = self.settings.polling.reconnect_max_backoff
        if await connection.reconnect(
            self.source, self.stop_event, max_backoff=ceiling, rng=self._rng, on_refused=self._refused
        ):
            self._connected = True
            if self.team is not None:
                await self.team.connected()

    async def _refused(self, exc: Exception) -> None:
        """Telegram refused the session: every channel says so, since the first refusal (status and health fail)."""
        if self.team is not None:
            await self.team.refused(exc)
        first = getattr(self, "_refused_at", None)
        self._refused_at = first or self.clock.now()
        with contextlib.suppress(MonitorError):
            why = await health.mark_unauthorized(
                self.store, self.team.keeper.held() if self.team is not None else list(self.refs), str(exc), at=self.clock.now(), since=self._refused_at
            )
            if first is None:
                log.error("Telegram session refused", reason=why)

    # -- config reload ------------------------------------------------------------------------
    async def _reload_config(self) -> None:
        path = self.settings.path
        if path is None:
            return
        mtime = _mtime(path)
        if mtime == self._config_mtime:
            return
        self._config_mtime = mtime
        try:
            new = await asyncio.to_thread(load, path)
        except ConfigError as exc:
            log.error(
                "config changed but is invalid; keeping the running one",
                problems=[str(p) for p in exc.problems],
            )
            return
        await self.apply_channels(new)

    async def apply_channels(self, new: Settings) -> None:
        """Make the running jobs match ``new``'s channel list and polling interval."""
        sched = self._scheduler
        old_refs = self.refs
        new_refs = {r.key: r for r in new.channels}
        interval_changed = new.polling.interval != self.settings.polling.interval or (
            new.polling.jitter != self.settings.polling.jitter
        )
        self.settings = replace(
            self.settings,
            channels=new.channels,
            polling=replace(self.settings.polling, interval=new.polling.interval, jitter=new.polling.jitter),
        )
        self.refs = new_refs
        await self.store.sync_watchlist(list(new_refs.values()), at=self.clock.now())
        await self._reload_states()
        added = [k for k in new_refs if k not in old_refs]
        removed = [k for k in old_refs if k not in new_refs]
        changed = [
            k
            for k in new_refs
            if k in old_refs and (interval_changed or new_refs[k].poll_interval != old_refs[k].poll_interval)
        ]
        if sched is not None and self.team is not None:
            # removed channels lose their job now; added ones get one when a lease round takes them
            for key in removed:
                with contextlib.suppress(JobLookupError):
                    sched.remove_job(f"poll:{key}")
            self._jobs -= set(removed)
            for key in changed:
                if key in self._jobs:
                    self._add_job(sched, new_refs[key])
        elif sched is not None:
            for key in removed:
                with contextlib.suppress(Exception):
                    sched.remove_job(f"poll:{key}")
            for key in added + changed:
                self._add_job(sched, new_refs[key])
        if added or removed or changed:
            log.info("channel list reloaded", added=added, removed=removed, rescheduled=changed)


def _install_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> list[int]:
    installed: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            continue
        installed.append(int(sig))
    return installed


def _mtime(path: Path | None) -> float | None:
    if path is None:
        return None
    try:
        return path.stat().st_mtime
    except OSError:
        return None


_UNUSABLE = ("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_READONLY", "SQLITE_CANTOPEN")


def _database_unusable(exc: BaseException) -> BaseException | None:
    """The SQLite error behind ``exc`` when it says the file itself is damaged or cannot be written
    (no retry helps), else None; a locked or busy database is not such an error."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.DatabaseError):
            name = str(getattr(seen, "sqlite_errorname", ""))
            if name.startswith(_UNUSABLE) or type(seen) is sqlite3.DatabaseError:
                return seen
        seen = seen.__cause__
    return None


__all__ = ["Daemon", "poll_options"]
