"""Make any Python string safe for the taggers: post text is attacker-controlled and may not be valid Unicode.

Lone surrogates (what invalid UTF-8 becomes under ``surrogateescape``, or a
broken UTF-16 pair from a client) cannot be encoded, and every encoder in the
taggers would raise on them. They become U+FFFD, one code point for one, so
match spans still index into the original text.
"""

from __future__ import annotations

import re

__all__ = ["scrub"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (same length; a no-op for valid text)."""
    if text.isascii():
        return text
    try:
        text.encode()  # the UTF-8 encoder stops at the first lone surrogate: a third of a regex search's cost
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text
