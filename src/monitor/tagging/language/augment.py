"""Training-text variants for how people really type, which the clean training text lacks.

Uzbek is often typed without the oʻ/gʻ apostrophes, and Cyrillic Central Asian
text on a Russian keyboard loses its special letters (қ→к, ҳ→х, ғ→г, ӯ→у, ӣ→и,
ҷ→ч; Tajik typists also use ў for ӯ). Adding such variants of a fraction of the
lines teaches the model these spellings without inventing any text.
"""

from __future__ import annotations

from .script import APOSTROPHES

__all__ = ["augment_line"]

_NO_APOSTROPHE = str.maketrans("", "", APOSTROPHES)
_KEYBOARD = {
    "tg": str.maketrans("ӯӣҳқғҷ", "уихкгч"),
    "uz-Cyrl": str.maketrans("ўқғҳ", "укгх"),
    "kk": str.maketrans("әөүұқғңһі", "аоуукгнхи"),
    "ky": str.maketrans("өүң", "оун"),
}
_TG_U = str.maketrans("ӯ", "ў")


def augment_line(label: str, line: str, index: int, every: int = 3) -> str | None:
    """The variant of the line at ``index`` of its file, lower-cased, or None (deterministic: by position).

    Every ``every``-th line of a file gets one; by position in the file, so the
    variants of the training part and of the held-out part add up to those of the whole file.
    """
    if index % every:
        return None
    line = line.lower()
    if label == "uz-Latn":
        stripped = line.translate(_NO_APOSTROPHE)
        return stripped if stripped != line else None
    if label in _KEYBOARD:
        if label == "tg" and index % (2 * every) == 0 and "ӯ" in line:
            return line.translate(_TG_U)
        return line.translate(_KEYBOARD[label])
    return None
