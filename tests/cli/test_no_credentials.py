"""Commands that never talk to Telegram run on a config without Telegram credentials; run and login refuse it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MONITOR = [sys.executable, "-m", "monitor"]

CONFIG = """\
[monitor]
database = "m.db"

[telegram]
credentials_file = "{missing}"

[[channels]]
handle = "@somechan"

[[alerts.rules]]
name = "is-any"
kind = "match"
groups = ["IS"]
"""

EXPORT = {
    "name": "Some chan",
    "type": "public_channel",
    "id": 123,
    "messages": [
        {"id": 1, "type": "message", "date": "2024-03-01T10:00:00", "date_unixtime": "1709287200",
         "text": "ИГИЛ взял на себя ответственность"},
    ],
}


def _run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    return subprocess.run(
        [*MONITOR, *args], cwd=tmp_path, input=stdin, capture_output=True, text=True, timeout=180,
        check=False, env=env,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(CONFIG.format(missing=tmp_path / "nowhere" / "creds.toml"), encoding="utf-8")
    (tmp_path / "result.json").write_text(json.dumps(EXPORT, ensure_ascii=False), encoding="utf-8")
    return path


def test_commands_that_do_not_talk_to_telegram_need_no_credentials(tmp_path: Path, config: Path) -> None:
    commands: list[tuple[list[str], set[int]]] = [
        (["import", "--config", str(config), "--all-chats", "result.json"], {0}),
        (["channels", "list", "--config", str(config)], {0}),
        (["status", "--config", str(config)], {0, 1}),  # 1: the daemon never ran here, as a health check says
        (["report", "volume", "--config", str(config)], {0}),
        (["alerts", "list", "--config", str(config)], {0}),
        (["alerts", "test", "--config", str(config), "is-any"], {0}),
        (["retag", "--config", str(config)], {0}),
    ]
    for args, codes in commands:
        result = _run(tmp_path, *args)
        assert result.returncode in codes, (args, result.stderr)
        assert "credentials" not in result.stderr + result.stdout, args
    tagged = _run(tmp_path, "tag", "--config", str(config), stdin="ИГИЛ\n")
    assert tagged.returncode == 0, tagged.stderr
    assert json.loads(tagged.stdout)["groups"] == ["IS"]


def test_run_and_check_still_say_the_credentials_are_missing(tmp_path: Path, config: Path) -> None:
    for args in (["run", "--config", str(config)], ["check", "--config", str(config)]):
        result = _run(tmp_path, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "credentials" in result.stderr + result.stdout, args


def test_status_takes_format_json_and_keeps_json_as_a_hidden_alias(tmp_path: Path, config: Path) -> None:
    assert _run(tmp_path, "import", "--config", str(config), "--all-chats", "result.json").returncode == 0
    as_format = _run(tmp_path, "status", "--config", str(config), "--format", "json")
    alias = _run(tmp_path, "status", "--config", str(config), "--json")
    assert as_format.returncode == alias.returncode == 1  # the daemon never ran here
    data = json.loads(as_format.stdout)
    assert [c["channel"] for c in data["channels"]] == [c["channel"] for c in json.loads(alias.stdout)["channels"]]
    assert data["counts"]["posts"] == 1
    help_text = _run(tmp_path, "status", "--help").stdout
    assert "--format" in help_text and "--json" not in help_text
