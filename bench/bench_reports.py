"""Times the main reports on a large synthetic database next to a plain GROUP BY over posts.

    PYTHONPATH=src .venv/bin/python bench/bench_reports.py              # 10,000,000 posts
    PYTHONPATH=src .venv/bin/python bench/bench_reports.py --posts 200000 --db /tmp/small.db

How the database is built (fast, and still through the shipped migrations): migration 0001
creates the core tables; its secondary indexes are dropped, rows are generated inside SQLite
by INSERT ... SELECT over a recursive CTE (deterministic pseudo-random values), the indexes are
re-created, then 0002 runs exactly as it would on an existing database (its backfill fills the
aggregates, its triggers are installed), then the remaining migrations. The store then opens
it like any other database. Each report runs ``--repeat`` times; the table shows the best and
the median wall time. The "plain GROUP BY" rows answer the same question from posts directly.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from monitor.reports.discovery import discovery
from monitor.reports.periods import to_day
from monitor.reports.spec import ReportSpec
from monitor.reports.spread import clusters, forward_network
from monitor.reports.top import top
from monitor.reports.trend import trend
from monitor.reports.volume import volume
from monitor.store.sqlite.migrate import CREATE_LEDGER, load_migrations
from monitor.store.sqlite import SQLiteStore

START = date(2021, 1, 1)
LANGS = [("ru", "Cyrl", 40), ("tg", "Cyrl", 15), ("uz", "Latn", 15), ("uz", "Cyrl", 10), ("kk", "Cyrl", 5),
         ("en", "Latn", 5), ("und", None, 10)]
GROUPS = ["IS", "ISKP", "TALIBAN", "JA", "IMU", "HTS", "AQ", "HT", "KTJ", "TIP"]
COUNTRIES = ["UZ", "TJ", "KG", "RU", "AF"]


BenchStore = SQLiteStore


def _lang_case(column: str, which: str) -> str:
    parts, edge = [], 0
    for lang, script, weight in LANGS:
        edge += weight
        value = f"'{lang}'" if which == "lang" else (f"'{script}'" if script else "NULL")
        parts.append(f"WHEN {column} < {edge} THEN {value}")
    return "CASE " + " ".join(parts) + " END"


def build(path: Path, posts: int, channels: int, years: float) -> None:
    if path.exists():
        path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    migrations = load_migrations()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    conn.execute(CREATE_LEDGER)
    conn.executescript(migrations[0].sql)
    indexes = re.findall(r"CREATE INDEX[^;]+;", migrations[0].sql)
    for stmt in indexes:
        name = stmt.split()[2]
        conn.execute(f"DROP INDEX {name}")
    span = int(years * 365 * 86400)
    start = to_day(START) * 86400
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    for c in range(channels):
        labels = f'{{"country":"{COUNTRIES[c % len(COUNTRIES)]}","tier":"{"a" if c % 3 == 0 else "b"}"}}'
        conn.execute(
            "INSERT INTO watch (key, channel_id, labels, watched, status, added_at) VALUES (?, ?, ?, 1, 'active', ?)",
            (f"chan_{c}", 10_000 + c, labels, start),
        )
        conn.execute(
            "INSERT INTO channels (id, username, title, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (10_000 + c, f"chan_{c}", f"Channel {c}", start, start),
        )
    # h is a cheap deterministic hash of n; each column takes different bits of it
    conn.execute(
        f"""
        WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :last),
        gen AS (SELECT n, ((n * 2654435761) % 4294967296) AS h FROM seq)
        INSERT INTO posts (channel_id, message_id, posted_at, day, views, forwards, fwd_channel_id, fwd_name,
            mentions, text_length, content_hash, simhash, lang, script, lang_confidence, groups, tagger_version,
            first_seen_at, updated_at)
        SELECT 10000 + n % :c, n / :c + 1, p, p / 86400,
            CASE WHEN h % 50 = 0 THEN NULL ELSE h % 20000 END, h % 300,
            CASE WHEN h % 20 = 1 THEN 20000 + h % 400 WHEN h % 20 = 2 THEN 10000 + (h / 7) % :c END,
            CASE WHEN h % 20 = 1 THEN 'Source ' || (h % 400) END,
            CASE WHEN h % 33 = 3 THEN '["cand_' || (h % 150) || '"]' ELSE '[]' END,
            40 + h % 500, printf('%032x', n), (h * 6364136223846793005) % 9223372036854775807,
            {_lang_case('(h / 16) % 100', 'lang')}, {_lang_case('(h / 16) % 100', 'script')},
            0.9, '[]', 'bench', p, p
        FROM (SELECT n, h, :s + (n * :span) / :total + (h % 3600) AS p FROM gen)
        """,
        {"last": posts - 1, "c": channels, "s": start, "span": span, "total": posts},
    )
    # tags: ~45% of posts name one group, ~12% a second one; ~8% carry a keyword
    conn.execute(
        """
        INSERT INTO post_tags (channel_id, message_id, kind, value, day)
        SELECT channel_id, message_id, 'group', :g1, day FROM (
            SELECT channel_id, message_id, day, ((message_id * 40503 + channel_id * 9973) % 1000) AS r FROM posts)
        WHERE r < 450
        """.replace(":g1", "CASE r % 10 " + " ".join(f"WHEN {i} THEN '{g}'" for i, g in enumerate(GROUPS)) + " END"),
    )
    conn.execute(
        """
        INSERT OR IGNORE INTO post_tags (channel_id, message_id, kind, value, day)
        SELECT channel_id, message_id, 'group', :g2, day FROM (
            SELECT channel_id, message_id, day, ((message_id * 40503 + channel_id * 9973) % 1000) AS r FROM posts)
        WHERE r < 120
        """.replace(":g2", "CASE (r / 10) % 10 " + " ".join(f"WHEN {i} THEN '{g}'" for i, g in enumerate(GROUPS))
                    + " END"),
    )
    conn.execute(
        """
        INSERT INTO post_tags (channel_id, message_id, kind, value, day)
        SELECT channel_id, message_id, 'keyword', CASE r % 4 WHEN 0 THEN 'hijra' WHEN 1 THEN 'bay''ah'
            WHEN 2 THEN 'muhojir' ELSE 'shahid' END, day
        FROM (SELECT channel_id, message_id, day, ((message_id * 7919 + channel_id * 104729) % 1000) AS r FROM posts)
        WHERE r < 80
        """
    )
    conn.execute("COMMIT")
    t1 = time.perf_counter()
    for stmt in indexes:
        conn.execute(stmt)
    t2 = time.perf_counter()
    for migration in migrations[1:]:
        conn.executescript(
            "BEGIN;\n" + migration.sql + f"\n;INSERT INTO schema_migrations VALUES ({migration.version},"
            f" '{migration.name}', 0);\nCOMMIT;"
        )
    conn.execute("INSERT INTO schema_migrations VALUES (1, 'initial', 0)")
    t3 = time.perf_counter()
    conn.execute("ANALYZE")
    conn.close()
    print(f"built {posts:,} posts: rows {t1 - t0:.1f}s, indexes {t2 - t1:.1f}s,"
          f" 0002 backfill + later migrations {t3 - t2:.1f}s", file=sys.stderr)


async def plain(store: Any, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    return await store.query(sql, params)


async def run(path: Path, repeat: int) -> None:
    store = BenchStore(path)
    await store.open()
    try:
        counts = await store.counts()
        span = await store.report_day_range()
        assert span is not None
        last = date(1970, 1, 1) + timedelta(days=span[1])
        month_ago = last - timedelta(days=30)
        week_ago = last - timedelta(days=6)
        full, whole = ReportSpec(every="month"), ReportSpec()  # rankings take no --every
        cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("volume --every month (all posts)", lambda: volume(store, full)),
            ("volume --by group,language --every month", lambda: volume(store, ReportSpec(by=("group", "language")))),
            ("volume --by label:country --every week", lambda: volume(store, ReportSpec(every="week",
                                                                                         by=("label:country",)))),
            ("volume --by channel --every month", lambda: volume(store, ReportSpec(by=("channel",)))),
            ("volume --by group,channel --every month (heat map)",
             lambda: volume(store, ReportSpec(by=("group", "channel")))),
            ("volume --by label:country,group --every month",
             lambda: volume(store, ReportSpec(by=("label:country", "group")))),
            ("volume --label country=UZ --by group --every week",
             lambda: volume(store, ReportSpec(every="week", by=("group",), labels=("country=UZ",)))),
            ("volume --group IS --by language --every day (last 30 days)",
             lambda: volume(store, ReportSpec(every="day", by=("language",), groups=("IS",), since=month_ago))),
            ("volume --by group,keyword (posts path, last 30 days)",
             lambda: volume(store, ReportSpec(by=("group", "keyword"), since=month_ago))),
            ("trend --by group --every week", lambda: trend(store, ReportSpec(every="week", by=("group",)))),
            ("top --what channels", lambda: top(store, whole, what="channels")),
            ("top --what posts-by-views (all time)", lambda: top(store, whole, what="posts-by-views")),
            ("top --what posts-by-views (last 30 days)",
             lambda: top(store, ReportSpec(since=month_ago), what="posts-by-views")),
            ("top --what pairs", lambda: top(store, whole, what="pairs")),
            ("top --what pairs (last 30 days)", lambda: top(store, ReportSpec(since=month_ago), what="pairs")),
            ("network (forwards, all time)", lambda: forward_network(store, whole)),
            ("network (forwards, last 30 days)", lambda: forward_network(store, ReportSpec(since=month_ago))),
            ("discovery (all time)", lambda: discovery(store, whole)),
            ("discovery (last 30 days)", lambda: discovery(store, ReportSpec(since=month_ago))),
            ("spread (last 7 days)", lambda: clusters(store, ReportSpec(since=week_ago))),
            ("plain GROUP BY posts: month x lang x script",
             lambda: plain(store, "SELECT strftime('%Y-%m', posted_at, 'unixepoch') AS m, lang, script, count(*),"
                                  " sum(views), sum(forwards) FROM posts GROUP BY 1, 2, 3")),
            ("plain GROUP BY posts x post_tags: month x group x lang",
             lambda: plain(store, "SELECT strftime('%Y-%m', p.posted_at, 'unixepoch') AS m, t.value, p.lang,"
                                  " p.script, count(*), sum(p.views) FROM posts p JOIN post_tags t"
                                  " ON t.channel_id = p.channel_id AND t.message_id = p.message_id"
                                  " WHERE t.kind = 'group' GROUP BY 1, 2, 3, 4")),
        ]
        results = []
        for name, make in cases:
            times = []
            rows = 0
            for _ in range(repeat if not name.startswith("plain") else 1):
                t0 = time.perf_counter()
                out = await make()
                times.append(time.perf_counter() - t0)
                report = out[0] if isinstance(out, tuple) else out
                rows = len(report) if isinstance(report, list) else len(report.rows)
            results.append((name, rows, min(times), statistics.median(times)))
    finally:
        await store.close()
    import platform

    print(f"\n{counts['posts']:,} posts, {counts['channels']} channels, {path.stat().st_size / 2**30:.2f} GiB;"
          f" Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.machine()}")
    width = max(len(r[0]) for r in results)
    print(f"| {'report':<{width}} | rows | best s | median s |")
    print(f"|{'-' * (width + 2)}|-----:|-------:|---------:|")
    for name, rows, best, med in results:
        print(f"| {name:<{width}} | {rows:>4} | {best:>6.3f} | {med:>8.3f} |")


async def ingest(n: int, folder: Path, batch: int = 100) -> None:
    """Posts/s of the store's save_posts with the aggregate triggers, and with them dropped."""
    import random
    from datetime import UTC, datetime

    from monitor.models import Post, TaggedPost, Tags

    rng = random.Random(5)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    posts = []
    for i in range(n):
        lang, script, _ = LANGS[i % len(LANGS)]
        groups = tuple(sorted(set(rng.sample(GROUPS, rng.choice((0, 1, 1, 2))))))
        posts.append(TaggedPost(
            post=Post(channel_id=10_000 + i % 50, message_id=i // 50 + 1, posted_at=start + timedelta(minutes=i),
                      text=f"post {i} " + " ".join(groups), views=rng.randint(1, 9999), forwards=rng.randint(0, 99),
                      mentions=("cand_1",) if i % 30 == 0 else ()),
            tags=Tags(lang=lang, script=script, confidence=0.9, groups=groups), tagger_version="bench",
        ))
    by_channel: dict[int, list[TaggedPost]] = {}
    for t in posts:
        by_channel.setdefault(t.post.channel_id, []).append(t)
    results = []
    for label, drop in (("with aggregate triggers", False), ("triggers dropped", True)):
        path = folder / f"ingest-{int(drop)}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        store = BenchStore(path)
        await store.open()
        try:
            if drop:
                async with store.transaction() as conn:  # type: ignore[attr-defined]
                    for row in await store.query("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                                 " AND sql LIKE '%agg_%'"):
                        await conn.execute(f'DROP TRIGGER "{row["name"]}"')
            t0 = time.perf_counter()
            for cid, items in by_channel.items():
                for i in range(0, len(items), batch):
                    await store.save_posts(cid, items[i : i + batch], at=start)
            results.append((label, n / (time.perf_counter() - t0)))
        finally:
            await store.close()
    print(f"\ningest of {n:,} tagged posts through SQLiteStore.save_posts, batches of {batch}")
    for label, rate in results:
        print(f"| {label:<24} | {rate:>9,.0f} posts/s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000_000)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--db", type=Path, default=Path("/tmp/monitor-bench-reports.db"))
    parser.add_argument("--reuse", action="store_true", help="time an existing database instead of rebuilding")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ingest", type=int, default=0, metavar="N",
                        help="instead: time N posts through save_posts with and without the aggregate triggers")
    args = parser.parse_args()
    if args.ingest:
        asyncio.run(ingest(args.ingest, args.db.parent))
        return
    if not args.reuse or not args.db.exists():
        build(args.db, args.posts, args.channels, args.years)
    asyncio.run(run(args.db, args.repeat))


if __name__ == "__main__":
    main()
