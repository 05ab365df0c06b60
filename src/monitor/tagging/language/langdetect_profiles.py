"""langdetect with profiles for the languages it lacks, built from ``train/`` by ``monitor lid build``.

langdetect 1.0.9 ships 55 Wikipedia profiles but none for Tajik, Uzbek,
Kazakh, Kyrgyz, Turkmen, Belarusian, Serbian, Azerbaijani, Tatar, Bashkir,
Mongolian, Pashto or Uyghur. We build those in
its own JSON format ({"freq": {ngram: count}, "n_words": [n1, n2, n3], "name"})
with its own ``LangProfile`` (so its n-gram normalisation is applied exactly),
and load them beside the shipped profiles of our other nine languages into a
private ``DetectorFactory`` with a fixed seed: deterministic, and the global
factory other code may use is left alone.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Sequence
from importlib.metadata import version as dist_version
from pathlib import Path

from .guess import MIN_LETTERS, LanguageGuess
from .labels import ALL_CLASSES, split_class
from .naive_bayes import DATA_PACKAGE, data_root
from .noise import strip_noise
from .script_of import dominant_script

__all__ = ["BUILT", "BUILTIN", "PROFILE_DIR", "LangdetectIdentifier", "build_profile"]

PROFILE_DIR = "langdetect"  # under the data package
BUILTIN: tuple[str, ...] = ("ru", "uk", "bg", "mk", "en", "tr", "fa", "ar", "ur")  # shipped with langdetect
BUILT: tuple[str, ...] = tuple(c for c in ALL_CLASSES if c not in BUILTIN)  # made by `monitor lid build`
SEED = 0


def build_profile(name: str, lines: Iterable[str]) -> dict[str, object]:
    """A langdetect profile of ``lines`` (noise stripped), pruned as langdetect's own tool prunes."""
    from langdetect.utils.lang_profile import LangProfile

    profile = LangProfile(name=name)
    for line in lines:
        profile.update(strip_noise(line))
    profile.omit_less_freq()
    return {"freq": dict(sorted(profile.freq.items())), "n_words": list(profile.n_words), "name": name}


def _builtin_profile_text(code: str) -> str:
    import langdetect

    return (Path(langdetect.__file__).parent / "profiles" / code).read_text(encoding="utf-8")


class LangdetectIdentifier:
    """Engine ``langdetect``: its shipped profiles for 9 of our languages plus our 14 built ones."""

    name = "langdetect"

    def __init__(self, source: str | Path = DATA_PACKAGE) -> None:
        from langdetect.detector_factory import DetectorFactory
        from langdetect.lang_detect_exception import LangDetectException

        root = data_root(source).joinpath(PROFILE_DIR)
        texts = [_builtin_profile_text(c) for c in BUILTIN]
        texts += [gzip.decompress(root.joinpath(f"{c}.json.gz").read_bytes()).decode("utf-8") for c in BUILT]
        self._factory = DetectorFactory()
        self._factory.load_json_profile(texts)
        self._factory.set_seed(SEED)
        self._error = LangDetectException
        digest = hashlib.sha256("".join(texts[len(BUILTIN) :]).encode("utf-8")).hexdigest()[:12]
        self.version = f"{dist_version('langdetect')}+{digest}"

    def __call__(self, text: str) -> LanguageGuess:
        clean = strip_noise(text)
        script, letters = dominant_script(clean)
        if letters < MIN_LETTERS:
            return LanguageGuess("und", script, 0.0)
        detector = self._factory.create()
        detector.append(clean)
        try:
            best = detector.get_probabilities()[0]
        except (self._error, IndexError):
            return LanguageGuess("und", script, 0.0)
        lang, profile_script = split_class(best.lang)
        if best.lang.startswith("uz-"):
            return LanguageGuess("uz", profile_script, round(best.prob, 4))
        return LanguageGuess(lang, script, round(best.prob, 4))

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]:
        return [self(t) for t in texts]
