"""Formats and escaping of attacker-controlled text; charts as real PNG and SVG files."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from reports.reportdata import HOSTILE, Dataset

from monitor.reports.charts import write_chart
from monitor.escape import excel_safe, terminal
from monitor.reports.output import to_csv, to_json, to_nl, to_table, to_tsv, write
from monitor.reports.spec import ReportSpec
from monitor.reports.table import Report
from monitor.reports.top import top
from monitor.reports.volume import volume

BAD = ("\x1b", "\x9b", "\x07", "\u202e", "\u202c", "\u2066", "\x00")


class _Tty(io.StringIO):
    """Standard output that says it is a terminal (what `write` checks before escaping CSV/TSV)."""

    def isatty(self) -> bool:
        return True


def _hostile_report() -> Report:
    return Report(name="t", columns=("text", "n", "neg"), rows=[
        (HOSTILE, 1, -5),
        ("+SUM(A1:A9)", 2, -1.5),
        ("-2+3", 3, 0),
        ("@evil", 4, 0),
        ("\tTAB=1", 5, 0),
        ("\rCR=1", 6, 0),
        ("plain [bold]markup[/bold]", 7, 0),
        ("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07", 8, 0),
        ("\x1b[0m=HYPERLINK(\"http://evil.example\")", 9, 0),
        ("  \u200b=1+1", 10, 0),
    ])


def test_csv_keeps_cells_as_stored_by_default() -> None:
    buffer = io.StringIO()
    to_csv(_hostile_report(), buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert [r[0] for r in rows[1:]] == [r[0] for r in _hostile_report().rows]  # raw: joins on @handles work
    assert rows[1][2] == "-5" and rows[2][2] == "-1.5"


def test_excel_safe_neutralises_formulas_even_behind_escapes_and_whitespace() -> None:
    buffer = io.StringIO()
    to_csv(_hostile_report(), buffer, excel_safe=True)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    cells = [r[0] for r in rows[1:]]
    for cell in cells[:6] + cells[8:]:
        assert cell.startswith("'"), cell
    assert cells[6] == "plain [bold]markup[/bold]"
    assert rows[1][2] == "-5" and rows[2][2] == "-1.5"  # numbers are numbers, not formulas


def test_csv_and_tsv_printed_to_a_terminal_carry_no_control_characters() -> None:
    for fmt in ("csv", "tsv"):
        out = _Tty()
        write(_hostile_report(), fmt, None, stdout=out)  # type: ignore[arg-type]
        text = out.getvalue()
        for bad in BAD:
            assert bad not in text, (fmt, bad)
        assert "\\u202eevil\\u202c" in text and "RED" in text
        pipe = io.StringIO()
        write(_hostile_report(), fmt, None, stdout=pipe)  # type: ignore[arg-type]
        assert "\u202eevil\u202c" in pipe.getvalue()  # into a pipe or file: the data as stored


def test_tsv_escapes_tabs_and_newlines_inside_cells() -> None:
    report = Report(name="t", columns=("a", "b"), rows=[("x\ty\nz\\", 1)])
    buffer = io.StringIO()
    to_tsv(report, buffer)
    assert buffer.getvalue() == "a\tb\nx\\ty\\nz\\\\\t1\n"


def test_terminal_rules() -> None:
    assert terminal("a\x1b[31mb\x1b[0mc") == "abc"
    assert terminal("x\u202ey") == "x\\u202ey"
    assert terminal("x\u2066y\u2069") == "x\\u2066y\\u2069"
    assert terminal("line\nnext") == "line\\nnext"
    assert terminal("line\nnext", keep_newlines=True) == "line\nnext"
    assert terminal("Исламское государство") == "Исламское государство"
    assert excel_safe("=1+1") == "'=1+1" and excel_safe("ok") == "ok"


def test_table_and_json_carry_no_control_characters() -> None:
    report = _hostile_report()
    table = to_table(report)
    payload = to_json(report)
    for bad in BAD:
        assert bad not in table
        assert bad not in payload
    assert "[bold]markup[/bold]" in table  # shown as typed, not taken as rich markup
    data = json.loads(payload)
    assert data["rows"][0]["text"] == HOSTILE  # lossless: the escapes decode to the stored text


def test_json_is_utf8_with_rfc3339_times() -> None:
    from datetime import UTC, datetime

    report = Report(name="t", columns=("channel", "at"), rows=[("Исламское", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))],
                    meta={"since": datetime(2024, 1, 1, tzinfo=UTC)})
    payload = to_json(report)
    assert "Исламское" in payload and "\\u0418" not in payload
    data = json.loads(payload)
    assert data["rows"][0]["at"] == "2024-01-02T03:04:05Z" and data["meta"]["since"] == "2024-01-01T00:00:00Z"
    nl = io.StringIO()
    to_nl(report, nl)
    assert [json.loads(line)["channel"] for line in nl.getvalue().splitlines()] == ["Исламское"]


def test_table_fits_the_width_keeps_links_whole_and_puts_metadata_first() -> None:
    link = "https://t.me/some_long_channel_name/123456"
    report = Report(name="top-posts", columns=("rank", "channel", "text", "link"),
                    rows=[(1, "@some_long_channel_name", "слово " * 60, link)], meta={"since": "2024-01-01"})
    for width in (80, 100, 160):
        text = to_table(report, width=width)
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= width, width
        assert link in text and "@some_long_channel_name" in text
        assert text.index("since") < text.index("rank")


async def test_formats_of_a_real_report(dataset: Dataset, tmp_path: Path) -> None:
    spec = ReportSpec(since=date(2021, 4, 1), until=date(2021, 4, 30))
    report = await top(dataset.store, spec, what="posts-by-views", limit=3)
    assert report.as_dicts()[0]["text"] == HOSTILE  # whole, not cut at 80 characters
    out = tmp_path / "top.csv"
    write(report, "csv", out)
    text = out.read_text("utf-8")
    assert HOSTILE in next(csv.reader(io.StringIO(text.split("\n", 1)[1])))  # raw in a file
    write(report, "csv", out, excel_safe=True)
    assert "'=cmd|" in out.read_text("utf-8")
    write(report, "parquet", tmp_path / "top.parquet")
    table = pq.read_table(tmp_path / "top.parquet")
    assert table.num_rows == 3 and table.column_names == list(report.columns)
    assert table.column("views").to_pylist() == [r["views"] for r in report.as_dicts()]
    assert str(table.schema.field("views").type) == "int64"
    assert str(table.schema.field("date").type) == "date32[day]"
    assert str(table.schema.field("groups").type).startswith("list<") and "string" in str(table.schema.field("groups").type)
    assert table.column("text").to_pylist()[0] == HOSTILE
    with pytest.raises(ValueError):
        write(report, "parquet", None)
    write(report, "json", tmp_path / "top.json")
    assert json.loads((tmp_path / "top.json").read_text())["rows"][0]["views"] == 10**7


@pytest.mark.parametrize("kind", ["lines", "stacked", "heatmap"])
async def test_charts_write_png_and_svg(dataset: Dataset, tmp_path: Path, kind: str) -> None:
    by = ("group", "channel") if kind == "heatmap" else ("language",)
    report = await volume(dataset.store, ReportSpec(since=date(2021, 1, 1), until=date(2021, 5, 31),
                                                    every="week", by=by))
    png, svg = tmp_path / f"{kind}.png", tmp_path / f"{kind}.svg"
    write_chart(report, png, kind=kind)  # type: ignore[arg-type]
    write_chart(report, svg, kind=kind)  # type: ignore[arg-type]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")


def test_chart_labels_with_hostile_text(tmp_path: Path) -> None:
    report = Report(name="volume", columns=("period", "group", "posts"), rows=[
        ("2021-01", "$\\frac{1}{0}$ \x1b[31m\u202e", 3), ("2021-02", "$\\frac{1}{0}$ \x1b[31m\u202e", 5),
        ("2021-01", "IS", 1), ("2021-02", "IS", 0),
    ])
    svg = tmp_path / "h.svg"
    write_chart(report, svg)
    text = svg.read_text("utf-8")
    ET.fromstring(text)
    assert "\x1b" not in text and "\u202e" not in text
    with pytest.raises(ValueError):
        write_chart(report, tmp_path / "h.jpg")
    with pytest.raises(ValueError):
        write_chart(report, tmp_path / "h.png", kind="heatmap")


def test_the_table_takes_the_terminals_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    report = Report(name="top-posts", columns=("rank", "channel", "text", "link"),
                    rows=[(1, "@ozod_sado", "слово " * 60, "https://t.me/ozod_sado/123456")])
    out = _Tty()
    write(report, "table", None, stdout=out)  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 72 and "https://t.me/ozod_sado/123456" in out.getvalue()
    monkeypatch.setenv("COLUMNS", "200")
    wide = _Tty()
    write(report, "table", None, stdout=wide)  # type: ignore[arg-type]
    assert max(len(line) for line in wide.getvalue().splitlines()) > 72
