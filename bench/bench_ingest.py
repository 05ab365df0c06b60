"""Ingest rate of the store path vs the plain sqlite3 ceiling, on synthetic tagged posts.

Store path: `SQLiteStore.save_posts` in the daemon's batch size (posts + tag rows +
metric samples + checkpoint in one transaction per batch). The posts arrive as the
tagging stage hands them over, with tags and text fingerprints computed (that CPU work
runs in the tagging thread, not in the single writer; its cost is reported by
bench_groups.py and bench_language.py). Ceiling: plain `sqlite3.executemany` of the
same rows into the same tables (posts via `monitor.store.sqlite.post_row`, post_tags,
metric_samples, the checkpoint update; rows precomputed, untimed), one transaction per
batch of the same size, on a database with the same schema, triggers and pragmas.

    python bench/bench_ingest.py              # 1,000,000 posts (minutes)
    python bench/bench_ingest.py --posts 50000
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from monitor.fingerprint import content_hash, simhash64  # noqa: E402
from monitor.models import Match, Post, Tags, TaggedPost  # noqa: E402
from monitor.store.sqlite.store import _INSERT_POST, SQLiteStore, post_row  # noqa: E402

WORDS = (
    "хабар мавзуи нашр канал ҳукумат ташкилот Toshkent xabar kanal yangilik новости сообщение заявил"
    " группировка боевики наступление район жители власти"
).split()
GROUPS = ("IS", "ISKP", "HTS", "TALIBAN", "IMU", "KTJ")
CHANNELS = 100
CHUNK = 10_000  # posts generated at a time (untimed), so a million never sit in memory


def posts(n: int, seed: int = 1) -> Iterator[list[TaggedPost]]:
    """Chunks of tagged posts: ids ascending per channel, about a third tagged with groups."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    made = 0
    while made < n:
        chunk = []
        for i in range(made, min(n, made + CHUNK)):
            channel, mid = 1000 + i % CHANNELS, i // CHANNELS + 1
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40))) + f" #{i}"
            groups = tuple(sorted(set(rng.sample(GROUPS, rng.randint(1, 2))))) if i % 3 == 0 else ()
            matches = tuple(
                Match(kind="group", canonical=g, term=g, start=0, end=len(g), rule="alias") for g in groups
            )
            post = Post(
                channel_id=channel,
                message_id=mid,
                posted_at=start + timedelta(minutes=i),
                text=text,
                views=rng.randint(10, 50_000),
                forwards=rng.randint(0, 300),
                replies=None,
                media_kind="photo" if i % 4 == 0 else None,
            )
            tags = Tags(lang="ru", script="Cyrl", confidence=0.97, groups=groups, matches=matches)
            # fingerprints come with the tags from the tagging stage, as in the daemon (Tagger.tag_posts)
            chunk.append(
                TaggedPost(
                    post=post,
                    tags=tags,
                    tagger_version="bench@1",
                    content_hash=content_hash(text),
                    simhash=simhash64(text),
                )
            )
        made += len(chunk)
        yield chunk


def by_channel_batches(chunk: list[TaggedPost], size: int) -> Iterator[tuple[int, list[TaggedPost]]]:
    groups: dict[int, list[TaggedPost]] = {}
    for t in chunk:
        groups.setdefault(t.post.channel_id, []).append(t)
    for cid, items in groups.items():
        for s in range(0, len(items), size):
            yield cid, items[s : s + size]


async def store_path(db: Path, n: int, batch: int) -> float:
    store = SQLiteStore(db)
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


async def make_schema(db: Path) -> None:
    store = SQLiteStore(db)
    await store.open()
    await store.close()


def plain_path(db: Path, n: int, batch: int, *, time_rows: bool = False) -> float:
    asyncio.run(make_schema(db))
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    now = int(time.time())
    elapsed = 0.0
    for chunk in posts(n):
        t0 = time.perf_counter()
        rows = [
            [post_row(t, now=now, store_text=False, source="telegram") for t in items]
            for _, items in by_channel_batches(chunk, batch)
        ]
        if not time_rows:
            t0 = time.perf_counter()
        tag_rows = [
            [(t.post.channel_id, t.post.message_id, kind, value, r[3])
             for t, r in zip(items, batch_rows, strict=True)
             for kind, values in (("group", t.tags.groups), ("person", t.tags.people), ("keyword", t.tags.keywords))
             for value in values]
            for (_, items), batch_rows in zip(by_channel_batches(chunk, batch), rows, strict=True)
        ]
        samples = [
            [(r[0], r[1], now, r[5], r[6], r[7], r[8]) for r in batch_rows] for batch_rows in rows
        ]
        if not time_rows:
            t0 = time.perf_counter()
        for batch_rows, batch_tags, batch_samples in zip(rows, tag_rows, samples, strict=True):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT_POST, batch_rows)
            conn.executemany(
                "INSERT INTO post_tags (channel_id, message_id, kind, value, day) VALUES (?, ?, ?, ?, ?)",
                batch_tags,
            )
            conn.executemany(
                "INSERT INTO metric_samples (channel_id, message_id, sampled_at, views, forwards, replies,"
                " reactions) VALUES (?, ?, ?, ?, ?, ?, ?)",
                batch_samples,
            )
            conn.execute(
                "UPDATE channels SET checkpoint = ? WHERE id = ?", (batch_rows[-1][1], batch_rows[-1][0])
            )
            conn.execute("COMMIT")
        elapsed += time.perf_counter() - t0
    conn.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100, help="posts per transaction (the daemon's batch_size)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain = plain_path(Path(tmp) / "plain.db", args.posts, args.batch)
        plain_rows = plain_path(Path(tmp) / "plain_rows.db", args.posts, args.batch, time_rows=True)
        store = asyncio.run(store_path(Path(tmp) / "store.db", args.posts, args.batch))
    rate_plain, rate_store = args.posts / plain, args.posts / store
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}"
        f" sqlite {sqlite3.sqlite_version}; {args.posts:,} posts, {args.batch} per transaction"
    )
    print(f"{'path':<44}{'seconds':>10}{'posts/s':>12}")
    print(f"{'plain sqlite3 executemany (ceiling)':<44}{plain:>10.1f}{rate_plain:>12,.0f}")
    print(
        f"{'plain executemany + post_row (row building)':<44}{plain_rows:>10.1f}"
        f"{args.posts / plain_rows:>12,.0f}"
    )
    print(f"{'SQLiteStore.save_posts (store path)':<44}{store:>10.1f}{rate_store:>12,.0f}")
    ratio = rate_store / rate_plain
    print(
        f"store path / ceiling: {ratio:.2f} (goal >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'});"
        f" / ceiling with row building: {rate_store / (args.posts / plain_rows):.2f}"
    )


if __name__ == "__main__":
    main()
