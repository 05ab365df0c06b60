"""`monitor demo` around the daemon: a progress bar, alert logs in a file, deliveries drained, hints that run.

The daemon's alert log sink writes one WARNING line per alert; on a terminal a hundred of them
bury the hints, so the demo sends logs to ``demo.log`` in the demo folder and prints a count of
alerts per rule instead. Progress is the share of the scenario's posts already stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm


def monitor_command() -> list[str]:
    """How to run this same monitor again: the executable that ran (full path) or ``python -m monitor``."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name in ("monitor", "monitor.exe") and argv0.is_file():
        return [str(argv0.resolve())]
    return [sys.executable, "-m", "monitor"]


def hints(config: Path) -> list[list[str]]:
    """Commands worth trying on the demo database, as argument lists (each exits 0 on the demo)."""
    c = ["-c", str(config)]
    return [
        ["report", "volume", "--by", "group,language", "--every", "month", *c],
        ["report", "trend", "--by", "group", "--every", "week", "--group", "ISKP", *c],
        ["report", "volume", "--by", "group", "--every", "month", "--chart", str(config.parent / "groups.png"), *c],
        ["report", "top", "--what", "channels", *c],
        ["report", "spread", *c],
        ["report", "discovery", *c],
        ["alerts", "list", "--since", "2024-01-01", *c],
        ["channels", "list", *c],
    ]


def dashboard(config: Path) -> list[list[str]]:
    """The commands that open the demo database in `monitor web` (not run by the hint test: they prompt
    for a password and serve until stopped)."""
    c = ["-c", str(config)]
    return [["users", "add", "analyst", "--role", "editor", *c], ["web", *c]]


def scenario_posts(folder: Path) -> int:
    """How many posts the scenario holds (the progress bar's total)."""
    data = json.loads((folder / "scenario.json").read_text("utf-8"))
    return sum(len(c.get("messages", [])) for c in data.get("channels", []))


def _count(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.is_file():
        return []
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()


@contextmanager
def progress(db: Path, total: int) -> Iterator[None]:
    """A tqdm bar on stderr following the posts stored in ``db`` (read-only polls twice a second)."""
    bar = tqdm(total=total, unit="post", desc="demo", file=sys.stderr, leave=True, dynamic_ncols=True)
    stop = threading.Event()

    def follow() -> None:
        while not stop.wait(0.5):
            rows = _count(db, "SELECT count(*) FROM posts")
            if rows:
                bar.n = min(int(rows[0][0]), total)
                bar.refresh()

    thread = threading.Thread(target=follow, name="demo-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        rows = _count(db, "SELECT count(*) FROM posts")
        bar.n = min(int(rows[0][0]), total) if rows else bar.n
        bar.close()


async def drain_deliveries(settings: Any) -> None:
    """Send every alert still waiting in the outbox (the daemon stops between delivery runs)."""
    from monitor.alerts.delivery import build_deliverer
    from monitor.cli.stores import open_db
    from monitor.clock import SystemClock

    config = settings.alerts_config()
    if config is None:
        return
    store = await open_db(settings.database_url)
    try:
        deliverer = build_deliverer(config, store=store, clock=SystemClock(), env=os.environ)
        for _ in range(10):
            report = await deliverer.run_once()
            if not (report.delivered or report.digested or report.retried or report.recovered):
                break
    finally:
        await store.close()


@dataclass(frozen=True, slots=True)
class Summary:
    """What the demo left behind: alerts per rule and deliveries not sent."""

    alerts: dict[str, int]
    undelivered: int


def summary(db: Path) -> Summary:
    rules = {str(r): int(n) for r, n in _count(db, "SELECT rule, count(*) FROM alerts GROUP BY rule ORDER BY rule")}
    pending = _count(db, "SELECT count(*) FROM deliveries WHERE state <> 'delivered'")
    return Summary(rules, int(pending[0][0]) if pending else 0)


def run(folder: Path, seed: int, keep: bool, echo: Any) -> None:
    """The whole `monitor demo`: replay with a progress bar, drain, summarise, print runnable hints."""
    from monitor import logs
    from monitor.cli.collect import _counts, run_demo, write_demo

    wall, cpu = time.perf_counter(), time.process_time()
    folder.mkdir(parents=True, exist_ok=True)
    log_path = (folder / "demo.log").resolve()
    db = folder / "monitor.db"
    if not keep:
        for name in ("monitor.db", "monitor.db-wal", "monitor.db-shm"):
            (folder / name).unlink(missing_ok=True)
    write_demo(folder, seed=seed)
    with log_path.open("w", encoding="utf-8") as log_file:
        logs.configure("json", level="WARNING", stream=log_file)
        echo(f"replaying the demo scenario into {folder}/ (logs and alert messages: {log_path})", err=True)
        with progress(db, scenario_posts(folder)):
            settings = asyncio.run(run_demo(folder, seed=seed, fresh=False))
        asyncio.run(drain_deliveries(settings))
    counts = asyncio.run(_counts(settings.database_url))
    done = summary(Path(settings.database_url))
    echo(
        f"demo database: {settings.database_url} ({counts.get('posts', 0)} posts from"
        f" {counts.get('channels', 0)} channels, {counts.get('samples', 0)} view samples,"
        f" {counts.get('edits', 0)} edits)"
    )
    total = sum(done.alerts.values())
    per_rule = ", ".join(f"{rule} {n}" for rule, n in done.alerts.items()) or "none"
    echo(f"alerts: {total} ({per_rule}); each delivered message is in {log_path}")
    if done.undelivered:
        echo(f"warning: {done.undelivered} alert deliveries not sent (see {log_path})", err=True)
    echo("try next:")
    base = monitor_command()
    assert settings.path is not None  # the demo always writes its config file
    for hint in hints(settings.path):
        echo("  " + shlex.join([*base, *hint]))
    echo(f"  sqlite3 {shlex.quote(str(settings.database_url))} 'SELECT lang, script, count(*) FROM posts GROUP BY 1, 2'")
    echo("open it in the dashboard (add a user once, then serve http://127.0.0.1:8080/):")
    for line in dashboard(settings.path):
        echo("$ " + shlex.join([*base, *line]))
    echo(
        f"demo took {time.perf_counter() - wall:.1f} s ({time.process_time() - cpu:.1f} s of CPU in this process)",
        err=True,
    )


__all__ = ["dashboard", "drain_deliveries", "hints", "monitor_command", "run", "summary"]
