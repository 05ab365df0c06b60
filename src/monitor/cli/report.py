"""`monitor report ...`: thin shells over monitor.reports; every subcommand shares one set of options.

The database is opened through the store read-only (a SQLite file with mode=ro, PostgreSQL with
read-only transactions): a report never creates, migrates or writes a database.
"""

from __future__ import annotations

import asyncio
import sys
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from monitor.cli.common import chosen_database, database_option, fail, friendly
from monitor.cli.records import OUTPUT_OPTIONS
from monitor.errors import ConfigError, MonitorError
from monitor.reports.output import default_format, write
from monitor.reports.periods import EVERY
from monitor.reports.spec import ReportSpec, parse_by, parse_date
from monitor.reports.table import Report

F = TypeVar("F", bound=Callable[..., Any])


def _db_from_config(config: Path) -> str:
    """The database the config names: through settings.load, or (when the rest of the config has
    problems that do not matter to a read-only report, such as missing credentials) its raw TOML."""
    from monitor.settings import load, resolve_database

    try:
        return load(config).database_url
    except ConfigError:
        pass
    try:
        data = tomllib.loads(config.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MonitorError(f"{config}: {exc}") from exc
    section = data.get("monitor")
    value = section.get("database") if isinstance(section, dict) else None
    if not isinstance(value, str) or not value:
        raise MonitorError(f"{config}: no [monitor] database in this config; pass --db")
    return resolve_database(value, config.parent)


def _source_name(url: str) -> str:
    """How a chart title names the data: the SQLite file's name, or the PostgreSQL URL without password."""
    from monitor.store import display_url, sqlite_path, url_scheme

    return sqlite_path(url).name if url_scheme(url) == "sqlite" else display_url(url)


def _db_path(db: str | None, config: Path | None) -> str:
    """The store URL: a SQLite path (which must exist) or a postgresql:// URL."""
    from monitor.cli.stores import missing_database
    from monitor.settings import default_config_path

    db = chosen_database(db, config)
    if db is None and config is None and default_config_path().is_file():
        config = default_config_path()
    if db is None and config is not None:
        db = _db_from_config(config)
    if db is None:
        raise MonitorError("which database? pass --db PATH or -c CONFIG (try `monitor demo`)")
    missing = missing_database(db)
    if missing is not None:
        raise MonitorError(f"no database at {missing}; pass --db PATH or -c CONFIG (try `monitor demo`)")
    return db


async def _with_store(db: str, work: Callable[[Any], Awaitable[Report]]) -> Report:
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
        click.option("--since", help="First UTC day, inclusive: a date, a date-time (its day) or a time back from now (7d, 2w)."
            " Default: the first day with posts."),
        click.option("--until", help="Last UTC day, inclusive: a date, a date-time (its day) or a time back from now (24h)."
            " Default: the last day with posts."),
        click.option("--every", type=click.Choice(EVERY), default=None,
                     help="Period: day, ISO week or calendar month (UTC). Default: month. Time series only."),
        click.option("--by", "by", multiple=True,
                     help="Group by any of group,language,script,channel,keyword,person,label:<key> (comma list)."),
        click.option("--group", "groups", multiple=True, help="Only posts naming this group id (repeatable)."),
        click.option("--lang", "langs", multiple=True, help="Only this language, e.g. uz or uz-Latn (repeatable)."),
        click.option("--script", "scripts", multiple=True, help="Only this script: Cyrl, Latn, Arab (repeatable)."),
        click.option("--channel", "channels", multiple=True, help="Only this channel: @name or id (repeatable)."),
        click.option("--label", "labels", multiple=True, help="Only channels with label key=value (repeatable)."),
        click.option("--keyword", "keywords", multiple=True, help="Only posts with this analyst keyword (repeatable)."),
        click.option("--person", "people", multiple=True, help="Only posts naming this person id (repeatable)."),
        click.option("--quarantined", is_flag=True,
                     help="Also count channels polled in quarantine (discovery candidates not yet accepted)."),
        *OUTPUT_OPTIONS,
        database_option,
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
        people=_split(kw.pop("people")),
        quarantined=bool(kw.pop("quarantined")),
    )


@friendly
def _run(kw: dict[str, Any], make: Callable[[Any, ReportSpec], Awaitable[Report]],
         after: Callable[[Report, str], None] | None = None, chart: Path | None = None) -> None:
    """Check the options, run the report, print it; ``after`` gets the report and the database's name
    (charts and graph files). A chart file that could not be written is refused before any work.
    Errors are one line through `friendly`: a bad option or filter exits 2, a runtime failure 1."""
    fmt, output, excel = kw.pop("fmt"), kw.pop("output"), kw.pop("excel_safe")
    fmt = default_format(fmt, output, sys.stdout)
    db, config = kw.pop("database"), kw.pop("config")
    try:
        if chart is not None:
            from monitor.reports.charts import chart_format

            chart_format(chart)
        spec = _spec(kw)
        if fmt == "parquet" and output is None:
            raise ConfigError("--format parquet needs --output FILE")
        path = _db_path(db, config)
        report = asyncio.run(_with_store(path, lambda store: make(store, spec)))
        write(report, fmt, output, stdout=sys.stdout, excel_safe=excel)
        if after is not None:
            after(report, _source_name(path))
    except ValueError as exc:  # a bad date, --by field, chart name, or a filter naming nothing stored: usage
        raise ConfigError(str(exc)) from exc
    except OSError as exc:  # an output, chart or graph file that cannot be written (missing folder, full disk)
        name = exc.filename or output
        where = f"{name}: " if name else ""
        fail(f"cannot write {where}{exc.strerror or exc}")


def _chart_options(func: F) -> F:
    func = click.option("--chart-kind", type=click.Choice(("lines", "stacked", "heatmap")), default="lines",
                        show_default=True, help="lines over time, stacked shares, or a heat map of two --by fields.")(func)
    return _chart_option(func)


def _charter(chart: Path | None, kind: str = "lines", metric: str = "posts",
             nodes: dict[str, Any] | None = None) -> Callable[[Report, str], None] | None:
    """Draws the report's picture: lines (volume, trend), bars (top), curves (reach), a timeline
    (spread), a drawing (network)."""
    if chart is None:
        return None

    def draw(report: Report, source: str) -> None:
        from monitor.reports import charts

        if report.name in ("volume", "trend"):
            charts.write_chart(report, chart, kind=kind, metric=metric, source=source)  # type: ignore[arg-type]  # chart is set whenever a chart is drawn; the closure cannot narrow it
        elif report.name.startswith("top-"):
            charts.write_top_chart(report, chart, source=source)
        elif report.name == "reach":
            charts.write_reach_chart(report, chart, source=source)
        elif report.name == "spread":
            charts.write_spread_chart(report, chart, source=source)
        elif report.name == "network":
            charts.write_network_chart(report, (nodes or {}).get("nodes", {}), chart, source=source)
        click.echo(f"chart written to {chart}", err=True)

    return draw


def _chart_option(func: F) -> F:
    return click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
                        help="Also draw a chart to FILE (.png or .svg).")(func)


def _takedowns_option(func: F) -> F:
    return click.option("--takedowns", is_flag=True,
                        help="Add channels_taken_down: how many of the channels that carried the row's series were "
                             "taken down in its period (see `monitor report takedowns`).")(func)


def _with_takedowns(make: Callable[[Any, ReportSpec], Awaitable[Report]],
                    on: bool) -> Callable[[Any, ReportSpec], Awaitable[Report]]:
    if not on:
        return make

    async def run(store: Any, spec: ReportSpec) -> Report:
        from monitor.reports.takedowns import with_takedowns

        return await with_takedowns(store, spec, await make(store, spec))

    return run


@click.group()
def report() -> None:
    """Analysts' reports over the stored, tagged posts (UTC periods; empty periods are zero rows).

    Output: a table fitted to the terminal, or TSV when standard output is a pipe or a file
    (--format chooses). Exports keep the data as stored: post text whole, cells raw; add
    --excel-safe for a CSV or TSV that will be opened in a spreadsheet. Text printed to a
    terminal is escaped (control, escape and bidi characters made visible). See docs/exports.md.
    """


@report.command()
@common_options
@_chart_options
@_takedowns_option
def volume(chart: Path | None, chart_kind: str, takedowns: bool, **kw: Any) -> None:
    """Posts, views and forwards per period, absolute and as a share of the same channels' output."""
    from monitor.reports.volume import volume as run

    _run(kw, _with_takedowns(run, takedowns), _charter(chart, chart_kind, "posts"), chart)


@report.command()
@common_options
@_chart_options
@click.option("--metric", type=click.Choice(("posts", "views", "forwards")), default="posts", show_default=True)
@click.option("--threshold", type=float, default=3.5, show_default=True, help="Robust z-score that flags a period.")
@click.option("--window", type=int, default=None, help="Baseline length in periods (default 8 weeks/days, 12 months).")
@click.option("--only-flagged", is_flag=True, help="Show flagged periods only.")
@_takedowns_option
def trend(chart: Path | None, chart_kind: str, metric: str, threshold: float, window: int | None,
          only_flagged: bool, takedowns: bool, **kw: Any) -> None:
    """Change vs the previous period and vs a rolling baseline; spikes flagged by a median/MAD z-score."""
    from monitor.reports.trend import trend as run

    _run(kw, _with_takedowns(lambda s, spec: run(s, spec, metric=metric, threshold=threshold, window=window,
                                                 only_flagged=only_flagged), takedowns),
         _charter(chart, chart_kind, metric), chart)


@report.command()
@common_options
@click.option("--what", type=click.Choice(("channels", "posts-by-views", "posts-by-forwards", "groups", "keywords",
                                           "people", "pairs")), default="channels", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--per-subscriber", is_flag=True,
              help="channels, posts-by-views: add subscribers and views_per_subscriber (Telegram counts views per "
                   "session and they can be inflated: docs/lifecycle.md).")
@_chart_option
@click.option("--deleted", type=click.Choice(("include", "exclude", "mark")), default="include", show_default=True,
              help="posts-by-views/forwards: keep posts later deleted from their channel, leave them out, or mark "
                   "them in a deleted column.")
def top(what: str, limit: int, per_subscriber: bool, deleted: str, chart: Path | None, **kw: Any) -> None:
    """Top channels, posts by views or forwards, groups, keywords, and groups named together (chart: bars)."""
    from monitor.reports.top import top as run

    if per_subscriber and what not in ("channels", "posts-by-views", "posts-by-forwards"):
        raise click.UsageError(f"--per-subscriber has no effect on top {what}")
    if deleted != "include" and what not in ("posts-by-views", "posts-by-forwards"):
        raise click.UsageError(f"--deleted has no effect on top {what}")

    async def make(store: Any, spec: ReportSpec) -> Report:
        rep = await run(store, spec, what=what, limit=limit, deleted=deleted)  # type: ignore[arg-type]  # click.Choice keeps what to the TopWhat names
        if not per_subscriber:
            return rep
        from monitor.reports.audience import with_subscribers
        from monitor.reports.spec import resolve

        return await with_subscribers(store, await resolve(store, spec), rep)

    _run(kw, make, _charter(chart), chart)


@report.command()
@common_options
@click.option("--ages", default="1,6,24,48,168", show_default=True, help="Hours after publication, comma list.")
@_chart_option
def reach(ages: str, chart: Path | None, **kw: Any) -> None:
    """How views grew after publication, from the re-sampled view counts (chart: curves)."""
    from monitor.reports.reach import reach as run

    try:
        hours = tuple(sorted({int(a) for a in ages.split(",") if a.strip()}))
    except ValueError as exc:
        raise click.UsageError(f"--ages {ages!r}: whole hours, comma separated") from exc
    _run(kw, lambda s, spec: run(s, spec, ages=hours), _charter(chart), chart)


@report.command()
@common_options
@click.option("--distance", type=click.IntRange(0, 20), default=8, show_default=True,
              help="Largest SimHash Hamming distance that still counts as the same item.")
@click.option("--min-channels", type=click.IntRange(1, 1000), default=2, show_default=True)
@click.option("--min-length", type=click.IntRange(0, 100_000), default=40, show_default=True,
              help="Ignore posts with less text than this (characters).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
@_chart_option
def spread(distance: int, min_channels: int, min_length: int, limit: int, chart: Path | None, **kw: Any) -> None:
    """Near-duplicate clusters: the same item posted in several channels, with its first appearance
    (chart: a timeline)."""
    from monitor.reports.spread import clusters

    _run(kw, lambda s, spec: clusters(s, spec, max_distance=distance, min_channels=min_channels,
                                      min_length=min_length, limit=limit), _charter(chart), chart)


@report.command()
@common_options
@click.option("--graphml", type=click.Path(dir_okay=False, path_type=Path), help="Write the network as GraphML.")
@click.option("--gexf", type=click.Path(dir_okay=False, path_type=Path), help="Write the network as GEXF (Gephi).")
@_chart_option
def network(graphml: Path | None, gexf: Path | None, chart: Path | None, **kw: Any) -> None:
    """The forward network: who forwards whom and how often (edges; --format csv gives CSV edges;
    chart: a drawing)."""
    from monitor.reports.spread import export_graph, forward_network

    holder: dict[str, Any] = {}

    async def make(store: Any, spec: ReportSpec) -> Report:
        rep, nodes = await forward_network(store, spec)
        holder["nodes"] = nodes
        return rep

    draw = _charter(chart, nodes=holder)

    def after(rep: Report, source: str) -> None:
        for path in (graphml, gexf):
            if path is not None:
                export_graph(rep, holder["nodes"], path)
                click.echo(f"graph written to {path}", err=True)
        if draw is not None:
            draw(rep, source)

    for option, path, suffixes in (("--graphml", graphml, (".graphml",)), ("--gexf", gexf, (".gexf",))):
        if path is not None and path.suffix.lower() not in suffixes:
            raise click.UsageError(f"{option} {str(path)!r}: the file name ends in {suffixes[0]}")
    _run(kw, make, after, chart)


@report.command()
@common_options
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def discovery(limit: int, **kw: Any) -> None:
    """Channels that watched channels forward from or mention but that are not watched, ranked."""
    from monitor.reports.discovery import discovery as run

    _run(kw, lambda s, spec: run(s, spec, limit=limit))


@report.command()
@common_options
@click.option("--events", "list_events", is_flag=True, help="List every lifecycle event (time, state, reason) instead.")
def takedowns(list_events: bool, **kw: Any) -> None:
    """Channels taken down (banned, deleted, restricted, private) and back, per period by group, channel or
    label, with renames and posts deleted from channels (docs/lifecycle.md)."""
    from monitor.reports.takedowns import takedowns as run

    _run(kw, lambda s, spec: run(s, spec, list_events=list_events))


@report.command()
@common_options
@click.option("--what", type=click.Choice(("domains", "links")), default="domains", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="Rows per period and --by value.")
@click.option("--raw", is_flag=True, help="Show links as stored instead of defanged (hxxps://x[.]com).")
@click.option("--deleted", type=click.Choice(("include", "exclude")), default="include", show_default=True,
              help="Count links of posts later deleted from their channel, or leave them out.")
def links(what: str, limit: int, raw: bool, deleted: str, **kw: Any) -> None:
    """Domains and links the channels point to, ranked per period (--every) and --by group, language,
    channel or label; Telegram's preview title and site name for links (never fetched)."""
    from monitor.reports.links import links as run

    _run(kw, lambda s, spec: run(s, spec, what=what, limit=limit, raw=raw, include_deleted=deleted == "include"))


@report.command()
@common_options
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="Posts per page.")
@click.option("--offset", type=click.IntRange(0, None), default=0, show_default=True, help="Posts to skip.")
def posts(limit: int, offset: int, **kw: Any) -> None:
    """The posts behind a report cell (range and filters), oldest first, with the terms each matched."""
    from monitor.reports.posts import posts as run

    _run(kw, lambda s, spec: run(s, spec, limit=limit, offset=offset))


def _label_options(func: F) -> F:
    """The options of the reports that read analysts' labels (a file, not the database)."""
    options = [
        click.option("--group", "groups", multiple=True, help="Only this group id (repeatable)."),
        click.option("--labels", type=click.Path(dir_okay=False, path_type=Path),
                     help="The labels file (default: $MONITOR_LABELS, else labels.csv beside the config)."),
        click.option("--config", "-c", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="The config file whose folder holds labels.csv."),
        *OUTPUT_OPTIONS,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _label_report(name: str, kw: dict[str, Any]) -> None:
    from monitor.cli.label import labels_path
    from monitor.labels import MISS_COLUMNS, PRECISION_COLUMNS, LabelError, current, miss_rows, precision_rows, read_labels

    fmt = default_format(kw["fmt"], kw["output"], sys.stdout)
    if fmt == "parquet" and kw["output"] is None:
        raise click.UsageError("--format parquet needs --output FILE")
    path = labels_path(kw["labels"], kw["config"])
    try:
        labels = read_labels(path)
    except LabelError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    groups = set(_split(kw["groups"]))
    if groups:
        labels = [x for x in labels if x.canonical in groups]
    latest = current(labels)
    if name == "precision":
        columns, rows = PRECISION_COLUMNS, precision_rows(labels)
        notes = "precision = right / (right + wrong), from the latest label of each match; alias * = all of the group"
    else:
        columns, rows = MISS_COLUMNS, miss_rows(labels)
        notes = "mentions analysts marked as missed by the tagger (span = [start, end) in the post text)"
    meta = {"labels_file": str(path), "labels": len(latest), "note": notes}
    try:
        write(Report(name=name, columns=columns, rows=rows, meta=meta), fmt, kw["output"], stdout=sys.stdout,
              excel_safe=kw["excel_safe"])
    except OSError as exc:
        raise click.ClickException(f"cannot write {exc.filename or kw['output']}: {exc.strerror or exc}") from exc


@report.command()
@_label_options
def precision(**kw: Any) -> None:
    """Precision per group, alias, rule and lexicon version, from analysts' `monitor label` verdicts."""
    _label_report("precision", kw)


@report.command()
@_label_options
def misses(**kw: Any) -> None:
    """Mentions analysts labelled as missed (`monitor label POST GROUP missed --span A:B`), for the lexicon's keepers."""
    _label_report("misses", kw)


__all__ = ["report"]
