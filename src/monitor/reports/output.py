"""Formatting a Report: terminal table, CSV, TSV, JSON, newline-delimited JSON, Parquet.

Exports keep the data; what a terminal shows is made safe (docs/cli.md, "What exports keep"):

- CSV, TSV, Parquet written to a file or a pipe carry every cell exactly as stored (post text
  whole, ``@handles`` as they are). ``excel_safe=True`` (``--excel-safe``) puts an apostrophe
  before any cell a spreadsheet would evaluate, even one whose ``=`` hides behind whitespace,
  control characters or an escape sequence.
- JSON and NL are UTF-8 (Cyrillic as it is) and lossless; characters that could drive a
  terminal (escape, control, bidi, format) are written as JSON ``\\uXXXX`` escapes, so JSON is
  safe to print and decodes to the stored text.
- Anything written to a terminal (the table always; CSV and TSV when standard output is a
  terminal) passes ``monitor.escape.terminal``: escape sequences removed, every other unsafe
  character shown as a visible ``\\uXXXX``.
- The table fits the terminal's width, shortens long post text (never a link or a handle),
  and prints the report's metadata above the rows.
"""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal

from monitor.escape import excel_safe as _excel_safe
from monitor.escape import json_dumps, terminal
from monitor.reports.table import Report

Format = Literal["table", "csv", "tsv", "json", "nl", "parquet"]
FORMATS: tuple[Format, ...] = ("table", "csv", "tsv", "json", "nl", "parquet")
TABLE_TEXT_CHARS = 60  # post text shown per table cell; the exports carry it whole
TABLE_CELL_CHARS = 120  # any other cell (titles, names); links and handles are far shorter
_SURROGATE = re.compile("[\ud800-\udfff]")  # lone surrogates: not encodable as UTF-8 (JSON escapes them)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


def _jsonable(value: Any) -> Any:
    """``default=`` for json: times as RFC 3339 with Z, dates as ISO dates, anything else as text."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    return value


def _flat(value: Any) -> Any:
    """A scalar for CSV, TSV and table cells: lists joined with '; ', None as '', times as RFC 3339."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(_flat(v)) for v in value)
    if isinstance(value, float):
        return "" if not math.isfinite(value) else round(value, 6)
    if isinstance(value, (datetime, date)):
        return _jsonable(value)
    return value


def _cell_writer(*, excel_safe: bool, to_terminal: bool) -> Callable[[Any], Any]:
    def cell(value: Any) -> Any:
        flat = _flat(value)
        if not isinstance(flat, str):
            return flat
        if excel_safe:
            flat = _excel_safe(flat)
        return terminal(flat) if to_terminal else flat

    return cell


def to_csv(report: Report, out: IO[str], *, excel_safe: bool = False, to_terminal: bool = False) -> None:
    """RFC 4180 CSV, cells as stored (see the module docstring for ``excel_safe`` and terminals)."""
    cell = _cell_writer(excel_safe=excel_safe, to_terminal=to_terminal)
    # CRLF as RFC 4180 says: Python's csv quotes a field holding a character of the line
    # terminator, so with "\r\n" a lone CR in a post is quoted too, not a broken record
    # (on a terminal the cells are escaped, so a plain newline ends a record)
    writer = csv.writer(out, lineterminator="\n" if to_terminal else "\r\n")
    writer.writerow([cell(c) for c in report.columns])
    for row in report.rows:
        writer.writerow([cell(v) for v in row])


_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_TSV_SPECIAL = re.compile(r"[\\\t\n\r]")


def _tsv_field(value: Any) -> str:
    return _TSV_SPECIAL.sub(lambda m: _TSV_ESCAPES[m.group(0)], str(value))


def to_tsv(report: Report, out: IO[str], *, excel_safe: bool = False, to_terminal: bool = False) -> None:
    """Tab-separated values, one record per line: tab, newline, CR and backslash in a cell written
    as ``\\t``, ``\\n``, ``\\r``, ``\\\\`` (the "linear TSV" convention that cut, awk and PostgreSQL COPY read)."""
    cell = _cell_writer(excel_safe=excel_safe, to_terminal=False)
    for row in (report.columns, *report.rows):
        line = "\t".join(_tsv_field(cell(v)) for v in row)
        out.write((terminal(line, keep_tabs=True) if to_terminal else line) + "\n")


def to_json(report: Report) -> str:
    """One object: report, columns, meta, rows as objects (UTF-8, lossless, terminal-safe escapes)."""
    payload = {
        "report": report.name,
        "columns": list(report.columns),
        "meta": _finite(dict(report.meta)),
        "rows": [dict(zip(report.columns, (_finite(v) for v in row), strict=True)) for row in report.rows],
    }
    return json_dumps(payload, indent=1, default=_jsonable)


def to_nl(report: Report, out: IO[str]) -> None:
    """Newline-delimited JSON: one object per row, nothing else (for jq, DuckDB, pandas)."""
    for row in report.rows:
        out.write(json_dumps(dict(zip(report.columns, (_finite(v) for v in row), strict=True)),
                             default=_jsonable) + "\n")


def _arrow_column(values: list[Any]) -> Any:
    """A typed Arrow array: integers, floats, booleans, dates, UTC timestamps, lists of strings, text."""
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if not present:
        return pa.array(values, type=pa.string())
    if all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.int64())
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if all(isinstance(v, (list, tuple)) for v in present):
        return pa.array([None if v is None else [_utf8(str(x)) for x in v] for v in values],
                        type=pa.list_(pa.string()))
    if all(isinstance(v, datetime) for v in present) or all(
        isinstance(v, str) and _DATETIME.match(v) for v in present
    ):
        def moment(v: Any) -> datetime | None:
            if v is None:
                return None
            if isinstance(v, str):
                v = datetime.fromisoformat(v.replace("Z", "+00:00"))
            return v if v.tzinfo else v.replace(tzinfo=UTC)

        return pa.array([moment(v) for v in values], type=pa.timestamp("us", tz="UTC"))
    if all(isinstance(v, date) and not isinstance(v, datetime) for v in present) or all(
        isinstance(v, str) and _DATE.match(v) for v in present
    ):
        return pa.array([None if v is None else date.fromisoformat(str(v)) for v in values], type=pa.date32())
    return pa.array([None if v is None else _utf8(v if isinstance(v, str) else str(_flat(v))) for v in values],
                    type=pa.string())


def _utf8(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def to_parquet(report: Report, path: Path) -> None:
    """Parquet with typed columns; text exactly as stored; the report name and meta in the file metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: _arrow_column([_finite(row[i]) for row in report.rows])
               for i, name in enumerate(report.columns)}
    table = pa.table(columns) if report.rows else pa.table({c: pa.array([], pa.string()) for c in report.columns})
    meta = {b"monitor.report": report.name.encode(),
            b"monitor.meta": json_dumps(_finite(dict(report.meta)), default=_jsonable).encode()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    pq.write_table(table, path)


def terminal_width(stream: IO[str] | None = None) -> int:
    """The width of the terminal ``stream`` is printed to (COLUMNS honoured), 160 for a non-terminal."""
    try:
        is_tty = stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        is_tty = False
    return shutil.get_terminal_size((160, 24)).columns if is_tty else 160


def _table_cell(column: str, value: Any) -> str:
    limit = TABLE_TEXT_CHARS if column == "text" else TABLE_CELL_CHARS
    text = terminal(str(_flat(value))[: limit * 8])
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def to_table(report: Report, *, width: int | None = None) -> str:
    """A table that fits ``width`` columns: metadata first, then the rows. Cells are plain text
    (``[bold]`` in a post is not markup); links and handles are never split across lines."""
    from rich import box
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    width = width or 160
    rows = [[_table_cell(c, v) for c, v in zip(report.columns, row, strict=True)] for row in report.rows]
    buffer = io.StringIO()
    # Everything printed below is a Text, which rich never parses for markup or emoji, and no colour
    # system means no styles are written (FORCE_COLOR included): the console needs no other option.
    console = Console(file=buffer, width=width, color_system=None)
    notes = [_table_cell("meta", f"{k}: {json_dumps(_finite(v), default=_jsonable)}")
             for k, v in report.meta.items() if k not in ("columns",)]
    console.print(Text(terminal(report.name)))
    if notes:
        console.print(Text("\n".join(notes)))
    natural = [max([cell_len(terminal(c)), *(cell_len(r[i]) for r in rows)]) for i, c in enumerate(report.columns)]
    has_text = "text" in report.columns
    fixed = sum(w for c, w in zip(report.columns, natural, strict=True) if c != "text")
    room = width - fixed - 3 * (len(report.columns) - 1)  # a space, the divider, a space
    if room < (12 if has_text else 0):
        # too narrow for one line per row without splitting a link or a handle: one "column: value"
        # line per cell, a blank line between records (psql's expanded display)
        label = max((len(terminal(c)) for c in report.columns), default=0)
        for row in rows:
            for column, value in zip(report.columns, row, strict=True):
                console.print(Text(f"{terminal(column):<{label}}  {value}"), overflow="ignore", crop=False)
            console.print()
        return buffer.getvalue()
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for i, column in enumerate(report.columns):
        sample = [r[i] for r in report.rows[:50]]
        numeric = any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sample)
        header = Text(terminal(column))
        if column == "text":
            table.add_column(header, overflow="ellipsis", no_wrap=True,
                             width=max(min(room, natural[i], TABLE_TEXT_CHARS), 1))
        else:
            table.add_column(header, justify="right" if numeric else "left", no_wrap=True, width=natural[i])
    for row in rows:
        table.add_row(*(Text(c) for c in row))
    console.print(table)
    return buffer.getvalue()


def write(report: Report, fmt: Format, output: Path | None, *, stdout: IO[str] | None = None,
          excel_safe: bool = False, width: int | None = None) -> None:
    """Write ``report`` as ``fmt`` to ``output`` (or ``stdout``; Parquet needs a file)."""
    if fmt == "parquet":
        if output is None:
            raise ValueError("--format parquet needs --output FILE")
        to_parquet(report, output)
        return
    to_terminal = False
    if output is None:
        assert stdout is not None
        try:
            to_terminal = stdout.isatty()
        except (AttributeError, ValueError):
            to_terminal = False
    buffer = io.StringIO()
    if fmt == "csv":
        to_csv(report, buffer, excel_safe=excel_safe, to_terminal=to_terminal)
    elif fmt == "tsv":
        to_tsv(report, buffer, excel_safe=excel_safe, to_terminal=to_terminal)
    elif fmt == "json":
        buffer.write(to_json(report) + "\n")
    elif fmt == "nl":
        to_nl(report, buffer)
    elif fmt == "table":
        buffer.write(to_table(report, width=width or (terminal_width(stdout) if output is None else None)))
    else:
        raise ValueError(f"unknown format {fmt!r}")
    text = _SURROGATE.sub("\ufffd", buffer.getvalue())  # the one change a UTF-8 file forces on data
    if output is None:
        assert stdout is not None
        stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8", newline="")


def default_format(fmt: str | None, output: Path | None, stdout: IO[str]) -> Format:
    """The format when none was asked: a table on a terminal, TSV into a pipe or a file."""
    if fmt is not None:
        return fmt  # type: ignore[return-value]  # fmt is one of FORMATS (click.Choice checked it); the Literal cannot be inferred from a str
    if output is not None:
        by_suffix: dict[str, Format] = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".txt": "table"}
        return by_suffix.get(output.suffix.lower(), "tsv")
    try:
        return "table" if stdout.isatty() else "tsv"
    except (AttributeError, ValueError):
        return "tsv"


def rows_as_text(rows: Sequence[Sequence[Any]]) -> list[list[str]]:
    """Terminal-safe strings of every cell (for callers printing their own lines)."""
    return [[terminal(str(_flat(v))) for v in row] for row in rows]
