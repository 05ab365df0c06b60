"""`monitor retag` against the tagging it does, on the same stored posts.

    python bench/bench_retag.py                 # 20,000 posts
    python bench/bench_retag.py --posts 50000

A synthetic SQLite database of --posts posts with stored text (news-length lines of
Russian, Tajik and Uzbek words, a third naming a militant group), saved through the store
with the full tagger's tags, in 100 channels. Then every post's tagger_version is set to
an older value, so retag visits all of them, and their tags come out unchanged (the common
case after a version bump). Measured, by CPU time of this process (the machine is shared):

- tagging only: `tagger.tag_many` over the same texts in the same batches;
- retag: `monitor.cli.collect.retag` (page, tag, `update_tags`) with the same tagger.

The ratio retag / tagging-only is the figure (goal: <= 1.5). A second retag with one
post in ten given different stored tags shows the cost when some tags change.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from monitor.cli import collect  # noqa: E402
from monitor.models import Channel, ChannelRef, Post  # noqa: E402
from monitor.store import open_store  # noqa: E402
from monitor.tagger_cache import build_tagger  # noqa: E402

WORDS = (
    "хабар мавзуи нашр канал ҳукумат ташкилот Toshkent xabar kanal yangilik новости сообщение заявил"
    " группировка боевики наступление район жители власти вилоят шаҳр odamlar hukumat"
).split()
NAMES = ("ИГИЛ", "Талибан", "Исламское государство", "Хайят Тахрир аш-Шам", "ДИИШ", "Toliban")
CHANNELS = 100


def texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(20, 60))]
        if i % 3 == 0:
            words.insert(rng.randrange(len(words)), rng.choice(NAMES))
        out.append(" ".join(words) + f" {i}")
    return out


async def build_db(path: Path, lines: list[str], tagger: object, batch: int) -> None:
    store = open_store(path)
    await store.open()
    at = datetime(2024, 6, 1, tzinfo=UTC)
    refs = [ChannelRef(key=f"chan_{c:04d}", username=f"chan_{c:04d}") for c in range(CHANNELS)]
    await store.sync_watchlist(refs, at=at)
    by_channel: dict[int, list[Post]] = {}
    for i, text in enumerate(lines):
        cid = 1000 + i % CHANNELS
        by_channel.setdefault(cid, []).append(
            Post(channel_id=cid, message_id=i // CHANNELS + 1, posted_at=at + timedelta(minutes=i), text=text)
        )
    for cid, posts in by_channel.items():
        key = f"chan_{cid - 1000:04d}"
        await store.set_resolved(key, Channel(id=cid, username=key, title=key, access_hash=1), at=at)
        for start in range(0, len(posts), batch):
            chunk = posts[start : start + batch]
            tagged = [tagger.tag_post(p) for p in chunk]  # type: ignore[attr-defined]
            await store.save_posts(cid, tagged, at=at, store_text=True)
    await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500, help="retag's batch (its default)")
    args = ap.parse_args()

    tagger = build_tagger()
    lines = texts(args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "retag.db"
        (folder / "s.json").write_text('{"channels": [], "posts": []}', "utf-8")
        config = folder / "monitor.toml"
        config.write_text(f'[monitor]\ndatabase = "{db}"\n[source]\nkind = "scenario"\nscenario = "s.json"\n', "utf-8")
        settings = collect.load(config)
        t = time.perf_counter()
        asyncio.run(build_db(db, lines, tagger, 100))
        print(f"built {args.posts:,} posts in {time.perf_counter() - t:.1f} s (untimed)", file=sys.stderr)

        with sqlite3.connect(db) as conn:
            ordered = [r[0] for r in conn.execute("SELECT text FROM posts ORDER BY channel_id, message_id")]
        tagger.tag_many(ordered[: args.batch])  # warm
        c0 = time.process_time()
        for start in range(0, len(ordered), args.batch):
            tagger.tag_many(ordered[start : start + args.batch])
        tag_only = time.process_time() - c0

        results = []
        for label, changed_every in (("retag, tags unchanged", 0), ("retag, 1 in 10 changed", 10)):
            with sqlite3.connect(db) as conn:
                conn.execute("UPDATE posts SET tagger_version = 'old@0'")
                if changed_every:
                    # stored tags that the tagger will not reproduce: a stray group on every tenth post
                    conn.execute(
                        "INSERT OR IGNORE INTO post_tags (channel_id, message_id, kind, value, day)"
                        " SELECT channel_id, message_id, 'group', 'STALE', day FROM posts"
                        f" WHERE message_id % {changed_every} = 0"
                    )
                    conn.execute(f"UPDATE posts SET groups = '[\"STALE\"]' WHERE message_id % {changed_every} = 0")
            c0 = time.process_time()
            result = asyncio.run(collect.retag(settings, tagger=tagger, batch=args.batch))
            spent = time.process_time() - c0
            assert result["retagged"] == args.posts, result
            with sqlite3.connect(db) as conn:
                stale = conn.execute("SELECT count(*) FROM post_tags WHERE value = 'STALE'").fetchone()[0]
                assert stale == 0, stale
            results.append((label, spent))

    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; {args.posts:,} posts, batch {args.batch}; CPU seconds")
    print(f"{'measure':<28}{'CPU s':>9}{'posts/s':>10}{'vs tagging':>12}")
    print(f"{'tagging only':<28}{tag_only:>9.2f}{args.posts / tag_only:>10.0f}{1.0:>12.2f}")
    for label, spent in results:
        print(f"{label:<28}{spent:>9.2f}{args.posts / spent:>10.0f}{spent / tag_only:>12.2f}")


if __name__ == "__main__":
    main()
