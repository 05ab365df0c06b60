"""Abbreviations bound in the post: "Long Name (ABBR)" makes ABBR mean that group for the whole post.

Why: news defines its abbreviations once ("Союз исламского джихада (СИД)", "Katibat al-Tawhid
wal-Jihad (KTJ or KTWJ)", "ТИП (Туркестанская исламская партия)") and then uses them alone. Many are
too ambiguous to tag on their own anywhere (СИД, ТИП, HaD), or not in any list (KTWJ, ДжА), but in
the post that defines them they mean exactly one thing. The other way round too: a post that defines
the same letters as something else ("Kazakh Transport Journal (KTJ)", "Инициативная группа (ИГ)")
has told us they are not the group there, and the lexicon's abbreviation is dropped in that post.

Cost: nothing for a post without "(" or without a match; otherwise one regex scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from monitor.models import Match

from . import suffixes
from .fold import fold_term

# an abbreviation: a letter, then letters/digits/hyphens, at most 10 characters, two capitals or more
_ABBR = r"[^\W\d_][^\W_]{0,5}(?:-[^\W_]{1,4})?"
_OR = r"(?:,|/|;|or|или|ёки|yoki|ё|yo|va|ва|и|also|aka|также|ҳамчунин|shuningdek)"
# "(ABBR)", "(ABBR or ABBR2)", "(ABBR, запрещена в РФ)": the abbreviation first inside the brackets
_DEF = re.compile(rf"\(\s*[«\"“]?({_ABBR})[»\"”]?\s*(?:{_OR}\s*[«\"“]?({_ABBR})[»\"”]?\s*)?(?=[),;])")
# "ABBR (Long Name)": the abbreviation right before the bracket
_BEFORE = re.compile(rf"(?<![^\W_])({_ABBR})\s*\(\s*[«\"“]?$")
_GAP = re.compile(r"[\s»\"”']{0,3}")
_CAPWORD = re.compile(r"[^\W\d_][^\W_]*")


def _capitals(s: str) -> int:
    return sum(1 for c in s if c.isupper())


def _is_abbr(s: str) -> bool:
    return _capitals(s) >= 2 and len(s) <= 10


def _initials_of(abbr: str, words: list[str]) -> bool:
    """Do the capitals of ``abbr`` spell the initials of the words before it (a definition of its own)?"""
    caps = [c for c in abbr if c.isupper()]
    firsts = [w[0].upper() for w in words]
    if len(caps) < 2 or len(firsts) < len(caps):
        return False
    tail = firsts[-len(caps):]
    return tail == caps


def bind(text: str, out: list[Match], make: Callable[[Match, str, int, int, str], Match]) -> list[Match]:
    """Matches with the post's own abbreviation definitions applied (see the module docstring).

    ``make(long_match, term, start, end, abbr)`` builds the match for one use of a bound abbreviation.
    """
    if "(" not in text:
        return out
    names = [m for m in out if m.kind == "group" and m.rule not in ("abbreviation", "bound")]
    bound: dict[str, Match] = {}
    foreign: set[str] = set()
    for mo in _DEF.finditer(text):
        abbrs = [a for a in mo.groups() if a and _is_abbr(a)]
        if not abbrs:
            continue
        before = text[: mo.start()]
        long_ = next((m for m in names if m.end <= mo.start() and _GAP.fullmatch(text[m.end:mo.start()])), None)
        if long_ is not None:
            for a in abbrs:
                bound.setdefault(a, long_)
            continue
        # "Kazakh Transport Journal (KTJ)": the letters are defined as something else in this post
        words = _CAPWORD.findall(before[-80:])
        for a in abbrs:
            if _initials_of(a, words[-8:]):
                foreign.add(a)
    for m in names:  # "ТИП (Туркестанская исламская партия)"
        pre = _BEFORE.search(text, max(0, m.start - 16), m.start)
        if pre and _is_abbr(pre.group(1)) and text[m.end:m.end + 3].lstrip(" »\"”").startswith(")"):
            bound.setdefault(pre.group(1), m)
    if not bound and not foreign:
        return out
    drop = foreign - set(bound)
    result = [m for m in out if not (m.rule in ("abbreviation", "inflection") and m.kind == "group"
                                     and _stem(m.term) in drop)]
    if not bound:
        return result
    taken = [(m.start, m.end) for m in result if m.kind != "keyword"]
    for abbr, long_ in bound.items():
        pat = re.compile(rf"(?<![^\W_]){re.escape(abbr)}([^\W_]{{0,8}})(?![^\W_])")
        for mo in pat.finditer(text):
            rest = mo.group(1)
            if rest and not suffixes.suffix_ok(_endings(abbr), fold_term(rest)):
                continue
            s, e = mo.start(), mo.end()
            clash = [m for m in result if m.kind != "keyword" and m.start < e and s < m.end]
            if any(m.canonical == long_.canonical or m.end - m.start > e - s for m in clash):
                continue  # already this group, or inside a longer name
            result = [m for m in result if m not in clash]  # the post's own definition wins over the list
            taken.append((s, e))
            result.append(make(long_, text[s:e], s, e, abbr))
    return sorted(result, key=lambda m: (m.start, m.end, m.kind, m.canonical))


def _endings(abbr: str) -> re.Pattern[str]:
    return suffixes.CYRILLIC if any("\u0400" <= c <= "\u04ff" for c in abbr) else suffixes.LATIN_ABBR


def _stem(term: str) -> str:
    mo = re.match(r"[^\W_]+(?:-[^\W_]+)?", term)
    return mo.group(0) if mo else term
