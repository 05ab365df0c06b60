"""Language identification on shared/data/lid/dev.tsv: accuracy and throughput of each engine, one core.

    python bench/bench_language.py            # default engine beside pycld2 and py3langid
    python bench/bench_language.py --all      # also langdetect (with built profiles) and the vote

Prints per class (language and script) accuracy, short (<= 60 chars) vs long,
macro-F1 over the four core classes and over all 16 languages, and texts/s.
Every engine runs in the same process, pinned to one CPU, after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from monitor.tagging.language import DEFAULT_ENGINE, get_identifier  # noqa: E402
from monitor.tagging.language.evaluation import read_tsv, score  # noqa: E402
from monitor.tagging.language.report import per_class_table, summary_table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsv", type=Path, default=None, help="default: $MONITOR_SHARED/data/lid/dev.tsv")
    parser.add_argument("--all", action="store_true", help="also langdetect and vote (slow)")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per engine; the best is kept")
    args = parser.parse_args()

    shared = Path(os.environ.get("MONITOR_SHARED", REPO.parent / "shared"))
    tsv = args.tsv or shared / "data" / "lid" / "dev.tsv"
    if not tsv.is_file():
        print(f"SKIP: {tsv} not found (the shared data lives beside the repo; set MONITOR_SHARED)")
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rows = read_tsv(tsv)
    names = [DEFAULT_ENGINE, "pycld2", "py3langid"] + (["langdetect", "vote"] if args.all else [])
    results = []
    for name in names:
        engine = get_identifier(name)
        runs = [
            score(rows, engine.identify_many)
            for _ in range(1 if name in ("langdetect", "vote") else args.repeat)
        ]
        best = max(runs, key=lambda s: s.texts_per_s)
        results.append((f"{name}@{engine.version}", best))
        if name == DEFAULT_ENGINE:
            texts = [r.text for r in rows]
            t0 = time.perf_counter()
            for t in texts:
                engine(t)
            single = len(texts) / (time.perf_counter() - t0)
    print(f"{tsv}: {len(rows)} rows; Python {platform.python_version()} on {platform.machine()}, one core")
    print(summary_table(results))
    print(f"\n{DEFAULT_ENGINE} called one text at a time (identify(text)): {single:,.0f} texts/s")
    print()
    print(per_class_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
