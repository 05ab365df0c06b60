"""The composition root: the one place that names concrete parts (store, source, tagger, clock).

Settings -> `Parts` (a store opened and migrated, the Telegram or scenario source with its request
budget, the tagger, the clock, the alert hooks) -> `monitor.daemon.Daemon`. Every CLI command that
needs a tagger (tag, retag, import, demo, check, run) builds it with `build_tagger` here, so what
`monitor check` accepts is what `monitor run` builds (`preflight`). daemon.py keeps the lifecycle:
scheduling, parks, reconnect, config reload, heartbeat and retention.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import re2

from monitor.clock import Clock, FrozenClock, SystemClock
from monitor.errors import ConfigError, Problem, StoreError
from monitor.tagger_cache import cached_group_tagger, release_free_memory

if TYPE_CHECKING:  # the rest loads when used: `monitor tag` must not import the daemon, stores or alerts
    # (nor asyncio and the settings schema, which only the daemon's parts need: they cost `monitor tag`
    # about a tenth of its first answer)
    import asyncio

    from monitor.settings import Settings
    from monitor.daemon import Daemon
    from monitor.pipeline import AlertStep, OnSaved, PostTagger
    from monitor.sources import Source
    from monitor.sources.budget import TokenBucket
    from monitor.sources.telegram import TelethonSource
    from monitor.store import Store
    from monitor.tagging import Tagger

T = TypeVar("T")


# -- building the parts ------------------------------------------------------------------------------


@dataclass(slots=True)
class Parts:
    """What the daemon runs on; `build_parts` makes them from Settings, tests may make their own."""

    source: Source
    store: Store
    tagger: PostTagger
    clock: Clock
    on_saved: OnSaved | None = None  # called after each committed batch (tests, tools)
    alerts: AlertStep | None = None  # the alert engine, evaluated inside each save
    workers: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = field(default_factory=list)
    virtual_end: datetime | None = None
    bucket: TokenBucket | None = None
    stop: asyncio.Event = field(default_factory=lambda: _asyncio().Event())  # set on shutdown; the budget watches it


def _asyncio() -> Any:
    import asyncio

    return asyncio


def build_tagger(settings: Settings | None = None, *, engine: str | None = None, apart: bool = False) -> Tagger:
    """The one tagger every command uses (tag, retag, import, demo, check, run, alerts, label): the shipped
    lexicon plus the settings' keywords, [lexicon] extras and suppressed aliases, the group tagger from
    the disk cache (``apart``: a cold cache is filled by a child process, for the long-running daemon).

    Raises ConfigError for an unknown engine, an unreadable lexicon file or bad keywords (a pattern
    set RE2 does not compile names the keywords), so `monitor check` reports what `run` would meet."""
    from monitor.tagging import build_tagger as build

    keywords = settings.keyword_specs() if settings is not None else ()
    try:
        extra = [settings.resolve_path(p) for p in settings.lexicon.extra] if settings is not None else []
        suppress = settings.lexicon.suppress if settings is not None else ()
        groups = cached_group_tagger(keywords=keywords, lexicon_extra=extra, build_apart=apart)
        tagger = build(engine=engine, suppress=suppress, groups=groups)
        release_free_memory()  # after the language model too: its load leaves freed blocks behind (~9 MB)
        return tagger
    except (ValueError, OSError) as exc:
        raise ConfigError(f"cannot build the tagger: {exc}") from exc
    except re2.error as exc:  # RE2 raises its own error type when a pattern set does not compile
        where = f"{settings.path}: keywords" if settings is not None else "keywords"
        raise ConfigError(Problem(where, f"the RE2 pattern set does not compile: {exc}")) from exc


def _daemon_tagger(settings: Settings) -> Tagger:
    return build_tagger(settings, apart=True)


def scenario_span(path: Path) -> tuple[datetime, datetime]:
    """First post and last event (post, edit or deletion) of a scenario; the virtual clock's range."""
    from monitor.sources.scenario import load_scenario

    scenario = load_scenario(path)
    moments: list[datetime] = []
    for chan in scenario.channels:
        for msg in chan.messages:
            moments.append(msg.date)
            moments.extend(e.at for e in msg.edits)
            if msg.deleted_at is not None:
                moments.append(msg.deleted_at)
    if not moments:
        now = datetime.now(UTC)
        return now, now
    firsts = [m.date for c in scenario.channels for m in c.messages]
    return min(firsts), max(moments)


def make_clock(settings: Settings) -> tuple[Clock, datetime | None]:
    """The clock and, for a virtual clock, where it stops."""
    from monitor.settings import parse_instant

    src = settings.source
    if src.kind != "scenario" or src.clock != "virtual":
        return SystemClock(), None
    first, last = scenario_span(settings.resolve_path(src.scenario))
    start = parse_instant(src.virtual_start) if src.virtual_start else first
    end = (
        parse_instant(src.virtual_end)
        if src.virtual_end
        else last + timedelta(days=settings.polling.resample_days, seconds=src.virtual_step)
    )
    assert start is not None and end is not None
    return FrozenClock(start), end


def build_source(settings: Settings, clock: Clock, budget: Callable[[], Awaitable[None]] | None) -> Source:
    from monitor.sources.telegram import TelethonSource

    if settings.source.kind == "scenario":
        from monitor.sources.telegram_fake import FakeTelegramClient

        # the fake's log of answered requests is for tests: the daemon keeps the last 1,000 (a real
        # source keeps none; 100,000 entries were ~7 MB at 5,000 channels, issue 16 memory)
        client = FakeTelegramClient.from_scenario(
            settings.resolve_path(settings.source.scenario), clock, keep_requests=1_000
        )
        return TelethonSource(client, clock=clock, request_budget=budget)
    return telegram_source(settings, clock, budget)


def telegram_source(
    settings: Settings, clock: Clock, budget: Callable[[], Awaitable[None]] | None = None
) -> TelethonSource:
    """The real Telegram source from the settings' credentials, session and connection override."""
    from monitor.sources.telegram import TelethonSource

    creds = settings.credentials
    if creds is None:
        raise ConfigError(
            "no Telegram credentials (MONITOR_API_ID / MONITOR_API_HASH or telegram.credentials_file)"
        )
    session: str | Path = creds.session or settings.resolve_path(settings.telegram.session_file)
    conn = settings.telegram.connection
    connection = None
    if conn is not None:
        connection = {
            "dc_id": conn.dc_id,
            "host": conn.host,
            "port": conn.port,
            "rsa_key_file": str(settings.resolve_path(conn.rsa_key_file)) if conn.rsa_key_file else None,
        }
    return TelethonSource.from_credentials(
        creds.api_id,
        creds.api_hash,
        session,
        connection=connection,
        flood_sleep_threshold=settings.telegram.flood_sleep_threshold,
        clock=clock,
        request_budget=budget,
    )


def alert_hooks(
    settings: Settings, store: Store, clock: Clock, tagger: PostTagger | None = None
) -> tuple[AlertStep | None, list[Any]]:
    """The alert engine (a save step of the pipeline) and its delivery worker; none without [alerts]."""
    config = settings.alerts_config()
    if config is None:
        return None, []
    from monitor.alerts import daemon_hooks

    text_tagger: Any = tagger if hasattr(tagger, "tag") else None
    hooks = daemon_hooks(config, store=store, clock=clock, tagger=text_tagger)
    return hooks, [hooks.run]


async def build_parts(
    settings: Settings, *, tagger: PostTagger | None = None, clock: Clock | None = None
) -> Parts:
    """Open the store (migrating it) and build everything else; the store is closed again on failure."""
    from monitor.sources.budget import TokenBucket
    from monitor.store import open_store

    made_clock, virtual_end = make_clock(settings)
    clock = clock or made_clock
    virtual = virtual_end is not None
    budget = None if virtual else TokenBucket(settings.polling.requests_per_minute)
    store = open_store(settings.database_url)
    try:
        await store.open()  # inside: a SIGTERM while migrating still closes the store's thread
        built: PostTagger = tagger if tagger is not None else await _off_loop(_daemon_tagger, settings)
        stop = _asyncio().Event()
        source = build_source(settings, clock, budget.until(stop) if budget is not None else None)
        alerts, workers = alert_hooks(settings, store, clock, built)
    except BaseException:
        await store.close()
        raise
    return Parts(
        source=source,
        store=store,
        tagger=built,
        clock=clock,
        alerts=alerts,
        workers=workers,
        virtual_end=virtual_end,
        bucket=budget,
        stop=stop,
    )


async def run(
    settings: Settings,
    *,
    until: Callable[[Daemon], bool] | None = None,
    tagger: PostTagger | None = None,
    clock: Clock | None = None,
) -> Daemon:
    """Build everything from ``settings`` and run the daemon until stopped; returns it for inspection.

    Raises StoreError when the daemon stopped itself on an unusable database (``Daemon.fatal``)."""
    from monitor.daemon import Daemon

    parts = await build_parts(settings, tagger=tagger, clock=clock)
    daemon = Daemon(settings, parts)
    await daemon.run(until)
    if daemon.fatal is not None:
        raise StoreError(daemon.fatal)
    return daemon


async def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn`` in a daemon thread: unlike `asyncio.to_thread`, a SIGTERM during a long startup step
    (building the tagger on a cold cache) does not wait for the step at interpreter exit."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def fail(error: BaseException) -> None:
        if not done.done():
            done.set_exception(error)

    def succeed(result: T) -> None:
        if not done.done():
            done.set_result(result)

    def work() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the awaiting coroutine, raised there
            loop.call_soon_threadsafe(fail, exc)
        else:
            loop.call_soon_threadsafe(succeed, result)

    threading.Thread(target=work, name=f"startup-{getattr(fn, '__name__', 'step')}", daemon=True).start()
    return await done


def trigger_problem(seconds: float, jitter: float, where: str) -> Problem | None:
    """The problem with an interval trigger the scheduler would refuse (overflow, zero), or None."""
    from apscheduler.triggers.interval import IntervalTrigger

    try:
        trigger = IntervalTrigger(seconds=seconds, jitter=jitter or None)
        trigger.get_next_fire_time(None, datetime.now(UTC))
    except (ValueError, OverflowError, TypeError) as exc:
        return Problem(where, f"the scheduler cannot use an interval of {seconds:g} seconds: {exc}")
    return None


def preflight(settings: Settings) -> list[Problem]:
    """What `monitor run` builds before it starts, built by `monitor check`: the tagger (lexicon,
    keywords, RE2 pattern sets) and the scheduler's triggers. Why: `check` passing means `run` starts."""
    problems: list[Problem] = []
    try:
        build_tagger(settings)
    except ConfigError as exc:
        problems += exc.problems
    where = f"{settings.path}"
    m, polling = settings.monitor, settings.polling
    intervals = [(f"{where}: polling.interval", polling.interval, polling.jitter)]
    intervals += [
        (f"{where}: channels[{i}].poll_interval", ref.poll_interval, polling.jitter)
        for i, ref in enumerate(settings.channels)
        if ref.poll_interval
    ]
    intervals += [(f"{where}: monitor.heartbeat_interval", m.heartbeat_interval, 0.0)]
    if m.config_reload_interval:
        intervals.append((f"{where}: monitor.config_reload_interval", m.config_reload_interval, 0.0))
    for key, seconds, jitter in intervals:
        if (problem := trigger_problem(seconds, jitter, key)) is not None:
            problems.append(problem)
    return problems


__all__ = [
    "Parts",
    "alert_hooks",
    "build_parts",
    "build_source",
    "build_tagger",
    "make_clock",
    "preflight",
    "run",
    "scenario_span",
    "telegram_source",
    "trigger_problem",
]
