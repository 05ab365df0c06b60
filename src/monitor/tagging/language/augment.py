"""Training-text variants for how people really type, which the clean training text lacks.

Uzbek is often typed without the oʻ/gʻ apostrophes, and Cyrillic Central Asian
text on a Russian keyboard loses its special letters (қ→к, ҳ→х, ғ→г, ӯ→у, ӣ→и,
ҷ→ч; Tajik typists also use ў for ӯ). Adding such variants of a fraction of the
lines teaches the model these spellings without inventing any text.
"""

from __future__ import annotations

from collections.abc import Iterator

from .script import APOSTROPHES

__all__ = ["augment"]

_NO_APOSTROPHE = str.maketrans("", "", APOSTROPHES)
_KEYBOARD = {
    "tg": str.maketrans("ӯӣҳқғҷ", "уихкгч"),
    "uz-Cyrl": str.maketrans("ўқғҳ", "укгх"),
    "kk": str.maketrans("әөүұқғңһі", "аоуукгнхи"),
    "ky": str.maketrans("өүң", "оун"),
}
_TG_U = str.maketrans("ӯ", "ў")


def augment(label: str, lines: list[str], every: int = 3) -> Iterator[str]:
    """Variants of every ``every``-th line (deterministic: by position), lower-cased."""
    for i, raw in enumerate(lines):
        if i % every:
            continue
        line = raw.lower()
        if label == "uz-Latn":
            stripped = line.translate(_NO_APOSTROPHE)
            if stripped != line:
                yield stripped
        elif label in _KEYBOARD:
            if label == "tg" and i % (2 * every) == 0 and "ӯ" in line:
                yield line.translate(_TG_U)
            else:
                yield line.translate(_KEYBOARD[label])
