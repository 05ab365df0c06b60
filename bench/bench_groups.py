"""Throughput of the group tagger on realistic post lengths, one core.

Usage:
    PYTHONPATH=src python bench/bench_groups.py [--posts 20000] [--seed 1]

Posts are built from the development set (data/eval/groups_dev.jsonl): each post
joins 1-4 labelled sentences with neutral ones, so lengths spread like channel
posts (about 80-900 characters) and about half of them name a group. Analyst
keywords (1,000: 800 words, 150 prefixes, 50 RE2 patterns) are drawn from the
same vocabulary so they really hit. Prints a Markdown table; the goal is
>= 20,000 posts/s with the full lexicon plus 1,000 keywords. Rates are CPU time of
this process (the host is shared). The sentence pool is pessimistic: it is dense in
group names, hard negatives and split-letter obfuscation, all of which cost extra work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import time
from pathlib import Path

from monitor.tagging.groups import GroupTagger, KeywordSpec

DEV = Path(__file__).resolve().parent.parent / "data" / "eval" / "groups_dev.jsonl"


SHORT = (1, 1, 2, 2, 3, 4, 6)  # median ~120 characters: short channel posts and comments
LONG = (2, 3, 4, 4, 5, 6, 8, 10)  # median ~300 characters: news-channel posts


def make_posts(n: int, rng: random.Random, shape: tuple[int, ...] = SHORT) -> list[str]:
    rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]
    pos = [r["text"] for r in rows if r["groups"] or r["people"]]
    neg = [r["text"] for r in rows if not r["groups"] and not r["people"]]
    posts = []
    for _ in range(n):
        k = rng.choice(shape)
        parts = [rng.choice(neg) for _ in range(k)]
        if rng.random() < 0.5:
            parts[rng.randrange(k)] = rng.choice(pos)
        posts.append("\n".join(parts) if rng.random() < 0.3 else " ".join(parts))
    return posts


def make_keywords(posts: list[str], rng: random.Random, dense: bool) -> list[KeywordSpec]:
    """1,000 keywords. dense: all from the posts' own vocabulary (every post hits several);
    sparse: 100 from it, 900 pseudo-words that never occur (an analyst's list mostly waits)."""
    vocab = sorted({w.lower() for p in posts[:3000] for w in re.findall(r"[^\W\d_]{5,}", p)})
    rng.shuffle(vocab)
    if not dense:
        letters = "абвгдежзиклмнопрстуфхцчшяabdefghijklmnoprstuvxyz"
        fake = ["".join(rng.choice(letters) for _ in range(rng.randint(6, 10))) + "q" for _ in range(900)]
        vocab = vocab[:100] + fake
        rng.shuffle(vocab)
    words, prefixes, pats = vocab[:800], vocab[800:950], vocab[950:1000]
    specs = [KeywordSpec(term=w) for w in words]
    specs += [KeywordSpec(term=w[:5], mode="prefix") for w in prefixes]
    specs += [KeywordSpec(term=rf"\b{re.escape(w[:4])}\w*\s+\w+", mode="pattern") for w in pats]
    return specs


def run(tagger: GroupTagger, posts: list[str]) -> tuple[float, int, int]:
    hits = matches = 0
    t0 = time.process_time()  # CPU time of this process: the host is shared, wall time is noisy
    for p in posts:
        g, pe, kw, ms = tagger.tag(p)
        hits += bool(g or pe or kw)
        matches += len(ms)
    return len(posts) / (time.process_time() - t0), hits, matches


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--against", metavar="REV",
                    help="news-length posts: this tree's tagger next to the tagger of git revision REV (its "
                         "tagging/groups package, extracted to a temporary directory) and pycld2, interleaved")
    ap.add_argument("--generalisation", action="store_true",
                    help="news-length posts and ordinary text only: the tagger with and without generated "
                         "variants and fuzzy matching, next to the pycld2 engine on the same texts, interleaved")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"machine: {platform.machine()} python {platform.python_version()}, one core (shared host)\n")
    if args.generalisation:
        generalisation(args.posts, rng, args.repeat)
        return
    if args.against:
        against(args.against, args.posts, rng, args.repeat)
        return
    print(f"| posts (chars: median / mean) | configuration | build s | literals | posts/s (best of {args.repeat}) "
          "| posts tagged | matches/post |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for shape_name, shape in (("short", SHORT), ("news", LONG)):
        posts = make_posts(args.posts, rng, shape)
        lengths = [len(p) for p in posts]
        label = f"{shape_name} ({statistics.median(lengths):.0f} / {statistics.mean(lengths):.0f})"
        dense = make_keywords(posts, rng, dense=True)
        sparse = make_keywords(posts, rng, dense=False)
        configs = (("lexicon only", []), ("+ 1,000 keywords, sparse (10% occur)", sparse),
                   ("+ 1,000 keywords, dense (all occur)", dense))
        bench_configs(label, configs, posts, args.repeat)


def bench_configs(label: str, configs: tuple[tuple[str, list[KeywordSpec]], ...], posts: list[str],
                  repeat: int) -> None:
    for name, kws in configs:
        t0 = time.perf_counter()
        tagger = GroupTagger(keywords=kws)
        build = time.perf_counter() - t0
        best, hits, matches = 0.0, 0, 0
        for _ in range(repeat):
            rate, hits, matches = run(tagger, posts)
            best = max(best, rate)
        print(f"| {label} | {name} | {build:.2f} | {tagger.literal_count:,} | {best:,.0f} | {hits / len(posts):.0%} "
              f"| {matches / len(posts):.1f} |")


# ../shared beside the repository, or MONITOR_SHARED (as bench_tag_process.py): a git worktree elsewhere
# would otherwise skip the ordinary-text set without failing
ORDINARY = Path(os.environ.get("MONITOR_SHARED", Path(__file__).resolve().parent.parent.parent / "shared")) / "data" / "lid" / "train"


def generalisation(n: int, rng: random.Random, repeat: int) -> None:
    """Cost of generated variants and fuzzy matching, as ratios to the pycld2 engine in the same run.

    The shared host's load moves absolute rates by 2-3x between runs; each configuration runs on the
    same chunks of posts in turn (interleaved), so their ratios hold. Ordinary text (the shared
    language-identification training lines, when present) shows what clean text pays.
    """
    import pycld2

    news = make_posts(n, rng, LONG)
    sparse = make_keywords(news, rng, dense=False)
    texts = {"news-length posts (dev sentences)": news}
    if ORDINARY.is_dir():
        lines = [x for f in sorted(ORDINARY.glob("*.txt")) for x in f.read_text(encoding="utf-8").splitlines()
                 if x.strip()]
        rng.shuffle(lines)
        texts["ordinary text (shared/data/lid/train)"] = lines[:n]
    taggers = {
        "full lexicon + 1,000 keywords": GroupTagger(keywords=sparse),
        "same, without generated variants and fuzzy": GroupTagger(keywords=sparse, generate=False, fuzzy=False),
    }
    print("| texts | configuration | posts/s (CPU) | ratio to pycld2 | ratio to the tagger without them |")
    print("|---|---|---:|---:|---:|")
    for label, posts in texts.items():
        cost = {name: 0.0 for name in ["pycld2", *taggers]}
        for _ in range(repeat):
            for i in range(0, len(posts), 500):
                chunk = posts[i:i + 500]
                t0 = time.process_time()
                for p in chunk:
                    pycld2.detect(p)
                cost["pycld2"] += time.process_time() - t0
                for name, tagger in taggers.items():
                    t0 = time.process_time()
                    for p in chunk:
                        tagger.tag(p)
                    cost[name] += time.process_time() - t0
        base = cost["same, without generated variants and fuzzy"]
        for name, c in cost.items():
            rate = repeat * len(posts) / c
            print(f"| {label} | {name} | {rate:,.0f} | {cost['pycld2'] / c:.3f} | {base / c:.3f} |")


def _old_tagger_class(rev: str) -> type:
    """GroupTagger of git revision ``rev``: its groups package extracted and imported under another name."""
    import importlib
    import io
    import subprocess
    import sys
    import tarfile
    import tempfile

    root = Path(__file__).resolve().parent.parent
    blob = subprocess.run(["git", "-C", str(root), "archive", rev, "src/monitor/tagging/groups"],
                          check=True, capture_output=True).stdout
    tmp = Path(tempfile.mkdtemp(prefix="bench-groups-"))
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(tmp, filter="data")
    pkg = tmp / "old_groups"
    (tmp / "src/monitor/tagging/groups").rename(pkg)
    sys.path.insert(0, str(tmp))
    return importlib.import_module("old_groups").GroupTagger


def against(rev: str, n: int, rng: random.Random, repeat: int) -> None:
    """This tree's tagger and revision ``rev``'s on the same news-length posts, interleaved by chunks, with
    the full lexicon and 1,000 sparse keywords; pycld2 on the same chunks as the reference rate."""
    import pycld2

    old_cls = _old_tagger_class(rev)
    news = make_posts(n, rng, LONG)
    sparse = make_keywords(news, rng, dense=False)
    taggers = {f"tagger at {rev}": old_cls(keywords=sparse), "this tree's tagger": GroupTagger(keywords=sparse)}
    same = all(a == b for a, b in zip(*(map(t.match, news[:2000]) for t in taggers.values()), strict=True))
    cost = {name: 0.0 for name in ["pycld2", *taggers]}
    for _ in range(repeat):
        for i in range(0, len(news), 500):
            chunk = news[i:i + 500]
            t0 = time.process_time()
            for p in chunk:
                pycld2.detect(p)
            cost["pycld2"] += time.process_time() - t0
            for name, tagger in taggers.items():
                t0 = time.process_time()
                for p in chunk:
                    tagger.tag(p)
                cost[name] += time.process_time() - t0
    lengths = [len(p) for p in news]
    print(f"news-length posts: {len(news):,} (chars median {statistics.median(lengths):.0f}), full lexicon + "
          f"1,000 keywords (sparse), {repeat} rounds interleaved by chunks of 500; "
          f"same matches on the first 2,000: {same}\n")
    print(f"| tagger | posts/s (CPU) | ratio to pycld2 | speed-up over {rev} |")
    print("|---|---:|---:|---:|")
    old = cost[f"tagger at {rev}"]
    for name, c in cost.items():
        print(f"| {name} | {repeat * len(news) / c:,.0f} | {cost['pycld2'] / c:.3f} | {old / c:.2f} |")


if __name__ == "__main__":
    main()
