#!/usr/bin/env bash
# Mutation testing of the core with mutmut: identity, the pipeline, output escaping (escape.py,
# reports/output.py), alert rendering, the group matcher, the Telethon source. One module at a time is
# the usual way:
#
#   bench/mutation.sh                      # every mutant of the modules in [tool.mutmut] (pyproject.toml)
#   bench/mutation.sh 'monitor.identity*'  # only these mutants (mutmut's name patterns)
#   bench/mutation.sh 'monitor.pipeline*'
#   bench/mutation.sh 'monitor.escape*' 'monitor.alerts.render*' 'monitor.reports.output*'
#   bench/mutation.sh 'monitor.sources.telegram*'
#   TIME_LIMIT=600 CHILDREN=2 bench/mutation.sh
#   FRESH=1 bench/mutation.sh              # start over (mutmut otherwise resumes where it stopped)
#
# Which modules and which tests: [tool.mutmut] in pyproject.toml (source_paths and
# pytest_add_cli_args_test_selection). mutmut runs, for each mutant, only the tests that cover the
# mutated function (it records coverage first), in forked children; TIME_LIMIT bounds the whole run
# (default 45 minutes). The pipeline takes about 11 minutes on the 2-core machine under load, the three
# output modules about 6, the source about 14 (coverage included), the matcher about 6 (its tests build
# taggers over a small lexicon: docs/testing.md says why).
# The last lines are the score: killed / (killed + survived + no tests + timeouts); the surviving
# mutants are listed, and `.venv/bin/mutmut show NAME` shows one. docs/testing.md says what survived
# and why.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
if ! "$PY" -c 'import mutmut' 2>/dev/null; then
  "$PY" -m pip install -q 'mutmut>=3.8,<4'
fi
# mutmut keeps its copy, its coverage map and every result in mutants/ and goes on where it stopped;
# FRESH=1 starts over (do it after changing the tests, or the old verdicts stay)
[ "${FRESH:-0}" = 1 ] && rm -rf mutants
mkdir -p mutants
timeout "${TIME_LIMIT:-2700}" "$PY" -m mutmut run --max-children "${CHILDREN:-2}" "$@" >/dev/null 2>mutants/run.log
status=$?
[ "$status" = 124 ] && echo "note: stopped after ${TIME_LIMIT:-2700} s; the counts below are of the mutants tried" >&2
"$PY" -m mutmut results --all true 2>/dev/null > mutants/results.txt || true
"$PY" - <<'PY'
import collections, re
counts = collections.Counter()
survivors = []
for line in open("mutants/results.txt", encoding="utf-8"):
    m = re.match(r"\s*(\S+): (.+)$", line)
    if not m:
        continue
    name, state = m.groups()
    counts[state.strip()] += 1
    if state.strip() in ("survived", "no tests", "timeout", "suspicious"):
        survivors.append(f"{state.strip():>10}  {name}")
tried = sum(n for s, n in counts.items() if s != "not checked")
killed = counts["killed"]
print("\n".join(survivors))
print("| state | mutants |\n|---|---:|")
for state, n in sorted(counts.items()):
    print(f"| {state} | {n} |")
if tried:
    print(f"score: {killed}/{tried} killed ({killed / tried:.0%})")
PY
