"""The oldest numpy that pyproject.toml allows must work: the numpy-using tests run again on it.

numpy is used by the SimHash fingerprint, the language engine's model and the spread report's
near-duplicate search; their tests run here with the floor version installed into a temporary
target that shadows the venv's numpy. Skips (with the reason) when no package index is reachable.
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
TESTS = ["tests/core", "tests/reports/test_report_spread.py", "tests/tagging/test_language_engines.py"]


def _floor(name: str) -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    for dep in deps:
        match = re.fullmatch(rf"{name}>=([\d.]+)(?:,.*)?", dep.split(";")[0].strip())
        if match:
            return match.group(1)
    raise AssertionError(f"no {name}>= floor in pyproject.toml")


@pytest.mark.slow
def test_numpy_users_pass_on_the_lowest_supported_numpy(tmp_path: Path) -> None:
    floor = _floor("numpy")
    version = floor if floor.count(".") == 2 else f"{floor}.*"
    target = tmp_path / "numpy-oldest"
    got = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), f"numpy=={version}"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if got.returncode != 0:
        pytest.skip(f"numpy {version} could not be installed (no package index?): {got.stderr[-300:]}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT / "src")])}
    installed = subprocess.run(
        [sys.executable, "-c", "import numpy; print(numpy.__version__)"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.strip()
    assert installed.startswith(floor), installed
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
