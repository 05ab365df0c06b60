"""mypy verifies that every backend implements the store ports, and that the ports themselves are strict-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STRICT = ["src/monitor/store/ports.py", "src/monitor/store/__init__.py", "src/monitor/models.py",
          "src/monitor/store/sqlite/__init__.py"]
BACKENDS = ["src/monitor/store", "tests/store/typing_check.py"]

pytestmark = pytest.mark.slow


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("mypy", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("mypy is not installed (pip install -e '.[dev]')")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context", *args],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )


def test_the_ports_and_the_core_records_are_strict_clean() -> None:
    result = mypy("--strict", *STRICT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_backend_implements_store() -> None:
    result = mypy(*BACKENDS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_fails_for_a_backend_missing_a_method(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from monitor.store.ports import Store\n"
        "class HalfStore(Store):\n"
        "    url = 'x'\n"
        "    async def open(self) -> None: ...\n"
        "def make() -> Store:\n"
        "    return HalfStore()\n",
        "utf-8",
    )
    result = mypy(str(probe))
    assert result.returncode != 0 and "Cannot instantiate abstract class" in result.stdout
