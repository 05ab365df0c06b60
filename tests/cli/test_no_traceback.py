"""The CLI never shows a traceback: each bad path, option, config or database is one line and an
exit status (2 usage/config, 1 runtime), through a real `python -m monitor` subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def monitor(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], input=stdin, capture_output=True, text=True,
        timeout=120, env=env, cwd=cwd,
    )


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == code, (result.returncode, result.stderr[-3000:])
    errors = [line for line in result.stderr.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], errors


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from monitor.store import open_store

    path = tmp_path_factory.mktemp("db") / "monitor.db"

    async def make() -> None:
        store = open_store(path)
        await store.open()
        await store.close()

    asyncio.run(make())
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["volume", "-o", "/nonexistent-folder/out.csv", "--format", "csv"],
        ["volume", "-o", "/dev/full", "--format", "csv"],
        ["network", "--graphml", "/nonexistent-folder/net.graphml"],
        ["network", "--gexf", "/nonexistent-folder/net.gexf"],
    ],
    ids=["missing-folder", "dev-full", "graphml", "gexf"],
)
def test_an_output_that_cannot_be_written_is_one_line(db: Path, args: list[str]) -> None:
    result = monitor("report", args[0], "--db", str(db), *args[1:])
    one_line_error(result, 1)
    assert "/nonexistent-folder" in result.stderr or "/dev/full" in result.stderr


def test_a_chart_in_a_missing_folder_is_a_usage_error(db: Path) -> None:
    one_line_error(monitor("report", "volume", "--db", str(db), "--chart", "/nonexistent-folder/c.png"), 2)


def test_an_unknown_engine_is_a_usage_error() -> None:
    one_line_error(monitor("tag", "--engine", "nope", stdin="ИГИЛ\n"), 2, "nope")


def test_a_toml_nested_twenty_thousand_deep_is_a_config_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 20_000 + "]" * 20_000 + "\n", "utf-8")
    result = monitor("check", "--config", str(deep))
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    assert result.returncode == 2, result.stderr[-2000:]


def test_a_corrupt_database_is_one_line_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "monitor.db"
    bad.write_bytes(os.urandom(32 * 1024))
    one_line_error(monitor("report", "volume", "--db", str(bad)), 1, "monitor.db")
