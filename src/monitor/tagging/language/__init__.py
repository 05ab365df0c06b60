"""Language identification for posts: ISO 639-1 code, script and confidence.

    from monitor.tagging.language import identify
    identify("Toshkentda yangi oʻquv yili boshlandi")  # LanguageGuess(lang='uz', script='Latn', ...)

The default engine (``nb``) strips Telegram noise, picks the script by letter
counts and asks that script's naive Bayes model, trained on shared/data/lid/train
by ``monitor lid build``; ``pycld2``, ``py3langid``, ``langdetect`` (with built
profiles for the languages it lacks) and ``vote`` can be chosen by name.
Engines are pure and deterministic; the only I/O is reading model data once,
on first use of an engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from .guess import MIN_LETTERS, LanguageGuess, LanguageIdentifier
from .noise import normalise, strip_noise

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "MIN_LETTERS",
    "LanguageGuess",
    "LanguageIdentifier",
    "get_identifier",
    "identify",
    "language_shares",
    "normalise",
    "strip_noise",
]

DEFAULT_ENGINE = "nb"
ENGINE_NAMES: tuple[str, ...] = ("nb", "pycld2", "py3langid", "langdetect", "vote")

_cache: dict[str, LanguageIdentifier] = {}
_lock = threading.Lock()


def _make_nb() -> LanguageIdentifier:
    from .naive_bayes import load_model
    from .nb_engine import NaiveBayesIdentifier

    return NaiveBayesIdentifier(load_model())


def _make_cld2() -> LanguageIdentifier:
    from .library_engines import Cld2Identifier

    return Cld2Identifier()


def _make_langid() -> LanguageIdentifier:
    from .library_engines import LangidIdentifier

    return LangidIdentifier()


def _make_langdetect() -> LanguageIdentifier:
    from .langdetect_profiles import LangdetectIdentifier

    return LangdetectIdentifier()


def _make_vote() -> LanguageIdentifier:
    from .vote import VoteIdentifier

    return VoteIdentifier(get_identifier("nb"), get_identifier("pycld2"), get_identifier("py3langid"))


_FACTORIES: dict[str, Callable[[], LanguageIdentifier]] = {
    "nb": _make_nb,
    "pycld2": _make_cld2,
    "py3langid": _make_langid,
    "langdetect": _make_langdetect,
    "vote": _make_vote,
}


def get_identifier(name: str | None = None) -> LanguageIdentifier:
    """The engine called ``name`` (default: DEFAULT_ENGINE), built once and shared.

    Raises ValueError for an unknown name, listing the known ones.
    """
    key = name or DEFAULT_ENGINE
    engine = _cache.get(key)
    if engine is not None:
        return engine
    if key not in _FACTORIES:
        raise ValueError(f"unknown language engine {key!r}; choose one of {', '.join(ENGINE_NAMES)}")
    made = _FACTORIES[key]()  # outside the lock: "vote" builds its members through get_identifier
    with _lock:
        return _cache.setdefault(key, made)


def identify(text: str) -> LanguageGuess:
    """Language, script and confidence of one post with the default engine."""
    return get_identifier(None)(text)


def language_shares(texts: Sequence[str], engine: str | None = None) -> list[dict[str, float] | None]:
    """Per text, the share of each language when more than one is found (else None); see ``mixed.py``."""
    from .mixed import language_shares as shares

    return shares(texts, get_identifier(engine))
