"""`monitor check` passing means `monitor run` starts: check builds the tagger with the analysts'
RE2 pattern sets and the scheduler's triggers, and refuses what they refuse (file: key: message, exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
pytestmark = pytest.mark.slow

HEAD = ['[monitor]', 'database = "monitor.db"', '[[channels]]', 'handle = "@example"', '']


def check(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env |= {"MONITOR_API_ID": "1", "MONITOR_API_HASH": "0123456789abcdef0123456789abcdef"}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "monitor", "check", "--config", str(config)],
                          capture_output=True, text=True, timeout=600, env=env)


def _config(tmp_path: Path, patterns: list[str]) -> Path:
    lines = list(HEAD)
    for term in patterns:
        lines += ["[[keywords]]", f"term = '{term}'", 'mode = "pattern"', ""]
    path = tmp_path / "monitor.toml"
    path.write_text("\n".join(lines), "utf-8")
    return path


@pytest.mark.timeout(600)  # compiling a thousand patterns takes a minute on a busy two-core machine
def test_a_pattern_set_re2_cannot_compile_is_refused_by_check(tmp_path: Path) -> None:
    # each pattern compiles alone and the count is within the settings' bound; together they do not
    patterns = [rf"(?:[а-яa-z]{{1,30}}\s+){{1,12}}w{i}x\d{{1,60}}" for i in range(1000)]
    result = check(_config(tmp_path, patterns))
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    assert result.returncode == 2, (result.stdout[-2000:], result.stderr[-2000:])
    assert "monitor.toml: keywords: the RE2 pattern set does not compile" in result.stdout


def test_a_pattern_re2_refuses_is_refused_by_check(tmp_path: Path) -> None:
    result = check(_config(tmp_path, [r"(?<=look)behind"]))
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert "keywords[0].term" in result.stdout and "RE2" in result.stdout


def test_a_plain_config_still_passes_and_builds(tmp_path: Path) -> None:
    result = check(_config(tmp_path, [r"джихад\w*"]))
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert ": ok (" in result.stdout
