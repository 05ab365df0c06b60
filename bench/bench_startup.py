"""Start-up: time to `monitor --help`, and to the first answer of `monitor tag`, next to bare Python.

    python bench/bench_startup.py [--runs 7]

Each figure is the best and the median of N runs (the machine is shared: the best run is the
one least disturbed), beside the same run's reference: a bare `python -c pass` and `python -c
"import click"`. Bytecode: an installed package has its .pyc files; this environment may set
PYTHONDONTWRITEBYTECODE (every run would then recompile the project's ~40 modules from source),
so the children get a private PYTHONPYCACHEPREFIX in a temporary folder, warmed by the first run,
and no .pyc lands in the tree. `--no-pyc` keeps the environment's setting. The first `monitor tag` run fills the compiled-tagger cache (a fresh temporary
MONITOR_CACHE_DIR), and that cold start is shown too. CPU time is the child's user + system
time (wait4): what a loaded, shared machine does not stretch the way it stretches wall time.
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


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    assert status == 0, cmd
    return time.perf_counter() - t, usage.ru_utime + usage.ru_stime


def _cpu_so_far(pid: int) -> float:
    """User + system CPU seconds a running process has used (/proc, clock ticks: 10 ms steps)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _first_answer(env: dict[str, str], at_answer: list[float] | None = None) -> tuple[float, float]:
    """Seconds from spawning `monitor tag` to reading the answer to one line (stdin left open), and the
    child's whole CPU time (start-up, that one line and the interpreter's exit once stdin is closed).
    ``at_answer`` gets the child's CPU time when its answer was read (before it exits)."""
    t = time.perf_counter()
    proc = subprocess.Popen([PY, "-m", "monitor", "tag"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(LINE.encode())
    proc.stdin.flush()
    answer = proc.stdout.readline()
    elapsed = time.perf_counter() - t
    if at_answer is not None:
        at_answer.append(_cpu_so_far(proc.pid))
    proc.stdin.close()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    proc.stdout.close()
    assert b'"IS"' in answer, answer
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--no-pyc", action="store_true", help="keep PYTHONDONTWRITEBYTECODE as the environment has it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MONITOR_CACHE_DIR": cache}
        if not args.no_pyc:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = os.path.join(cache, "pycache")
            _run([PY, "-m", "monitor", "--help"], env)  # writes the bytecode of what --help imports
        at_answer: list[float] = []
        cold = _first_answer(env)
        rows = {
            "python -c pass": [_run([PY, "-c", "pass"], env) for _ in range(args.runs)],
            'python -c "import click"': [_run([PY, "-c", "import click"], env) for _ in range(args.runs)],
            "monitor --help": [_run([PY, "-m", "monitor", "--help"], env) for _ in range(args.runs)],
            "monitor tag: first answer (cache warm)": [_first_answer(env, at_answer) for _ in range(args.runs)],
        }
    print(f"{args.runs} runs each; bytecode cached: {'no' if args.no_pyc else 'yes'}")
    print(f"{'what':42} {'best wall s':>12} {'median wall s':>14} {'best CPU s':>11} {'median CPU s':>13}")
    for name, runs in rows.items():
        walls = sorted(w for w, _ in runs)
        cpus = sorted(c for _, c in runs)
        print(f"{name:42} {walls[0]:12.3f} {walls[len(walls) // 2]:14.3f} {cpus[0]:11.3f} {cpus[len(cpus) // 2]:13.3f}")
    print(f"{'monitor tag: first answer (cache cold)':42} {cold[0]:12.3f} {'':14} {cold[1]:11.3f}")
    at_answer.sort()
    print(f"monitor tag, CPU when the first answer was read (before exit, 10 ms steps): best {at_answer[0]:.2f} s,"
          f" median {at_answer[len(at_answer) // 2]:.2f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
