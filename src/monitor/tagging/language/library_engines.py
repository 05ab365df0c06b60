"""Well-kept third-party identifiers behind the same interface: pycld2 and py3langid.

Each sees the text after ``strip_for_model`` (URLs, mentions, hashtags and
headers removed: the same for every engine) and returns its own code unchanged
(it may name a language outside our list: that counts as a miss, as it would in
production). The script comes from our own letter count, since neither library
reports one.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version as dist_version

from .guess import MIN_LETTERS, LanguageGuess
from .noise import strip_for_model
from .script_of import dominant_script

__all__ = ["Cld2Identifier", "LangidIdentifier"]

# CLD2 and langid.py codes that differ from ISO 639-1 for our languages.
_CODE_FIXES = {"iw": "he", "zh-Hant": "zh", "sr-ME": "sr", "fil": "tl"}


def _prepare(text: str) -> tuple[str, str | None, int]:
    clean = strip_for_model(text)
    script, letters = dominant_script(clean)
    return clean, script, letters


class Cld2Identifier:
    """Engine ``pycld2``: Google's CLD2 (fast, many languages, weaker on short text)."""

    name = "pycld2"

    def __init__(self) -> None:
        import pycld2

        self._detect = pycld2.detect
        self._error = pycld2.error
        self.version = dist_version("pycld2")

    def __call__(self, text: str) -> LanguageGuess:
        clean, script, letters = _prepare(text)
        if letters < MIN_LETTERS:
            return LanguageGuess("und", script, 0.0)
        try:
            _, _, details = self._detect(clean, bestEffort=True)
        except self._error:
            return LanguageGuess("und", script, 0.0)
        name, code, percent, _ = details[0]
        if code in ("un", "xxx") or name == "Unknown":
            return LanguageGuess("und", script, 0.0)
        return LanguageGuess(_CODE_FIXES.get(code, code), script, round(percent / 100, 4))

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]:
        return [self(t) for t in texts]


class LangidIdentifier:
    """Engine ``py3langid``: langid.py's naive Bayes over 97 languages, normalised probabilities."""

    name = "py3langid"

    def __init__(self) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self._model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self.version = dist_version("py3langid")

    def __call__(self, text: str) -> LanguageGuess:
        clean, script, letters = _prepare(text)
        if letters < MIN_LETTERS:
            return LanguageGuess("und", script, 0.0)
        code, prob = self._model.classify(clean)
        return LanguageGuess(_CODE_FIXES.get(code, code), script, round(float(prob), 4))

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]:
        return [self(t) for t in texts]
