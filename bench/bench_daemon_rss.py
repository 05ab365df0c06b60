"""Peak RSS of `monitor run` with 1,000 configured channels on the offline scenario source.

Writes a scenario of N channels (a few posts each) and a config watching all of
them, starts the real daemon (`python -m monitor run`: real tagger, scheduler,
store), waits until every channel has been polled, reads the process's peak
resident set (VmHWM from /proc) and stops it with SIGTERM. Goal: under 150 MB.

    python bench/bench_daemon_rss.py [--channels 1000] [--posts 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def scenario(channels: int, posts: int) -> dict[str, object]:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    return {
        "format": "monitor-scenario/1",
        "channels": [
            {
                "id": 100_000 + c,
                "username": f"bench_{c:05d}",
                "title": f"Bench {c}",
                "messages": [
                    {
                        "id": i + 1,
                        "date": (start + timedelta(hours=i, seconds=c)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "text": f"Новости {i}: ИГИЛ и Талибан, канал {c}. Yangiliklar {i}.",
                        "views": [[0, 10], [48, 90]],
                    }
                    for i in range(posts)
                ],
            }
            for c in range(channels)
        ],
    }


def config(folder: Path, channels: int) -> Path:
    lines = [
        "[monitor]",
        'database = "bench.db"',
        'log_format = "json"',
        "heartbeat_interval = 5",
        "",
        "[source]",
        'kind = "scenario"',
        'scenario = "scenario.json"',
        "",
        "[polling]",
        "interval = 3600",
        "jitter = 0",
        "max_concurrent = 8",
        "requests_per_minute = 100000",
        "backfill_posts = 1000",
        "backfill_days = 36500",
        "resample_days = 0",
        "",
    ]
    for c in range(channels):
        lines += ["[[channels]]", f'handle = "@bench_{c:05d}"', ""]
    path = folder / "monitor.toml"
    path.write_text("\n".join(lines), "utf-8")
    return path


def polled(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(
                conn.execute("SELECT count(*) FROM watch WHERE last_success_at IS NOT NULL").fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0


def peak_rss_kb(pid: int, field: str = "VmHWM") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--channels", type=int, default=1000)
    ap.add_argument("--posts", type=int, default=5, help="posts per channel")
    ap.add_argument("--timeline", action="store_true", help="print RSS every 2 s while the first pass runs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "scenario.json").write_text(json.dumps(scenario(args.channels, args.posts)), "utf-8")
        cfg = config(folder, args.channels)
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(cfg)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        timeline: list[tuple[float, int, int]] = []  # (seconds, channels polled, RSS kB)
        try:
            while (done := polled(folder / "bench.db")) < args.channels:
                if proc.poll() is not None:
                    raise SystemExit(f"monitor run exited with {proc.returncode}")
                if not timeline or time.monotonic() - t0 - timeline[-1][0] >= 2:
                    timeline.append((time.monotonic() - t0, done, peak_rss_kb(proc.pid, "VmRSS")))
                time.sleep(0.2)
            took = time.monotonic() - t0
            time.sleep(1)
            peak = peak_rss_kb(proc.pid)
            settled = peak_rss_kb(proc.pid, "VmRSS")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
    mb = peak / 1024
    if args.timeline:
        print(f"{'s':>7}{'polled':>8}{'RSS MB':>8}")
        for at, done, kb in timeline:
            print(f"{at:7.1f}{done:8}{kb / 1024:8.1f}")
    probe = (
        "from monitor.tagging import build_tagger; build_tagger(); "
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    tagger_kb = int(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
        ).stdout.split()[-1]
    )
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    print(f"{'channels':>9}{'posts':>8}{'first full pass s':>19}{'peak RSS MB':>13}{'exit':>6}")
    print(f"{args.channels:>9}{args.channels * args.posts:>8}{took:>19.1f}{mb:>13.1f}{code:>6}")
    print(f"RSS once every channel was polled: {settled / 1024:.1f} MB")
    print(f"for scale: a bare process that only builds the tagger peaks at {tagger_kb / 1024:.1f} MB")
    print(f"goal < 150 MB: {'met' if mb < 150 else 'NOT met'}")


if __name__ == "__main__":
    main()
