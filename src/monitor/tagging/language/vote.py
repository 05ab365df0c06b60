"""Engine ``vote``: majority of nb, pycld2 and py3langid, ties going to nb.

Kept to measure whether a vote of the libraries with our model beats our model
alone (it does not on dev; see docs/language.md), and for analysts who prefer it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .guess import LanguageGuess, LanguageIdentifier
from .labels import class_of

__all__ = ["VoteIdentifier"]


class VoteIdentifier:
    name = "vote"

    def __init__(self, first: LanguageIdentifier, *others: LanguageIdentifier) -> None:
        self._engines = (first, *others)
        self.version = "+".join(f"{e.name}@{e.version}" for e in self._engines)

    def __call__(self, text: str) -> LanguageGuess:
        return self.identify_many([text])[0]

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]:
        columns = [e.identify_many(texts) for e in self._engines]
        out = []
        for guesses in zip(*columns, strict=True):
            votes = Counter(class_of(g.lang, g.script) for g in guesses)
            top, n = votes.most_common(1)[0]
            first = guesses[0]
            if n == 1 or class_of(first.lang, first.script) == top:
                out.append(first)
                continue
            agree = [g for g in guesses if class_of(g.lang, g.script) == top]
            out.append(LanguageGuess(agree[0].lang, agree[0].script, round(n / len(guesses), 4)))
        return out
