"""`monitor alerts list` and `monitor alerts test RULE` on a real SQLite database and config file."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.alerts.engine import AlertEngine
from monitor.cli.alerts import alerts, parse_when
from monitor.escape import json_text as json_safe
from monitor.clock import FrozenClock

from alerts.rules_support import CHANNELS, AlertStore, config, open_store, save, tagged, tags_for  # noqa: E402

OZOD, KHABAR = CHANNELS["ozod"], CHANNELS["khabar"]
SRC = Path(__file__).resolve().parents[2] / "src"
NOW = datetime.now(UTC).replace(microsecond=0)
EVIL = "ИГИЛ-Хорасан \x1b[31mRED\x1b[0m \u202eevil\u202c \x07bell"

CONFIG = """
[monitor]
database = "monitor.db"

[source]
kind = "scenario"
scenario = "scenario.json"

[[alerts.rules]]
name = "iskp"
kind = "match"
groups = ["ISKP"]
sinks = ["log", "ops"]

[[alerts.rules]]
name = "new-words"
kind = "new_term"
warmup = "1d"

[[alerts.sinks]]
name = "ops"
kind = "log"
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A config and a database with posts of the last days and two alerts (the CLI runs its own loop)."""
    asyncio.run(_build(tmp_path))
    return tmp_path


async def _build(tmp_path: Path) -> None:
    (tmp_path / "monitor.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "scenario.json").write_text("{}", encoding="utf-8")
    store: AlertStore = await open_store(tmp_path, at=NOW - timedelta(days=30))
    try:
        old = NOW - timedelta(days=3)
        await save(
            store, OZOD, [tagged(OZOD, 1, old, "Талибы заняли уезд", tags_for("x", lang="ru"))], at=old
        )
        await save(
            store, KHABAR, [tagged(KHABAR, 1, old, "Боевики в провинции", tags_for("x", lang="ru"))], at=old
        )
        engine = AlertEngine(
            config({"name": "iskp", "kind": "match", "groups": ["ISKP"], "sinks": ["log"]}),
            store,
            FrozenClock(NOW),
        )
        for mid, channel in ((2, OZOD), (3, KHABAR)):
            text = f"Пост {mid}: {EVIL}"
            post = tagged(
                channel,
                mid,
                NOW - timedelta(hours=mid),
                text,
                tags_for(text, groups=[("ISKP", "ИГИЛ-Хорасан")]),
            )
            result = await save(store, channel, [post], at=NOW - timedelta(hours=mid))
            await engine.on_saved(channel, [post], result.inserted_keys)
        plain = tagged(OZOD, 4, NOW - timedelta(hours=1), "Талибы и шахидмобиль", tags_for("x", lang="ru"))
        await save(store, OZOD, [plain], at=NOW)
    finally:
        await store.close()


def run(args: list[str], cwd: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        alerts,
        args,
        catch_exceptions=False,
        env={"MONITOR_CONFIG": str(cwd / "monitor.toml"), "COLUMNS": "250"},
    )
    return result.exit_code, result.output


def assert_terminal_safe(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text


def test_list_shows_fired_alerts_with_delivery_state(workspace: Path) -> None:
    code, out = run(["list", "--since", "2d", "--format", "table"], workspace)
    assert code == 0, out
    assert "alerts: 2" in out and "iskp" in out and "log:pending" in out
    assert "https://t.me/ozod_sado/2" in out and "https://t.me/khabar_tj/3" in out
    assert_terminal_safe(out)


def test_list_as_json_and_filters(workspace: Path) -> None:
    code, out = run(["list", "--format", "json", "--rule", "iskp"], workspace)
    assert code == 0, out
    assert_terminal_safe(out)
    items = json.loads(out)
    # newest first; both fired at the same (frozen) moment, so the later id comes first
    assert [i["link"] for i in items] == ["https://t.me/khabar_tj/3", "https://t.me/ozod_sado/2"]
    assert items[0]["deliveries"] == {"log": "pending"}
    assert "\x1b[31m" in items[0]["details"]["terms"][0]["context"]  # the raw text survives, escaped, in JSON
    code, out = run(["list", "--format", "json", "--rule", "nothing"], workspace)
    assert code == 0 and json.loads(out) == []
    code, out = run(
        ["list", "--format", "json", "--since", (NOW + timedelta(days=1)).date().isoformat()], workspace
    )
    assert json.loads(out) == []


def test_list_in_every_export_format_keeps_the_data_and_escapes_what_a_terminal_sees(
    workspace: Path, tmp_path: Path
) -> None:
    """The reports' formats and writer: CSV/TSV/Parquet files hold the stored text byte for byte (the
    escape sequence and the bidi override included), JSON and NL escape them as \\uXXXX, the table
    drops or shows them; the default into a pipe is TSV."""
    import csv as csvlib

    import pyarrow.parquet as pq

    code, out = run(["list", "--since", "7d"], workspace)  # not a terminal: TSV with a header
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split("\t") == ["id", "fired_at", "rule", "kind", "summary", "link", "channel_id",
                                      "message_id", "deliveries", "details"]
    assert len(lines) == 3 and "\x1b" not in out  # CliRunner's output is not a terminal, but the raw TSV ...
    code, out = run(["list", "--since", "7d", "--format", "tsv", "-o", str(tmp_path / "a.tsv")], workspace)
    assert code == 0, out
    tsv = (tmp_path / "a.tsv").read_text("utf-8").splitlines()
    cell = tsv[1].split("\t")[-1]  # details: JSON text, unsafe characters as \\uXXXX escapes, TSV-escaped
    unescaped = re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), cell)
    assert EVIL in json.loads(unescaped)["terms"][0]["context"]  # ... decodes to the data as stored

    code, out = run(["list", "--since", "7d", "--format", "csv", "-o", str(tmp_path / "a.csv")], workspace)
    assert code == 0, out
    with (tmp_path / "a.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csvlib.DictReader(f))
    assert [r["link"] for r in rows] == ["https://t.me/khabar_tj/3", "https://t.me/ozod_sado/2"]
    details = json.loads(rows[0]["details"])
    assert details["terms"][0]["context"].endswith(EVIL) or EVIL in details["terms"][0]["context"]
    assert rows[0]["deliveries"] == "log:pending" and rows[0]["fired_at"].endswith("Z")

    code, out = run(["list", "--since", "7d", "--format", "nl"], workspace)
    assert code == 0, out
    assert_terminal_safe(out)
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["message_id"] for o in objects] == [3, 2] and objects[0]["deliveries"] == {"log": "pending"}
    assert EVIL in objects[0]["details"]["terms"][0]["context"]  # lossless once decoded

    code, out = run(["list", "--since", "7d", "--format", "table"], workspace)
    assert code == 0 and "https://t.me/ozod_sado/2" in out
    assert_terminal_safe(out)

    code, out = run(["list", "--since", "7d", "--format", "parquet"], workspace)
    assert code == 2 and "needs --output" in out
    code, out = run(["list", "--since", "7d", "-o", str(tmp_path / "a.parquet")], workspace)
    assert code == 0, out
    table = pq.read_table(tmp_path / "a.parquet")
    assert str(table.schema.field("fired_at").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("message_id").type) == "int64"
    assert str(table.schema.field("deliveries").type) == "list<element: string>"
    assert table.column("deliveries").to_pylist() == [["log:pending"], ["log:pending"]]
    assert EVIL in json.loads(table.column("details")[0].as_py())["terms"][0]["context"]

    code, out = run(["list", "--since", "7d", "--format", "csv", "-o", str(tmp_path / "missing" / "a.csv")],
                    workspace)
    assert code == 1 and out.startswith("error: cannot write") and "Traceback" not in out


def test_test_dry_runs_a_rule_and_writes_nothing(workspace: Path) -> None:
    db = workspace / "monitor.db"
    before = {t: _count(db, t) for t in ("alerts", "deliveries", "terms", "term_days", "alert_rules")}
    code, out = run(["test", "iskp", "--since", "7d"], workspace)
    assert code == 0, out
    assert "2 alert(s) would have been sent to log, ops" in out and "dry run" in out
    assert_terminal_safe(out)
    code, out = run(["test", "new-words", "--since", "2d", "--format", "json"], workspace)
    assert code == 0, out
    result = json.loads(out)
    terms = sorted(t["term"] for a in result["alerts"] for t in a["details"]["terms"])
    # the look-back (3 days ago) taught it талиб/уезд/боевик/провинц; the last two days are new words
    assert "шахидмобил" in terms and "талиб" not in terms and "боевик" not in terms
    assert result["posts_evaluated"] == 3 and result["posts_replayed"] == 5
    assert {t: _count(db, t) for t in before} == before


def test_unknown_rule_and_missing_database_are_clear_errors(workspace: Path, tmp_path: Path) -> None:
    code, out = run(["test", "nope"], workspace)
    assert code == 2 and "no rule named 'nope'" in out and "iskp, new-words" in out
    code, out = run(["list", "--database", str(tmp_path / "absent" / "x.db")], workspace)
    assert code == 1 and "no database at" in out


def test_list_in_a_real_subprocess(workspace: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "MONITOR_CONFIG": str(workspace / "monitor.toml"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    proc = subprocess.run(
        [sys.executable, "-c", "from monitor.cli.alerts import alerts; alerts()", "list", "--since", "7d"],
        capture_output=True,
        text=True,
        env=env,
        cwd=workspace,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "https://t.me/khabar_tj/3" in proc.stdout
    assert_terminal_safe(proc.stdout)


def test_json_safe_escapes_what_drives_terminals() -> None:
    assert json_safe('"a\u202eb\u0085c\u200bd"') == '"a\\u202eb\\u0085c\\u200bd"'
    assert json.loads(json_safe(json.dumps("x\u202ey", ensure_ascii=False))) == "x\u202ey"


def test_parse_when() -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert parse_when("7d", now=now) == datetime(2026, 3, 3, 12, tzinfo=UTC)
    assert parse_when("2026-03-01", now=now) == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_when("2026-03-01T06:30+05:00", now=now) == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)


def _count(db: Path, table: str) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_retro_reports_earlier_occurrences_without_writing(workspace: Path) -> None:
    db = workspace / "monitor.db"
    before = {t: _count(db, t) for t in ("alerts", "terms", "alert_rules")}
    code, out = run(["retro", "iskp", "--format", "json"], workspace)
    assert code == 0, out
    report = json.loads(out)
    assert report["total"] == 2 and report["by_tags"] == 2
    assert sorted(o["link"] for o in report["occurrences"]) == ["https://t.me/khabar_tj/3", "https://t.me/ozod_sado/2"]
    assert {t: _count(db, t) for t in before} == before
    code, out = run(["retro", "iskp"], workspace)
    assert code == 0 and "2 earlier occurrence(s)" in out
    assert_terminal_safe(out)
