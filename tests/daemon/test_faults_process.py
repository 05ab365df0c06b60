"""`monitor` as a process against faults: a garbage MTProto endpoint, a wrong server key, a refused session,
and the exact HEALTHCHECK command of the shipped Dockerfile.

Every process is started with its output going to a file, waited on with a bound, and killed by pid in a
finally block, so a regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import rsa

from sources.mtproto_endpoints import endpoint, string_session_for  # tests/ is on sys.path (rootdir packages)
from daemon.conftest import MONITOR, REPO, SRC, make_scenario, write_config

pytestmark = pytest.mark.slow
GRACE = 5  # [monitor] shutdown_grace in these configs


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    e["PYTHONPATH"] = str(SRC) + os.pathsep + e.get("PYTHONPATH", "")
    return {**e, **extra}


@contextmanager
def daemon(args: list[str], log: Path, environ: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    with log.open("w") as sink:
        proc = subprocess.Popen([*MONITOR, *args], stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=environ)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def wait_for(predicate: Any, timeout: float, proc: subprocess.Popen[str] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return bool(predicate())
        time.sleep(0.05)
    return False


def stop_within(proc: subprocess.Popen[str], sig: int, bound: float) -> float:
    started = time.monotonic()
    proc.send_signal(sig)
    proc.wait(timeout=bound + 30)  # bounded either way; the assertion below is the real limit
    took = time.monotonic() - started
    assert took <= bound, f"exited {took:.1f}s after the signal; the shutdown grace is {GRACE}s"
    return took


def telegram_config(folder: Path, port: int, *, key_file: Path | None = None) -> Path:
    lines = [
        "[monitor]",
        'database = "monitor.db"',
        'log_format = "json"',
        "heartbeat_interval = 1",
        f"shutdown_grace = {GRACE}",
        "",
        "[source]",
        'kind = "telegram"',
        "",
        "[polling]",
        "reconnect_max_backoff = 2",
        "",
        "[telegram]",
        'session_file = "collector"',
        "",
        "[telegram.connection]",
        "dc_id = 2",
        'host = "127.0.0.1"',
        f"port = {port}",
    ]
    if key_file is not None:
        lines.append(f"rsa_key_file = {json.dumps(str(key_file))}")
    lines += ["", "[[channels]]", 'handle = "@ozod_sado"', ""]
    path = folder / "monitor.toml"
    path.write_text("\n".join(lines), "utf-8")
    return path


CREDS = {"MONITOR_API_ID": "12345", "MONITOR_API_HASH": "0123456789abcdef0123456789abcdef"}


# -- a garbage MTProto endpoint ------------------------------------------------------------------------


@pytest.mark.parametrize("session", [True, False], ids=["with-session", "no-session"])
@pytest.mark.parametrize("when", ["startup", "connecting", "running"])
def test_run_against_garbage_backs_off_and_stops_on_sigterm_at_every_stage(
    tmp_path: Path, session: bool, when: str
) -> None:
    with endpoint("garbage") as server:
        config = telegram_config(tmp_path, server.port)
        extra = {**CREDS, **({"MONITOR_SESSION": string_session_for(server.port)} if session else {})}
        log = tmp_path / "run.log"
        with daemon(["run", "--config", str(config)], log, env(**extra)) as proc:
            if when == "startup":
                time.sleep(0.5)  # importing, building the tagger: before the daemon's own handlers
            elif when == "connecting":
                assert wait_for(lambda: server.connections > 0, 60, proc), log.read_text()[-3000:]
            else:
                assert wait_for(lambda: "reconnect failed" in log.read_text(), 60, proc), log.read_text()[-3000:]
            assert proc.poll() is None, log.read_text()[-3000:]
            stop_within(proc, signal.SIGTERM, GRACE + 3)
        out = log.read_text()
        # so early the interpreter may not even have its handler yet: dying of the signal is ending too
        assert proc.returncode in ((0, -signal.SIGTERM) if when == "startup" else (0,)), out[-3000:]
        assert "Traceback" not in out and "InvalidBufferError" not in out.split("error")[0]
        assert len(out.splitlines()) < 200  # no busy loop of reconnects filling the log
        if when == "running":
            faults = [json.loads(line) for line in out.splitlines() if '"reconnect failed"' in line or "cannot connect yet" in line]
            assert faults and all("MTProto" in f["error"] or "connection" in f["error"].lower() for f in faults)
            assert server.connections <= 12  # backoff, not a tight loop


def test_sigint_during_startup_ends_the_process_too(tmp_path: Path) -> None:
    with endpoint("random") as server:  # accepts, then never completes a frame
        config = telegram_config(tmp_path, server.port)
        log = tmp_path / "run.log"
        extra = {**CREDS, "MONITOR_SESSION": string_session_for(server.port)}
        with daemon(["run", "--config", str(config)], log, env(**extra)) as proc:
            assert wait_for(lambda: server.connections > 0, 60, proc), log.read_text()[-3000:]
            stop_within(proc, signal.SIGINT, GRACE + 3)
    assert "Traceback" not in log.read_text()


def test_login_against_garbage_is_a_clear_error_and_does_not_hang(tmp_path: Path) -> None:
    with endpoint("garbage") as server:  # an endpoint that never answers is bounded too (tests/sources)
        config = telegram_config(tmp_path, server.port)
        started = time.monotonic()
        done = subprocess.run(
            [*MONITOR, "login", "--config", str(config), "--phone", "+999"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=env(**CREDS),
            timeout=90,
        )
    assert time.monotonic() - started < 60
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: cannot log in") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_wrong_server_key_is_reported_as_such_and_not_retried_forever(tmp_path: Path) -> None:
    pub, _ = rsa.newkeys(512)
    key_file = tmp_path / "server.pub"
    key_file.write_bytes(pub.save_pkcs1())
    with endpoint("respq") as server:
        config = telegram_config(tmp_path, server.port, key_file=key_file)
        done = subprocess.run(
            [*MONITOR, "run", "--config", str(config)], capture_output=True, text=True, env=env(**CREDS), timeout=90
        )
    assert done.returncode == 2, done.stderr[-3000:]
    assert "server key does not match" in done.stderr and "rsa_key_file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_monitor_session_that_is_not_a_string_session_is_refused(tmp_path: Path) -> None:
    config = telegram_config(tmp_path, 9)
    secret = "my-collector-session-NOT-A-STRING"
    done = subprocess.run(
        [*MONITOR, "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env(**CREDS, MONITOR_SESSION=secret),
        timeout=90,
    )
    assert done.returncode == 2, done.stderr
    assert "MONITOR_SESSION" in done.stderr and "string session" in done.stderr  # refused by the settings check
    assert secret not in done.stdout + done.stderr
    assert not list(tmp_path.glob("*.session")) and not (tmp_path / f"{secret}.session").exists()


# -- a refused session and the health check -------------------------------------------------------------


def scenario_config(tmp_path: Path, faults: list[dict[str, Any]]) -> Path:
    scenario = make_scenario(channels=2, posts=5, faults=faults)
    (tmp_path / "s.json").write_text(json.dumps(scenario), "utf-8")
    return write_config(
        tmp_path,
        tmp_path / "s.json",
        ["@chan_0000", "@chan_0001"],
        monitor={"shutdown_grace": GRACE},
        polling={"reconnect_max_backoff": 1},
    )


def status(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MONITOR, "status", "--config", str(config), *args], capture_output=True, text=True, env=env(), timeout=60)


def beating(db: Path, pid: int) -> bool:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT pid FROM heartbeat").fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None and row[0] == pid


def test_a_session_revoked_mid_run_fails_status_while_the_daemon_keeps_running(tmp_path: Path) -> None:
    config = scenario_config(tmp_path, [{"method": "iter_messages", "channel": "chan_0001", "nth": 3, "error": "session_revoked"}])
    log = tmp_path / "run.log"
    with daemon(["run", "--config", str(config)], log, env()) as proc:
        refused = lambda: "UNAUTHORIZED" in status(config).stdout  # noqa: E731
        assert wait_for(refused, 60, proc), log.read_text()[-3000:]
        time.sleep(2.5)  # the heartbeat keeps beating and the loop keeps trying
        assert proc.poll() is None
        assert beating(tmp_path / "monitor.db", proc.pid)
        shown = status(config, "--json")
        assert shown.returncode == 1
        report = json.loads(shown.stdout)
        assert report["heartbeat"]["state"] == "unauthorized"
        assert all(r["state"].startswith("unauthorized (the Telegram session was refused since") for r in report["channels"])
        # the error that caused it is shown with its time (issue: a channel's last error shows when)
        assert all(r["last_error"] and r["last_error_at"].startswith("20") for r in report["channels"])
        stop_within(proc, signal.SIGTERM, GRACE + 3)
    out = log.read_text()
    assert proc.returncode == 0
    refusals = [json.loads(line) for line in out.splitlines() if "refuse" in line and '"level": "error"' in line]
    assert refusals and all("SESSION_REVOKED" in json.dumps(r) for r in refusals)
    assert len(refusals) < 20  # slow retries, not a log flood


def healthcheck_command() -> list[str]:
    """The exact HEALTHCHECK CMD of docker/Dockerfile (exec form, possibly continued over lines)."""
    text = (REPO / "docker" / "Dockerfile").read_text("utf-8").replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("HEALTHCHECK"))
    cmd = line.split(" CMD ", 1)[1].strip()
    return json.loads(cmd) if cmd.startswith("[") else shlex.split(cmd)


def test_the_dockerfile_healthcheck_passes_on_a_running_daemon_and_fails_on_a_stopped_one(tmp_path: Path) -> None:
    command = healthcheck_command()
    assert command[0] == "monitor"
    config = scenario_config(tmp_path, [])
    check_env = env(MONITOR_CONFIG=str(config))  # as the image sets it

    def healthcheck() -> subprocess.CompletedProcess[str]:
        return subprocess.run([*MONITOR, *command[1:]], capture_output=True, text=True, env=check_env, timeout=10, cwd=tmp_path)

    log = tmp_path / "run.log"
    with daemon(["run", "--config", str(config)], log, env()) as proc:
        assert wait_for(lambda: beating(tmp_path / "monitor.db", proc.pid), 60, proc), log.read_text()[-3000:]
        healthy = healthcheck()
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        stop_within(proc, signal.SIGTERM, GRACE + 3)
    unhealthy = healthcheck()
    assert unhealthy.returncode != 0
    assert "Traceback" not in unhealthy.stderr
