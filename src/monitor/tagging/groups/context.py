"""Conditions that make an ambiguous alias count: cue words nearby, case, neighbours.

Cue words themselves are found by the matcher's automaton in the same pass as
the aliases (a cue ending in ``$`` must be a whole word, others are word starts).

Why: short or shared names ("ИГ", "IS", "Ansarullah", "Jaysh al-Mahdi") are
right in one post and wrong in the next. The lexicon says per alias what must
(``context``) or must not (``veto``) be in the post, which words may not stand
right before or after it, and how it must be capitalised; this module compiles
those conditions once so checking them at match time is a few regex calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .fold import fold_term

_NOT_LETTER_BEFORE = r"(?<![^\W_])"
_NOT_LETTER_AFTER = r"(?![^\W_])"


def _alternation(words: Iterable[str]) -> str:
    folded = sorted({fold_term(w) for w in words if fold_term(w)}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in folded)


def compile_not_after(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Matches at the end of the text before an alias when one of ``words`` stands right there."""
    if not words:
        return None
    return re.compile(f"{_NOT_LETTER_BEFORE}(?:{_alternation(words)})[\\s'\"«»“”„]*$")


def compile_not_before(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Matches at the start of the text after an alias when one of ``words`` follows it."""
    if not words:
        return None
    return re.compile(f"^[\\s'\"«»“”„]*(?:{_alternation(words)}){_NOT_LETTER_AFTER}")


def case_ok(case: str | None, span: str, shouting: Callable[[], bool]) -> bool:  # shouting: lazy, rarely needed
    """Does the span as written have the capitalisation the alias asks for?"""
    if case is None:
        return True
    if case == "upper":
        return span.isupper() and not shouting()
    if case == "title":
        first = next((c for c in span if c.isalpha()), "")
        return first.isupper()
    # "words": every longer word capitalised (particles like al-, of, wal are left alone)
    words = re.findall(r"[^\W\d_]+", span)
    return all(w[0].isupper() for w in words if len(w) >= 4)


def is_shouting(text: str, start: int, end: int) -> bool:
    """The words around ``text[start:end]`` are in capitals (a caps headline): then case is no evidence."""
    window = text[max(0, start - 40) : start] + " " + text[end : end + 40]
    upper = len(_UPPER.findall(window))
    return upper >= 6 and upper > 2 * len(_LOWER.findall(window))


_UPPER = re.compile(r"[A-ZА-ЯЁҲҶҚҒӢӮЎІ]")
_LOWER = re.compile(r"[a-zа-яёҳҷқғӣӯўі]")
