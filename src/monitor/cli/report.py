"""`monitor report ...`: thin shells over monitor.reports; every subcommand shares one set of options.

The database is opened through the store (migrations bring an older file up to date, so the
aggregate tables exist) and read through its read-only connection.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from monitor.errors import ConfigError, MonitorError
from monitor.reports.output import FORMATS, write
from monitor.reports.periods import EVERY
from monitor.reports.spec import ReportSpec, parse_by, parse_date
from monitor.reports.table import Report

F = TypeVar("F", bound=Callable[..., Any])


def _db_from_config(config: Path) -> Path:
    """The database the config names: through settings.load, or (when the rest of the config has
    problems that do not matter to a read-only report, such as missing credentials) its raw TOML."""
    from monitor.settings import load, resolve_database

    try:
        return Path(load(config).database_url)
    except ConfigError:
        pass
    try:
        data = tomllib.loads(config.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.ClickException(f"{config}: {exc}") from exc
    section = data.get("monitor")
    value = section.get("database") if isinstance(section, dict) else None
    if not isinstance(value, str) or not value:
        raise click.ClickException(f"{config}: no [monitor] database in this config; pass --db")
    return Path(resolve_database(value, config.parent))


def _db_path(db: Path | None, config: Path | None) -> Path:
    from monitor.settings import default_config_path

    if db is None and config is None and os.environ.get("MONITOR_DB"):
        db = Path(os.environ["MONITOR_DB"])
    if db is None and config is None and default_config_path().is_file():
        config = default_config_path()
    if db is None and config is not None:
        db = _db_from_config(config)
    if db is None:
        raise click.ClickException("which database? pass --db PATH or -c CONFIG (try `monitor demo`)")
    if not db.is_file():
        raise click.ClickException(f"no database at {db}; pass --db PATH or -c CONFIG (try `monitor demo`)")
    return db


async def _with_store(db: Path, work: Callable[[Any], Awaitable[Report]]) -> Report:
    from monitor.cli.stores import open_db

    store = await open_db(db, must_exist=True, read_only=True)
    try:
        return await work(store)
    finally:
        await store.close()


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def common_options(func: F) -> F:
    """--since/--until/--every/--by, the filters, --format/--output and --db/--config."""
    options = [
        click.option("--since", help="First day (YYYY-MM-DD, UTC, inclusive). Default: the first day with posts."),
        click.option("--until", help="Last day (YYYY-MM-DD, UTC, inclusive). Default: the last day with posts."),
        click.option("--every", type=click.Choice(EVERY), default="month", show_default=True,
                     help="Period: day, ISO week or calendar month (UTC)."),
        click.option("--by", "by", multiple=True,
                     help="Group by any of group,language,script,channel,keyword,person,label:<key> (comma list)."),
        click.option("--group", "groups", multiple=True, help="Only posts naming this group id (repeatable)."),
        click.option("--lang", "langs", multiple=True, help="Only this language, e.g. uz or uz-Latn (repeatable)."),
        click.option("--script", "scripts", multiple=True, help="Only this script: Cyrl, Latn, Arab (repeatable)."),
        click.option("--channel", "channels", multiple=True, help="Only this channel: @name or id (repeatable)."),
        click.option("--label", "labels", multiple=True, help="Only channels with label key=value (repeatable)."),
        click.option("--keyword", "keywords", multiple=True, help="Only posts with this analyst keyword (repeatable)."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True),
        click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write to FILE instead of standard output (required for parquet)."),
        click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="The SQLite database."),
        click.option("--config", "-c", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Take the database from this config file ([monitor] database)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _spec(kw: dict[str, Any]) -> ReportSpec:
    return ReportSpec(
        since=parse_date(kw.pop("since")),
        until=parse_date(kw.pop("until")),
        every=kw.pop("every"),
        by=parse_by(list(kw.pop("by"))),
        groups=_split(kw.pop("groups")),
        langs=_split(kw.pop("langs")),
        scripts=_split(kw.pop("scripts")),
        channels=_split(kw.pop("channels")),
        labels=tuple(kw.pop("labels")),
        keywords=tuple(kw.pop("keywords")),
    )


def _run(kw: dict[str, Any], make: Callable[[Any, ReportSpec], Awaitable[Report]],
         after: Callable[[Report], None] | None = None) -> None:
    fmt, output = kw.pop("fmt"), kw.pop("output")
    db, config = kw.pop("db"), kw.pop("config")
    try:
        spec = _spec(kw)
        if fmt == "parquet" and output is None:
            raise click.UsageError("--format parquet needs --output FILE")
        path = _db_path(db, config)
        report = asyncio.run(_with_store(path, lambda store: make(store, spec)))
        write(report, fmt, output, stdout=sys.stdout)
        if after is not None:
            after(report)
    except (ConfigError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    except MonitorError as exc:
        raise click.ClickException(str(exc)) from exc


def _chart_options(func: F) -> F:
    func = click.option("--chart-kind", type=click.Choice(("lines", "stacked", "heatmap")), default="lines",
                        show_default=True, help="lines over time, stacked shares, or a heat map of two --by fields.")(func)
    func = click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
                        help="Also draw a chart to FILE (.png or .svg).")(func)
    return func


def _charter(chart: Path | None, kind: str, metric: str) -> Callable[[Report], None] | None:
    if chart is None:
        return None

    def draw(report: Report) -> None:
        from monitor.reports.charts import write_chart

        write_chart(report, chart, kind=kind, metric=metric)  # type: ignore[arg-type]
        click.echo(f"chart written to {chart}", err=True)

    return draw


@click.group()
def report() -> None:
    """Analysts' reports over the stored, tagged posts (UTC periods; empty periods are zero rows)."""


@report.command()
@common_options
@_chart_options
def volume(chart: Path | None, chart_kind: str, **kw: Any) -> None:
    """Posts, views and forwards per period, absolute and as a share of the same channels' output."""
    from monitor.reports.volume import volume as run

    _run(kw, run, _charter(chart, chart_kind, "posts"))


@report.command()
@common_options
@_chart_options
@click.option("--metric", type=click.Choice(("posts", "views", "forwards")), default="posts", show_default=True)
@click.option("--threshold", type=float, default=3.5, show_default=True, help="Robust z-score that flags a period.")
@click.option("--window", type=int, default=None, help="Baseline length in periods (default 8 weeks/days, 12 months).")
@click.option("--only-flagged", is_flag=True, help="Show flagged periods only.")
def trend(chart: Path | None, chart_kind: str, metric: str, threshold: float, window: int | None,
          only_flagged: bool, **kw: Any) -> None:
    """Change vs the previous period and vs a rolling baseline; spikes flagged by a median/MAD z-score."""
    from monitor.reports.trend import trend as run

    _run(kw, lambda s, spec: run(s, spec, metric=metric, threshold=threshold, window=window,
                                 only_flagged=only_flagged), _charter(chart, chart_kind, metric))


@report.command()
@common_options
@click.option("--what", type=click.Choice(("channels", "posts-by-views", "posts-by-forwards", "groups", "keywords",
                                           "people", "pairs")), default="channels", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
def top(what: str, limit: int, **kw: Any) -> None:
    """Top channels, posts by views or forwards, groups, keywords, and groups named together."""
    from monitor.reports.top import top as run

    _run(kw, lambda s, spec: run(s, spec, what=what, limit=limit))  # type: ignore[arg-type]


@report.command()
@common_options
@click.option("--ages", default="1,6,24,48,168", show_default=True, help="Hours after publication, comma list.")
def reach(ages: str, **kw: Any) -> None:
    """How views grew after publication, from the re-sampled view counts."""
    from monitor.reports.reach import reach as run

    try:
        hours = tuple(sorted({int(a) for a in ages.split(",") if a.strip()}))
    except ValueError as exc:
        raise click.UsageError(f"--ages {ages!r}: whole hours, comma separated") from exc
    _run(kw, lambda s, spec: run(s, spec, ages=hours))


@report.command()
@common_options
@click.option("--distance", type=click.IntRange(0, 20), default=8, show_default=True,
              help="Largest SimHash Hamming distance that still counts as the same item.")
@click.option("--min-channels", type=click.IntRange(1, 1000), default=2, show_default=True)
@click.option("--min-length", type=click.IntRange(0, 100_000), default=40, show_default=True,
              help="Ignore posts with less text than this (characters).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
def spread(distance: int, min_channels: int, min_length: int, limit: int, **kw: Any) -> None:
    """Near-duplicate clusters: the same item posted in several channels, with its first appearance."""
    from monitor.reports.spread import clusters

    _run(kw, lambda s, spec: clusters(s, spec, max_distance=distance, min_channels=min_channels,
                                      min_length=min_length, limit=limit))


@report.command()
@common_options
@click.option("--graphml", type=click.Path(dir_okay=False, path_type=Path), help="Write the network as GraphML.")
@click.option("--gexf", type=click.Path(dir_okay=False, path_type=Path), help="Write the network as GEXF (Gephi).")
def network(graphml: Path | None, gexf: Path | None, **kw: Any) -> None:
    """The forward network: who forwards whom and how often (edges; --format csv gives CSV edges)."""
    from monitor.reports.spread import export_graph, forward_network

    holder: dict[str, Any] = {}

    async def make(store: Any, spec: ReportSpec) -> Report:
        rep, nodes = await forward_network(store, spec)
        holder["nodes"] = nodes
        return rep

    def after(rep: Report) -> None:
        for path in (graphml, gexf):
            if path is not None:
                export_graph(rep, holder["nodes"], path)
                click.echo(f"graph written to {path}", err=True)

    _run(kw, make, after)


@report.command()
@common_options
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def discovery(limit: int, **kw: Any) -> None:
    """Channels that watched channels forward from or mention but that are not watched, ranked."""
    from monitor.reports.discovery import discovery as run

    _run(kw, lambda s, spec: run(s, spec, limit=limit))


__all__ = ["report"]
