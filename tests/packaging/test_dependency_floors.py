"""The oldest numpy and ijson that pyproject.toml allows must work: the tests that use them run again on them.

numpy is used by the SimHash fingerprint, the language engine's model and the spread report's
near-duplicate search; ijson by the export reader. Their tests run here with the floor versions
installed into a temporary target that shadows the venv's copies (as the oldest Telethon is tested
in test_telethon_versions.py). Skips, with the reason, when no package index is reachable.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USERS = {
    "numpy": ["tests/core", "tests/reports/test_report_spread.py", "tests/tagging/test_language_engines.py"],
    "ijson": ["tests/sources/test_export.py", "tests/daemon/test_import_export.py"],
}


def _floor(name: str) -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    for dep in deps:
        match = re.fullmatch(rf"{name}>=([\d.]+)(?:,.*)?", dep.split(";")[0].split("#")[0].strip())
        if match:
            return match.group(1)
    raise AssertionError(f"no {name}>= floor in pyproject.toml")


@pytest.mark.slow
def test_their_users_pass_on_the_lowest_supported_numpy_and_ijson(tmp_path: Path) -> None:
    target = tmp_path / "oldest"
    floors = {name: _floor(name) for name in USERS}
    specs = [f"{name}=={v}" if v.count(".") == 2 else f"{name}=={v}.*" for name, v in floors.items()]
    got = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), *specs],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if got.returncode != 0:
        pytest.skip(f"{specs} could not be installed (no package index?): {got.stderr[-300:]}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT / "src")])}
    installed = subprocess.run(
        [sys.executable, "-c", "import numpy, ijson; print(numpy.__version__, ijson.__version__)"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.split()
    assert [v.startswith(floors[name]) for name, v in zip(USERS, installed, strict=True)] == [True, True], installed
    tests = [t for users in USERS.values() for t in users]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
