"""Letters that rule a class out: Tatar and Bashkir, close relatives, each write letters the other never does.

Bashkir has ҙ ҫ ҡ ғ, which the Tatar alphabet lacks (Tatar writes г, гъ where
Bashkir writes ғ: not once in the 1,915 Tatar training lines, 3,184 times in the
Bashkir ones); Tatar has җ, which the Bashkir alphabet lacks (both share ә ө ү һ
ң). A short piece of either, full of names (``Уны Сингапур премьер-министры урынбаҫары Вонг Кан Сенг``), can score
closer to the other language on its n-grams; its one native letter then says
which it cannot be. The rule removes a class from the candidates only, never
adds one: the best remaining class still has to pass the open-set test. It is
the alphabets' rule, not fitted to any text, and it never touches ru, tg or uz (ғ, common in
Kazakh, Tajik and Uzbek, only takes Tatar out of their candidates).
A text with letters of both (a quotation) rules neither out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["EXCLUDED_BY", "MARKERS", "exclusion_table", "markers_present"]

# class -> lower-case letters its alphabet does not have (and its close relative's does)
EXCLUDED_BY: dict[str, str] = {"tt": "ғҙҫҡ", "ba": "җ"}
MARKERS = "".join(sorted(set("".join(EXCLUDED_BY.values()))))
_CODES = np.array([ord(ch) for ch in MARKERS], dtype=np.uint64)
_LOW, _HIGH = _CODES.min(), _CODES.max()


def exclusion_table(classes: Sequence[str]) -> npt.NDArray[np.bool_] | None:
    """(len(MARKERS), len(classes)): True where a marker letter rules the class out; None when none does."""
    table = np.array([[ch in EXCLUDED_BY.get(c, "") for c in classes] for ch in MARKERS], dtype=bool)
    return table if table.any() else None


def markers_present(codes: npt.NDArray[np.uint64], starts: npt.NDArray[np.int64], n_docs: int) -> npt.NDArray[np.bool_]:
    """(n_docs, len(MARKERS)): which marker letters each document has.

    ``codes`` are the lower-cased code points of a batch, each document
    beginning at its entry of ``starts`` (as ``features.encode`` makes them).
    """
    present = np.zeros((n_docs, len(MARKERS)), dtype=bool)
    at = np.flatnonzero((codes >= _LOW) & (codes <= _HIGH))  # few positions: the letters sit in one small range
    if len(at):
        which = np.searchsorted(_CODES, codes[at])
        hit = (which < len(_CODES)) & (_CODES[np.minimum(which, len(_CODES) - 1)] == codes[at])
        docs = np.searchsorted(starts, at[hit], side="right") - 1
        present[docs, which[hit]] = True
    return present
