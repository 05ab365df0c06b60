"""Telethon 1.40 through the newest 1.x must work: the source's tests run again on the oldest supported release
(1.40 is the first with channels.checkSearchPostsFlood, which the discovery search sends)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OLDEST = "1.40.0"


@pytest.mark.timeout(960)  # installs Telethon, then runs tests/sources in a subprocess (bounded by 300 + 600 s)
def test_source_tests_pass_on_the_oldest_supported_telethon(tmp_path: Path) -> None:
    target = tmp_path / "telethon-oldest"
    got = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), f"telethon=={OLDEST}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if got.returncode != 0:
        pytest.skip(f"telethon {OLDEST} could not be installed (no package index?): {got.stderr[-300:]}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT / "src")])}
    version = subprocess.run(
        [sys.executable, "-c", "import telethon; print(telethon.__version__)"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    ).stdout.strip()
    assert version == OLDEST
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/sources"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
