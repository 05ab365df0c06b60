"""PostgreSQL: ingest through the store vs the COPY ceiling, asyncpg vs psycopg 3, reports vs SQLite,
and a reader running reports while the collector ingests.

    PYTHONPATH=src .venv/bin/python bench/bench_pg.py ingest --posts 1000000
    PYTHONPATH=src .venv/bin/python bench/bench_pg.py drivers --posts 100000     # needs psycopg[binary]
    PYTHONPATH=src .venv/bin/python bench/bench_pg.py --reports --posts 1000000   # = reports
    PYTHONPATH=src .venv/bin/python bench/bench_pg.py reader --posts 100000

The server is MONITOR_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test); every run
works in a fresh schema and drops it.

ingest: the same tagged posts (bench_ingest.py's generator) in the daemon's batches (100 posts of
one channel per transaction) through ``PostgresStore.save_posts``, next to COPY of the same rows
(posts, post_tags, metric_samples; ``copy_records_to_table``, one transaction per batch, the
checkpoint update too) into the same tables with the same statement-level triggers.

drivers: the statements ``save_posts`` sends for a batch of new posts (one ``unnest`` INSERT per
table, the checkpoint UPDATE, one transaction) through asyncpg and through psycopg 3 (async, binary
parameters), on the same batches.

reports: bench_reports.py builds its SQLite database; posts and post_tags are COPYed into PostgreSQL
with the triggers off and the aggregates filled from their recount (store/postgres/recount.py, the
very GROUP BYs the triggers keep), then the triggers go back on. The same report calls then run on
both stores; the slowest on PostgreSQL is run once more with its statements timed, and the plan of its
slowest statement is printed (EXPLAIN (ANALYZE, BUFFERS)).

reader: ingest alone, then the same ingest with another process running volume/top reports in a
loop on a read-only store; the slowdown of ingest is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import asyncpg  # noqa: E402
from bench_ingest import by_channel_batches, posts  # noqa: E402

from monitor.store.common.postrows import post_row, tag_rows  # noqa: E402
from monitor.store.postgres.recount import RECOUNTS  # noqa: E402
from monitor.store.postgres.store import (  # noqa: E402
    _INSERT_POSTS,
    _INSERT_TAGS,
    _POST_COLUMNS,
    _UPSERT_SAMPLES,
    PostgresStore,
    _columns,
)

SERVER = os.environ.get("MONITOR_TEST_POSTGRES") or "postgresql://postgres@127.0.0.1:5432/test"


def with_schema(schema: str) -> str:
    parts = urlsplit(SERVER)
    query = (parts.query + "&" if parts.query else "") + urlencode({"search_path": schema})
    return urlunsplit(parts._replace(query=query))


class Schema:
    """A fresh schema, migrated, dropped at exit; or, given ``keep`` (its name, which must not exist yet),
    kept for a later run."""

    def __init__(self, label: str, keep: str | None = None) -> None:
        self.name = keep or f"bench_{label}_{secrets.token_hex(3)}"
        self.keep = keep is not None
        self.url = with_schema(self.name)

    async def __aenter__(self) -> Schema:
        conn = await asyncpg.connect(SERVER)
        await conn.execute(f'CREATE SCHEMA "{self.name}"')
        await conn.close()
        store = PostgresStore(self.url)
        await store.open()
        await store.close()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.keep:
            return
        conn = await asyncpg.connect(SERVER)
        await conn.execute(f'DROP SCHEMA "{self.name}" CASCADE')
        await conn.close()


def machine() -> str:
    cpus = os.cpu_count()
    return (f"{platform.machine()} {cpus} cores, Python {platform.python_version()}, asyncpg {asyncpg.__version__};"
            " machine shared with other jobs")


async def _channels(url: str) -> None:
    conn = await asyncpg.connect(url)
    await conn.executemany(
        "INSERT INTO channels (id, username, title, first_seen_at, updated_at) VALUES ($1, $2, $3, 0, 0)"
        " ON CONFLICT DO NOTHING",
        [(1000 + c, f"c{c}", f"Channel {c}") for c in range(100)],
    )
    await conn.close()


# -- ingest -----------------------------------------------------------------------------------------

async def store_ingest(url: str, n: int, batch: int) -> float:
    store = PostgresStore(url)
    await store.open()
    now = datetime.now(UTC)
    elapsed = 0.0
    for chunk in posts(n):
        batches = list(by_channel_batches(chunk, batch))
        t0 = time.perf_counter()
        for cid, items in batches:
            await store.save_posts(cid, items, at=now, checkpoint=items[-1].post.message_id)
        elapsed += time.perf_counter() - t0
    await store.close()
    return elapsed


def _rows(items: list[Any], now: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rows = [post_row(t, now=now, store_text=False, source="telegram") for t in items]
    tags = [tag for t, r in zip(items, rows, strict=True) for tag in tag_rows(r[0], r[1], r[3], t.tags)]
    samples = [(r[0], r[1], now, r[5], r[6], r[7], r[8]) for r in rows]
    return rows, tags, samples


async def copy_ingest(url: str, n: int, batch: int) -> float:
    conn = await asyncpg.connect(url)
    now = int(time.time())
    cols = [c for c, _ in _POST_COLUMNS]
    elapsed = 0.0
    for chunk in posts(n):
        prepared = [_rows(items, now) for _, items in by_channel_batches(chunk, batch)]  # untimed
        t0 = time.perf_counter()
        for rows, tags, samples in prepared:
            async with conn.transaction():
                await conn.copy_records_to_table("posts", records=rows, columns=cols)
                if tags:
                    await conn.copy_records_to_table("post_tags", records=tags,
                                                     columns=["channel_id", "message_id", "kind", "value", "day"])
                await conn.copy_records_to_table("metric_samples", records=samples, columns=[
                    "channel_id", "message_id", "sampled_at", "views", "forwards", "replies", "reactions"])
                await conn.execute("UPDATE channels SET checkpoint = greatest(checkpoint, $1), updated_at = $2"
                                   " WHERE id = $3", rows[-1][1], now, rows[-1][0])
        elapsed += time.perf_counter() - t0
    await conn.close()
    return elapsed


async def cmd_ingest(args: argparse.Namespace) -> None:
    async with Schema("store") as a, Schema("copy") as b:
        await _channels(a.url)
        await _channels(b.url)
        copy_s = await copy_ingest(b.url, args.posts, args.batch)
        store_s = await store_ingest(a.url, args.posts, args.batch)
    print(machine())
    print(f"{args.posts:,} posts, {args.batch} per transaction")
    print("| path | seconds | posts/s |\n|---|---:|---:|")
    print(f"| COPY of the same rows, same tables and triggers (ceiling) | {copy_s:.1f} | {args.posts / copy_s:,.0f} |")
    print(f"| PostgresStore.save_posts (store path) | {store_s:.1f} | {args.posts / store_s:,.0f} |")
    ratio = copy_s / store_s
    print(f"store path / ceiling: {ratio:.2f} (goal >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})")


# -- drivers ----------------------------------------------------------------------------------------

def _psycopg_sql(sql: str) -> str:
    return re.sub(r"\$\d+", "%s", sql)


async def driver_asyncpg(url: str, prepared: list[Any]) -> float:
    conn = await asyncpg.connect(url)
    t0 = time.perf_counter()
    for rows, tags, samples in prepared:
        async with conn.transaction():
            await conn.fetch(_INSERT_POSTS, *_columns(rows, len(_POST_COLUMNS)))
            if tags:
                await conn.execute(_INSERT_TAGS, *_columns(tags, 5))
            await conn.execute(_UPSERT_SAMPLES, *_columns(samples, 7))
            await conn.execute("UPDATE channels SET checkpoint = greatest(checkpoint, $1), updated_at = $2"
                               " WHERE id = $3", rows[-1][1], rows[-1][-1], rows[-1][0])
    elapsed = time.perf_counter() - t0
    await conn.close()
    return elapsed


async def driver_psycopg(url: str, prepared: list[Any]) -> float:
    import psycopg

    parts = urlsplit(url)
    schema = dict(q.split("=", 1) for q in parts.query.split("&") if q)["search_path"]
    dsn = urlunsplit(parts._replace(query=""))
    conn = await psycopg.AsyncConnection.connect(dsn, options=f"-c search_path={schema}")
    insert_posts, insert_tags = _psycopg_sql(_INSERT_POSTS), _psycopg_sql(_INSERT_TAGS)
    samples_sql = _psycopg_sql(_UPSERT_SAMPLES)
    checkpoint = "UPDATE channels SET checkpoint = greatest(checkpoint, %s), updated_at = %s WHERE id = %s"
    t0 = time.perf_counter()
    for rows, tags, samples in prepared:
        async with conn.transaction():
            async with conn.cursor(binary=True) as cur:
                await cur.execute(insert_posts, _columns(rows, len(_POST_COLUMNS)))
                await cur.fetchall()
                if tags:
                    await cur.execute(insert_tags, _columns(tags, 5))
                await cur.execute(samples_sql, _columns(samples, 7))
                await cur.execute(checkpoint, (rows[-1][1], rows[-1][-1], rows[-1][0]))
    elapsed = time.perf_counter() - t0
    await conn.close()
    return elapsed


async def cmd_drivers(args: argparse.Namespace) -> None:
    import psycopg

    now = int(time.time())
    prepared = [_rows(items, now) for chunk in posts(args.posts) for _, items in by_channel_batches(chunk, args.batch)]
    results = {}
    for name, run in (("asyncpg", driver_asyncpg), ("psycopg 3 (async, binary)", driver_psycopg)):
        async with Schema(name.split()[0]) as s:
            await _channels(s.url)
            results[name] = await run(s.url, prepared)
    print(machine() + f", psycopg {psycopg.__version__}")
    print(f"{args.posts:,} posts, {args.batch} per transaction, the save_posts statements for new posts")
    print("| driver | seconds | posts/s |\n|---|---:|---:|")
    for name, secs in results.items():
        print(f"| {name} | {secs:.1f} | {args.posts / secs:,.0f} |")


# -- reports ----------------------------------------------------------------------------------------

async def load_postgres(sqlite_path: Path, url: str) -> float:
    import sqlite3

    t0 = time.perf_counter()
    lite = sqlite3.connect(sqlite_path)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ALTER TABLE posts DISABLE TRIGGER USER; ALTER TABLE post_tags DISABLE TRIGGER USER")
        for table in ("watch", "channels", "posts", "post_tags"):
            cols = [r[1] for r in lite.execute(f"PRAGMA table_info({table})")]
            cursor = lite.execute(f"SELECT {', '.join(cols)} FROM {table}")
            while True:
                rows = cursor.fetchmany(200_000)
                if not rows:
                    break
                await conn.copy_records_to_table(table, records=rows, columns=cols)
        for table, (keys, metrics, recount) in RECOUNTS.items():
            await conn.execute(f"INSERT INTO {table} ({', '.join((*keys, *metrics))}) {recount}")
        await conn.execute("ALTER TABLE posts ENABLE TRIGGER USER; ALTER TABLE post_tags ENABLE TRIGGER USER")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
        lite.close()
    return time.perf_counter() - t0


def report_cases(store: Any, span: tuple[int, int] | None) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    """Every main report, named as on the command line."""
    from datetime import date, timedelta

    from monitor.reports.discovery import discovery
    from monitor.reports.spec import ReportSpec
    from monitor.reports.spread import clusters, forward_network
    from monitor.reports.top import top
    from monitor.reports.trend import trend
    from monitor.reports.volume import volume

    assert span is not None, "no posts"
    last = date(1970, 1, 1) + timedelta(days=span[1])
    month_ago, week_ago = last - timedelta(days=30), last - timedelta(days=6)
    full, whole = ReportSpec(every="month"), ReportSpec()  # rankings take no --every
    return [
        ("volume --every month (all posts)", lambda: volume(store, full)),
        ("volume --by group,language --every month", lambda: volume(store, ReportSpec(by=("group", "language")))),
        ("volume --by label:country --every week", lambda: volume(store, ReportSpec(every="week", by=("label:country",)))),
        ("volume --by channel --every month", lambda: volume(store, ReportSpec(by=("channel",)))),
        ("volume --by group,channel --every month", lambda: volume(store, ReportSpec(by=("group", "channel")))),
        ("volume --label country=UZ --by group --every week",
         lambda: volume(store, ReportSpec(every="week", by=("group",), labels=("country=UZ",)))),
        ("volume --by group,keyword (posts path, last 30 days)",
         lambda: volume(store, ReportSpec(by=("group", "keyword"), since=month_ago))),
        ("trend --by group --every week", lambda: trend(store, ReportSpec(every="week", by=("group",)))),
        ("top --what channels", lambda: top(store, whole, what="channels")),
        ("top --what posts-by-views (all time)", lambda: top(store, whole, what="posts-by-views")),
        ("top --what pairs", lambda: top(store, whole, what="pairs")),
        ("network (forwards, all time)", lambda: forward_network(store, whole)),
        ("discovery (all time)", lambda: discovery(store, whole)),
        ("spread (last 7 days)", lambda: clusters(store, ReportSpec(since=week_ago))),
    ]


async def time_cases(store: Any, repeat: int) -> list[tuple[str, int, float, float]]:
    cases = report_cases(store, await store.report_day_range())
    results = []
    for name, make in cases:
        times = []
        rows = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = await make()
            times.append(time.perf_counter() - t0)
            report = out[0] if isinstance(out, tuple) else out
            rows = len(report) if isinstance(report, list) else len(report.rows)
        results.append((name, rows, min(times), statistics.median(times)))
    return results


async def explain_slowest(store: Any, url: str, name: str) -> str:
    """Run report ``name`` once more with the store's reads recorded, and EXPLAIN (ANALYZE, BUFFERS) the
    statement that took longest: the plan to read when a report is slow."""
    seen: list[tuple[float, str, list[Any]]] = []
    rows, fetch = store._rows, store._fetch

    async def timed_rows(sql: str, args: Any = ()) -> Any:
        t0 = time.perf_counter()
        out = await rows(sql, args)
        seen.append((time.perf_counter() - t0, sql, list(getattr(args, "values", args))))
        return out

    async def timed_fetch(sql: str, *args: Any) -> Any:
        t0 = time.perf_counter()
        out = await fetch(sql, *args)
        seen.append((time.perf_counter() - t0, sql, list(args)))
        return out

    store._rows, store._fetch = timed_rows, timed_fetch
    try:
        [(_, make)] = [(n, m) for n, m in report_cases(store, await store.report_day_range()) if n == name]
        await make()
    finally:
        store._rows, store._fetch = rows, fetch
    if not seen:
        return "(no statement recorded)"
    took, sql, values = max(seen, key=lambda r: r[0])
    work_mem = getattr(store.db, "_work_mem", None)  # the plan under the reader pool's own settings
    conn = await asyncpg.connect(url, server_settings={"work_mem": work_mem} if work_mem else None)
    try:
        lines = [r[0] for r in await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *values)]
    finally:
        await conn.close()
    return (f"its slowest statement ({took:.3f} s of {len(seen)} statements):\n{sql}\n"
            f"parameters: {values!r}\n" + "\n".join(lines))


async def cmd_reports(args: argparse.Namespace) -> None:
    from bench_reports import build

    from monitor.store.sqlite import SQLiteStore

    with tempfile.TemporaryDirectory() as tmp:
        lite_path = Path(tmp) / "reports.db"
        t0 = time.perf_counter()
        build(lite_path, args.posts, 200, 5.0)
        built = time.perf_counter() - t0
        async with Schema("reports") as s:
            loaded = await load_postgres(lite_path, s.url)
            lite = SQLiteStore(lite_path, read_only=True)
            await lite.open()
            pg = PostgresStore(s.url, read_only=True)
            await pg.open()
            try:
                on_lite = await time_cases(lite, args.repeat)
                on_pg = await time_cases(pg, args.repeat)
                slowest = max(on_pg, key=lambda r: r[2])
                plan = await explain_slowest(pg, s.url, slowest[0])
                # the same cases on a reader pool left at the server's work_mem (4 MB by default)
                pg_default = PostgresStore(s.url, read_only=True, work_mem=None)
                await pg_default.open()
                try:
                    on_default = await time_cases(pg_default, args.repeat)
                finally:
                    await pg_default.close()
            finally:
                await lite.close()
                await pg.close()
    print(machine())
    print(f"{args.posts:,} posts, 200 channels, 5 years; SQLite built in {built:.0f} s, PostgreSQL loaded in {loaded:.0f} s")
    print(f"slowest on PostgreSQL: {slowest[0]} ({slowest[2]:.3f} s best of {args.repeat})")
    print(plan)
    width = max(len(r[0]) for r in on_lite)
    print(f"| {'report':<{width}} | rows | SQLite best s | PostgreSQL best s | PostgreSQL median s"
          " | PostgreSQL, server's work_mem, best s |")
    print(f"|{'-' * (width + 2)}|-----:|------:|------:|------:|------:|")
    for a, b, c in zip(on_lite, on_pg, on_default, strict=True):
        same = "" if a[1] == b[1] == c[1] else f" (rows differ: {a[1]} vs {b[1]} vs {c[1]})"
        print(f"| {a[0]:<{width}} | {b[1]:>4} | {a[2]:>6.3f} | {b[2]:>6.3f} | {b[3]:>6.3f} | {c[2]:>6.3f} |{same}")


# -- a reader while ingesting -----------------------------------------------------------------------

READER = """
import asyncio, sys, time
sys.path.insert(0, {src!r})
from monitor.reports.spec import ReportSpec
from monitor.reports.top import top
from monitor.reports.volume import volume
from monitor.store.postgres.store import PostgresStore

async def main():
    store = PostgresStore({url!r}, read_only=True)
    await store.open()
    n = 0
    while True:
        await volume(store, ReportSpec(by=("group", "language")))
        await top(store, ReportSpec(every="month"), what="channels")
        n += 1
        print(n, flush=True)
        await asyncio.sleep({pause})

asyncio.run(main())
"""


async def cmd_reader(args: argparse.Namespace) -> None:
    async with Schema("alone") as a:
        await _channels(a.url)
        alone = await store_ingest(a.url, args.posts, args.batch)
    async with Schema("shared") as b:
        await _channels(b.url)
        await store_ingest(b.url, 2000, args.batch)  # something to report on from the start
        script = READER.format(src=str(HERE.parent / "src"), url=b.url, pause=args.pause)
        reader = subprocess.Popen(  # noqa: ASYNC220 - the reader is another process, as an analyst's is
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            await asyncio.sleep(2)
            shared = await store_ingest(b.url, args.posts, args.batch)
        finally:
            reader.terminate()
            out, _ = reader.communicate(timeout=30)
        rounds = len(out.split())
    print(machine())
    print(f"{args.posts:,} posts, {args.batch} per transaction; the reader ran {rounds} rounds of"
          f" volume --by group,language + top --what channels, {args.pause} s apart")
    print("| ingest | seconds | posts/s |\n|---|---:|---:|")
    print(f"| alone | {alone:.1f} | {args.posts / alone:,.0f} |")
    print(f"| with a reader running reports | {shared:.1f} | {args.posts / shared:,.0f} |")
    slower = shared / alone - 1
    print(f"slowdown: {slower:+.0%} (goal <= 20%: {'met' if slower <= 0.2 else 'NOT met'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", choices=("ingest", "drivers", "reports", "reader"))
    ap.add_argument("--reports", action="store_true", help="the same as the `reports` mode")
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100, help="posts per transaction (the daemon's batch_size)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pause", type=float, default=0.0, help="reader: seconds between report rounds (0: back to back)")
    args = ap.parse_args()
    if args.reports:
        args.what = "reports"
    if args.what is None:
        ap.error("which mode? ingest, drivers, reports (or --reports), reader")
    run = {"ingest": cmd_ingest, "drivers": cmd_drivers, "reports": cmd_reports, "reader": cmd_reader}[args.what]
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
