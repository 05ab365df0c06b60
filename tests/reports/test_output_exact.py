"""monitor.reports.output, format by format: the exact bytes of one report with every kind of cell.

Written from the mutation run of monitor/reports/output.py (docs/testing.md): the hostile-output and
report-output tests prove that nothing unsafe gets through and that tables fit; these pin what each
format writes (CRLF records, list cells joined with "; ", floats rounded to 6 places, NaN as an empty
cell or null, times as RFC 3339 with Z, dates as ISO dates, sets sorted, formulas neutralised on
request), which a change to the exporters must change on purpose.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from monitor.reports import output as o
from monitor.reports.table import Report

REPORT = Report(
    name="top\x1b[2J",
    columns=("channel", "text", "n", "score", "when", "day", "tags", "flag"),
    rows=[
        (
            "@a\u202e",
            "=1+1\tx\ny",
            3,
            0.1234567891,
            datetime(2024, 3, 1, 12, tzinfo=UTC),
            date(2024, 3, 1),
            ["x", "y"],
            True,
        ),
        (None, "-2\r", -1, float("nan"), datetime(2024, 3, 1, 12), None, (), False),  # noqa: DTZ001  # a naive time is UTC
    ],
    meta={"since": date(2024, 1, 1), "inf": float("inf"), "set": {"b", "a"}, "nested": {1: [float("nan"), 2]}},
)


def written(fn: object, **kw: object) -> str:
    buffer = io.StringIO()
    fn(REPORT, buffer, **kw)  # type: ignore[operator]
    return buffer.getvalue()


def test_csv_as_stored_with_crlf_records() -> None:
    assert written(o.to_csv) == (
        "channel,text,n,score,when,day,tags,flag\r\n"
        '@a\u202e,"=1+1\tx\ny",3,0.123457,2024-03-01T12:00:00Z,2024-03-01,x; y,True\r\n'
        ',"-2\r",-1,,2024-03-01T12:00:00Z,,,False\r\n'
    )


def test_csv_for_a_terminal_and_a_spreadsheet() -> None:
    assert written(o.to_csv, excel_safe=True, to_terminal=True) == (
        "channel,text,n,score,when,day,tags,flag\n"
        "'@a\\u202e,'=1+1\tx\\ny,3,0.123457,2024-03-01T12:00:00Z,2024-03-01,x; y,True\n"
        ",'-2\\u000d,-1,,2024-03-01T12:00:00Z,,,False\n"
    )
    assert written(o.to_csv, excel_safe=True).splitlines()[1].startswith("'@a\u202e,\"'=1+1\tx")


def test_tsv_escapes_and_neutralises() -> None:
    assert written(o.to_tsv) == (
        "channel\ttext\tn\tscore\twhen\tday\ttags\tflag\n"
        "@a\u202e\t=1+1\\tx\\ny\t3\t0.123457\t2024-03-01T12:00:00Z\t2024-03-01\tx; y\tTrue\n"
        "\t-2\\r\t-1\t\t2024-03-01T12:00:00Z\t\t\tFalse\n"
    )
    assert written(o.to_tsv, excel_safe=True, to_terminal=True) == (
        "channel\ttext\tn\tscore\twhen\tday\ttags\tflag\n"
        "'@a\\u202e\t'=1+1\\tx\\ny\t3\t0.123457\t2024-03-01T12:00:00Z\t2024-03-01\tx; y\tTrue\n"
        "\t'-2\\r\t-1\t\t2024-03-01T12:00:00Z\t\t\tFalse\n"
    )
    assert o._tsv_field("a\\b") == "a\\\\b"


def test_json_is_one_lossless_object() -> None:
    text = o.to_json(REPORT)
    assert text.startswith('{\n "report": "top\\u001b[2J",\n "columns": [\n  "channel",\n')
    assert json.loads(text) == {
        "report": "top\x1b[2J",
        "columns": list(REPORT.columns),
        "meta": {"since": "2024-01-01", "inf": None, "set": ["a", "b"], "nested": {"1": [None, 2]}},
        "rows": [
            {
                "channel": "@a\u202e",
                "text": "=1+1\tx\ny",
                "n": 3,
                "score": 0.1234567891,
                "when": "2024-03-01T12:00:00Z",
                "day": "2024-03-01",
                "tags": ["x", "y"],
                "flag": True,
            },
            {
                "channel": None,
                "text": "-2\r",
                "n": -1,
                "score": None,
                "when": "2024-03-01T12:00:00Z",
                "day": None,
                "tags": [],
                "flag": False,
            },
        ],
    }


def test_nl_is_one_object_per_row() -> None:
    assert written(o.to_nl) == (
        '{"channel": "@a\\u202e", "text": "=1+1\\tx\\ny", "n": 3, "score": 0.1234567891, "when": "2024-03-01T12:00:00Z", '
        '"day": "2024-03-01", "tags": ["x", "y"], "flag": true}\n'
        '{"channel": null, "text": "-2\\r", "n": -1, "score": null, "when": "2024-03-01T12:00:00Z", "day": null, '
        '"tags": [], "flag": false}\n'
    )


def test_rows_as_text() -> None:
    assert o.rows_as_text(REPORT.rows) == [
        ["@a\\u202e", "=1+1\tx\\ny", "3", "0.123457", "2024-03-01T12:00:00Z", "2024-03-01", "x; y", "True"],
        ["", "-2\\u000d", "-1", "", "2024-03-01T12:00:00Z", "", "", "False"],
    ]


def test_a_time_in_another_zone_is_written_in_utc() -> None:
    from datetime import timedelta, timezone

    report = Report(
        name="r", columns=("when",), rows=[(datetime(2024, 3, 1, 15, tzinfo=timezone(timedelta(hours=3))),)]
    )
    assert o.to_json(report).count('"2024-03-01T12:00:00Z"') == 1


def test_parquet_columns_are_typed(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    report = Report(
        name="typed",
        columns=("i", "f", "b", "when", "iso", "day", "isoday", "tags", "text", "none", "mixed"),
        rows=[
            (
                1,
                1,
                True,
                datetime(2024, 3, 1, tzinfo=UTC),
                "2024-03-01T12:00:00Z",
                date(2024, 3, 1),
                "2024-03-01",
                ["x"],
                "a\ud800",
                None,
                1,
            ),
            (None, 2.5, None, None, None, None, None, None, None, None, "x"),
            (2, None, False, None, None, None, None, ["y", 3], "b", None, 2.5),
        ],
        meta={"k": 1},
    )
    path = tmp_path / "r.parquet"
    o.to_parquet(report, path)
    table = pq.read_table(path)
    assert {f.name: str(f.type) for f in table.schema} == {
        "i": "int64",
        "f": "double",
        "b": "bool",
        "when": "timestamp[us, tz=UTC]",
        "iso": "timestamp[us, tz=UTC]",
        "day": "date32[day]",
        "isoday": "date32[day]",
        "tags": "list<element: string>",
        "text": "string",
        "none": "string",
        "mixed": "string",
    }
    assert table.column("text").to_pylist() == ["a\ufffd", None, "b"]
    assert table.column("mixed").to_pylist() == ["1", "x", "2.5"]
    assert table.column("f").to_pylist() == [1.0, 2.5, None]
    assert table.column("tags").to_pylist() == [["x"], None, ["y", "3"]]
    assert table.schema.metadata[b"monitor.report"] == b"typed"
    assert json.loads(table.schema.metadata[b"monitor.meta"]) == {"k": 1}
    empty = tmp_path / "e.parquet"
    o.to_parquet(Report(name="e", columns=("a",), rows=[]), empty)
    assert pq.read_table(empty).num_rows == 0


def test_table_cells_are_capped_by_column() -> None:
    assert o._table_cell("text", "x" * 61) == "x" * 59 + "…"
    assert o._table_cell("text", "x" * 60) == "x" * 60
    assert o._table_cell("title", "y" * 121) == "y" * 119 + "…"
    assert o._table_cell("title", "y" * 120) == "y" * 120
    assert o._table_cell("title", "ab " + "y" * 117 + "z") == "ab " + "y" * 116 + "…"


def test_write_to_a_file_and_to_a_stream(tmp_path: Path) -> None:
    report = Report(name="r", columns=("a",), rows=[("x\ud800\u202e",)])
    path = tmp_path / "out.csv"
    o.write(report, "csv", path)
    assert path.read_bytes() == "a\r\nx\ufffd\u202e\r\n".encode()
    stream = io.StringIO()
    o.write(report, "tsv", None, stdout=stream)
    assert stream.getvalue() == "a\nx\ufffd\u202e\n"  # not a terminal: as stored
    stream = io.StringIO()
    o.write(report, "json", None, stdout=stream)
    assert stream.getvalue().endswith("}\n") and json.loads(stream.getvalue())["rows"] == [{"a": "x\ud800\u202e"}]
    stream = io.StringIO()
    o.write(report, "nl", None, stdout=stream)
    assert stream.getvalue() == '{"a": "x\\ud800\\u202e"}\n'
    with pytest.raises(ValueError, match="needs --output"):
        o.write(report, "parquet", None, stdout=io.StringIO())
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        o.write(report, "xml", None, stdout=io.StringIO())  # type: ignore[arg-type]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_write_to_a_terminal_escapes_csv() -> None:
    report = Report(name="r", columns=("a",), rows=[("=x\u202e",)])
    stream = Tty()
    o.write(report, "csv", None, stdout=stream, excel_safe=True)
    assert stream.getvalue() == "a\n'=x\\u202e\n"


def test_default_format() -> None:
    assert o.default_format("json", None, io.StringIO()) == "json"
    assert o.default_format(None, Path("a.CSV"), io.StringIO()) == "csv"
    assert o.default_format(None, Path("a.json"), io.StringIO()) == "json"
    assert o.default_format(None, Path("a.parquet"), io.StringIO()) == "parquet"
    assert o.default_format(None, Path("a.txt"), io.StringIO()) == "table"
    assert o.default_format(None, Path("a.dat"), io.StringIO()) == "tsv"
    assert o.default_format(None, None, io.StringIO()) == "tsv"
    assert o.default_format(None, None, Tty()) == "table"
    assert o.terminal_width(io.StringIO()) == 160 and o.terminal_width(None) == 160


def test_times_are_utc_whatever_the_machine_s_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A naive time from the store is UTC; a collector in Tashkent (UTC+5) must not shift it."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tashkent")
    time.tzset()
    try:
        report = Report(name="r", columns=("when",), rows=[(datetime(2024, 3, 1, 12),)])  # noqa: DTZ001
        assert json.loads(o.to_json(report))["rows"] == [{"when": "2024-03-01T12:00:00Z"}]
    finally:
        monkeypatch.undo()  # the zone the run had, then tell the C library
        time.tzset()


def test_other_values_are_written_as_text() -> None:
    from decimal import Decimal

    report = Report(name="r", columns=("v", "s"), rows=[(Decimal("1.50"), {2, "a", 10})])
    assert json.loads(o.to_json(report))["rows"] == [{"v": "1.50", "s": [10, 2, "a"]}]  # a mixed set sorts as text


def test_a_closed_stream_gets_tsv() -> None:
    stream = io.StringIO()
    stream.close()
    assert o.default_format(None, None, stream) == "tsv"


TABLE = Report(
    name="top\x1b[2J posts",
    columns=("channel", "views", "text", "share"),
    rows=[
        ("@ozod_sado", 1200, "ISIS claimed [bold]an attack[/bold] near the border, said the post", 0.5),
        ("@kanal\u202e", 7, "short", None),
    ],
    meta={"since": "2024-01-01", "columns": ["x"], "ratio": float("nan")},
)


def test_a_table_wide_enough_shows_the_name_the_notes_and_one_line_per_row() -> None:
    assert o.to_table(TABLE, width=100) == (
        "top posts\n"
        'since: "2024-01-01"\n'
        "ratio: null\n"
        "channel        views   text                                                           share\n"
        + "─"
        * 91
        + "\n"
        "@ozod_sado      1200   ISIS claimed [bold]an attack[/bold] near the border, said t…     0.5\n"
        "@kanal\\u202e       7   short                                                               \n"
    )
    # narrower: the text column gives way, nothing else does
    assert o.to_table(TABLE, width=60) == (
        "top posts\n"
        'since: "2024-01-01"\n'
        "ratio: null\n"
        "channel        views   text                            share\n" + "─" * 60 + "\n"
        "@ozod_sado      1200   ISIS claimed [bold]an attack…     0.5\n"
        "@kanal\\u202e       7   short                                \n"
    )


def test_too_narrow_for_a_row_per_line_is_one_line_per_cell() -> None:
    assert o.to_table(TABLE, width=30) == (
        "top posts\n"
        'since: "2024-01-01"\n'
        "ratio: null\n"
        "channel  @ozod_sado\n"
        "views    1200\n"
        "text     ISIS claimed [bold]an attack[/bold] near the border, said t…\n"
        "share    0.5\n"
        "\n"
        "channel  @kanal\\u202e\n"
        "views    7\n"
        "text     short\n"
        "share    \n"
        "\n"
    )
    # 12 columns of room for the text is the least a table gets: 22 fixed + 3 dividers of 3
    assert "─" in o.to_table(TABLE, width=43) and "─" not in o.to_table(TABLE, width=42)


def test_a_table_without_text_needs_only_room_for_its_columns() -> None:
    report = Report(name="n", columns=("a", "b"), rows=[("x" * 30, "y" * 30)])
    assert o.to_table(report, width=63) == (
        "n\na" + " " * 32 + "b" + " " * 29 + "\n" + "─" * 63 + "\n" + "x" * 30 + "   " + "y" * 30 + "\n"
    )
    assert o.to_table(report, width=62) == "n\na  " + "x" * 30 + "\nb  " + "y" * 30 + "\n\n"
    assert o.to_table(Report(name="e", columns=("a",), rows=[])) == "e\na\n─\n"


def test_write_passes_every_option_to_its_format(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    report = Report(name="w", columns=("a", "n"), rows=[("=x", 1)])
    path = tmp_path / "w.parquet"
    o.write(report, "parquet", path)
    assert pq.read_table(path).to_pylist() == [{"a": "=x", "n": 1}]
    stream = io.StringIO()
    o.write(report, "tsv", None, stdout=stream, excel_safe=True)
    assert stream.getvalue() == "a\tn\n'=x\t1\n"
    tty = Tty()
    o.write(Report(name="w", columns=("a",), rows=[("x\u202ey",)]), "tsv", None, stdout=tty)
    assert tty.getvalue() == "a\nx\\u202ey\n"  # to a terminal: escaped
    table = tmp_path / "w.txt"
    o.write(report, "table", table, width=40)
    assert table.read_text("utf-8").startswith("w\na ")


def test_a_row_that_does_not_match_the_columns_fails_loudly_in_every_format() -> None:
    # a cell too few or too many would otherwise shift or drop silently: numbers under the wrong header
    for row in [("x",), ("x", 1, "extra")]:
        report = Report(name="bad", columns=("a", "n"), rows=[row])
        for render in (o.to_json, o.to_table, lambda r: o.to_nl(r, io.StringIO())):
            with pytest.raises(ValueError):
                render(report)


def test_a_short_text_column_is_only_as_wide_as_its_longest_cell() -> None:
    report = Report(name="s", columns=("channel", "text"), rows=[("@a", "short"), ("@bb", "tiny")])
    assert o.to_table(report, width=100) == "s\nchannel   text \n" + "─" * 15 + "\n@a        short\n@bb       tiny \n"


def test_the_default_width_is_160_columns() -> None:
    # 70 + 70 fixed, two dividers of 3: 14 columns left for the text at 160, 15 at 161
    report = Report(name="w", columns=("a", "b", "text"), rows=[("x" * 70, "y" * 70, "z" * 40)])
    assert o.to_table(report) == o.to_table(report, width=160) != o.to_table(report, width=161)
    assert max(len(line) for line in o.to_table(report).splitlines()) == 160


def test_notes_wrap_at_the_width_and_any_value_is_written() -> None:
    report = Report(
        name="n",
        columns=("a",),
        rows=[("x",)],
        meta={"since": date(2024, 1, 1), "labels": {"b", "a"}, "note": "z" * 40},
    )
    assert o.to_table(report, width=30) == (
        "n\n"
        'since: "2024-01-01"\n'
        'labels: ["a", "b"]\n'
        "note: \n"  # rich breaks before a word too long for the line, then folds it
        '"' + "z" * 29 + "\n" + "z" * 11 + '"\n'
        "a\n─\nx\n"
    )


def test_a_capped_cell_keeps_leading_space_and_drops_the_space_before_the_ellipsis() -> None:
    assert o._table_cell("title", " " + "y" * 120) == " " + "y" * 118 + "…"
    assert o._table_cell("title", "y" * 117 + "   z") == "y" * 117 + "…"


class RaisingTty(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


def test_write_defaults_and_a_stream_that_cannot_say_whether_it_is_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    formula = Report(name="f", columns=("a",), rows=[("=x\u202e",)])
    stream = io.StringIO()
    o.write(formula, "csv", None, stdout=stream)
    assert stream.getvalue() == "a\r\n=x\u202e\r\n"  # as stored unless excel_safe is asked for
    stream = RaisingTty()
    o.write(formula, "tsv", None, stdout=stream)
    assert stream.getvalue() == "a\n=x\u202e\n"  # not known to be a terminal: not escaped
    with pytest.raises(ValueError, match=r"^--format parquet needs --output FILE$"):
        o.write(formula, "parquet", None, stdout=io.StringIO())
    # a file gets the full width even when the command runs in a narrow terminal
    monkeypatch.setenv("COLUMNS", "40")
    wide = Report(name="w", columns=("a", "text"), rows=[("x" * 30, "z" * 60)])
    path = tmp_path / "w.txt"
    o.write(wide, "table", path, stdout=Tty())
    assert path.read_text("utf-8") == o.to_table(wide, width=160)
    stream = Tty()
    o.write(wide, "table", None, stdout=stream)
    assert stream.getvalue() == o.to_table(wide, width=40)


def test_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setenv("COLUMNS", "77")
    assert o.terminal_width(Tty()) == 77
    assert o.terminal_width(io.StringIO()) == o.terminal_width(RaisingTty()) == o.terminal_width(None) == 160
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr(sys, "__stdout__", io.StringIO())  # no terminal to ask: the fallback
    assert o.terminal_width(Tty()) == 160


def test_parquet_keeps_types_of_an_empty_report_and_converts_other_zones(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "e.parquet"
    o.to_parquet(Report(name="e", columns=("a", "b"), rows=[], meta={"since": date(2024, 1, 1)}), path)
    table = pq.read_table(path)
    assert [str(f.type) for f in table.schema] == ["string", "string"]
    assert json.loads(table.schema.metadata[b"monitor.meta"]) == {"since": "2024-01-01"}
    report = Report(name="z", columns=("when", "day"), rows=[("2024-03-01T15:00:00+03:00", "2024-03-01")])
    o.to_parquet(report, path)
    assert pq.read_table(path).to_pylist() == [{"when": datetime(2024, 3, 1, 12, tzinfo=UTC), "day": date(2024, 3, 1)}]


def test_a_forced_colour_environment_adds_no_escape_codes_to_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = o.to_table(TABLE, width=100)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    assert o.to_table(TABLE, width=100) == plain and "\x1b" not in plain
