"""`monitor run` in a subprocess on a virtual clock with `[discovery] quarantine_above`: the daemon puts the
candidate its watched channel keeps pointing at into quarantine, polls it through the fake client's real
Telethon objects, and the reports leave it out unless asked."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .conftest import write_config

START = datetime(2024, 3, 1, tzinfo=UTC)


def _msg(mid: int, hours: float, text: str) -> dict[str, Any]:
    return {"id": mid, "date": (START + timedelta(hours=hours)).isoformat(), "text": text, "views": [[0, 10]]}


def _monitor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)


def test_the_daemon_polls_a_quarantined_candidate_apart(tmp_path: Path) -> None:
    scenario = {"format": "monitor-scenario/1", "channels": [
        {"id": 501, "username": "fan_one", "title": "Fan",
         "messages": [_msg(i, i, f"Zaxira kanal t.me/iskp_zaxira obuna bo'ling {i}") for i in range(1, 5)]},
        {"id": 502, "username": "iskp_zaxira", "title": "Zaxira",
         "messages": [_msg(i, i, f"yangi xabar {i}") for i in range(1, 4)]},
    ]}
    (tmp_path / "s.json").write_text(json.dumps(scenario), "utf-8")
    config = write_config(
        tmp_path, tmp_path / "s.json", ["@fan_one"],
        source={"clock": "virtual", "virtual_step": 43200,
                "virtual_start": (START + timedelta(hours=12)).isoformat(),
                "virtual_end": (START + timedelta(hours=48)).isoformat()},
        discovery={"quarantine_above": 5.0},
    )
    run = _monitor("run", "-c", str(config), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "candidate in quarantine" in run.stdout + run.stderr

    def posts(*extra: str) -> int:
        out = _monitor("report", "volume", "-c", str(config), "--format", "json", *extra, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        return sum(int(r["posts"]) for r in json.loads(out.stdout)["rows"])

    assert (posts(), posts("--quarantined")) == (4, 7)
    listed = json.loads(_monitor("discovery", "list", "-c", str(config), "--json", cwd=tmp_path).stdout)
    assert [(c["candidate"], c["quarantined"]) for c in listed] == [("@iskp_zaxira", True)]
    status = json.loads(_monitor("status", "-c", str(config), "--json", cwd=tmp_path).stdout)
    assert [c["channel"] for c in status["channels"]] == ["fan_one"]  # not in the watch list
    assert status["counts"]["watched"] == 1 and status["counts"]["posts"] == 7
