"""Precision, recall and F1 of the group tagger on a labelled JSONL set.

Usage:
    PYTHONPATH=src python bench/eval_groups.py [data/eval/groups_dev.jsonl] [--no-translit] [--errors]

Each line: {"text", "lang", "groups": [...], "people": [...], "note"}. Labels are
counted per post (a group named twice in one post is one label). A "negative" is
a post with no group and no person; the negative false-positive rate is the
share of negatives that got any group or person tag.
Prints Markdown tables (per group, per person kind, per language, overall).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from monitor.tagging.groups import GroupTagger

DEFAULT = Path(__file__).resolve().parent.parent / "data" / "eval" / "groups_dev.jsonl"


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(path: Path, tagger: GroupTagger) -> dict[str, object]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    per_label: dict[str, Counter[str]] = defaultdict(Counter)
    per_lang: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    neg = Counter[str]()
    errors: list[str] = []
    for row in rows:
        groups, people, _, _ = tagger.tag(row["text"])
        gold = {("g", x) for x in row.get("groups", [])} | {("p", x) for x in row.get("people", [])}
        pred = {("g", x) for x in groups} | {("p", x) for x in people}
        lang = row.get("lang", "und")
        for kind, label in gold | pred:
            key = label if kind == "g" else f"person:{label}"
            if (kind, label) in gold and (kind, label) in pred:
                outcome = "tp"
            elif (kind, label) in pred:
                outcome = "fp"
            else:
                outcome = "fn"
            per_label[key][outcome] += 1
            per_lang[lang][outcome] += 1
            totals[f"{kind}_{outcome}"] += 1
        if not gold:
            neg["n"] += 1
            neg[f"n_{lang}"] += 1
            if pred:
                neg["fp"] += 1
                neg[f"fp_{lang}"] += 1
        if gold != pred:
            errors.append(f"[{lang}] gold={sorted(gold)} pred={sorted(pred)} :: {row['text']!r}")
    return {"rows": rows, "per_label": per_label, "per_lang": per_lang, "totals": totals, "neg": neg,
            "errors": errors}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--summary", nargs="+", type=Path, metavar="FILE",
                    help="one table row per set (P, R, micro-F1, negatives tagged) instead of the full report")
    ap.add_argument("--no-translit", action="store_true", help="switch off generated Uzbek Latin<->Cyrillic aliases")
    ap.add_argument("--errors", action="store_true", help="print every post whose tags differ from its labels")
    ap.add_argument("--ordinary", type=Path, metavar="DIR",
                    help="tag every line of DIR/*.txt (ordinary text, e.g. ../shared/data/lid/train) with the tagger "
                         "without and with generated variants and fuzzy matching; print what each names, per 10,000")
    args = ap.parse_args(argv)
    if args.ordinary:
        return ordinary(args.ordinary)
    tagger = GroupTagger(translit=not args.no_translit)
    if args.summary:
        print(f"tagger {tagger.version}\n")
        print("| set | posts | P | R | micro-F1 | negatives tagged |\n|---|---:|---:|---:|---:|---:|")
        for path in args.summary:
            res = evaluate(path, tagger)
            t, neg = res["totals"], res["neg"]
            assert isinstance(t, Counter) and isinstance(neg, Counter)
            p, r, f = prf(t["g_tp"] + t["p_tp"], t["g_fp"] + t["p_fp"], t["g_fn"] + t["p_fn"])
            print(f"| {path.stem} | {len(res['rows'])} | {p:.3f} | {r:.3f} | {f:.3f} "  # type: ignore[arg-type]
                  f"| {neg['fp']}/{neg['n']} = {(neg['fp'] / neg['n'] if neg['n'] else 0.0):.1%} |")
        return 0
    res = evaluate(args.path, tagger)
    per_label, per_lang = res["per_label"], res["per_lang"]
    totals, neg = res["totals"], res["neg"]
    assert isinstance(per_label, dict) and isinstance(per_lang, dict)
    assert isinstance(totals, Counter) and isinstance(neg, Counter)
    print(f"set: {args.path.name}  posts: {len(res['rows'])}  tagger {tagger.version}"  # type: ignore[arg-type]
          f"  translit={'off' if args.no_translit else 'on'}\n")
    print("| label | support | P | R | F1 |\n|---|---:|---:|---:|---:|")
    for key in sorted(per_label, key=lambda k: (k.startswith("person:"), k)):
        c = per_label[key]
        p, r, f = prf(c["tp"], c["fp"], c["fn"])
        print(f"| {key} | {c['tp'] + c['fn']} | {p:.3f} | {r:.3f} | {f:.3f} |")
    print("\n| language | posts | negatives | P | R | F1 | negatives tagged |\n|---|---:|---:|---:|---:|---:|---:|")
    langs = Counter(row.get("lang", "und") for row in res["rows"])  # type: ignore[union-attr]
    for lang in sorted(per_lang):
        c = per_lang[lang]
        p, r, f = prf(c["tp"], c["fp"], c["fn"])
        n = neg[f"n_{lang}"]
        rate = neg[f"fp_{lang}"] / n if n else 0.0
        print(f"| {lang} | {langs[lang]} | {n} | {p:.3f} | {r:.3f} | {f:.3f} | {rate:.1%} |")
    gp, gr, gf = prf(totals["g_tp"], totals["g_fp"], totals["g_fn"])
    pp, pr, pf = prf(totals["p_tp"], totals["p_fp"], totals["p_fn"])
    ap_, ar, af = prf(totals["g_tp"] + totals["p_tp"], totals["g_fp"] + totals["p_fp"],
                      totals["g_fn"] + totals["p_fn"])
    rate = neg["fp"] / neg["n"] if neg["n"] else 0.0
    print("\n| overall | P | R | F1 |\n|---|---:|---:|---:|")
    print(f"| groups (micro) | {gp:.3f} | {gr:.3f} | {gf:.3f} |")
    print(f"| people (micro) | {pp:.3f} | {pr:.3f} | {pf:.3f} |")
    print(f"| all (micro) | {ap_:.3f} | {ar:.3f} | {af:.3f} |")
    print(f"\nnegatives tagged: {neg['fp']}/{neg['n']} = {rate:.1%}")
    if args.errors:
        print("\nerrors:")
        for line in res["errors"]:  # type: ignore[union-attr]
            print(" ", line)
    return 0


def ordinary(folder: Path) -> int:
    """False positives the generator and fuzzy matching add on ordinary text, per 10,000 texts."""
    lines: list[str] = []
    for f in sorted(folder.glob("*.txt")):
        lines += [x for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    base = GroupTagger(generate=False, fuzzy=False)
    full = GroupTagger()
    tagged_base = tagged_full = added = 0
    print(f"texts: {len(lines):,} from {folder}\n")
    for line in lines:
        g0, p0, _, _ = base.tag(line)
        g1, p1, _, ms = full.tag(line)
        tagged_base += bool(g0 or p0)
        tagged_full += bool(g1 or p1)
        new = [m for m in ms if m.rule in ("variant", "fuzzy", "bound")]
        if (set(g1) | set(p1)) - (set(g0) | set(p0)) or new:
            added += 1
            print(f"  added: {[(m.canonical, m.term, m.rule, m.source) for m in new]} :: {line[:160]!r}")
    per = 10000 / max(1, len(lines))
    print("\n| tagger | texts tagged | per 10,000 |\n|---|---:|---:|")
    print(f"| without generated variants and fuzzy | {tagged_base} | {tagged_base * per:.2f} |")
    print(f"| with them | {tagged_full} | {tagged_full * per:.2f} |")
    print(f"| texts with a new match (generated, fuzzy or bound) | {added} | {added * per:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
