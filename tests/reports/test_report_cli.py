"""`monitor report ...` through click: options, formats, errors; one run in a real subprocess."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner
from reports.reportdata import HOSTILE, expected_volume, fill

from monitor.store import open_store
from monitor.cli.report import report


async def _build(path: Path) -> list:
    store = open_store(path)
    await store.open()
    try:
        return (await fill(store)).posts
    finally:
        await store.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    path = tmp_path_factory.mktemp("cli") / "monitor.db"
    posts = asyncio.run(_build(path))
    return path, posts


def _run(*args: str, data: bool = True) -> tuple[int, str]:
    """Exit code and standard output (data), or everything printed (for error messages)."""
    result = CliRunner().invoke(report, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout if data else result.output


def test_volume_json_matches_inputs(db: tuple[Path, list]) -> None:
    path, posts = db
    code, out = _run("volume", "--by", "group,language", "--every", "month", "--since", "2021-01-01",
                     "--until", "2021-04-30", "--format", "json", "--db", str(path))
    assert code == 0, out
    data = json.loads(out)
    assert data["columns"][:3] == ["period", "group", "language"]
    got = {(r["period"], (r["group"], r["language"])): r["posts"] for r in data["rows"] if r["posts"]}
    want = expected_volume(posts, since=date(2021, 1, 1), until=date(2021, 4, 30), every="month",
                           by=("group", "language"))
    assert got == {k: v[0] for k, v in want.items()}


def test_table_output_and_chart(db: tuple[Path, list], tmp_path: Path) -> None:
    path, _ = db
    chart = tmp_path / "c.svg"
    code, out = _run("volume", "--by", "language", "--every", "week", "--lang", "uz-Latn", "--lang", "uz-Cyrl",
                     "--chart", str(chart), "--chart-kind", "stacked", "--db", str(path))
    assert code == 0, out
    assert "uz-Latn" in out and "uz-Cyrl" in out and "ru-Cyrl" not in out
    ET.parse(chart)


def test_csv_parquet_and_network_exports(db: tuple[Path, list], tmp_path: Path) -> None:
    path, _ = db
    code, out = _run("top", "--what", "posts-by-views", "--limit", "2", "--format", "csv", "--db", str(path))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][8] == HOSTILE  # into a pipe: the cell as stored, whole
    code, out = _run("top", "--what", "posts-by-views", "--limit", "2", "--format", "csv", "--excel-safe",
                     "--db", str(path))
    assert list(csv.reader(io.StringIO(out)))[1][8].startswith("'=cmd")
    code, out = _run("trend", "--every", "week", "--format", "parquet", "--db", str(path))
    assert code != 0
    assert "--output" in _run("trend", "--format", "parquet", "--db", str(path), data=False)[1]
    parquet = tmp_path / "t.parquet"
    code, _ = _run("trend", "--every", "week", "--format", "parquet", "-o", str(parquet), "--db", str(path))
    assert code == 0 and parquet.stat().st_size > 0
    graphml, gexf = tmp_path / "n.graphml", tmp_path / "n.gexf"
    code, out = _run("network", "--graphml", str(graphml), "--gexf", str(gexf), "--format", "csv",
                     "--db", str(path))
    assert code == 0, out
    assert nx.read_graphml(graphml).number_of_edges() == nx.read_gexf(gexf).number_of_edges() == len(
        list(csv.DictReader(io.StringIO(out))))


def test_plain_tsv_into_a_pipe_unless_a_table_is_asked(db: tuple[Path, list]) -> None:
    path, _ = db
    code, out = _run("top", "--what", "channels", "--db", str(path))  # CliRunner's stdout is not a terminal
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("\t") == ["rank", "channel", "posts", "views", "forwards"]
    assert all(len(line.split("\t")) == 5 for line in lines)
    code, table = _run("top", "--what", "channels", "--format", "table", "--db", str(path))
    assert code == 0 and "\t" not in table and "rank" in table
    assert table.index("since") < table.index("rank")  # the parameters above the rows


@pytest.mark.parametrize("command", ["reach", "spread", "discovery"])
def test_other_subcommands_run(db: tuple[Path, list], command: str) -> None:
    path, _ = db
    code, out = _run(command, "--format", "json", "--db", str(path))
    assert code == 0, out
    assert json.loads(out)["rows"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["volume", "--by", "group;DROP TABLE posts"], "not a report dimension"),
        (["volume", "--since", "yesterday"], "expected a date"),
        (["volume", "--lang", "uzbek!"], "--lang"),
        (["volume", "--label", "country"], "key=value"),
        (["volume", "--channel", "@nobody_here"], "no such channel"),
        (["volume", "--since", "2021-05-01", "--until", "2021-01-01"], "after"),
    ],
)
def test_bad_options_are_usage_errors(db: tuple[Path, list], args: list[str], message: str) -> None:
    path, _ = db
    code, out = _run(*args, "--db", str(path), data=False)
    assert code == 2 and message in out, out


def test_missing_database_is_an_error(tmp_path: Path) -> None:
    code, out = _run("volume", "--db", str(tmp_path / "nope.db"), data=False)
    assert code == 1 and "no database" in out
    assert not (tmp_path / "nope.db").exists()


def test_config_file_names_the_database(db: tuple[Path, list], tmp_path: Path) -> None:
    path, _ = db
    config = tmp_path / "monitor.toml"
    # a config with problems elsewhere (no channels, no credentials) still names the database
    config.write_text(f'[monitor]\ndatabase = "{path}"\n', encoding="utf-8")
    code, out = _run("top", "--what", "channels", "--format", "json", "-c", str(config))
    assert code == 0 and len(json.loads(out)["rows"]) == 3
    relative = path.parent / "relative.toml"
    relative.write_text(f'[monitor]\ndatabase = "{path.name}"\n', encoding="utf-8")
    code, out = _run("top", "--what", "channels", "--format", "json", "--config", str(relative))
    assert code == 0 and len(json.loads(out)["rows"]) == 3


def test_real_subprocess(db: tuple[Path, list]) -> None:
    path, _ = db
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [sys.executable, "-c", "from monitor.cli.report import report; report()", "volume", "--every", "month",
         "--format", "csv", "--db", str(path)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["period"] for r in rows] == ["2021-01", "2021-02", "2021-03", "2021-04"]


def test_since_and_until_take_the_one_syntax_of_every_command(db: tuple[Path, list]) -> None:
    """A date, a date-time (its UTC day) and a time back from now name the same first day."""
    path, _ = db
    code, by_date = _run("volume", "--since", "2021-01-01", "--format", "json", "--db", str(path))
    assert code == 0, by_date
    code, by_time = _run("volume", "--since", "2021-01-01T18:30:00+05:00", "--format", "json", "--db", str(path))
    assert code == 0, by_time
    assert json.loads(by_time)["rows"] == json.loads(by_date)["rows"]
    code, relative = _run("volume", "--since", "520w", "--until", "0d", "--format", "json", "--db", str(path))
    assert code == 0, relative
    assert json.loads(relative)["rows"]
