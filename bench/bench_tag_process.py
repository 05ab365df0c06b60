"""Whole-process `monitor tag` over 20,000 real lines, next to a process that only runs pycld2 over them.

    python bench/bench_tag_process.py [--lines 20000] [--runs 3]

Lines: the texts of ../shared/data/lid/dev.tsv, then sentences of ../shared/data/lid/train,
up to --lines. Both processes start from nothing (interpreter start, imports, model and
tagger loading included: what a user running the command pays), read the same file on stdin
and write one line per input line; `monitor tag` computes language, groups, people and
keywords for each (its compiled-tagger cache is warmed first, as after any earlier run).
Best of --runs for each, by the child's CPU time (user + system, from wait4: a loaded shared
machine stretches wall time but hardly CPU time); the ratio is pycld2's time over monitor's
(goal: >= 0.5). Wall times are printed too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared"))
PYCLD2_ONLY = """
import sys, pycld2
out = sys.stdout
for line in sys.stdin:
    try:
        reliable, _, details = pycld2.detect(line)
        out.write(details[0][1] + "\\n")
    except pycld2.error:
        out.write("un\\n")
"""


def real_lines(n: int) -> list[str]:
    lines: list[str] = []
    dev = SHARED / "data" / "lid" / "dev.tsv"
    if dev.is_file():
        for row in dev.read_text(encoding="utf-8").splitlines()[1:]:
            text = row.split("\t")[-1].strip()
            if text:
                lines.append(text)
    for path in sorted((SHARED / "data" / "lid" / "train").glob("*.txt")):
        if len(lines) >= n:
            break
        lines += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(lines) < n:
        sys.exit(f"only {len(lines)} lines found under {SHARED}/data/lid (set MONITOR_SHARED)")
    return lines[:n]


def _time(cmd: list[str], stdin: Path, n: int, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run; CPU time is what a shared machine cannot inflate."""
    with stdin.open("rb") as fh, tempfile.TemporaryFile() as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fh, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t
        assert status == 0, cmd
        out.seek(0)
        assert out.read().count(b"\n") == n, cmd
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    lines = real_lines(args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "lines.txt"
        data.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {**os.environ, "MONITOR_CACHE_DIR": str(Path(tmp) / "cache")}
        subprocess.run([sys.executable, "-m", "monitor", "tag"], input=b"warm\n", env=env, check=True,
                       capture_output=True)
        monitor = [_time([sys.executable, "-m", "monitor", "tag"], data, len(lines), env) for _ in range(args.runs)]
        cld2 = [_time([sys.executable, "-c", PYCLD2_ONLY], data, len(lines), env) for _ in range(args.runs)]
    (mw, mc), (cw, cc) = min(monitor, key=lambda r: r[1]), min(cld2, key=lambda r: r[1])
    print(f"{len(lines):,} real lines ({sum(map(len, lines)) / len(lines):.0f} characters on average), best of {args.runs}")
    print(f"{'process':40} {'wall s':>8} {'CPU s':>8} {'lines/CPU s':>12}")
    print(f"{'monitor tag (language, groups, keywords)':40} {mw:8.2f} {mc:8.2f} {len(lines) / mc:12.0f}")
    print(f"{'pycld2 only':40} {cw:8.2f} {cc:8.2f} {len(lines) / cc:12.0f}")
    print(f"throughput ratio monitor / pycld2-only: {cc / mc:.2f} by CPU time, {cw / mw:.2f} by wall time (goal >= 0.50)")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
