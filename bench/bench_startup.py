"""Start-up: time to `monitor --help`, and to the first answer of `monitor tag`, next to bare Python.

    python bench/bench_startup.py [--runs 7]

Each figure is the best of N runs (the machine is shared: the best run is the one least
disturbed), beside the same run's reference: a bare `python -c pass` and `python -c "import
click"`. The first `monitor tag` run fills the compiled-tagger cache (a fresh temporary
MONITOR_CACHE_DIR), and that cold start is shown too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

PY = sys.executable
LINE = "ИГИЛ взял на себя ответственность за нападение\n"


def _run(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - t


def _first_answer(env: dict[str, str]) -> float:
    """Seconds from spawning `monitor tag` to reading the answer to one line (stdin left open)."""
    t = time.perf_counter()
    proc = subprocess.Popen([PY, "-m", "monitor", "tag"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(LINE.encode())
    proc.stdin.flush()
    answer = proc.stdout.readline()
    elapsed = time.perf_counter() - t
    proc.stdin.close()
    proc.wait(timeout=60)
    assert b'"IS"' in answer, answer
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MONITOR_CACHE_DIR": cache}
        cold = _first_answer(env)
        rows = {
            "python -c pass": [_run([PY, "-c", "pass"], env) for _ in range(args.runs)],
            'python -c "import click"': [_run([PY, "-c", "import click"], env) for _ in range(args.runs)],
            "monitor --help": [_run([PY, "-m", "monitor", "--help"], env) for _ in range(args.runs)],
            "monitor tag: first answer (cache warm)": [_first_answer(env) for _ in range(args.runs)],
        }
    print(f"{'what':42} {'best s':>8} {'median s':>9}")
    for name, times in rows.items():
        times.sort()
        print(f"{name:42} {times[0]:8.3f} {times[len(times) // 2]:9.3f}")
    print(f"{'monitor tag: first answer (cache cold)':42} {cold:8.3f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
