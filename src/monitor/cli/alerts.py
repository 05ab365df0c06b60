"""`monitor alerts`: fired alerts with their delivery state, dry-runs and retro-hunts of a rule.

Thin shells over `list_alerts`, `dry_run` and `retro_hunt`. Everything shown came
partly from strangers (post text in summaries and contexts, channel names), so the
table goes through ``render.clean`` and ``rich.text.Text`` (no markup is
interpreted), and JSON escapes control, bidi and invisible characters as ``\\uXXXX``.
Nothing here writes to the database, except ``retro --seed``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from monitor.alerts.config import AlertRule, AlertsConfig
from monitor.cli.stores import open_db
from monitor.errors import ConfigError, MonitorError, Problem
from monitor.escape import json_dumps, json_text, one_line
from monitor.models import Alert

T = TypeVar("T")
EXIT_CONFIG = 2


def parse_when(value: str, *, now: datetime) -> datetime:
    """``--since``/``--until``: the one syntax of `monitor.when` (dates, date-times, 7d, 24h, 2w)."""
    from monitor.when import parse_moment

    try:
        return parse_moment(value, now=now)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# -- escaping ----------------------------------------------------------------------------------
def terminal_text(value: object, limit: int | None = None) -> str:
    """One printable line: escape sequences, control, bidi and invisible characters out."""
    return one_line("" if value is None else value, limit)


def json_safe(text: str) -> str:
    """JSON that cannot drive a terminal: unsafe characters become JSON \\uXXXX escapes."""
    return json_text(text)


def _dump(data: Any) -> str:
    return json_dumps(data, indent=2, default=str)


# -- plumbing ------------------------------------------------------------------------------------
def _run(coro: Awaitable[T]) -> T:
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {terminal_text(problem)}", err=True)
        sys.exit(EXIT_CONFIG)
    except MonitorError as exc:
        click.echo(f"error: {terminal_text(exc)}", err=True)
        sys.exit(1)


def _load(config_path: Path | None, database: str | None, *, need_config: bool) -> tuple[Any, str]:
    """(settings or None, database URL)."""
    settings = None
    if config_path is not None or need_config or database is None:
        from monitor.settings import default_config_path, load

        settings = load(config_path or default_config_path())
    url = database or settings.database_url  # type: ignore[union-attr]
    return settings, url


async def _open(url: str, *, read_only: bool = True) -> Any:
    """The opened store (read-only unless the command writes); a missing SQLite file is an error here,
    not a new empty database."""
    return await open_db(url, must_exist=True, read_only=read_only)


def _rule(settings: Any, name: str) -> tuple[AlertsConfig, AlertRule]:
    config = settings.alerts_config() or AlertsConfig()
    rule = config.rule(name)
    if rule is None:
        known = ", ".join(r.name for r in config.rules) or "none"
        raise ConfigError(
            Problem(f"{settings.path}: alerts.rules", f"no rule named {name!r} (configured: {known})")
        )
    return config, rule


def _tagger(settings: Any) -> Any:
    """The project's tagger with the analysts' keywords, or None when tagging is not available."""
    try:
        from monitor.tagging import build_tagger

        return build_tagger(
            keywords=settings.keyword_specs(),
            lexicon_extra=[settings.resolve_path(p) for p in settings.lexicon.extra],
            suppress=settings.lexicon.suppress,
        )
    except (ImportError, AttributeError, OSError) as exc:
        click.echo(f"note: tagger unavailable ({terminal_text(exc)}); using stored tags", err=True)
        return None


def _alert_dict(alert: Alert, deliveries: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": alert.id,
        "fired_at": alert.fired_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),  # RFC 3339, Z
        "rule": alert.rule,
        "kind": alert.kind,
        "summary": alert.summary,
        "link": alert.link,
        "channel_id": alert.channel_id,
        "message_id": alert.message_id,
        "details": dict(alert.details),
    }
    if deliveries is not None:
        out["deliveries"] = deliveries
    return out


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(terminal_text(title)), show_lines=False)
    for col in columns:
        # a link is never folded across lines (it would stop being clickable); prose folds
        table.add_column(col, overflow="fold", no_wrap=col == "link", min_width=44 if col == "link" else None)
    for row in rows:
        table.add_row(*(Text(terminal_text(cell)) for cell in row))
    Console(soft_wrap=False).print(table)


config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default: $MONITOR_CONFIG or ./monitor.toml).",
)
database_option = click.option(
    "--database",
    envvar="MONITOR_DATABASE",
    default=None,
    help="Database path or sqlite:///path (default: the config's monitor.database).",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)


@click.group("alerts")
def alerts() -> None:
    """Fired alerts, and dry-runs and retro-hunts of the [alerts] rules."""


@alerts.command("list")
@config_option
@database_option
@click.option(
    "--since", default="7d", show_default=True, help="Date (2026-03-01) or duration back (7d, 12h)."
)
@click.option("--rule", "rule_name", default=None, help="Only alerts of this rule.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@format_option
def list_command(
    config_path: Path | None, database: str | None, since: str, rule_name: str | None, limit: int, fmt: str
) -> None:
    """Fired alerts, newest first, with the delivery state per sink."""
    moment = parse_when(since, now=datetime.now(UTC))

    async def go() -> list[Any]:
        _, url = _load(config_path, database, need_config=False)
        store = await _open(url)
        try:
            return list(await store.list_alerts(since=moment, rule=rule_name, limit=limit))
        finally:
            await store.close()

    items = _run(go())
    if fmt == "json":
        click.echo(_dump([_alert_dict(i.alert, dict(i.deliveries)) for i in items]))
        return
    rows = [
        (
            i.alert.id,
            i.alert.fired_at.strftime("%Y-%m-%d %H:%M"),
            i.alert.rule,
            i.alert.kind,
            terminal_text(i.alert.summary, 120),
            i.alert.link or "",
            ", ".join(f"{sink}:{state}" for sink, state in sorted(i.deliveries.items())) or "-",
        )
        for i in items
    ]
    _table(
        f"{len(rows)} alerts since {moment:%Y-%m-%d %H:%M} UTC",
        ("id", "fired (UTC)", "rule", "kind", "summary", "link", "deliveries"),
        rows,
    )


@alerts.command("test")
@click.argument("rule_name", metavar="RULE")
@config_option
@database_option
@click.option(
    "--since",
    default="30d",
    show_default=True,
    help="Date, or a duration back from the newest stored post (30d, 12h): the posts to replay.",
)
@click.option("--until", default=None, help="Date or duration back from the newest post (default: the newest post).")
@click.option(
    "--as-published",
    is_flag=True,
    help="Replay every post as if seen when published (also backfilled and imported posts, which the daemon"
    " does not alert on).",
)
@click.option(
    "--retag/--no-retag",
    default=False,
    show_default=True,
    help="Re-tag stored texts with the current lexicon and keywords before matching.",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="Alerts shown.")
@format_option
def test_command(
    rule_name: str,
    config_path: Path | None,
    database: str | None,
    since: str,
    until: str | None,
    retag: bool,
    limit: int,
    fmt: str,
    as_published: bool,
) -> None:
    """Dry-run RULE over stored posts and print what it would have sent: the alerts the daemon fires on the
    same posts, at the times it fires them. Writes nothing."""
    from monitor.alerts.dryrun import dry_run

    async def go() -> Any:
        settings, url = _load(config_path, database, need_config=True)
        config, rule = _rule(settings, rule_name)
        tagger = _tagger(settings) if retag else None
        store = await _open(url)
        try:
            # relative forms count back from the newest stored post: a copy of last year's database
            # answers the same as on the day it was made
            anchor = await store.newest_post_at() or datetime.now(UTC)
            start = parse_when(since, now=anchor)
            end = parse_when(until, now=anchor) if until else None
            return await dry_run(rule, config, store, since=start, until=end, tagger=tagger,
                                 as_published=as_published)
        finally:
            await store.close()

    result = _run(go())
    shown = result.alerts[:limit]
    if fmt == "json":
        click.echo(
            _dump(
                {
                    "rule": result.rule.name,
                    "kind": result.rule.kind,
                    "since": result.since.isoformat(),
                    "until": result.until.isoformat(),
                    "posts_evaluated": result.posts_evaluated,
                    "posts_replayed": result.posts_replayed,
                    "would_send": len(result.alerts),
                    "sinks": list(result.rule.sinks),
                    "notes": list(result.notes),
                    "alerts": [_alert_dict(a) for a in shown],
                }
            )
        )
        return
    click.echo(
        f"rule {terminal_text(result.rule.name)} ({result.rule.kind}): {len(result.alerts)} alert(s)"
        " would have been"
        f" sent to {', '.join(result.rule.sinks)} from {result.posts_evaluated} posts"
        f" {result.since:%Y-%m-%d %H:%M} .. {result.until:%Y-%m-%d %H:%M} UTC (dry run, nothing written)"
    )
    for note in result.notes:
        click.echo(f"note: {note}")
    rows = [
        (
            a.fired_at.strftime("%Y-%m-%d %H:%M"),
            terminal_text(a.summary, 100),
            terminal_text(a.details.get("why", ""), 160),
            _first_context(a),
            a.link or "",
        )
        for a in shown
    ]
    if rows:
        _table(
            f"first {len(rows)} of {len(result.alerts)}",
            ("at (UTC)", "summary", "why", "context", "link"),
            rows,
        )


@alerts.command("retro")
@click.argument("rule_name", metavar="RULE")
@config_option
@database_option
@click.option(
    "--seed/--no-seed",
    default=False,
    show_default=True,
    help="Also seed the rule's history (the daemon does this itself when a rule changes).",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@format_option
def retro_command(
    rule_name: str, config_path: Path | None, database: str | None, seed: bool, limit: int, fmt: str
) -> None:
    """Retro-hunt RULE: where did it already occur in stored posts (by tags, and by text where kept)?"""
    from monitor.alerts.retro import retro_hunt

    async def go() -> Any:
        from monitor.alerts.engine import AlertEngine
        from monitor.clock import SystemClock

        settings, url = _load(config_path, database, need_config=True)
        config, rule = _rule(settings, rule_name)
        tagger = _tagger(settings)
        store = await _open(url, read_only=not seed)
        try:
            wanted = AlertEngine(config, store, SystemClock(), tagger=tagger).detection_hash(rule)
            return await retro_hunt(rule, store, tagger, limit=limit, seed=seed, detection_hash=wanted)
        finally:
            await store.close()

    report = _run(go())
    if fmt == "json":
        click.echo(
            _dump(
                {
                    "rule": report.rule,
                    "kind": report.kind,
                    "total": report.total,
                    "by_tags": report.by_tags,
                    "by_text": report.by_text,
                    "texts_scanned": report.texts_scanned,
                    "seeded_terms": report.seeded_terms,
                    "seeded_channels": report.seeded_channels,
                    "notes": list(report.notes),
                    "occurrences": [
                        {
                            "channel_id": o.channel_id,
                            "message_id": o.message_id,
                            "posted_at": o.posted_at.isoformat(),
                            "link": o.link,
                            "via": o.via,
                            "matched": list(o.matched),
                        }
                        for o in report.occurrences
                    ],
                }
            )
        )
        return
    click.echo(
        f"rule {terminal_text(report.rule)} ({report.kind}): {report.total} earlier occurrence(s)"
        f" ({report.by_tags} by stored tags, {report.by_text} by text of {report.texts_scanned} stored texts)"
        + (f"; seeded {report.seeded_terms} terms, {report.seeded_channels} channels" if seed else "")
    )
    for note in report.notes:
        click.echo(f"note: {note}")
    rows = [
        (o.posted_at.strftime("%Y-%m-%d %H:%M"), ", ".join(o.matched), o.via, o.link)
        for o in report.occurrences
    ]
    if rows:
        _table(f"oldest {len(rows)} of {report.total}", ("posted (UTC)", "matched", "found by", "link"), rows)


def _first_context(alert: Alert) -> str:
    terms = alert.details.get("terms")
    if isinstance(terms, list) and terms and isinstance(terms[0], dict):
        return terminal_text(terms[0].get("context", ""), 120)
    return ""


__all__ = ["alerts", "json_safe", "parse_when", "terminal_text"]
