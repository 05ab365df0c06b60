"""Team mode at scale: N channels shared by several `monitor run` collectors on one PostgreSQL server.

Each collector is a real subprocess with its own account name and its own fake Telegram client
(the scenario source: real Telethon objects, no network). Every channel has an old post (the
first poll's backfill) and a live post that appears during the run at a random moment; the lag
is the time from a live post's date to its commit (posts.first_seen_at, whole seconds).

Printed: time for the first full round (every channel polled once, backfill included) and for a
steady round (every channel polled again after that), p50/p95 lag of the live posts, the database
load (commits/s of the whole server, which other jobs on a shared machine add to; index and table
scans/s and rows written/s on the bench's own schema), and per collector the leases held and the
peak RSS (VmHWM). Goal: under 150 MB for a collector holding 1,000 channels.

    python bench/bench_collectors.py [--channels 10000] [--collectors 3] [--interval 120]

Needs the PostgreSQL test server (MONITOR_TEST_POSTGRES or postgresql://postgres@127.0.0.1:5432/test);
the bench works in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg

SRC = Path(__file__).resolve().parent.parent / "src"
SERVER = os.environ.get("MONITOR_TEST_POSTGRES") or "postgresql://postgres@127.0.0.1:5432/test"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario(channels: int, live_from: datetime, window: float, rng: random.Random) -> dict[str, Any]:
    old = live_from - timedelta(days=1)
    return {
        "format": "monitor-scenario/1",
        "channels": [
            {
                "id": 100_000 + c,
                "username": f"bench_{c:05d}",
                "title": f"Bench {c}",
                "messages": [
                    {"id": 1, "date": iso(old + timedelta(seconds=c)), "text": f"Новости канала {c}", "views": 10},
                    {
                        "id": 2,
                        "date": iso(live_from + timedelta(seconds=rng.uniform(0, window))),
                        "text": f"ИГИЛ и Талибан: канал {c}. Yangiliklar.",
                        "views": 5,
                    },
                ],
            }
            for c in range(channels)
        ],
    }


def config(folder: Path, url: str, scenario_path: Path, account: str, channels: int, interval: float) -> Path:
    lines = [
        "[monitor]", f"database = {json.dumps(url)}", 'log_format = "json"', "heartbeat_interval = 30", "",
        "[source]", 'kind = "scenario"', f"scenario = {json.dumps(str(scenario_path))}", "",
        "[telegram]", f'account_name = "{account}"', "",
        "[polling]", f"interval = {interval}", f"jitter = {min(30.0, interval / 4)}", "max_concurrent = 16",
        "requests_per_minute = 100000", "backfill_posts = 100", "backfill_days = 36500", "resample_days = 0", "",
        "[collectors]", f"max_channels = {channels}", "",
    ]
    for c in range(channels):
        lines += ["[[channels]]", f'handle = "@bench_{c:05d}"', ""]
    path = folder / "monitor.toml"
    path.write_text("\n".join(lines), "utf-8")
    return path


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def fetch(url: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return list(await conn.fetch(sql))
    except asyncpg.UndefinedTableError:
        return []
    finally:
        await conn.close()


def q(url: str, sql: str) -> list[Any]:
    return asyncio.run(fetch(url, sql))


def count(url: str, sql: str) -> int:
    """A count, 0 while the first collector has not created the tables."""
    rows = q(url, sql)
    return int(rows[0][0]) if rows else 0


def load_counters(url: str, schema: str) -> tuple[float, int, int, int]:
    """(time, server commits, scans on the schema's tables, rows written to them)."""
    [c] = q(url, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
    [s] = q(url, "SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0),"
                 " coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
                 f" FROM pg_stat_user_tables WHERE schemaname = '{schema}'")
    return time.monotonic(), int(c[0]), int(s[0]), int(s[1])


def wait(predicate: Any, procs: list[subprocess.Popen[bytes]], timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        for p in procs:
            if p.poll() is not None:
                log = Path(p.args[-1]).parent / "log"  # type: ignore[index]
                tail = log.read_text("utf-8", errors="replace")[-1500:] if log.exists() else ""
                raise SystemExit(f"a collector exited with {p.returncode}:\n{tail}")
        time.sleep(1.0)
    raise SystemExit(f"timed out after {timeout:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--channels", type=int, default=10_000)
    ap.add_argument("--collectors", type=int, default=3)
    ap.add_argument("--interval", type=float, default=120.0, help="polling.interval, seconds")
    ap.add_argument("--timeout", type=float, default=1800.0)
    args = ap.parse_args()
    rng = random.Random(1)
    schema = "bench_collectors_" + secrets.token_hex(4)
    q(SERVER, f'CREATE SCHEMA "{schema}"')
    parts = urlsplit(SERVER)
    url = urlunsplit(parts._replace(query=urlencode({"search_path": schema})))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            start = datetime.now(UTC)
            live_from = start + timedelta(seconds=args.interval)  # after the first round has begun
            path = folder / "scenario.json"
            path.write_text(json.dumps(scenario(args.channels, live_from, args.interval, rng)), "utf-8")
            env = {**os.environ, "PYTHONPATH": str(SRC)}
            for i in range(args.collectors):
                own = folder / f"c{i}"
                own.mkdir()
                cfg = config(own, url, path, f"acc{i}", args.channels, args.interval)
                procs.append(subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(cfg)],
                                              stdout=subprocess.DEVNULL, stderr=(own / "log").open("w"), env=env))
            polled = "SELECT count(*) FROM watch WHERE watched = 1 AND last_success_at >= {since}"
            first = wait(lambda: count(url, polled.format(since=int(start.timestamp()))) >= args.channels,
                         procs, args.timeout)
            round_start = time.time()
            before = load_counters(url, schema)
            steady = wait(lambda: count(url, polled.format(since=int(round_start) + 1)) >= args.channels,
                          procs, args.timeout)
            after = load_counters(url, schema)
            end_live = live_from + timedelta(seconds=args.interval)
            wait(lambda: datetime.now(UTC) > end_live + timedelta(seconds=args.interval * 1.5), procs, args.timeout)
            lags = [float(r[0]) for r in q(url, "SELECT first_seen_at - posted_at FROM posts WHERE message_id = 2")]
            held = dict(q(url, "SELECT c.pid, count(l.key) FROM collectors c LEFT JOIN leases l ON l.collector_id = c.id"
                                " AND l.expires_at > extract(epoch FROM now()) GROUP BY c.pid"))
            rss = {p.pid: peak_rss_mb(p.pid) for p in procs}
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=120) for p in procs]
        q(SERVER, f'DROP SCHEMA "{schema}" CASCADE')
    seconds = after[0] - before[0]
    lags.sort()
    print(f"machine: {platform.machine()} python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print(f"{args.channels} channels, {args.collectors} collectors (one account each), interval {args.interval:g} s")
    print(f"{'first full round s':>19}{'steady round s':>16}{'lag p50 s':>11}{'lag p95 s':>11}{'live posts':>12}")
    p50 = statistics.median(lags) if lags else float("nan")
    p95 = lags[int(0.95 * (len(lags) - 1))] if lags else float("nan")
    print(f"{first:>19.1f}{steady:>16.1f}{p50:>11.1f}{p95:>11.1f}{len(lags):>12}")
    print(f"database during the steady round: {(after[1] - before[1]) / seconds:.1f} commits/s (whole server),"
          f" {(after[2] - before[2]) / seconds:.1f} table scans/s and {(after[3] - before[3]) / seconds:.1f}"
          " rows written/s on the bench schema")
    print(f"{'collector pid':>14}{'leases':>8}{'peak RSS MB':>13}{'exit':>6}")
    for p, code in zip(procs, codes, strict=True):
        print(f"{p.pid:>14}{held.get(p.pid, 0):>8}{rss[p.pid]:>13.1f}{code:>6}")


if __name__ == "__main__":
    main()
