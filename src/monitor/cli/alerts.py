"""`monitor alerts`: fired alerts with their delivery state, dry-runs and retro-hunts of a rule.

Thin shells over `list_alerts`, `dry_run` and `retro_hunt`. Everything shown came
partly from strangers (post text in summaries and contexts, channel names), so the
table goes through ``render.clean`` and ``rich.text.Text`` (no markup is
interpreted), and JSON escapes control, bidi and invisible characters as ``\\uXXXX``.
Nothing here writes to the database, except ``retro --seed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from monitor.alerts.config import AlertRule, AlertsConfig
from monitor.cli.common import chosen_database, config_option, database_option, friendly
from monitor.cli.records import chosen_format, emit, emit_text, record_options
from monitor.cli.stores import open_db
from monitor.errors import ConfigError, Problem
from monitor.escape import json_dumps, one_line
from monitor.models import Alert

T = TypeVar("T")


def parse_when(value: str, *, now: datetime) -> datetime:
    """``--since``/``--until``: the one syntax of `monitor.when` (dates, date-times, 7d, 24h, 2w)."""
    from monitor.when import parse_moment

    try:
        return parse_moment(value, now=now)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _dump(data: Any) -> str:
    return json_dumps(data, indent=2, default=str)


# -- plumbing ------------------------------------------------------------------------------------
def _run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]  # asyncio.run is typed for Coroutine; ours are


def _load(config_path: Path | None, database: str | None, *, need_config: bool) -> tuple[Any, str]:
    """(settings or None, database URL)."""
    settings = None
    database = chosen_database(database, config_path)
    if config_path is not None or need_config or database is None:
        from monitor.settings import default_config_path, load

        settings = load(config_path or default_config_path())
    url = database or settings.database_url  # type: ignore[union-attr]  # settings is loaded whenever no database was named, so it is not None here
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
    """The project's tagger with the analysts' keywords, or None when it cannot be built (stored tags serve)."""
    from monitor.compose import build_tagger

    try:
        return build_tagger(settings)
    except ConfigError as exc:
        click.echo(f"note: tagger unavailable ({one_line(exc)}); using stored tags", err=True)
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

    table = Table(title=Text(one_line(title)), show_lines=False)
    for col in columns:
        # a link is never folded across lines (it would stop being clickable); prose folds
        table.add_column(col, overflow="fold", no_wrap=col == "link", min_width=44 if col == "link" else None)
    for row in rows:
        table.add_row(*(Text(one_line(cell)) for cell in row))
    Console(soft_wrap=False).print(table)


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
@record_options
@friendly
def list_command(
    config_path: Path | None, database: str | None, since: str, rule_name: str | None, limit: int,
    fmt: str | None, excel_safe: bool, output: Path | None,
) -> None:
    """Fired alerts, newest first, with the delivery state per sink.

    --format as on the reports (docs/exports.md): json is a list of alert objects with their details
    and deliveries, nl one such object per line; table, csv, tsv and parquet have one row per alert
    (details as a JSON text column, deliveries as sink:state items)."""
    fmt = chosen_format(fmt, output)
    moment = parse_when(since, now=datetime.now(UTC))

    async def go() -> list[Any]:
        _, url = _load(config_path, database, need_config=False)
        store = await _open(url)
        try:
            return list(await store.list_alerts(since=moment, rule=rule_name, limit=limit))
        finally:
            await store.close()

    items = _run(go())
    if fmt in ("json", "nl"):
        objects = [_alert_dict(i.alert, dict(i.deliveries)) for i in items]
        if fmt == "json":
            text = _dump(objects) + "\n"
        else:
            text = "".join(json_dumps(o, default=str) + "\n" for o in objects)
        emit_text(text, output)
        return
    report = alerts_report(items, since=moment, rule=rule_name, brief=fmt == "table")
    emit(report, fmt, output, excel_safe=excel_safe)


def alerts_report(items: Sequence[Any], *, since: datetime, rule: str | None, brief: bool = False) -> Any:
    """The fired alerts as a Report: one row per alert, typed for Parquet (times, integers, lists).
    ``brief`` (the terminal table) leaves out the ids of the post and the details, which the link and
    the exports carry."""
    from monitor.reports.table import Report

    rows: list[tuple[Any, ...]] = [
        (
            i.alert.id,
            i.alert.fired_at.astimezone(UTC),
            i.alert.rule,
            i.alert.kind,
            i.alert.summary,
            i.alert.link or None,
            i.alert.channel_id,
            i.alert.message_id,
            [f"{sink}:{state}" for sink, state in sorted(i.deliveries.items())],
            json_dumps(dict(i.alert.details), default=str),
        )
        for i in items
    ]
    meta: dict[str, Any] = {"alerts": len(rows), "since": since.astimezone(UTC)}
    if rule is not None:
        meta["rule"] = rule
    columns: tuple[str, ...] = ("id", "fired_at", "rule", "kind", "summary", "link", "channel_id", "message_id",
                                "deliveries", "details")
    if brief:
        keep = [columns.index(c) for c in ("id", "fired_at", "rule", "kind", "summary", "link", "deliveries")]
        columns = tuple(columns[i] for i in keep)
        rows = [tuple(row[i] for i in keep) for row in rows]
    return Report(name="alerts", columns=columns, rows=rows, meta=meta)


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
@friendly
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
        f"rule {one_line(result.rule.name)} ({result.rule.kind}): {len(result.alerts)} alert(s)"
        " would have been"
        f" sent to {', '.join(result.rule.sinks)} from {result.posts_evaluated} posts"
        f" {result.since:%Y-%m-%d %H:%M} .. {result.until:%Y-%m-%d %H:%M} UTC (dry run, nothing written)"
    )
    for note in result.notes:
        click.echo(f"note: {note}")
    rows = [
        (
            a.fired_at.strftime("%Y-%m-%d %H:%M"),
            one_line(a.summary, 100),
            one_line(a.details.get("why", ""), 160),
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
@friendly
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
        f"rule {one_line(report.rule)} ({report.kind}): {report.total} earlier occurrence(s)"
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
        return one_line(terms[0].get("context", ""), 120)
    return ""


__all__ = ["alerts", "parse_when"]
