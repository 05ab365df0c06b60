"""Spread: near-duplicate clustering of 30 days of a 10-million-post database, on real-text fingerprints.

    python bench/bench_spread.py               # 165,000 posts (30 days of 10M posts over 5 years)
    python bench/bench_spread.py --posts 50000 --no-banding

The fingerprints are SimHashes of posts built from the real sentences in
../shared/data/lid/train (2-5 sentences each, so every post is distinct text), with 3% of
them re-posted in other channels with a changed header or footer, or a word changed (the
near-duplicates the report exists to find), and 2% re-posted verbatim. Real texts spread
their SimHashes over all 64 bits, unlike the arithmetic sequence in bench_reports.py.

Rows: the block-table search in monitor.reports.spread (what the report runs), and the
plain banding it replaced (k+1 bands of 7 bits, every pair in a band bucket compared; kept
here as the reference), same input, same run; both must give the same clusters.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

from monitor.fingerprint import content_hash, simhash64  # noqa: E402
from monitor.reports.spread import near_duplicate_groups  # noqa: E402

TRAIN = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared")) / "data" / "lid" / "train"
HEADERS = ("СРОЧНО: ", "Breaking: ", "⚡️ ", "Xabar: ", "Хабари фаврӣ: ")
FOOTERS = (" Подписывайтесь на наш канал!", " @source_channel", " t.me/joinchat/abc", " Obuna bo'ling!")


def _sentences() -> list[str]:
    out: list[str] = []
    for path in sorted(TRAIN.glob("*.txt")):
        out += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 20]
    if not out:
        sys.exit(f"no training sentences under {TRAIN} (set MONITOR_SHARED)")
    return out


def corpus(n: int, seed: int = 11) -> tuple[list[str], list[int]]:
    rng = random.Random(seed)
    sentences = _sentences()
    texts: list[str] = []
    while len(texts) < n:
        r = rng.random()
        if texts and r < 0.03:
            words = rng.choice(texts[-5000:]).split()
            change = rng.randrange(3)
            if change == 0:
                words.insert(0, rng.choice(HEADERS).strip())
            elif change == 1:
                words.append(rng.choice(FOOTERS).strip())
            elif len(words) > 3:
                words[rng.randrange(len(words))] = rng.choice(sentences).split()[0]
            texts.append(" ".join(words))
        elif texts and r < 0.05:
            texts.append(rng.choice(texts[-5000:]))
        else:
            texts.append(" ".join(rng.choice(sentences) for _ in range(rng.randint(2, 5))))
    return [content_hash(t) for t in texts], [simhash64(t) for t in texts]


def banding(hashes: list[str], simhashes: list[int], max_distance: int) -> list[list[int]]:
    """The previous search: k+1 exact bands, every pair in a bucket compared (numpy, in row blocks)."""
    n = len(hashes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first_of: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if h in first_of:
            join(first_of[h], i)
        else:
            first_of[h] = i
    values = np.array([s & ((1 << 64) - 1) for s in simhashes], dtype=np.uint64)
    live = np.nonzero(values)[0]
    bands = max_distance + 1
    width = 64 // bands
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    for band in range(bands):
        shift = band * width
        bits = 64 - shift if band == bands - 1 else width
        mask = np.uint64((1 << bits) - 1) if bits < 64 else np.uint64(0xFFFFFFFFFFFFFFFF)
        keys = (values[live] >> np.uint64(shift)) & mask
        order = np.argsort(keys, kind="stable")
        cuts = np.flatnonzero(np.diff(keys[order])) + 1
        for members in np.split(live[order], cuts):
            if len(members) < 2:
                continue
            sub = values[members]
            for row in range(0, len(members), 1024):
                block = sub[row : row + 1024]
                x = block[:, None] ^ sub[None, :]
                dist = np.bitwise_count(x) if hasattr(np, "bitwise_count") else table[x.view(np.uint8)].reshape(
                    *x.shape, 8).sum(axis=-1)
                ii, jj = np.nonzero(dist <= max_distance)
                for a, b in zip(ii.tolist(), jj.tolist(), strict=True):
                    if row + a < b:
                        join(int(members[row + a]), int(members[b]))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return [sorted(g) for g in groups.values() if len(g) >= 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=165_000, help="10M posts over 5 years: 30 days is about 165,000")
    ap.add_argument("--distance", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-banding", action="store_true", help="skip the (slow) previous search")
    args = ap.parse_args()
    t = time.perf_counter()
    hashes, simhashes = corpus(args.posts)
    print(f"{args.posts:,} posts from real sentences, fingerprints computed in {time.perf_counter() - t:.1f} s")
    best, best_cpu = float("inf"), float("inf")
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        new = near_duplicate_groups(hashes, simhashes, args.distance)
        best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
    in_clusters = sum(len(g) for g in new)
    print(f"{'search':44} {'wall s':>8} {'CPU s':>8}   (best of {args.runs})")
    print(f"{'block tables (monitor.reports.spread)':44} {best:8.3f} {best_cpu:8.3f}")
    if not args.no_banding:
        t, c = time.perf_counter(), time.process_time()
        old = banding(hashes, simhashes, args.distance)
        old_s, old_cpu = time.perf_counter() - t, time.process_time() - c
        print(f"{'plain banding (previous, one run)':44} {old_s:8.3f} {old_cpu:8.3f}")
        same = sorted(old) == sorted(new)
        print(f"same clusters: {same}; speed-up {old_s / best:.1f}x wall, {old_cpu / best_cpu:.1f}x CPU")
        if not same:
            sys.exit("the two searches disagree")
    print(f"{len(new):,} clusters holding {in_clusters:,} posts; distance <= {args.distance} bits")
    print(f"numpy {np.__version__}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
