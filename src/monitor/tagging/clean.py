"""The one pre-normalisation every tagging entry applies: terminal escape sequences out.

A post (or a line piped into `monitor tag`) may carry ANSI colour codes around a name,
``\\x1b[31mИГИЛ\\x1b[0m``; the letters ``[31m`` would glue onto the word and hide it from
the matcher and skew the language guess. Only the escape sequences go (``monitor.escape``);
every other character is left for the taggers, which have their own folding.
"""

from __future__ import annotations

from monitor.escape import strip_escapes


def pre_normalise(text: str) -> str:
    """``text`` as the taggers see it: without terminal escape sequences."""
    return strip_escapes(text)


__all__ = ["pre_normalise"]
