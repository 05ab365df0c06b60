"""Dominant script of a single string, for engines that do not report one."""

from __future__ import annotations

import numpy as np

from .script import SCRIPTS, char_tables

__all__ = ["dominant_script"]


def dominant_script(text: str) -> tuple[str | None, int]:
    """(Cyrl/Latn/Arab or None, letters of that script) by counting letters."""
    cls, _ = char_tables()
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    kinds = cls[codes[codes < 0x10000]]
    counts = np.bincount(kinds[kinds < len(SCRIPTS)], minlength=len(SCRIPTS))
    best = int(counts.argmax())
    return (SCRIPTS[best], int(counts[best])) if counts[best] else (None, 0)
