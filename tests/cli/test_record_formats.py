"""`monitor channels list` in every format of the reports, through the reports' writer: the watch list
as data (typed Parquet, raw CSV), spreadsheet hardening only when asked, terminal output escaped.

Label values come from whoever edits the config, which may be pasted from a channel's own
description: a formula and an escape sequence in one are the hostile cases here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main

FORMULA = '=HYPERLINK("http://evil.example","x")'
ESCAPE = "\x1b]0;pwned\x07TJ\u202e"


def config(tmp_path: Path) -> Path:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"format": "monitor-scenario/1", "channels": [], "faults": []}), "utf-8")
    path = tmp_path / "monitor.toml"
    path.write_text(
        "[monitor]\ndatabase = \"monitor.db\"\n\n[source]\nkind = \"scenario\"\nscenario = \"scenario.json\"\n\n"
        "[polling]\ninterval = 600\n\n"
        f"[[channels]]\nhandle = \"@ozod_sado\"\nlabels = {{ note = {json.dumps(FORMULA)}, country = {json.dumps(ESCAPE)} }}\n\n"
        "[[channels]]\nhandle = \"https://t.me/markaziy_xabar\"\npoll_interval = 90\n",
        "utf-8",
    )
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["channels", "list", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_channels_list_in_every_format(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    cfg = str(config(tmp_path))
    code, out = invoke("-c", cfg)  # into a pipe: TSV with a header, cells as configured
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "channel\tinterval_seconds\tdefault_interval\tlabels"
    assert lines[1] == f"ozod_sado\t600.0\tTrue\tnote={FORMULA}; country={ESCAPE}"
    assert lines[2] == "markaziy_xabar\t90.0\tFalse\t"

    code, out = invoke("-c", cfg, "--format", "csv", "-o", str(tmp_path / "raw.csv"))
    assert code == 0, out
    with (tmp_path / "raw.csv").open(encoding="utf-8", newline="") as f:
        raw = list(csv.reader(f))
    assert raw[1] == ["ozod_sado", "600.0", "True", f"note={FORMULA}; country={ESCAPE}"]

    code, out = invoke("-c", cfg, "--format", "json")
    assert code == 0 and "\x1b" not in out and "\u202e" not in out
    data = json.loads(out)
    assert data["report"] == "channels" and data["meta"]["channels"] == 2
    assert data["rows"][0]["labels"] == [f"note={FORMULA}", f"country={ESCAPE}"]  # lossless once decoded
    assert data["rows"][1] == {"channel": "markaziy_xabar", "interval_seconds": 90.0, "default_interval": False,
                               "labels": []}

    code, out = invoke("-c", cfg, "--format", "table")
    assert code == 0 and "ozod_sado" in out and "\x1b" not in out and "\u202e" not in out and "\x07" not in out

    code, out = invoke("-c", cfg, "--format", "parquet")
    assert code == 2 and "needs --output" in out
    code, out = invoke("-c", cfg, "-o", str(tmp_path / "w.parquet"))
    assert code == 0, out
    table = pq.read_table(tmp_path / "w.parquet")
    assert [str(f.type) for f in table.schema] == ["string", "double", "bool", "list<element: string>"]
    assert table.column("labels").to_pylist()[0] == [f"note={FORMULA}", f"country={ESCAPE}"]


def test_excel_safe_neutralises_a_formula_that_starts_a_cell(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    config(tmp_path)
    text = path.read_text("utf-8").replace(f"note = {json.dumps(FORMULA)}, ", "")
    path.write_text(text.replace(f"country = {json.dumps(ESCAPE)}", f"x = {json.dumps('y')}"), "utf-8")
    # a label cell starting with "=": only the first label leads the cell
    path.write_text(path.read_text("utf-8").replace('x = "y"', f'"=cmd" = {json.dumps("1+1")}'), "utf-8")
    for fmt in ("csv", "tsv"):
        code, out = invoke("-c", str(path), "--format", fmt, "-o", str(tmp_path / f"w.{fmt}"))
        assert code == 0, out
        assert "\n" + "ozod_sado" in (tmp_path / f"w.{fmt}").read_text("utf-8")
        assert "=cmd=1+1" in (tmp_path / f"w.{fmt}").read_text("utf-8")
        assert "'=cmd=1+1" not in (tmp_path / f"w.{fmt}").read_text("utf-8")
        code, out = invoke("-c", str(path), "--format", fmt, "--excel-safe", "-o", str(tmp_path / f"s.{fmt}"))
        assert code == 0, out
        assert "'=cmd=1+1" in (tmp_path / f"s.{fmt}").read_text("utf-8")


def test_status_channel_rows_in_every_format(tmp_path: Path) -> None:
    """`monitor status` prints records like every other command: the channel rows as raw CSV, typed
    Parquet, one JSON object per line; the health check's exit status is the same in every format."""
    from datetime import UTC, datetime

    import pyarrow.parquet as pq
    from storefill import build_database

    from monitor.models import Channel, ChannelRef

    async def fill(store: object) -> None:
        now = datetime.now(UTC)
        await store.add_watch(ChannelRef(key="ozod_sado", username="ozod_sado"), at=now)  # type: ignore[attr-defined]
        await store.set_resolved(  # type: ignore[attr-defined]
            "ozod_sado", Channel(id=1234, username="ozod_sado", title=FORMULA + ESCAPE), at=now
        )

    build_database(tmp_path / "monitor.db", fill)
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[monitor]\ndatabase = "monitor.db"\n[[channels]]\nhandle = "@ozod_sado"\n', "utf-8")

    def status(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["status", "-c", str(cfg), *args])
        return result.exit_code, result.stdout

    codes = set()
    code, out = status("--format", "csv", "-o", str(tmp_path / "s.csv"))
    codes.add(code)
    with (tmp_path / "s.csv").open(encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    assert [r["channel"] for r in raw] == ["ozod_sado"] and raw[0]["title"] == FORMULA + ESCAPE  # raw cells
    code, out = status("--format", "csv", "--excel-safe", "-o", str(tmp_path / "safe.csv"))
    codes.add(code)
    assert "'=HYPERLINK" in (tmp_path / "safe.csv").read_text("utf-8")
    code, _ = status("--format", "parquet", "-o", str(tmp_path / "s.parquet"))
    codes.add(code)
    assert pq.read_table(tmp_path / "s.parquet").to_pylist()[0]["posts"] == 0  # an integer column
    code, out = status("--format", "nl")
    codes.add(code)
    assert json.loads(out.splitlines()[0])["title"] == FORMULA + ESCAPE and "\x1b" not in out
    code, out = status("--format", "json")
    codes.add(code)
    assert json.loads(out)["channels"][0]["channel"] == "ozod_sado"
    code, out = status("--format", "tsv")
    codes.add(code)
    assert out.splitlines()[0].startswith("channel\ttitle\tstate")
    assert codes == {1}  # no heartbeat: unhealthy, whatever the format
    code, out = status("--format", "parquet")
    assert code == 2  # parquet needs a file, refused before any work
