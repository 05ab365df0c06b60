"""Conditions that make an ambiguous alias count: cue words nearby, case, neighbours.

Cue words themselves are found only for posts that have a conditional hit, by
one RE2 set scan (:class:`CueSets`; a cue ending in ``$`` must be a whole word,
others are word starts). Built-in conditions: ``quoted`` (:func:`is_quoted`) and
``parent`` (checked by the matcher, which knows every hit).

Why: short or shared names ("ИГ", "IS", "Ansarullah", "Jaysh al-Mahdi") are
right in one post and wrong in the next. The lexicon says per alias what must
(``context``) or must not (``veto``) be in the post, which words may not stand
right before or after it, and how it must be capitalised; this module compiles
those conditions once so checking them at match time is a few regex calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import re2

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


def not_after_reach(words: tuple[str, ...]) -> int:
    """The longest of ``words`` folded: a ``compile_not_after`` match starts at most this far before the
    quotes and spaces that end the text it is searched in (see :func:`not_after_start`)."""
    return max((len(fold_term(w)) for w in words), default=0)


_TRAILING = frozenset("'\"«»“”„")  # the not_after pattern's characters after the word, besides \s


def not_after_start(m: str, lo: int, end: int, reach: int) -> int:
    """Where a ``compile_not_after`` pattern's search of ``m[lo:end]`` may start without missing a match.

    A match is a word of at most ``reach`` characters, then only spaces and quotes up to ``end``: it starts
    no earlier than ``reach`` before the run of spaces and quotes that ends at ``end``. The search from there
    gives the same answer, for about a third of the positions tried (the lookbehind still sees the
    character before the start)."""
    j = end
    while j > lo:
        c = m[j - 1]
        if not (c.isspace() or c in _TRAILING):
            break
        j -= 1
    return max(lo, j - reach)


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
        for c in span:
            if c.isalpha():
                return c.isupper()
        return False
    # "words": every longer word capitalised (particles like al-, of, wal are left alone)
    for w in _LETTERS.findall(span):
        if len(w) >= 4 and not w[0].isupper():
            return False
    return True


_LETTERS = re.compile(r"[^\W\d_]+")


def is_shouting(text: str, start: int, end: int) -> bool:
    """The words around ``text[start:end]`` are in capitals (a caps headline): then case is no evidence."""
    window = text[max(0, start - 40) : start] + " " + text[end : end + 40]
    if _SIX_UPPER.match(window) is None:  # fewer than six capitals: no need to count every letter
        return False
    upper = len(_UPPER.findall(window))
    return upper >= 6 and upper > 2 * len(_LOWER.findall(window))


_UPPER = re.compile(r"[A-ZА-ЯЁҲҶҚҒӢӮЎІ]")
_SIX_UPPER = re.compile(r"(?:[^A-ZА-ЯЁҲҶҚҒӢӮЎІ]*+[A-ZА-ЯЁҲҶҚҒӢӮЎІ]){6}")  # possessive: one pass, no backtracking
_LOWER = re.compile(r"[a-zа-яёҳҷқғӣӯўі]")


_OPEN_QUOTES = frozenset("«“„\"'‘‹‚")
_CLOSE_QUOTES = frozenset("»”“\"'’›")
_SENTENCE_END = frozenset(".!?…\n")


def is_quoted(text: str, start: int, end: int) -> bool:
    """The span stands inside quotation marks: «Вилояти Хуросон», "Xuroson viloyati"."""
    return start > 0 and end < len(text) and text[start - 1] in _OPEN_QUOTES and text[end] in _CLOSE_QUOTES


def sentence_start(text: str, start: int) -> bool:
    """Nothing but spaces, quotes, bullets or a prefix like "⚡️ " stands between the span and a sentence end."""
    i = start - 1
    while i >= 0 and not (text[i].isalnum() or text[i] in _SENTENCE_END):
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


class CueSets:
    """Which cue sets have a word in a folded post, in one linear RE2 scan.

    One RE2 pattern per set: its stems must start a word (``$`` at the end of a stem: be a whole
    word). ``re2.Set`` reports the sets that match, which is all a condition needs.
    """

    def __init__(self, contexts: Mapping[str, Iterable[str]], extra: str = "") -> None:
        """``extra``: one more RE2 pattern, scanned in the same pass (see :meth:`find_extra`)."""
        self._names: list[str] = []
        self._sources: list[str] = []
        self._extra = extra
        self.stem_count = 0
        for name, stems in contexts.items():
            words: set[str] = set()  # whole words (a stem ending in ``$``)
            starts: set[str] = set()  # word starts
            count = 0
            for stem in stems:
                literal = fold_term(stem.rstrip("$"))
                if literal:
                    (words if stem.endswith("$") else starts).add(re.escape(literal))
                    count += 1
            if words or starts:
                # The word-end class is written once per set, not once per whole-word stem: the same
                # language, and RE2 compiles \pL and \pN into large byte-range programs (each copy
                # cost memory: 5.4 MB for the shipped lexicon's sets before, 3.3 MB now; issue 16).
                alts = ["(?:" + "|".join(sorted(words)) + r")(?:$|[^\pL\pN])"] if words else []
                alts += sorted(starts)
                self._sources.append(r"(?:^|[^\pL\pN])(?:" + "|".join(alts) + ")")
                self._names.append(name)
                self.stem_count += count
        self._compile()

    def _compile(self) -> None:
        opts = re2.Options()
        opts.log_errors = False
        self._set: Any = re2.Set.SearchSet(opts)  # re2 ships no type hints
        for source in self._sources:
            self._set.Add(source)
        # the extra pattern only rides along with cue sets (without any, find_extra says "not scanned")
        self._extra_index = self._set.Add(self._extra) if self._extra and self._names else -1
        if self._names:
            self._set.Compile()
        self._raw = self._set._set

    def __getstate__(self) -> dict[str, Any]:
        """RE2 sets cannot be pickled (the compiled-tagger cache pickles a tagger): keep the patterns."""
        return {"names": self._names, "sources": self._sources, "stem_count": self.stem_count, "extra": self._extra}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._names, self._sources, self.stem_count = state["names"], state["sources"], state["stem_count"]
        self._extra = state["extra"]
        self._compile()

    def find(self, m: str, raw: bytes | None = None) -> frozenset[str]:
        """Names of the cue sets with a word in folded text ``m`` (``raw``: ``m.encode()``, if known)."""
        if not self._names:
            return frozenset()
        return self.find_extra(m.encode() if raw is None else raw)[0]

    def find_extra(self, raw: bytes) -> tuple[frozenset[str], bool | None]:
        """(cue set names, whether the extra pattern matched) for UTF-8 folded text ``raw``, in one scan;
        None in place of the extra answer when there is no extra pattern or no cue set to scan with."""
        if not self._names:
            return frozenset(), None
        hits = self._raw.Match(raw)
        if not hits:
            return frozenset(), False if self._extra_index >= 0 else None
        extra = self._extra_index
        if extra < 0:
            return frozenset(self._names[i] for i in hits), None
        return frozenset(self._names[i] for i in hits if i != extra), extra in hits
