"""Scoring engines on a labelled TSV (``lang<TAB>script<TAB>source<TAB>text``): the metrics of issue 3.

Core macro-F1 is over the classes ru, tg, uz-Latn, uz-Cyrl (every row counts
towards precision); the all-language macro-F1 is over the 16 bare languages
(Uzbek's two scripts are one language there); the short-text accuracy is over
rows of the four core classes with at most 60 characters.
"""

from __future__ import annotations

import csv
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .guess import LanguageGuess
from .labels import CORE_CLASSES, LANGUAGES, class_of

__all__ = ["SHORT", "Row", "Scores", "f1_per_class", "macro_f1", "noisy", "read_tsv", "score"]

SHORT = 60


@dataclass(frozen=True, slots=True)
class Row:
    lang: str
    script: str
    source: str
    text: str

    @property
    def label(self) -> str:
        return class_of(self.lang, self.script)


def read_tsv(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        if header[:4] != ["lang", "script", "source", "text"]:
            raise ValueError(f"{path}: expected header lang, script, source, text; got {header}")
        return [Row(*r[:4]) for r in reader if len(r) >= 4]


def f1_per_class(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, pred, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    out = {}
    for c in classes:
        denom = 2 * tp[c] + fp[c] + fn[c]
        out[c] = 2 * tp[c] / denom if denom else 0.0
    return out


def macro_f1(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str]) -> float:
    f1 = f1_per_class(gold, pred, classes)
    return sum(f1.values()) / len(f1)


@dataclass(frozen=True, slots=True)
class Scores:
    n: int
    core_macro_f1: float
    core_short_acc: float
    all_macro_f1: float
    per_class_acc: dict[str, tuple[int, float]]  # class -> (n, accuracy)
    short_acc: float  # all rows <= 60 chars
    long_acc: float
    texts_per_s: float
    predictions: list[str]


def score(rows: Sequence[Row], predict: Callable[[list[str]], list[LanguageGuess]]) -> Scores:
    """Run ``predict`` over all texts once (timed) and compute the metrics."""
    texts = [r.text for r in rows]
    predict(texts[:50])  # warm-up: model load and lookup tables are not the engine's speed
    t0 = time.perf_counter()
    guesses = predict(texts)
    elapsed = time.perf_counter() - t0
    pred = [class_of(g.lang, g.script) for g in guesses]
    gold = [r.label for r in rows]
    core_short = [
        (g, p) for g, p, r in zip(gold, pred, rows, strict=True) if g in CORE_CLASSES and len(r.text) <= SHORT
    ]
    per: dict[str, list[int]] = {}
    for g, p in zip(gold, pred, strict=True):
        per.setdefault(g, [0, 0])
        per[g][0] += 1
        per[g][1] += g == p
    short = [g == p for g, p, r in zip(gold, pred, rows, strict=True) if len(r.text) <= SHORT]
    long = [g == p for g, p, r in zip(gold, pred, rows, strict=True) if len(r.text) > SHORT]
    return Scores(
        n=len(rows),
        core_macro_f1=macro_f1(gold, pred, CORE_CLASSES),
        core_short_acc=sum(g == p for g, p in core_short) / max(len(core_short), 1),
        all_macro_f1=macro_f1(
            [g.split("-")[0] for g in gold],
            [p.split("-")[0] for p in pred],
            [lang for lang in LANGUAGES if any(g.split("-")[0] == lang for g in gold)],  # those present
        ),
        per_class_acc={c: (n, k / n) for c, (n, k) in sorted(per.items())},
        short_acc=sum(short) / max(len(short), 1),
        long_acc=sum(long) / max(len(long), 1),
        texts_per_s=len(rows) / elapsed if elapsed > 0 else float("inf"),
        predictions=pred,
    )


_EMOJI = ("🔥", "👇👇", "❗️", "⚡️", "🇺🇿", "🇹🇯", "🇷🇺", "✅", "📌", "👉", "😡😡", "🤲")
_TAGS = ("news", "breaking", "video", "срочно", "новости", "yangilik", "хабар", "2026")
_HANDLES = ("news_channel", "kun_uz", "asia_plus", "radio_ozodi", "daryo", "tj_news24", "rian_ru")


def noisy(rows: Sequence[Row], seed: int = 0) -> list[Row]:
    """The same rows as Telegram posts look: 1-3 URLs, @mentions, #hashtags and emoji added around the text.

    Deterministic (fixed seed). The added tokens carry no language of their own
    (hashtags are Latin or Cyrillic whatever the row's language), so a good
    engine answers exactly as on the clean row.
    """
    rng = random.Random(seed)
    out = []
    for r in rows:
        words = r.text.split(" ")
        for _ in range(rng.randint(1, 3)):
            kind = rng.randrange(4)
            if kind == 0:
                token = f"https://t.me/{rng.choice(_HANDLES)}/{rng.randint(100, 99999)}"
            elif kind == 1:
                token = f"@{rng.choice(_HANDLES)}"
            elif kind == 2:
                token = f"#{rng.choice(_TAGS)}"
            else:
                token = rng.choice(_EMOJI)
            where = rng.choice((0, len(words), rng.randint(0, len(words))))
            words.insert(where, token)
        out.append(Row(r.lang, r.script, r.source + "#noisy", " ".join(words)))
    return out
