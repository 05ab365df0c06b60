"""Formatting a Report: rich terminal table, CSV, JSON, Parquet; escaping attacker-controlled text.

Post text, channel titles and tag terms come from people we monitor. Before any of it is
shown or written: terminal escape sequences (CSI/OSC) are removed, every other control
character and every bidirectional-override character is replaced by a visible ``\\uXXXX``
escape (so "evil" reversed by U+202E cannot hide a file name), and in CSV a cell starting
with = + - @ TAB or CR gets a leading apostrophe so a spreadsheet shows it as text
instead of evaluating it (OWASP CSV-injection advice). Numbers are left as numbers.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal

from monitor.reports.table import Report

Format = Literal["table", "csv", "json", "parquet"]
FORMATS: tuple[Format, ...] = ("table", "csv", "json", "parquet")

# CSI ... final byte, OSC ... BEL/ST, and two-byte ESC sequences; C1 CSI (0x9b) too
_ANSI = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "\u2028\u2029\ufeff\ufff9-\ufffb]"
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def sanitize_text(value: str, *, keep_newlines: bool = False) -> str:
    """Drop terminal escape sequences; make every other control or bidi character a visible escape."""
    text = _ANSI.sub("", value)

    def escape(match: re.Match[str]) -> str:
        ch = match.group(0)
        if keep_newlines and ch == "\n":
            return ch
        return f"\\u{ord(ch):04x}"

    text = _UNSAFE.sub(escape, text)
    if not keep_newlines:
        text = text.replace("\n", "\\n")
    return text


def csv_safe(value: str) -> str:
    """A sanitized cell that a spreadsheet will not take for a formula."""
    text = sanitize_text(value)
    return "'" + text if text.startswith(_FORMULA_START) or value.startswith(_FORMULA_START) else text


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    if isinstance(value, dict):
        return {sanitize_text(str(k)): _cell(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _flat(value: Any) -> Any:
    """A scalar for CSV and table cells: lists joined with '; ', None as ''."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, float):
        return round(value, 6)
    return value


def to_csv(report: Report, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_safe(c) for c in report.columns])
    for row in report.rows:
        cells = []
        for value in row:
            flat = _flat(value)
            cells.append(csv_safe(flat) if isinstance(flat, str) else flat)
        writer.writerow(cells)


def to_json(report: Report) -> str:
    """One object: name, columns, meta and rows as objects; UTF-8 (Cyrillic as it is: control and
    bidi characters are already escaped by sanitize_text), times in RFC 3339 with Z."""
    payload = {
        "report": report.name,
        "columns": [sanitize_text(c) for c in report.columns],
        "meta": _cell(dict(report.meta)),
        "rows": [dict(zip(report.columns, (_cell(v) for v in row), strict=True)) for row in report.rows],
    }
    return json.dumps(payload, ensure_ascii=False, indent=1, default=json_default)


def json_default(value: Any) -> Any:
    """Datetimes as RFC 3339 UTC with Z, dates as YYYY-MM-DD, anything else as its str."""
    from datetime import date, datetime

    from monitor.when import rfc3339

    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_parquet(report: Report, path: Path) -> None:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    columns: dict[str, list[Any]] = {c: [] for c in report.columns}
    for row in report.rows:
        for name, value in zip(report.columns, row, strict=True):
            value = _cell(value)
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            columns[name].append(value)
    table = pa.table(columns)
    meta = {b"monitor.report": report.name.encode(), b"monitor.meta": json.dumps(_cell(dict(report.meta)),
                                                                                  default=str).encode()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    pq.write_table(table, path)


def to_table(report: Report, *, width: int | None = None) -> str:
    """The rich table as text (colours off): cells are rich Text objects, so '[bold]' in a post is not markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=sanitize_text(report.name), show_lines=False)
    for column in report.columns:
        numeric = any(isinstance(r[report.columns.index(column)], (int, float)) for r in report.rows[:50])
        table.add_column(Text(sanitize_text(column)), justify="right" if numeric else "left", overflow="fold")
    for row in report.rows:
        table.add_row(*(Text(sanitize_text(str(_flat(v)))) for v in row))
    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 160, color_system=None, force_terminal=False, emoji=False,
                      highlight=False, markup=False)
    console.print(table)
    notes = [f"{sanitize_text(str(k))}: {sanitize_text(json.dumps(_cell(v), ensure_ascii=False, default=str))}"
             for k, v in report.meta.items() if k not in ("columns",)]
    if notes:
        console.print(Text("\n".join(notes)))
    return buffer.getvalue()


def write(report: Report, fmt: Format, output: Path | None, *, stdout: IO[str] | None = None) -> None:
    """Write ``report`` as ``fmt`` to ``output`` (or ``stdout``; Parquet needs a file)."""
    if fmt == "parquet":
        if output is None:
            raise ValueError("--format parquet needs --output FILE")
        to_parquet(report, output)
        return
    if fmt == "csv":
        buffer = io.StringIO()
        to_csv(report, buffer)
        text = buffer.getvalue()
    elif fmt == "json":
        text = to_json(report) + "\n"
    elif fmt == "table":
        text = to_table(report)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    if output is None:
        assert stdout is not None
        stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8", newline="")


def rows_as_text(rows: Sequence[Sequence[Any]]) -> list[list[str]]:
    """Sanitized strings of every cell (for callers printing their own lines)."""
    return [[sanitize_text(str(_flat(v))) for v in row] for row in rows]
