"""Mixed posts: the share of each language in a post that quotes another one.

An Uzbek post with a Russian quote, a Tajik post with an Arabic verse: the post
keeps its main language (the whole-text answer, which volume reports count),
and this adds how its letters split between the languages found. The text is
cut at sentence punctuation, quotation marks, brackets and line breaks; each
piece long enough to tell is identified by the same engine, and a language
counts only with a confident piece of at least MIN_PIECE letters, so one
misread clause does not make a post "mixed".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .guess import LanguageIdentifier
from .noise import strip_for_model

__all__ = ["MIN_CONFIDENCE", "MIN_PIECE", "MIN_SHARE", "language_shares"]

MIN_PIECE = 12  # letters a piece needs to count towards a language
MIN_CONFIDENCE = 0.9  # the engine's confidence a piece needs
MIN_SHARE = 0.1  # a language below this share of the counted letters is left out
_CUT = re.compile(r"[.!?…;:\n\r«»\"“”„()\[\]{}|]+|\s[-–—]\s")


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))  # the C-level map: 3x faster than a generator over characters


def language_shares(texts: Sequence[str], engine: LanguageIdentifier) -> list[dict[str, float] | None]:
    """Per text: {language: share of letters} when two or more languages are found, else None.

    Shares are rounded to two decimals and sum to 1 (within rounding); the
    languages are bare ISO 639-1 codes, like ``LanguageGuess.lang``.
    """
    pieces: list[str] = []
    owner: list[int] = []
    weight: list[int] = []
    for i, text in enumerate(texts):
        if len(text) < 2 * MIN_PIECE:
            continue
        sized = []
        for part in _CUT.split(strip_for_model(text[:20_000])):
            if len(part) < MIN_PIECE:  # fewer characters than MIN_PIECE: fewer letters too, no need to count
                continue
            part = part.strip()
            n = _letters(part)
            if n >= MIN_PIECE:
                sized.append((part, n))
        if len(sized) < 2:
            continue
        for p, n in sized:
            pieces.append(p)
            owner.append(i)
            weight.append(n)
    out: list[dict[str, float] | None] = [None] * len(texts)
    if not pieces:
        return out
    found: dict[int, dict[str, int]] = {}
    for i, n, guess in zip(owner, weight, engine.identify_many(pieces), strict=True):
        if guess.lang == "und" or guess.confidence < MIN_CONFIDENCE:
            continue
        per = found.setdefault(i, {})
        per[guess.lang] = per.get(guess.lang, 0) + n
    for i, per in found.items():
        total = sum(per.values())
        kept = {lang: n for lang, n in per.items() if n / total >= MIN_SHARE}
        if len(kept) < 2:
            continue
        total = sum(kept.values())
        out[i] = {lang: round(n / total, 2) for lang, n in sorted(kept.items(), key=lambda kv: (-kv[1], kv[0]))}
    return out
