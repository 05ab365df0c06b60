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


def test_a_virtual_clock_run_asks_for_similar_channels_and_hashtags_every_search_every(tmp_path: Path) -> None:
    """The discovery rounds run on a virtual clock too (once per ``search_every`` of virtual time, after
    the tick's polls), so a replayed scenario fills the queue from Telegram's recommendations and
    hashtag search as a live daemon would, the same way every run."""
    scenario = {"format": "monitor-scenario/1", "channels": [
        {"id": 501, "username": "fan_one", "title": "Fan", "similar": [503, 505],
         "messages": [_msg(i, i, f"salom {i}") for i in range(1, 5)]},
        {"id": 503, "username": "hijrat_news", "title": "Hijrat", "messages": [_msg(1, 1, "#hijrat bugun")]},
        # posts with the hashtag only on the third day: found by a later round
        {"id": 504, "username": "late_news", "title": "Late", "messages": [_msg(1, 60, "yana #hijrat")]},
        {"id": 505, "username": None, "title": "Guruh", "kind": "megagroup", "messages": []},
    ]}
    (tmp_path / "s.json").write_text(json.dumps(scenario), "utf-8")
    config = write_config(
        tmp_path, tmp_path / "s.json", ["@fan_one"],
        source={"clock": "virtual", "virtual_step": 43200,
                "virtual_start": (START + timedelta(hours=12)).isoformat(),
                "virtual_end": (START + timedelta(days=4)).isoformat()},
        discovery={"recommendations": True, "hashtags": ["hijrat"], "search_every": 86400},
    )
    outputs = []
    for _ in range(2):
        (tmp_path / "monitor.db").unlink(missing_ok=True)
        run = _monitor("run", "-c", str(config), cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        rounds = [json.loads(line) for line in run.stderr.splitlines() if '"discovery leads"' in line]
        # a round a day of virtual time (12 h ticks): days 0.5, 1.5, 2.5, 3.5
        assert len(rounds) == 4, run.stderr
        listed = json.loads(_monitor("discovery", "list", "-c", str(config), "--json", cwd=tmp_path).stdout)
        outputs.append(sorted(c["candidate"] for c in listed))
        why = _monitor("discovery", "why", "@hijrat_news", "-c", str(config), cwd=tmp_path).stdout
        assert "Telegram recommends it as similar to @fan_one" in why and "#hijrat" in why
        late = _monitor("discovery", "why", "@late_news", "-c", str(config), cwd=tmp_path).stdout
        assert "1 public post(s) with #hijrat" in late
    assert outputs[0] == outputs[1] == ["@hijrat_news", "@late_news"]
