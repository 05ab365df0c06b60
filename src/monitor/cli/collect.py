"""Collection commands: run, check, status, import, channels, retag, demo.

Thin click shells over plain functions a user could call from Python
(`status_report`, `import_export`, `retag`, `add_channel`, `remove_channel`,
`run_demo`). Every failure is one clear line on stderr and a non-zero exit,
never a traceback: 2 for configuration and usage problems, 1 for anything else
(and for a stale heartbeat in `status`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from monitor import health, logs
from monitor.errors import ConfigError, ImportFormatError, MonitorError, Problem
from monitor.escape import json_dumps, one_line, terminal
from monitor.redact import redact
from monitor.models import Post, PostKey, WatchState
from monitor.clock import SystemClock
from monitor.config_file import write_channels
from monitor.watchlist import add_to_config, remove_from_config
from monitor.settings import ChannelEntry, Settings, check, check_value, default_config_path, load
from monitor.demo import DEMO_SEED
from monitor.identity import id_key
from monitor.cli.common import EXIT_CONFIG, EXIT_FAILURE, config_option, friendly, parse_labels
from monitor.cli.records import chosen_format, emit, emit_text, record_options
from monitor.cli.stores import open_db
from monitor.collectors.status import TeamStatus, account_rows, collector_rows, stalled
from monitor.store import Store, display_url, sqlite_path
from monitor.alerts import import_hooks
from monitor.pipeline import save_batch

DEFAULT_DEMO_DIR = Path("monitor-demo")


# -- shared with every command (cli/common.py) -------------------------------------------------------


def _settings(config_path: Path | None, *, telegram: bool = False) -> Settings:
    """The settings; Telegram credentials are read (and required) only with ``telegram=True``."""
    return load(config_path or default_config_path(), telegram=telegram)


def _existing_db(settings: Settings) -> str:
    """The store URL, refusing to create a database where none exists (status, retag)."""
    url = settings.database_url
    if not url.startswith(("postgresql://", "postgres://")):
        path = sqlite_path(url)
        if not path.parent.is_dir():
            raise ConfigError(
                Problem(
                    f"{settings.path}: monitor.database",
                    f"the database directory {path.parent} does not exist",
                )
            )
        if not path.is_file():
            raise MonitorError(f"no database at {path} yet: start the collector with `monitor run` first")
    return url


async def _open(url: str) -> Store:
    return await open_db(url)


def _clean(text: object) -> str:
    """Channel titles and errors come from outside: terminal-safe (monitor.escape), no rich markup."""
    from rich.markup import escape

    return escape(terminal("" if text is None else str(text)))


# -- functions behind the commands ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReport:
    database: str
    channels: list[WatchState]
    parks: dict[str, datetime]
    heartbeat: tuple[int, datetime, datetime] | None
    stale_after: float
    now: datetime
    counts: dict[str, int] = field(default_factory=dict)
    team: TeamStatus | None = None  # several collectors (PostgreSQL): collectors, leases, accounts
    interval: float = 300.0

    @property
    def stalled(self) -> list[WatchState]:
        """Team mode: channels nobody polled for three intervals, whichever collector was meant to."""
        if self.team is None:
            return []
        live = [c.started_at for c in self.team.collectors if self.team.alive(c)]
        return stalled(self.channels, now=self.now, interval=self.interval, running_since=min(live, default=None))

    @property
    def heartbeat_age(self) -> float | None:
        return None if self.heartbeat is None else (self.now - self.heartbeat[2]).total_seconds()

    @property
    def health(self) -> health.Health:
        """Running, stale, stopped, never ran, or refused by Telegram: one verdict for status and health checks.
        In team mode: healthy while some collector runs and no channel has stalled."""
        if self.team is not None:
            live = [c for c in self.team.collectors if self.team.alive(c)]
            stuck = self.stalled
            if not live:
                return health.Health(healthy=False, state="stale", summary="collectors: none running")
            if stuck:
                keys = ", ".join(s.key for s in stuck[:5]) + (" ..." if len(stuck) > 5 else "")
                return health.Health(
                    healthy=False,
                    state="stale",
                    summary=f"collectors: {len(live)} running; STALLED: {len(stuck)} channel(s) unpolled for"
                    f" more than three intervals: {keys}",
                )
            return health.Health(healthy=True, state="running", summary=f"collectors: {len(live)} running: ok")
        return health.assess(self.heartbeat, self.channels, now=self.now, stale_after=self.stale_after)

    @property
    def healthy(self) -> bool:
        return self.health.healthy


async def status_report(settings: Settings, *, now: datetime | None = None) -> StatusReport:
    """What `monitor status` prints: per-channel state, parks and the daemon's heartbeat."""
    url = _existing_db(settings)
    store = await open_db(url, read_only=True)
    try:
        now = now or datetime.now(UTC)
        team = None
        collectors = await store.collectors()
        if collectors:
            team = TeamStatus(
                collectors=collectors,
                leases=await store.leases(),
                accounts=await store.account_states(),
                now=now,
                expiry=settings.collectors.lease_expiry,
            )
        return StatusReport(
            team=team,
            interval=settings.polling.interval,
            database=display_url(url),
            channels=await store.watch_states(),
            parks=await store.parks(now=now),
            heartbeat=await store.last_heartbeat(),
            stale_after=settings.monitor.heartbeat_stale_after,
            now=now,
            counts=dict(await store.counts()),
        )
    finally:
        await store.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    channels: int
    posts: int
    inserted: int
    updated: int


async def import_export(
    settings: Settings,
    path: Path,
    *,
    all_chats: bool = False,
    tagger: Any = None,
    checked: Callable[[int, int], None] | None = None,
    saved: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Ingest a Telegram Desktop export (its result.json, or the export folder) through the daemon's path.

    Two streaming passes, memory bounded whatever the export's size (docs/import.md): the
    first checks the whole file before the store is touched, so a bad export changes
    nothing; the second builds, tags and saves the posts in batches. A channel's row is
    written just before its first batch, so no channel without posts is left behind.
    Saving is idempotent, so an import cut short (a kill) is resumed by running it again.
    ``checked(bytes read, size)`` and ``saved(posts in the batch, posts in all)`` report progress.
    """
    from monitor.compose import build_tagger
    from monitor.sources.export import CHANNEL_TYPES, ExportFile

    export = await asyncio.to_thread(
        ExportFile, path, chat_types=None if all_chats else CHANNEL_TYPES, on_progress=checked
    )
    if export.post_count == 0:
        raise ImportFormatError(
            f"{export.path}: no channel posts in this export (use --all-chats for groups and chats)"
        )
    tagger = tagger or await asyncio.to_thread(build_tagger, settings)
    store = await _open(settings.database_url)
    batches = _channel_batches(export.records(), settings.polling.batch_size)
    inserted = updated = 0
    channels: set[int] = set()
    try:
        now = datetime.now(UTC)
        alerts_config = settings.alerts_config()
        text_tagger: Any = tagger if hasattr(tagger, "tag") else None  # retro-hunts re-tag kept texts
        alerts = (
            import_hooks(alerts_config, store=store, clock=SystemClock(), tagger=text_tagger)
            if alerts_config is not None
            else None
        )
        while True:
            batch = await asyncio.to_thread(next, batches, None)
            if batch is None:
                break
            channel, posts = batch
            if channel.id not in channels:
                await store.set_resolved(id_key(channel.id), channel, at=now)
                channels.add(channel.id)
            tagged = await asyncio.to_thread(tagger.tag_posts, posts)
            result = await save_batch(  # the poll's save-and-evaluate path
                store,
                channel,
                tagged,
                alerts=alerts,
                at=now,
                checkpoint=None,
                store_text=settings.monitor.store_text,
                source="export",
            )
            inserted += result.inserted
            updated += result.updated
            if saved is not None:
                saved(len(posts), export.post_count)
    finally:
        await store.close()
    return ImportResult(channels=len(channels), posts=export.post_count, inserted=inserted, updated=updated)


def _channel_batches(records: Iterator[tuple[Any, Post]], size: int) -> Iterator[tuple[Any, list[Post]]]:
    """(channel, up to ``size`` of its posts) from a stream of (channel, post), one channel per batch."""
    channel: Any = None
    posts: list[Post] = []
    for chan, post in records:
        if posts and (chan.id != channel.id or len(posts) >= size):
            yield channel, posts
            posts = []
        channel = chan
        posts.append(post)
    if posts:
        yield channel, posts


def _retag_marker(url: str) -> Path | None:
    if url.startswith(("postgresql://", "postgres://")):
        return None
    p = sqlite_path(url)
    return p.with_name(p.name + ".retag.json")


async def retag(
    settings: Settings,
    *,
    everything: bool = False,
    batch: int = 500,
    tagger: Any = None,
    progress: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Recompute tags of stored posts that keep their text, in batches; safe to interrupt and re-run.

    By default only posts tagged by another tagger version are visited, so a re-run
    resumes where the last one stopped. With ``everything`` the position is kept in
    a checkpoint file beside the database.
    """
    from monitor.compose import build_tagger

    url = _existing_db(settings)
    tagger = tagger or await asyncio.to_thread(build_tagger, settings)
    version: str = tagger.version
    marker = _retag_marker(url)
    after: PostKey | None = None
    if everything and marker is not None and marker.is_file():
        saved = json.loads(marker.read_text("utf-8"))
        if saved.get("version") == version and saved.get("after"):
            after = PostKey(*saved["after"])
    store = await _open(url)
    done = skipped = 0
    try:
        if total is not None:
            total(await store.count_for_retag(after=after, stale_only_version=None if everything else version))
        while True:
            rows = await store.posts_for_retag(
                after=after, limit=batch, stale_only_version=None if everything else version
            )
            if not rows:
                break
            with_text = [r for r in rows if r.text]
            skipped += len(rows) - len(with_text)
            tags = await asyncio.to_thread(tagger.tag_many, [r.text or "" for r in with_text])
            await store.update_tags([(r.key, t, version) for r, t in zip(with_text, tags, strict=True)])
            done += len(with_text)
            after = rows[-1].key
            if everything and marker is not None:
                marker.write_text(json.dumps({"version": version, "after": list(after)}), "utf-8")
            if progress is not None:
                progress(len(rows))
        if everything and marker is not None and marker.exists():
            marker.unlink()
    finally:
        await store.close()
    return {"retagged": done, "without_text": skipped}




async def _store_watch(settings: Settings, fn: Callable[[Store], Any]) -> bool:
    """Apply a watch-list change to the store when its database folder exists; False when skipped."""
    url = settings.database_url
    if not url.startswith(("postgresql://", "postgres://")) and not sqlite_path(url).parent.is_dir():
        return False
    store = await _open(url)
    try:
        await fn(store)
    finally:
        await store.close()
    return True


def add_channel(
    settings: Settings,
    handle: str,
    *,
    labels: dict[str, str] | None = None,
    poll_interval: float | None = None,
) -> str:
    """Add a channel to the config file's [[channels]] (monitor.watchlist, shared with the dashboard)
    and to the store's watch list; returns its key."""
    assert settings.path is not None
    if poll_interval is not None and check_value(ChannelEntry, "poll_interval", poll_interval) is None:
        from monitor.compose import trigger_problem  # the trigger `run` would build for it (as `monitor check` does)

        if (problem := trigger_problem(poll_interval, settings.polling.jitter, "--interval")) is not None:
            raise ConfigError(problem)
    ref = add_to_config(settings.path, handle, labels=labels, poll_interval=poll_interval)
    asyncio.run(_store_watch(settings, lambda s: s.add_watch(ref, at=datetime.now(UTC))))
    return ref.key


def remove_channel(settings: Settings, handle: str) -> str:
    assert settings.path is not None
    key = remove_from_config(settings.path, handle)
    asyncio.run(_store_watch(settings, lambda s: s.remove_watch(key)))
    return key


DEMO_SETTINGS = """\
# Written by `monitor demo`: the real daemon over an offline scenario, on a virtual clock.
[monitor]
database = "monitor.db"
store_text = true
text_retention_days = 3650
log_format = "{log_format}"

[source]
kind = "scenario"
scenario = "scenario.json"
clock = "virtual"
virtual_step = 21600

[polling]
interval = 21600
jitter = 0
max_concurrent = 4
backfill_posts = 100000
backfill_days = 3650
resample_days = 7
batch_size = 100

[alerts]
max_post_age = "2d"

[[alerts.rules]]
name = "iskp-mentions"
kind = "match"
groups = ["ISKP"]
cooldown = "12h"

[[alerts.rules]]
name = "group-spike"
kind = "spike"
on = "group"
window = "1d"
baseline = "daily"
threshold = 4.0
min_count = 4

[[alerts.rules]]
name = "new-channel"
kind = "new_channel"
via = ["forward", "link"]

"""


def write_demo(folder: Path, *, seed: int = DEMO_SEED, log_format: str = "auto") -> Path:
    """Write the demo scenario and its config into ``folder``; returns the config path."""
    from monitor.demo import build_scenario, demo_config_toml

    folder.mkdir(parents=True, exist_ok=True)
    scenario = build_scenario(seed)
    (folder / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False), "utf-8")
    import tomllib

    channels = tomllib.loads(demo_config_toml(str(folder / "monitor.db"))).get("channels", [])
    config = folder / "monitor.toml"
    config.write_text(DEMO_SETTINGS.format(log_format=log_format), "utf-8")
    write_channels(config, [{k: v for k, v in c.items() if k in ("handle", "labels")} for c in channels])
    return config


async def run_demo(folder: Path, *, seed: int = DEMO_SEED, fresh: bool = True, tagger: Any = None) -> Settings:
    """Replay the bundled scenario through the real daemon into ``folder``/monitor.db."""
    from monitor import compose

    if fresh:
        for name in ("monitor.db", "monitor.db-wal", "monitor.db-shm"):
            (folder / name).unlink(missing_ok=True)
    config = write_demo(folder, seed=seed)
    settings = load(config)
    await compose.run(settings, tagger=tagger)
    return settings


# -- click commands ------------------------------------------------------------------------------------


@click.command("run")
@config_option
@friendly
def run_cmd(config_path: Path | None) -> None:
    """Run the collector until SIGTERM/SIGINT (refuses to start on a bad config)."""
    signal.signal(signal.SIGTERM, _stop_during_startup)  # the daemon installs its own handlers once up
    from monitor import compose

    settings = _settings(config_path, telegram=True)
    logs.configure(settings.monitor.log_format)
    from monitor.collectors.runlock import for_run

    pool = settings.collectors.accounts_per_collector if settings.telegram.accounts_dir else 1
    if pool > 1:  # several accounts in this process, one collector each (monitor/collectors/multi.py)
        from monitor.collectors.multi import run_pool

        with for_run(settings.database_url, None):
            asyncio.run(run_pool(settings, pool))
        return
    if settings.telegram.accounts_dir:
        settings = asyncio.run(_pooled(settings))
    try:
        with for_run(settings.database_url, _session_file(settings)):
            asyncio.run(compose.run(settings))
    except SystemExit as stop:  # SIGTERM before the daemon's handlers: leave no worker thread to wait on
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(stop.code if isinstance(stop.code, int) else 0)


async def _pooled(settings: Settings) -> Settings:
    """Team mode's account pool: the settings with the first account no running collector holds."""
    from monitor.collectors.pool import choose_account

    store = await open_db(settings.database_url)
    try:
        return await choose_account(settings, store)
    finally:
        await store.close()


def _session_file(settings: Settings) -> Path | None:
    """The Telegram session file `monitor run` will use (None for a string session or a scenario)."""
    if settings.source.kind != "telegram" or (settings.credentials is not None and settings.credentials.session):
        return None
    return settings.resolve_path(settings.telegram.session_file)


def _stop_during_startup(signum: int, frame: object) -> None:
    """SIGTERM before the daemon is up: nothing is running yet, so stop at once and say it was clean."""
    raise SystemExit(0)


@click.command("login")
@config_option
@click.option("--phone", help="The account's phone number (asked for when not given).")
@click.option(
    "--print-string-session",
    is_flag=True,
    help="Also print the session as a string for MONITOR_SESSION (it is the account: keep it secret).",
)
@friendly
def login_cmd(config_path: Path | None, phone: str | None, print_string_session: bool) -> None:
    """Log the collector's Telegram session in once, interactively (the daemon never signs in itself)."""
    from monitor import compose

    settings = _settings(config_path, telegram=True)
    if settings.source.kind != "telegram":
        raise ConfigError(f"source.kind is {settings.source.kind!r}: only a telegram source logs in")

    async def go() -> tuple[bool, str]:
        source = compose.telegram_source(settings, SystemClock())
        try:
            fresh = await source.log_in(
                phone=lambda: phone or click.prompt("phone number (international format)"),
                code=lambda: click.prompt("login code Telegram sent"),
                password=lambda: click.prompt("two-step verification password", hide_input=True),
            )
            return fresh, source.string_session() if print_string_session else ""
        finally:
            await source.close()

    fresh, string = asyncio.run(go())
    click.echo("logged in; the session is ready for `monitor run`" if fresh else "the session was already logged in")
    if string:
        click.echo(string)


@click.command("check")
@config_option
@click.option("--show", is_flag=True, help="Also print the settings in effect (secrets redacted).")
@friendly
def check_cmd(config_path: Path | None, show: bool) -> None:
    """Validate a config: print every problem with its file and key (exit 2 when there are any)."""
    path = config_path or default_config_path()
    problems = check(path)
    for problem in problems:
        click.echo(one_line(problem))
    if problems:
        click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {path}", err=True)
        sys.exit(EXIT_CONFIG)
    settings = load(path, telegram=True)
    from monitor.compose import preflight

    built = preflight(settings)  # what `run` builds: the tagger, the pattern sets, the triggers
    for problem in built:
        click.echo(one_line(problem))
    if built:
        click.echo(f"{len(built)} problem{'s' if len(built) != 1 else ''} in {path}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(
        f"{path}: ok ({len(settings.channels)} channels, source {settings.source.kind},"
        f" database {display_url(settings.database_url)})"
    )
    if show:
        click.echo(json.dumps(settings.redacted(), indent=2, ensure_ascii=False, default=str))


@click.command("status")
@config_option
@record_options
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Same as --format json.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing; only the exit status tells (for health checks).")
@friendly
def status_cmd(
    config_path: Path | None, fmt: str | None, excel_safe: bool, output: Path | None, as_json: bool, quiet: bool
) -> None:
    """Per channel: state, last poll, newest post, posts stored, last error, parked-until.

    A table unless --format says otherwise (also into a pipe: the health summary sits above it);
    json is one object with the heartbeat, counts, channels (and collectors and accounts);
    csv, tsv, nl and parquet hold the channel rows.

    Exits 1 when the daemon's heartbeat is missing or older than heartbeat_stale_after,
    when the daemon was stopped, or when Telegram refused its session, so it works as a
    container health check.

    Team mode (several collectors on PostgreSQL) adds the collectors (host, pid, version,
    heartbeat, leases held), the accounts (state, parked until, requests in the last hour,
    channels) and each channel's collector and account; it exits 1 when no collector runs
    or a channel went unpolled for three intervals.
    """
    fmt = "json" if as_json else (fmt or "table")
    if fmt == "parquet" and output is None:
        raise click.UsageError("--format parquet needs --output FILE")
    settings = _settings(config_path)
    report = asyncio.run(status_report(settings))
    if quiet:
        sys.exit(0 if report.healthy else EXIT_FAILURE)
    parks = report.parks
    rows: list[dict[str, Any]] = []
    team = report.team
    leased = team.live_leases() if team is not None else {}
    stuck = {s.key for s in report.stalled}
    for s in report.channels:
        # team mode: an account's flood wait is its state (accounts table), not every channel's park
        park = parks.get(f"channel:{s.key}") or (parks.get("account") if team is None else None)
        error, error_at = health.current_error(s)
        rows.append(
            {
                "channel": s.key,
                "title": s.channel.title if s.channel else None,
                "state": s.status + (f" ({s.status_reason})" if s.status_reason else ""),
                "last_poll": _iso(s.last_poll_at),
                "newest_id": s.checkpoint or None,
                "newest_date": _iso(s.newest_posted_at),
                "posts": s.posts,
                "last_error": error,
                "last_error_at": _iso(error_at),
                "parked_until": _iso(park) if park else None,
                "retry_at": _iso(s.retry_at),
            }
        )
        if team is not None:
            lease = leased.get(s.key)
            rows[-1] |= {
                "collector": lease.collector_id if lease else None,
                "account": lease.account if lease else None,
                "stalled": s.key in stuck,
            }
    collectors = collector_rows(team) if team is not None else []
    accounts = account_rows(team) if team is not None else []
    age = report.heartbeat_age
    beat = {
        "pid": report.heartbeat[0] if report.heartbeat else None,
        "at": _iso(report.heartbeat[2]) if report.heartbeat else None,
        "age_seconds": None if age is None else round(age, 1),
        "stale_after": report.stale_after,
        "healthy": report.healthy,
        "state": report.health.state,
        "summary": report.health.summary,
    }
    if fmt == "json":
        document = {"database": redact(report.database), "heartbeat": beat, "channels": rows, "counts": report.counts}
        if team is not None:
            document |= {"collectors": collectors, "accounts": accounts}
        emit_text(json_dumps(document, indent=2) + "\n", output)
    elif fmt != "table":
        from monitor.reports.table import Report

        names = tuple(rows[0]) if rows else ("channel", "title", "state", "last_poll", "newest_id", "newest_date",
                                                "posts", "last_error", "last_error_at", "parked_until", "retry_at")
        meta = {"database": redact(report.database), "health": report.health.summary}
        records = Report(name="status", columns=names, rows=[tuple(r.values()) for r in rows], meta=meta)
        emit(records, fmt, output, excel_safe=excel_safe)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"monitor: {_clean(redact(report.database))}")
        columns = ["channel", "state", "last poll", "newest id", "newest date", "posts", "last error", "parked until"]
        if team is not None:
            columns += ["collector", "account"]
        for col in columns:
            table.add_column(col, no_wrap=col == "channel")  # a handle is never split across lines
        for r in rows:
            cells = [
                _clean(r["channel"]),
                _clean(r["state"]),
                _clean(r["last_poll"] or "-"),
                _clean(r["newest_id"] or "-"),
                _clean(r["newest_date"] or "-"),
                str(r["posts"]),
                _clean(f"{r['last_error_at']}: {r['last_error']}"[:80] if r["last_error"] else ""),
                _clean(r["parked_until"] or ""),
            ]
            if team is not None:
                cells += [_clean(r["collector"] or ("STALLED" if r["stalled"] else "-")), _clean(r["account"] or "-")]
            table.add_row(*cells)
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
        console.print(_clean(report.health.summary))  # the metadata above the rows
        if team is not None:
            console.print(_team_tables(collectors, accounts))
        console.print(table)
    if not report.healthy:
        sys.exit(EXIT_FAILURE)


def _team_tables(collectors: list[dict[str, Any]], accounts: list[dict[str, Any]]) -> Any:
    """The collectors and accounts of team mode, as two rich tables."""
    from rich.console import Group
    from rich.table import Table

    ct = Table(title="collectors")
    for col in ("host", "pid", "version", "state", "heartbeat", "leases"):
        ct.add_column(col)
    for c in collectors:
        ct.add_row(
            _clean(c["host"]), str(c["pid"]), _clean(c["version"]), _clean(c["state"]),
            _clean(f"{c['heartbeat']} ({c['heartbeat_age_seconds']:g}s ago)"), str(c["leases"]),
        )
    at = Table(title="accounts")
    for col in ("account", "state", "parked until", "method", "requests/h", "channels", "reason"):
        at.add_column(col)
    for a in accounts:
        at.add_row(
            _clean(a["name"]), _clean(a["state"]), _clean(a["parked_until"] or "-"), _clean(a["method"] or "-"),
            str(a["requests_last_hour"]),
            str(a["channels"]), _clean((a["reason"] or "")[:80]),
        )
    return Group(ct, at)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@click.command("import")
@config_option
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--all-chats", is_flag=True, help="Also import groups and private chats, not only channels.")
@friendly
def import_cmd(config_path: Path | None, file: Path, all_chats: bool) -> None:
    """Ingest a Telegram Desktop export (result.json) through the same tagging and store path.

    FILE is the export's result.json or its folder. The whole file is checked first (nothing
    is stored if any message is bad), then streamed into the store; progress goes to stderr
    on a terminal. An import cut short is resumed by running it again (nothing is doubled).
    Details and the bounds on dates and integers: docs/import.md.
    """
    from tqdm import tqdm

    settings = _settings(config_path)
    logs.configure(settings.monitor.log_format, level="WARNING")
    with (
        tqdm(unit="B", unit_scale=True, file=sys.stderr, desc="check", disable=None, leave=False) as check_bar,
        tqdm(unit="post", file=sys.stderr, desc="import", disable=None) as save_bar,
    ):

        def checked(done: int, size: int) -> None:
            check_bar.total = size
            check_bar.update(done - check_bar.n)

        def saved(posts: int, total: int) -> None:
            save_bar.total = total
            save_bar.update(posts)

        result = asyncio.run(import_export(settings, file, all_chats=all_chats, checked=checked, saved=saved))
    click.echo(
        f"imported {result.posts} posts from {result.channels} channel(s): {result.inserted} new,"
        f" {result.updated} updated, into {display_url(settings.database_url)}"
    )


@click.group("channels")
def channels_group() -> None:
    """Edit the watch list (the config file's [[channels]] and the store)."""


@channels_group.command("add")
@config_option
@click.argument("handle")
@click.option("--label", "labels", multiple=True, help="key=value, repeatable (country=UZ).")
@click.option("--interval", type=float, default=None, help="This channel's poll interval, seconds.")
@friendly
def channels_add(
    config_path: Path | None, handle: str, labels: tuple[str, ...], interval: float | None
) -> None:
    """Watch a channel: @username, t.me link or numeric id."""
    settings = _settings(config_path)
    if interval is not None and interval <= 0:
        raise ConfigError(Problem("--interval", "must be a positive number of seconds"))
    key = add_channel(settings, handle, labels=parse_labels(labels), poll_interval=interval)
    click.echo(
        f"added {key} to {settings.path}; a running daemon picks it up within"
        f" {settings.monitor.config_reload_interval:g}s"
    )


@channels_group.command("remove")
@config_option
@click.argument("handle")
@friendly
def channels_remove(config_path: Path | None, handle: str) -> None:
    """Stop watching a channel (its stored posts stay)."""
    settings = _settings(config_path)
    key = remove_channel(settings, handle)
    click.echo(f"removed {key} from {settings.path}")


@channels_group.command("list")
@config_option
@record_options
@friendly
def channels_list(config_path: Path | None, fmt: str | None, excel_safe: bool, output: Path | None) -> None:
    """The watch list with labels and intervals (from the config; --format as on the reports)."""
    fmt = chosen_format(fmt, output)
    settings = _settings(config_path)
    emit(watch_list_report(settings), fmt, output, excel_safe=excel_safe)


def watch_list_report(settings: Settings) -> Any:
    """The config's watch list as a Report: channel, poll interval in seconds (and whether it is the
    default), labels as key=value items."""
    from monitor.reports.table import Report

    rows = [
        (
            ref.key,
            float(ref.poll_interval or settings.polling.interval),
            not ref.poll_interval,
            [f"{k}={v}" for k, v in ref.labels.items()],
        )
        for ref in settings.channels
    ]
    return Report(name="channels", columns=("channel", "interval_seconds", "default_interval", "labels"),
                  rows=rows, meta={"config": str(settings.path), "channels": len(rows)})


@click.command("retag")
@config_option
@click.option("--all", "everything", is_flag=True, help="Re-tag every post, not only those of older taggers.")
@click.option("--batch", type=click.IntRange(1, 100_000), default=500, show_default=True)
@friendly
def retag_cmd(config_path: Path | None, everything: bool, batch: int) -> None:
    """Recompute tags of stored posts (those with stored text) after a tagger or lexicon upgrade."""
    from tqdm import tqdm

    settings = _settings(config_path)
    logs.configure(settings.monitor.log_format, level="WARNING")
    with tqdm(unit="post", file=sys.stderr, desc="retag") as bar:

        def set_total(n: int) -> None:
            bar.total = n
            bar.refresh()

        result = asyncio.run(
            retag(settings, everything=everything, batch=batch, progress=bar.update, total=set_total)
        )
    click.echo(
        f"retagged {result['retagged']} posts; {result['without_text']} without stored text were skipped"
    )


@click.command("demo")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DEMO_DIR,
    show_default=True,
    help="Where the scenario, the config and the database go.",
)
@click.option("--seed", type=int, default=DEMO_SEED, show_default=True, help="Scenario seed; the trends in the docs are those of the default.")
@click.option("--keep", is_flag=True, help="Keep an existing demo database instead of starting afresh.")
@friendly
def demo_cmd(folder: Path, seed: int, keep: bool) -> None:
    """Run the real daemon offline over the bundled scenario (months replayed in seconds)."""
    from monitor.cli import demo_run

    demo_run.run(folder, seed, keep, click.echo)


async def _counts(url: str) -> dict[str, int]:
    store = await open_db(url, read_only=True)
    try:
        return dict(await store.counts())
    finally:
        await store.close()


COMMANDS: tuple[click.Command, ...] = (
    run_cmd,
    login_cmd,
    check_cmd,
    status_cmd,
    import_cmd,
    channels_group,
    retag_cmd,
    demo_cmd,
)


def register(group: click.Group) -> None:
    """Attach the collection commands to the `monitor` group."""
    for command in COMMANDS:
        group.add_command(command)

