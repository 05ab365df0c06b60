"""mypy runs clean on all of src with the project's config, strict where other layers call in.

`mypy src` (pyproject's [tool.mypy]): default checks everywhere, --strict's flags for the core,
the store's ports and the pipeline (their signatures are the contract). On top, --strict on
the modules below: settings, config editing and the sink registry. Every `type: ignore` in src
names its code and says why, so an ignore is a decision someone can check, not a silenced error.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORE = [  # strict through pyproject: `mypy src` checks them with --strict's flags
    "monitor.models", "monitor.identity", "monitor.errors", "monitor.clock", "monitor.escape", "monitor.when",
    "monitor.redact", "monitor.store.ports", "monitor.pipeline",
]
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


def _mypy(request: pytest.FixtureRequest, *args: str) -> subprocess.CompletedProcess[str]:
    cache_provider = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache = cache_provider.mkdir("mypy") if cache_provider is not None else None
    command = [sys.executable, "-m", "mypy", "--no-error-summary", *args]
    if cache is not None:
        command[3:3] = ["--cache-dir", str(cache)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_mypy_on_src_with_the_project_config_has_zero_errors(request: pytest.FixtureRequest) -> None:
    done = _mypy(request, "src")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_core_ports_and_pipeline_are_strict_in_the_project_config() -> None:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["mypy"]
    strict = [o for o in config["overrides"] if o.get("disallow_untyped_defs")]
    assert strict and set(CORE) <= set(strict[0]["module"])
    assert all(strict[0].get(flag) for flag in ("disallow_any_generics", "warn_return_any", "disallow_untyped_calls"))


@pytest.mark.slow
def test_mypy_strict_has_zero_errors(request: pytest.FixtureRequest) -> None:
    cache_provider = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache = cache_provider.mkdir("mypy") if cache_provider is not None else None
    command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *STRICT]
    if cache is not None:
        command[3:3] = ["--cache-dir", str(cache)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_type_ignore_in_src_names_its_code_and_says_why() -> None:
    files = sorted((REPO / "src").rglob("*.py"))
    bare = [
        f"{path.relative_to(REPO)}:{n}"
        for path in files
        for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if "type: ignore" in line
        and not (
            line.split("type: ignore", 1)[1].startswith("[")
            and line.split("type: ignore", 1)[1].split("]", 1)[-1].strip().startswith("#")
        )
    ]
    assert bare == [], f"type: ignore without a reason: {bare}"
