"""Per-code-point tables: which script a character belongs to, and its lower-case form.

Script is decided first and cheaply, by counting letters per script
(Cyrl / Latn / Arab); each script has its own small model, so a Russian post
with an English brand name is scored on its Cyrillic letters only, and
Cyrillic vs Latin Uzbek never reaches a model at all.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import numpy.typing as npt

__all__ = ["APOS", "DROP", "OTHER", "SCRIPTS", "SEP", "SPACE", "char_tables"]

SCRIPTS: tuple[str, ...] = ("Cyrl", "Latn", "Arab")
OTHER = 3  # a letter of some other script (Greek, CJK, Hebrew...)
SPACE = 4  # digits, punctuation, emoji, white space: anything that is not a letter
APOS = 5  # apostrophe and its look-alikes (Uzbek oʻ gʻ), kept only inside a word
DROP = 6  # combining marks, zero-width joiners, soft hyphen, tatweel: removed, words stay whole
SEP = 7  # the separator between documents of a batch

APOSTROPHES = "'ʻʼ’‘`´ʹʽ′＇"
_RANGES: tuple[tuple[int, int, int], ...] = (
    (0x0041, 0x005A, 1),
    (0x0061, 0x007A, 1),
    (0x00C0, 0x024F, 1),
    (0x1E00, 0x1EFF, 1),
    (0x0400, 0x052F, 0),
    (0x1C80, 0x1C8F, 0),
    (0x2DE0, 0x2DFF, 0),
    (0xA640, 0xA69F, 0),
    (0x0600, 0x06FF, 2),
    (0x0750, 0x077F, 2),
    (0x08A0, 0x08FF, 2),
    (0xFB50, 0xFDFF, 2),
    (0xFE70, 0xFEFF, 2),
)

_TABLES: tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint32]] | None = None


def _build() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint32]]:
    cls = np.full(0x10000, SPACE, dtype=np.uint8)
    lower = np.arange(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat in ("Mn", "Me", "Cf") or cp in (0x00AD, 0x0640):
            cls[cp] = DROP
        elif ch.isalpha():
            cls[cp] = OTHER
            low = ch.lower()
            lower[cp] = ord(low[0])  # 'İ'.lower() is 'i' + combining dot: keep the 'i'
    for lo, hi, sid in _RANGES:
        block = cls[lo : hi + 1]
        block[block == OTHER] = sid
    for ch in APOSTROPHES:
        cls[ord(ch)] = APOS
        lower[ord(ch)] = ord("'")
    cls[0] = SEP
    return cls, lower


def char_tables() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint32]]:
    """(class of each BMP code point, its lower-case code point); built once, ~320 KiB."""
    global _TABLES
    if _TABLES is None:
        _TABLES = _build()
    return _TABLES
