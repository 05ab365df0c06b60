"""`--format`, `--excel-safe` and `-o` for commands that print records besides the reports
(`alerts list`, `channels list`): the same options and the same writer (`monitor.reports.output`),
so an alert or a watch-list entry is exported exactly as a report row is (docs/exports.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from monitor.reports.output import FORMATS, Format, default_format, write
from monitor.reports.table import Report

F = TypeVar("F", bound=Callable[..., Any])


# The output options shared by every command that prints records (reports, alerts list, channels list).
OUTPUT_OPTIONS = [
    click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                 help="table (default on a terminal), tsv (default into a pipe or file), csv, json, "
                      "nl (one JSON object per line), parquet (typed columns; needs -o)."),
    click.option("--excel-safe", is_flag=True,
                 help="Prefix CSV/TSV cells that a spreadsheet would run as a formula with an apostrophe "
                      "(use for files opened in Excel; off by default so cells stay as stored)."),
    click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                 help="Write to FILE instead of standard output (required for parquet)."),
]


def record_options(func: F) -> F:
    """--format, --excel-safe, --output/-o, worded as on the reports."""
    options = OUTPUT_OPTIONS
    for option in reversed(options):
        func = option(func)
    return func


def chosen_format(fmt: str | None, output: Path | None) -> str:
    """The format asked, or the default for where the output goes; parquet without a file is a usage error
    (raised before any work is done)."""
    chosen = default_format(fmt, output, sys.stdout)
    if chosen == "parquet" and output is None:
        raise click.UsageError("--format parquet needs --output FILE")
    return chosen


def emit(report: Report, fmt: str, output: Path | None, *, excel_safe: bool) -> None:
    """Write ``report`` with the reports' writer; a file that cannot be written is one error line, exit 1."""
    try:
        write(report, cast(Format, fmt), output, stdout=sys.stdout, excel_safe=excel_safe)  # click checked the choice
    except OSError as exc:
        name = exc.filename or output
        where = f"{name}: " if name else ""
        click.echo(f"error: cannot write {where}{exc.strerror or exc}", err=True)
        sys.exit(1)


def emit_text(text: str, output: Path | None) -> None:
    """Text already rendered (JSON of nested records) to standard output or ``output``."""
    try:
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        click.echo(f"error: cannot write {exc.filename or output}: {exc.strerror or exc}", err=True)
        sys.exit(1)
