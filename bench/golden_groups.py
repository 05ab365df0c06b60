"""Golden output of the group tagger: a hash per post set of every match of every post.

Usage:
    PYTHONPATH=src python bench/golden_groups.py            # compare with bench/golden_groups.json
    PYTHONPATH=src python bench/golden_groups.py --write    # record the current output

Why: speed work on the matcher must not change a single tag. The sets are every development set
(data/eval/groups_dev*.jsonl), 3,000 lines of ordinary text (../shared/data/lid/train, when present)
and the benchmark's synthetic short and news-length posts; the tagger is the full lexicon plus the
benchmark's 1,000 analyst keywords (dense and sparse, as bench_groups.py builds them). Each match is
written as kind, canonical, term, start, end, rule, group, source, distance; only the SHA-256 per set is
stored (the outputs are megabytes). Exit 1 when any set differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_groups import LONG, ORDINARY, SHORT, make_keywords, make_posts  # noqa: E402

from monitor.tagging.groups import GroupTagger  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden_groups.json"


def post_sets() -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    for f in sorted((ROOT / "data" / "eval").glob("groups_dev*.jsonl")):
        sets[f.name] = [json.loads(x)["text"] for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    rng = random.Random(7)
    sets["synthetic short"] = make_posts(3000, rng, SHORT)
    sets["synthetic news"] = make_posts(3000, rng, LONG)
    if ORDINARY.is_dir():
        lines = [x for f in sorted(ORDINARY.glob("*.txt")) for x in f.read_text(encoding="utf-8").splitlines()
                 if x.strip()]
        random.Random(7).shuffle(lines)
        sets["ordinary text (shared/data/lid/train, 3,000 lines)"] = lines[:3000]
    return sets


def taggers(sets: dict[str, list[str]]) -> dict[str, GroupTagger]:
    rng = random.Random(11)
    news = sets["synthetic news"]
    return {"dense": GroupTagger(keywords=make_keywords(news, rng, dense=True)),
            "sparse": GroupTagger(keywords=make_keywords(news, rng, dense=False))}


def digest(tagger: GroupTagger, posts: list[str]) -> str:
    h = hashlib.sha256()
    for p in posts:
        for m in tagger.match(p):
            h.update(json.dumps([m.kind, m.canonical, m.term, m.start, m.end, m.rule, m.group, m.source,
                                 m.distance], ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    sets = post_sets()
    got = {f"{tn} | {sn}": digest(t, posts) for tn, t in taggers(sets).items() for sn, posts in sets.items()}
    if args.write:
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {len(got)} hashes to {GOLDEN.name}")
        return 0
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    bad = 0
    for key, h in got.items():
        ok = want.get(key) == h
        bad += not ok
        print(f"{'same' if ok else 'DIFFERENT'}  {key}")
    missing = set(want) - set(got)
    for key in sorted(missing):
        print(f"skipped  {key} (set absent here)")
    print("golden output: " + ("identical" if not bad else f"{bad} set(s) differ"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
