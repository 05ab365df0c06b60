"""Instructions a news-length post costs the group tagger, counted by callgrind: this tree against a revision.

Usage:
    PYTHONPATH=src python bench/instructions_groups.py --against REV [--warm 3000] [--posts 1000]

Why: CPU-time rates move with the shared host's load (other jobs evict the caches), and so do their
ratios, by several percent; instructions executed do not. Each tagger (full lexicon, the 1,000 sparse
keywords of bench_groups.py) is built here, pickled and loaded by a child process under
``valgrind --tool=callgrind --instr-atstart=no``: the child tags ``--warm`` posts uncounted (RE2 builds
its DFA states lazily, the tagger's memos fill), then counting is switched on (callgrind_control) for
``--posts`` more. A child that tags none gives the cost of switching, which is subtracted. Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_groups import LONG, _old_tagger_class, make_keywords, make_posts  # noqa: E402

from monitor.tagging.groups import GroupTagger  # noqa: E402


def child(pkl: str, path: str, warm: int, n: int) -> None:
    """Runs under callgrind: load the pickled tagger (its package on ``path``), warm it, count ``n`` posts."""
    sys.path.insert(0, path)
    with open(pkl, "rb") as fh:
        tagger, posts = pickle.load(fh)  # noqa: S301 - written by the parent process just before
    for p in posts[:warm]:
        tagger.tag(p)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True, check=False)
    for p in posts[warm:warm + n]:
        tagger.tag(p)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], capture_output=True, check=False)


def count(pkl: Path, path: str, warm: int, n: int) -> int:
    """Instructions callgrind counted in a child tagging ``n`` posts after ``warm`` uncounted ones."""
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                              f"--callgrind-out-file={tmp}/out", sys.executable, __file__, "--child", str(pkl),
                              path, str(warm), str(n)], capture_output=True, text=True, check=True)
    got = re.search(r"refs:\s+([\d,]+)", run.stderr)
    if got is None:
        sys.exit(f"no instruction count from valgrind:\n{run.stderr[-2000:]}")
    return int(got.group(1).replace(",", ""))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--against", metavar="REV", required=True)
    ap.add_argument("--warm", type=int, default=3000)
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    posts = make_posts(args.warm + args.posts, rng, LONG)
    sparse = make_keywords(posts, rng, dense=False)
    old_cls = _old_tagger_class(args.against)
    old_path = str(Path(sys.modules[old_cls.__module__.split(".")[0]].__path__[0]).parent)
    src = str(Path(sys.modules[GroupTagger.__module__.split(".")[0]].__path__[0]).parent)
    per_post: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, cls, path in ((f"tagger at {args.against}", old_cls, old_path), ("this tree's tagger", GroupTagger,
                                                                                     src)):
            pkl = Path(tmp) / "tagger.pickle"
            pkl.write_bytes(pickle.dumps((cls(keywords=sparse), posts), protocol=pickle.HIGHEST_PROTOCOL))
            base = count(pkl, path, args.warm, 0)
            per_post[name] = (count(pkl, path, args.warm, args.posts) - base) / args.posts
    print(f"news-length posts, full lexicon + 1,000 keywords (sparse): {args.posts:,} posts counted after "
          f"{args.warm:,} uncounted (this tree's package: {src})\n")
    print(f"| tagger | instructions a post | speed-up by instructions over {args.against} |")
    print("|---|---:|---:|")
    old = per_post[f"tagger at {args.against}"]
    for name, v in per_post.items():
        print(f"| {name} | {v:,.0f} | {old / v:.3f} |")


if __name__ == "__main__":
    main()
