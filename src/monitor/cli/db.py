"""`monitor db`: upgrade the schema, check a database, copy a deployment between backends.

Thin shells over ``monitor.store.admin``. A database is named by URL (a SQLite path or
postgresql://...; the password may come from PGPASSWORD, ~/.pgpass or a service file instead) or,
without one, by the config's ``database``. URLs are only ever shown with the password masked.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from monitor.cli.collect import _settings
from monitor.cli.common import config_option, friendly
from monitor.store import admin


def _url(url: str | None, config_path: Path | None) -> str:
    return url if url else _settings(config_path).database_url


@click.group("db")
def db_group() -> None:
    """Schema upgrades, consistency checks and copies between SQLite and PostgreSQL."""


@db_group.command("migrate")
@click.argument("url", required=False)
@config_option
@friendly
def migrate_cmd(url: str | None, config_path: Path | None) -> None:
    """Apply pending schema migrations to URL (default: the config's database); prints versions before and after.

    A schema newer than this monitor is refused and left as it is."""
    result = asyncio.run(admin.migrate(_url(url, config_path)))
    if result.applied:
        click.echo(f"{result.url}: schema version {result.before} -> {result.after}"
                   f" (applied {', '.join(f'{v:04d}' for v in result.applied)})")
    else:
        click.echo(f"{result.url}: schema version {result.before} -> {result.after} (up to date)")


@db_group.command("check")
@click.argument("url", required=False)
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@friendly
def check_cmd(url: str | None, config_path: Path | None, as_json: bool) -> None:
    """Schema version, rows per table, and every report aggregate against a recount (read-only).

    Exit status 1 when an aggregate differs from its recount or the schema is not current."""
    result = asyncio.run(admin.check(_url(url, config_path)))
    if as_json:
        click.echo(json.dumps({"database": result.url, "schema_version": result.version, "newest": result.newest,
                               "counts": result.counts, "drift": result.drift, "ok": result.ok}, indent=2))
    else:
        click.echo(f"database: {result.url}")
        click.echo(f"schema version: {result.version} (this monitor: {result.newest})")
        width = max(len(t) for t in result.counts)
        for table, n in result.counts.items():
            click.echo(f"  {table:<{width}}  {n:>12,}")
        if result.drift:
            click.echo(f"aggregates DIFFER from a recount: {', '.join(result.drift)}")
        else:
            click.echo("aggregates: equal to a recount of posts and post_tags")
    if not result.ok:
        sys.exit(1)


@db_group.command("copy")
@click.argument("source")
@click.argument("destination")
@click.option("--chunk", type=click.IntRange(1, 1_000_000), default=admin.DEFAULT_CHUNK, show_default=True,
              help="Rows per transaction.")
@friendly
def copy_cmd(source: str, destination: str, chunk: int) -> None:
    """Copy every table from SOURCE into DESTINATION (SQLite -> PostgreSQL or back).

    Resumable: run the same command again after an interruption and it continues where the last
    committed chunk ended. The destination must be empty (or hold an unfinished copy of SOURCE);
    stop the collector on SOURCE first. Rows are counted per table at the end; exit status 1 if
    any count or aggregate differs."""
    from tqdm import tqdm

    bars: list[tqdm] = []  # opened once both databases are open: an error before that is one line

    def start(total: int, done: int) -> None:
        bars.append(tqdm(total=total, initial=done, unit="row", file=sys.stderr, desc="copy", unit_scale=True))

    def progress(table: str, n: int) -> None:
        bars[0].set_postfix_str(table, refresh=False)
        bars[0].update(n)

    try:
        result = asyncio.run(admin.copy(source, destination, chunk=chunk, progress=progress, start=start))
    finally:
        for bar in bars:
            bar.close()
    click.echo(f"{'resumed' if result.resumed else 'copied'} {result.source} -> {result.destination}")
    width = max(len(t) for t in result.source_counts)
    for table, n in result.source_counts.items():
        got = result.destination_counts.get(table, 0)
        click.echo(f"  {table:<{width}}  {n:>12,}  {got:>12,}  {'ok' if got == n else 'DIFFERS'}")
    if result.drift:
        click.echo(f"aggregates DIFFER from a recount: {', '.join(result.drift)}")
    if not result.ok:
        click.echo("error: the copy is not exact (see DIFFERS above); was a collector writing to the source?", err=True)
        sys.exit(1)
    click.echo("every table has the same number of rows on both sides; aggregates equal a recount")
