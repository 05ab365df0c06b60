"""The label set: which classes each script's model chooses between, and how a class maps to output.

Uzbek is two classes (``uz-Latn``, ``uz-Cyrl``) because analysts split it by
script; every other language has one script here. ``LanguageGuess.lang`` is
always the bare ISO 639-1 code.

Each script's model also has a rejection class, ``OTHER`` ("none of my
languages"), trained on ``train/other/*-<Script>.txt``; it never reaches the
output: a post it wins, or that is not confidently one of the labelled
classes, is ``und``.
"""

from __future__ import annotations

__all__ = [
    "ALL_CLASSES",
    "CLASSES_BY_SCRIPT",
    "CORE_CLASSES",
    "LANGUAGES",
    "NEW_CLASSES",
    "OTHER",
    "class_of",
    "split_class",
]

CLASSES_BY_SCRIPT: dict[str, tuple[str, ...]] = {
    "Cyrl": ("ru", "tg", "uz-Cyrl", "kk", "ky", "uk", "be", "bg", "mk", "sr", "tt", "ba", "mn"),
    "Latn": ("uz-Latn", "tk", "en", "tr", "az"),
    "Arab": ("fa", "ar", "ps", "ur", "ug"),
}
OTHER = "other"  # the rejection class of every script's model (internal: answered as "und")
NEW_CLASSES: tuple[str, ...] = ("ps", "ur", "ug", "tt", "ba", "mn")  # added with the open set
ALL_CLASSES: tuple[str, ...] = tuple(c for cs in CLASSES_BY_SCRIPT.values() for c in cs)
CORE_CLASSES: tuple[str, ...] = ("ru", "tg", "uz-Latn", "uz-Cyrl")
LANGUAGES: tuple[str, ...] = tuple(dict.fromkeys(c.split("-")[0] for c in ALL_CLASSES))
_SCRIPT_OF = {c: s for s, cs in CLASSES_BY_SCRIPT.items() for c in cs}


def split_class(label: str) -> tuple[str, str | None]:
    """``"uz-Cyrl"`` -> ("uz", "Cyrl"); ``"ru"`` -> ("ru", "Cyrl"); unknown -> (label, None)."""
    lang = label.split("-")[0]
    return lang, _SCRIPT_OF.get(label)


def class_of(lang: str, script: str | None) -> str:
    """Inverse of split_class: the evaluation class of an output (``uz`` keeps its script)."""
    return f"uz-{script}" if lang == "uz" and script else lang
