"""`monitor tag` output on the development texts, written to a file or compared with one, byte for byte.

    python bench/golden_tag_output.py write before.jsonl   # on the old code
    python bench/golden_tag_output.py check before.jsonl   # on the new code: exit 1 on any difference

Lines: every text of ../shared/data/lid/dev.tsv, then every 7th line of each ../shared/data/lid/train
file (the sample mixes languages and lengths), plus those lines joined in pairs across files (mixed
posts, so the language shares are exercised). For speed changes that must not change any answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared"))


def lines() -> list[str]:
    out: list[str] = []
    dev = SHARED / "data" / "lid" / "dev.tsv"
    for row in dev.read_text(encoding="utf-8").splitlines()[1:]:
        text = row.split("\t")[-1].strip()
        if text:
            out.append(text)
    sample: list[list[str]] = []
    for path in sorted((SHARED / "data" / "lid" / "train").glob("*.txt")):
        rows = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        sample.append(rows[::7][:3000])
    for rows in sample:
        out += rows
    for a, b in zip(sample, sample[1:] + sample[:1], strict=True):
        out += [f"{x} «{y}» {x}" for x, y in zip(a[:300], b[:300], strict=False)]
    return out


def tag_output(texts: list[str]) -> bytes:
    data = ("\n".join(texts) + "\n").encode("utf-8")
    return subprocess.run([sys.executable, "-m", "monitor", "tag"], input=data, capture_output=True, check=True).stdout


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    texts = lines()
    got = tag_output(texts)
    path = Path(sys.argv[2])
    if sys.argv[1] == "write":
        path.write_bytes(got)
        print(f"{len(texts):,} lines written to {path}")
        return
    want = path.read_bytes().splitlines()
    have = got.splitlines()
    bad = [i for i, (w, h) in enumerate(zip(want, have, strict=True)) if w != h]
    mixed = sum(b'"languages"' in h for h in have)
    print(f"{len(texts):,} lines ({mixed:,} with language shares), {len(bad)} different")
    for i in bad[:5]:
        print(f"line {i + 1}:\n  before {want[i].decode()}\n  after  {have[i].decode()}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
