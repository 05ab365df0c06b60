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
from reportdata import HOSTILE, Dataset

from monitor.reports.charts import write_chart
from monitor.reports.output import csv_safe, sanitize_text, to_csv, to_json, to_table, write
from monitor.reports.spec import ReportSpec
from monitor.reports.table import Report
from monitor.reports.top import top
from monitor.reports.volume import volume

BAD = ("\x1b", "\x9b", "\x07", "\u202e", "\u202c", "\u2066", "\x00")


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
    ])


def test_csv_neutralises_formulas_and_escapes() -> None:
    buffer = io.StringIO()
    to_csv(_hostile_report(), buffer)
    text = buffer.getvalue()
    for bad in BAD:
        assert bad not in text
    rows = list(csv.reader(io.StringIO(text)))
    cells = [r[0] for r in rows[1:]]
    assert cells[0].startswith("'=cmd|")
    assert "\\u202eevil\\u202c" in cells[0] and "[31m" not in cells[0] and "RED" in cells[0]
    for cell in cells[1:6]:
        assert cell.startswith("'"), cell
    assert cells[6] == "plain [bold]markup[/bold]"
    assert cells[7] == "click"  # the OSC 8 hyperlink is gone, its text stays
    assert rows[1][2] == "-5" and rows[2][2] == "-1.5"  # numbers are numbers, not formulas


def test_sanitize_text_rules() -> None:
    assert sanitize_text("a\x1b[31mb\x1b[0mc") == "abc"
    assert sanitize_text("x\u202ey") == "x\\u202ey"
    assert sanitize_text("line\nnext") == "line\\nnext"
    assert sanitize_text("line\nnext", keep_newlines=True) == "line\nnext"
    assert sanitize_text("Исламское государство") == "Исламское государство"
    assert csv_safe("=1+1") == "'=1+1" and csv_safe("ok") == "ok"


def test_table_and_json_carry_no_control_characters() -> None:
    report = _hostile_report()
    table = to_table(report)
    payload = to_json(report)
    for bad in BAD:
        assert bad not in table
        assert bad not in payload
    assert "[bold]markup[/bold]" in table  # shown as typed, not taken as rich markup
    data = json.loads(payload)
    assert data["rows"][0]["text"].startswith("=cmd|' /C calc'!A0 RED \\u202eevil")


async def test_formats_of_a_real_report(dataset: Dataset, tmp_path: Path) -> None:
    spec = ReportSpec(since=date(2021, 4, 1), until=date(2021, 4, 30))
    report = await top(dataset.store, spec, what="posts-by-views", limit=3)
    out = tmp_path / "top.csv"
    write(report, "csv", out)
    text = out.read_text("utf-8")
    assert "\x1b" not in text and "\u202e" not in text and "'=cmd|" in text
    write(report, "parquet", tmp_path / "top.parquet")
    table = pq.read_table(tmp_path / "top.parquet")
    assert table.num_rows == 3 and table.column_names == list(report.columns)
    assert table.column("views").to_pylist() == [r["views"] for r in report.as_dicts()]
    assert "\x1b" not in table.column("text").to_pylist()[0]
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
