"""What every engine returns, and the interface every engine has."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = ["MIN_LETTERS", "UNDETERMINED", "LanguageGuess", "LanguageIdentifier"]

MIN_LETTERS = 3  # fewer letters than this left after stripping noise: "und"


class LanguageGuess(NamedTuple):
    lang: str  # ISO 639-1, or "und"
    script: str | None  # "Cyrl", "Latn", "Arab"; None when no letters are left
    confidence: float  # 0..1


UNDETERMINED = LanguageGuess("und", None, 0.0)


@runtime_checkable
class LanguageIdentifier(Protocol):
    """A language engine: named, versioned, pure.

    ``version`` changes whenever the engine's answers can change (library
    version, model data hash); callers store ``f"{name}@{version}"``.
    """

    name: str
    version: str

    def __call__(self, text: str) -> LanguageGuess: ...

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]: ...
