"""Plain-text comparison tables of engines (shared by ``monitor lid eval`` and bench/)."""

from __future__ import annotations

from collections.abc import Sequence

from .evaluation import Scores
from .labels import ALL_CLASSES

__all__ = ["per_class_table", "summary_table"]


def summary_table(results: Sequence[tuple[str, Scores]]) -> str:
    head = ["engine", "core F1", "core <=60 acc", "all F1", "acc <=60", "acc >60", "texts/s"]
    rows = [
        [
            name,
            f"{s.core_macro_f1:.4f}",
            f"{s.core_short_acc:.4f}",
            f"{s.all_macro_f1:.4f}",
            f"{s.short_acc:.4f}",
            f"{s.long_acc:.4f}",
            f"{s.texts_per_s:,.0f}",
        ]
        for name, s in results
    ]
    return _render(head, rows)


def per_class_table(results: Sequence[tuple[str, Scores]]) -> str:
    head = ["class", "n"] + [name for name, _ in results]
    rows = []
    for c in ALL_CLASSES:
        n = next((s.per_class_acc[c][0] for _, s in results if c in s.per_class_acc), 0)
        if n == 0:
            continue
        rows.append([c, str(n)] + [f"{s.per_class_acc.get(c, (0, 0.0))[1]:.3f}" for _, s in results])
    return _render(head, rows)


def _render(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep, *(line(r) for r in rows)])
