"""Analysts' own keywords: whole words, word prefixes, or RE2 patterns.

Why RE2 for patterns: a keyword pattern comes from a config file and runs on
attacker-written text. RE2 matches in linear time, so ``(a+)+$`` cannot hang
the tagger; constructs RE2 cannot do in linear time (back-references,
look-around) are refused at load with a clear ``ConfigError``. All patterns are
combined in one ``re2.Set`` so a post is scanned once for all of them; spans
are only computed for the patterns that matched.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import re2

from monitor.errors import ConfigError, Problem

from .fold import fold_term

_UNANCHORED = re2._Anchor.UNANCHORED

Mode = Literal["word", "prefix", "pattern"]
MAX_PATTERN_LEN = 2000
RE2_MAX_MEM = 16 << 20  # bytes of compiled program per pattern; refuses pathological counted repeats


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordSpec:
    """One analyst keyword. ``group`` ties it to a group id; ``lang`` is informational."""

    term: str
    group: str | None = None
    lang: str | None = None
    mode: Literal["word", "prefix", "pattern"] = "word"


def _options() -> re2.Options:
    opts = re2.Options()
    opts.case_sensitive = False
    opts.max_mem = RE2_MAX_MEM
    opts.log_errors = False
    return opts


def validate(specs: Sequence[KeywordSpec], group_ids: Collection[str]) -> None:
    """Raise one ConfigError listing every bad keyword."""
    problems: list[Problem] = []
    for i, spec in enumerate(specs):
        where = f"keywords[{i}] ({spec.term!r})"
        if spec.mode not in ("word", "prefix", "pattern"):
            problems.append(Problem(where, f"mode must be word, prefix or pattern, not {spec.mode!r}"))
            continue
        if spec.group is not None and spec.group not in group_ids:
            problems.append(Problem(where, f"unknown group id {spec.group!r}"))
        if spec.mode == "pattern":
            problem = pattern_problem(spec.term)
            if problem:
                problems.append(Problem(where, problem))
            continue
        folded = fold_term(spec.term)
        if not any(c.isalnum() for c in folded):
            problems.append(Problem(where, "keyword has no letters or digits"))
        elif spec.mode == "prefix" and sum(c.isalnum() for c in folded) < 3:
            problems.append(Problem(where, "a prefix needs at least 3 letters (shorter ones match nearly every post)"))
    if problems:
        raise ConfigError(problems)


def unicode_classes(pattern: str) -> str:
    """RE2's \\w, \\d and \\s are ASCII-only; analysts write Cyrillic, so widen them to Unicode.

    (``\\b`` stays ASCII in RE2: use explicit classes around non-Latin words.)
    """
    wide = {"w": r"\pL\pN_", "d": r"\pN", "s": r"\s\p{Z}"}
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in wide:
                out.append(wide[nxt] if in_class else f"[{wide[nxt]}]")
            elif nxt.lower() in wide and not in_class:
                out.append(f"[^{wide[nxt.lower()]}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used, or None."""
    if not pattern:
        return "empty pattern"
    if len(pattern) > MAX_PATTERN_LEN:
        return f"pattern longer than {MAX_PATTERN_LEN} characters"
    try:
        compiled = re2.compile(unicode_classes(pattern), _options())
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return (f"not a pattern the linear-time engine (RE2) accepts: {detail}; "
                "back-references and look-around are not supported")
    if compiled.search("") is not None:
        return "pattern matches the empty string, so it would tag every post"
    return None


class PatternSet:
    """All ``pattern`` keywords, compiled for one pass (``re2.Set``) plus per-pattern span finding."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        opts = _options()
        wide = [unicode_classes(p) for p in self.patterns]
        self._compiled = [re2.compile(p, opts) for p in wide]
        self._set = re2.Set.SearchSet(opts)
        for p in wide:
            self._set.Add(p)
        self._set.Compile()

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __getstate__(self) -> tuple[str, ...]:
        """RE2 objects cannot be pickled (the compiled-tagger cache pickles a tagger): keep the patterns."""
        return self.patterns

    def __setstate__(self, patterns: tuple[str, ...]) -> None:
        self.__init__(patterns)  # type: ignore[misc]  # re-running __init__ rebuilds the RE2 set when unpickling; mypy forbids calling it

    def spans(self, text: str, raw: bytes | None = None) -> list[tuple[int, int, int]]:
        """(pattern index, start, end) of every non-empty match in ``text``.

        Works on the UTF-8 bytes with RE2's compiled programs directly: the re2 module's str
        wrapper maps offsets in Python on every call, which cost more than the matching.
        ``raw``: ``text.encode()`` when the caller has it already.
        """
        if raw is None:
            raw = text.encode()
        hits = self._set._set.Match(raw)
        if not hits:
            return []
        ascii_text = len(raw) == len(text)
        n = len(raw)
        out: list[tuple[int, int, int]] = []
        for idx in sorted(hits):
            program = self._compiled[idx]._regexp
            pos = 0
            while pos <= n:
                s, e = program.Match(_UNANCHORED, raw, pos, n)[0]
                if s < 0:
                    break
                if e > s:
                    if ascii_text:
                        out.append((idx, s, e))
                    else:
                        cs = len(raw[:s].decode())
                        out.append((idx, cs, cs + len(raw[s:e].decode())))
                    pos = e
                else:  # an empty match: step over one whole character
                    pos = e + 1
                    while pos < n and raw[pos] & 0xC0 == 0x80:
                        pos += 1
        return out
