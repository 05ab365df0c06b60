#!/usr/bin/env bash
# Mutation testing of the core with mutmut: identity, the pipeline, output escaping (escape.py,
# reports/output.py), alert rendering, the group matcher, the Telethon source, the store's write path
# (SQLite adapter, shared rows and queries; the contract tests on SQLite only). One module at a time is
# the usual way:
#
#   bench/mutation.sh                      # every mutant of the modules in [tool.mutmut] (pyproject.toml)
#   bench/mutation.sh 'monitor.identity*'  # only these mutants (mutmut's name patterns)
#   bench/mutation.sh 'monitor.pipeline*'
#   bench/mutation.sh 'monitor.escape*' 'monitor.alerts.render*' 'monitor.reports.output*'
#   bench/mutation.sh 'monitor.sources.telegram*'
#   bench/mutation.sh 'monitor.store.sqlite.store*' 'monitor.store.common.store*' 'monitor.store.common.postrows*' 'monitor.store.rows*'
#   TIME_LIMIT=600 CHILDREN=2 bench/mutation.sh
#   FRESH=1 bench/mutation.sh              # start over (mutmut otherwise resumes where it stopped)
#
# Which modules and which tests: [tool.mutmut] in pyproject.toml (source_paths and
# pytest_add_cli_args_test_selection). mutmut runs, for each mutant, only the tests that cover the
# mutated function (it records coverage first), in forked children; TIME_LIMIT bounds the whole run
# (default 45 minutes). The pipeline takes about 11 minutes on the 2-core machine under load, the three
# output modules about 6, the source about 14 (coverage included), the matcher about 6 (its tests build
# taggers over a small lexicon: docs/testing.md says why), the store about 20 (coverage included).
# The last lines are the score: killed / (killed + survived + no tests + timeouts); the surviving
# mutants are listed, and `.venv/bin/mutmut show NAME` shows one. docs/testing.md says what survived
# and why. Survivors that only change the letter case of SQL text (equivalent: SQL reads keywords and
# unquoted names in either case) are marked, and the score is also given without them.
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
import ast, collections, difflib, re

def case_only_sql(name, sources={}):
    """Whether a mutant only changed the letter case of SQL text (keywords and unquoted names, never a quoted
    literal): equivalent, as both SQL dialects read them case-insensitively (docs/testing.md, the store)."""
    module, _, function = name.rpartition(".")
    path = "mutants/src/" + module.replace(".", "/") + ".py"
    if path not in sources:
        try:
            text = open(path, encoding="utf-8").read()
            sources[path] = {n.name: ast.get_source_segment(text, n) for n in ast.walk(ast.parse(text))
                             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        except (OSError, SyntaxError):
            sources[path] = {}
    base = function.rsplit("__mutmut_", 1)[0]
    orig, mutant = sources[path].get(base + "__mutmut_orig"), sources[path].get(function)
    if orig is None or mutant is None:
        return False
    diff = list(difflib.ndiff(orig.replace(base + "__mutmut_orig", "f").splitlines(),
                              mutant.replace(function, "f").splitlines()))
    old = [d[2:] for d in diff if d.startswith("- ")]
    new = [d[2:] for d in diff if d.startswith("+ ")]
    sql = re.compile(r"^\s*f?\"|\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|WHERE|AND)\b|\?", re.I)
    return bool(old) and len(old) == len(new) and all(
        a != b and a.lower() == b.lower() and sql.search(a) and not a.lstrip().startswith("raise")
        and re.findall(r"'[^']*'", a) == re.findall(r"'[^']*'", b) for a, b in zip(old, new))

counts = collections.Counter()
survivors = []
sql_case = 0
for line in open("mutants/results.txt", encoding="utf-8"):
    m = re.match(r"\s*(\S+): (.+)$", line)
    if not m:
        continue
    name, state = m.groups()
    counts[state.strip()] += 1
    if state.strip() in ("survived", "no tests", "timeout", "suspicious"):
        equivalent = state.strip() == "survived" and case_only_sql(name)
        sql_case += equivalent
        survivors.append(f"{state.strip():>10}  {name}" + ("  (SQL letter case only)" if equivalent else ""))
tried = sum(n for s, n in counts.items() if s != "not checked")
killed = counts["killed"]
print("\n".join(survivors))
print("| state | mutants |\n|---|---:|")
for state, n in sorted(counts.items()):
    print(f"| {state} | {n} |")
if tried:
    print(f"score: {killed}/{tried} killed ({killed / tried:.0%})")
if sql_case:
    print(f"of the survivors, {sql_case} only change the letter case of SQL text (equivalent);"
          f" without them: {killed}/{tried - sql_case} killed ({killed / (tried - sql_case):.1%})")
PY
