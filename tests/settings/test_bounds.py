"""Every number has an upper bound with its unit in the message: values that would crash or
silently disable `monitor run` are refused by `monitor check` (exit 2), each at its key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.settings import check

BASE = '[source]\nkind = "scenario"\nscenario = "s.json"\n'
HOSTILE = {
    "polling.interval": ("[polling]\ninterval = 1e308\n", "seconds"),
    "monitor.heartbeat_interval": ("[monitor]\nheartbeat_interval = 1e308\n", "seconds"),
    "channels[0].poll_interval": ('[[channels]]\nhandle = "@ozod_sado"\npoll_interval = 1e308\n', "seconds"),
    "polling.backfill_days": ("[polling]\nbackfill_days = 1e300\n", "days"),
    "monitor.text_retention_days": (f"[monitor]\ntext_retention_days = {2**63 - 1}\n", "days"),
    "polling.requests_per_minute": ("[polling]\nrequests_per_minute = 1e-300\n", "requests per minute"),
    "alerts.rules[0].cooldown": (
        '[[alerts.rules]]\nname = "r"\nkind = "match"\ngroups = ["iskp"]\ncooldown = 1e308\n',
        "days",
    ),
    "keywords": (
        "".join(f'[[keywords]]\nterm = "w{i}[a-z]+"\nmode = "pattern"\n' for i in range(5000)),
        "at most 1000",
    ),
}


def config(tmp_path: Path, body: str) -> Path:
    (tmp_path / "s.json").write_text("{}", "utf-8")
    path = tmp_path / "m.toml"
    path.write_text(BASE + body, "utf-8")
    return path


@pytest.mark.parametrize("key", list(HOSTILE))
def test_a_hostile_number_is_refused_at_its_key_with_its_unit(tmp_path: Path, key: str) -> None:
    body, unit = HOSTILE[key]
    problems = check(config(tmp_path, body), env={})
    assert [p.where.split(": ", 1)[1] for p in problems] == [key]
    assert unit in problems[0].message


def test_bound_messages_name_the_range_and_the_unit(tmp_path: Path) -> None:
    problems = check(config(tmp_path, "[polling]\ninterval = 1e308\nmax_concurrent = 0\n"), env={})
    messages = {p.where.split(": ", 1)[1]: p.message for p in problems}
    assert messages["polling.interval"] == "must be > 0 and <= 604800 seconds (7 days), got 1e+308"
    assert messages["polling.max_concurrent"] == "must be >= 1 and <= 256 channels, got 0"


def test_monitor_check_refuses_them_all_at_once_with_exit_status_2(tmp_path: Path) -> None:
    body = "".join(b for k, (b, _) in HOSTILE.items() if not k.startswith(("monitor.", "polling.")))
    body += "[monitor]\nheartbeat_interval = 1e308\ntext_retention_days = 9223372036854775807\n"
    body += "[polling]\ninterval = 1e308\nbackfill_days = 1e300\nrequests_per_minute = 1e-300\n"
    path = config(tmp_path, body)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    for key in HOSTILE:
        assert any(line.startswith(f"{path}: {key}: ") for line in lines), (key, done.stdout)
    assert len(lines) == len(HOSTILE)


def test_channels_add_refuses_an_interval_check_would_refuse(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import main

    path = config(tmp_path, "")
    before = path.read_text("utf-8")
    result = CliRunner().invoke(
        main, ["channels", "add", "@ozod_sado", "--interval", "1e308", "-c", str(path)], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert "--interval: must be > 0 and <= 604800 seconds (7 days), got 1e+308" in result.output
    assert path.read_text("utf-8") == before
