"""mypy runs clean on the modules that hold the core grammar, the settings and the sinks.

Strict for the core (channel identity) and for settings, config editing and the sink
registry: these are what other layers call, so their signatures are the contract. The
list grows as modules are brought to zero errors; a new module joins it, never leaves.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STRICT = [
    "src/monitor/identity.py",
    "src/monitor/settings",
    "src/monitor/config_file.py",
    "src/monitor/alerts/sinks",
    "src/monitor/sources/links.py",
    "src/monitor/web",
    "src/monitor/reports/posts.py",
    "src/monitor/cli/web.py",
]


@pytest.mark.slow
def test_mypy_strict_has_zero_errors(request: pytest.FixtureRequest) -> None:
    cache_provider = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache = cache_provider.mkdir("mypy") if cache_provider is not None else None
    command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *STRICT]
    if cache is not None:
        command[3:3] = ["--cache-dir", str(cache)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_type_ignore_in_these_modules_says_why() -> None:
    files = [p for entry in STRICT for p in ([REPO / entry] if entry.endswith(".py") else (REPO / entry).rglob("*.py"))]
    bare = [
        f"{path.relative_to(REPO)}:{n}"
        for path in files
        for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if "type: ignore" in line and not line.split("type: ignore", 1)[1].split("]", 1)[-1].strip().startswith("#")
    ]
    assert bare == [], f"type: ignore without a reason: {bare}"
