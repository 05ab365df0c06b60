"""Times every page of `monitor web` server-side on a large database and names the slowest.

    PYTHONPATH=src:bench .venv/bin/python bench/bench_web.py                 # 10,000,000 posts
    PYTHONPATH=src:bench .venv/bin/python bench/bench_web.py --posts 1000000 --db /tmp/web1m.db
    PYTHONPATH=src:bench .venv/bin/python bench/bench_web.py --reuse --db /tmp/monitor-bench-reports.db
    PYTHONPATH=src:bench .venv/bin/python bench/bench_web.py --posts 1000000 --postgres   # both backends
    PYTHONPATH=src:bench .venv/bin/python bench/bench_web.py --reuse --db /tmp/web10m.db --postgres --keep-schema web10m
    PYTHONPATH=src:bench .venv/bin/python bench/bench_web.py --pg-url 'postgresql://postgres@127.0.0.1:5432/test?search_path=web10m'

The database is bench_reports.py's (same generator: 200 channels, 5 years, groups, keywords, forwards,
mentions; no post text). A user is added through the store, the app runs in process with its lifespan
(Starlette's test client: the request goes through the whole ASGI stack, no socket), and each page is
requested ``--repeat`` times after a first request; the table shows the first (cold: a fresh server, the
first request of that page; the app keeps no page cache, so "warm" differs only by the SQLite or
PostgreSQL pages and compiled templates left by earlier requests), then the best and the median of the
repeats, from request to the last byte of the response.

``--postgres`` copies the SQLite database into a fresh PostgreSQL schema (bench_pg.py's ``load_postgres``:
COPY with the triggers off, the aggregates filled by their recount, ANALYZE) and times the same pages
there; the schema is dropped at the end unless ``--keep-schema NAME`` names it (it must not exist yet; the
URL to reuse it is printed; ``DROP SCHEMA name CASCADE`` removes it). ``--pg-url URL`` times an existing PostgreSQL database or schema as it is
(no build, no copy, no SQLite timing; the migrations the store has not applied yet are applied on open):
copying 10,000,000 posts takes long enough to be done once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_reports import build

from monitor.models import AuditEntry, WebUser
from monitor.reports.periods import from_day
from monitor.store import open_store
from monitor.web.auth import hash_password

PASSWORD = "bench-password-1"


async def prepare(db: str) -> tuple[str, str]:
    """Add the bench user (editor); return the last day with posts and the first day of its month."""
    store = open_store(db)
    await store.open()
    try:
        now = datetime.now(UTC)
        await store.save_web_user(WebUser(name="bench", password_hash=hash_password(PASSWORD), role="editor",
                                           created_at=now, updated_at=now),
                                  audit=AuditEntry(actor="bench", action="user.add", target="bench", at=now))
        span = await store.report_day_range()
        assert span is not None, "an empty database"
        last = from_day(span[1])
        return last.isoformat(), last.replace(day=1).isoformat()
    finally:
        await store.close()


def pages(last: str, month: str) -> list[tuple[str, str]]:
    return [
        ("volume, defaults (all time per month)", "/volume"),
        ("volume by group per week", "/volume?by=group&every=week"),
        ("volume by language, shares, per month", "/volume?by=language&show=shares"),
        ("volume by channel per week (200 series)", "/volume?by=channel&every=week"),
        ("volume by group per day, one month", f"/volume?by=group&every=day&since={month}&until={last}"),
        ("volume, group ISKP + label country=UZ", "/volume?group=ISKP&label=country%3DUZ&every=week"),
        ("posts of one day", f"/posts?since={last}&until={last}"),
        ("posts of a bar: ISKP, one month", f"/posts?since={month}&until={last}&group=ISKP"),
        ("posts, page 20 of a month", f"/posts?since={month}&until={last}&offset=950"),
        ("alerts", "/alerts"),
        ("channels", "/channels"),
        ("network and discovery, one month", f"/network?since={month}&until={last}"),
        ("audit", "/audit"),
        ("top posts by views, one month", f"/top?what=posts-by-views&since={month}&until={last}"),
        ("top channels, all time", "/top?what=channels"),
        ("reach by channel, one month", f"/reach?by=channel&since={month}&until={last}"),
        ("volume.csv by group per week", "/volume.csv?by=group&every=week"),
        ("trend.csv by group per week", "/trend.csv?by=group&every=week"),
        ("posts.csv of a bar", f"/posts.csv?since={month}&until={last}&group=ISKP"),
    ]


Row = tuple[str, str, int, float, float, float, float, int]


def time_pages(db: str, last: str, month: str, repeat: int) -> list[Row]:
    """Each page ``repeat`` times after a first request: (name, path, status, first, best, median, median
    CPU, bytes).

    CPU is this process's (the app and the in-process client; the database work of SQLite runs in it
    too, PostgreSQL's does not): on a shared machine it moves far less with the load than wall time."""
    from starlette.testclient import TestClient

    from monitor.web.app import create_app
    from monitor.web.common import WebConfig

    app = create_app(WebConfig(database=db, secret="bench-secret-" + "x" * 40))
    rows: list[Row] = []
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        form = client.get("/login").text
        token = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        assert client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": token}).status_code == 303
        for name, path in pages(last, month):
            times, cpu = [], []
            status, size, first = 0, 0, 0.0
            for i in range(repeat + 1):
                t0, c0 = time.perf_counter(), time.process_time()
                response = client.get(path)
                elapsed, used = time.perf_counter() - t0, time.process_time() - c0
                status, size = response.status_code, len(response.content)
                if i:  # the first request warms caches (templates, database pages)
                    times.append(elapsed)
                    cpu.append(used)
                else:
                    first = elapsed
            rows.append((name, path, status, first, min(times), statistics.median(times), statistics.median(cpu),
                         size))
    return rows


def show(backend: str, rows: list[Row]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"\n{backend} (load average {os.getloadavg()[0]:.1f})")
    print(f"{'page':<{width}}  status  first (s)  best (s)  median (s)  median CPU (s)  bytes")
    for name, _path, status, first, best, median, cpu, size in rows:
        print(f"{name:<{width}}  {status:>6}  {first:9.3f}  {best:8.3f}  {median:10.3f}  {cpu:14.3f}  {size:,}")
    slowest = max(rows, key=lambda r: r[5])
    print(f"slowest on {backend}: {slowest[0]} ({slowest[1]}), median {slowest[5]:.3f} s")
    bad = [r for r in rows if r[2] != 200]
    if bad:
        print("not 200: " + ", ".join(f"{r[1]} -> {r[2]}" for r in bad), file=sys.stderr)


async def _postgres(sqlite_db: Path, repeat: int, keep: str | None) -> None:
    from bench_pg import Schema

    async with Schema("web", keep=keep) as schema:  # CREATE SCHEMA fails when ``keep`` exists: reuse it with --pg-url
        await _copy_and_time(sqlite_db, schema.url, repeat)
    if keep is not None:
        print(f"kept schema {keep}: time it again with --pg-url '{schema.url}'", file=sys.stderr)


async def _copy_and_time(sqlite_db: Path, url: str, repeat: int) -> None:
    from bench_pg import load_postgres

    seconds = await load_postgres(sqlite_db, url)
    print(f"copied into PostgreSQL in {seconds:.0f} s", file=sys.stderr)
    await _time_postgres(url, repeat)


async def _time_postgres(url: str, repeat: int) -> None:
    last, month = await prepare(url)
    rows = await asyncio.to_thread(time_pages, url, last, month, repeat)
    show("PostgreSQL", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000_000)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--db", type=Path, default=Path("/tmp/monitor-bench-web.db"))
    parser.add_argument("--reuse", action="store_true", help="time an existing database instead of rebuilding")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", action="store_true",
                        help="also copy the data into a fresh PostgreSQL schema (MONITOR_TEST_POSTGRES or the local"
                             " server) and time the same pages there")
    parser.add_argument("--keep-schema", metavar="NAME",
                        help="with --postgres: copy into the schema NAME and keep it (reuse it with --pg-url)")
    parser.add_argument("--pg-url", metavar="URL",
                        help="time this existing PostgreSQL database or schema only (no build, copy or SQLite)")
    args = parser.parse_args()
    if args.keep_schema and not args.postgres:
        parser.error("--keep-schema goes with --postgres")
    if args.keep_schema and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.keep_schema):
        parser.error("--keep-schema: lower-case letters, digits and _ only")
    if args.pg_url:
        asyncio.run(_time_postgres(args.pg_url, args.repeat))
        return
    if not args.reuse:
        build(args.db, args.posts, args.channels, args.years)
    last, month = asyncio.run(prepare(str(args.db)))
    show("SQLite", time_pages(str(args.db), last, month, args.repeat))
    if args.postgres:
        asyncio.run(_postgres(args.db, args.repeat, args.keep_schema))


if __name__ == "__main__":
    main()
