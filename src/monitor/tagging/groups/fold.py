"""Fold text to one matching form while keeping a map back to the original.

Why a fold and not many regexes: obfuscation (Latin look-alikes inside Cyrillic
words, zero-width characters, odd apostrophes, full-width or mathematical
letters) and ordinary variation (case, Tajik ҳ typed as х, Uzbek oʻ typed as o')
all collapse to the same string here, so one Aho-Corasick pass over the folded
text finds every alias however it was written.

The fold has two steps:

1. a one-to-one, length-preserving character map (a charmap codec and
   ``bytes.translate`` for the common characters, ``str.translate`` for the rest):
   NFKC, lower case, Cyrillic/Greek letters that look like Latin ones become the
   Latin letter (a UTS #39-style skeleton), Tajik/Uzbek-only Cyrillic letters
   become their Russian look-alikes, apostrophes become ``'``, dashes and all
   spaces become `` ``, invisible characters become a deletion mark.
2. Deletion marks are removed and space runs collapse to one space. Only this
   step moves offsets; it records the kept segments so any folded position maps
   back to the original text with one ``bisect``.

Letters split apart (``И.Г.И.Л.``, ``T a l i b a n``, ``ta.li.ban``) are found
separately by :func:`split_views`, which returns short collapsed views.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import re2

MARK = "\x00"  # deleted by step 2

# Characters that render as nothing (or are formatting only): deleted.
_INVISIBLE = (
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0]
    + list(range(0x200B, 0x2010))  # zero-width space/joiners, LRM/RLM
    + list(range(0x202A, 0x202F))  # bidi embeddings
    + list(range(0x2060, 0x2070))  # word joiner, invisible operators, bidi isolates
    + list(range(0xFE00, 0xFE10))  # variation selectors
    + [0x0640]  # Arabic tatweel (elongation)
    + list(range(0x064B, 0x0660))  # Arabic harakat
    + [0x0670]
    + list(range(0x0300, 0x0370))  # combining diacritics (stress marks, decomposed accents)
    + [0x0000]
)
_APOSTROPHES = "'`´ʹʻʼʽʾʿˈˊˋ‘’‚‛′‵＇"
_DASHES = "-‐‑‒–—―−⁃﹘﹣－_"
_SPACES = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)

# Lower-case look-alikes folded to one representative (Latin where one exists).
_CONFUSABLE = {
    # Cyrillic -> Latin look-alike
    "а": "a", "е": "e", "ё": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
    "к": "k", "м": "m", "т": "t", "н": "h", "в": "b", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g", "ѵ": "v", "ҽ": "e",
    # Tajik / Uzbek / Kazakh letters often typed with their Russian look-alike
    "ҳ": "x", "ӣ": "и", "ӯ": "y", "ў": "y", "ҷ": "ч", "қ": "k", "ғ": "г", "ҫ": "c",
    "ә": "a", "ө": "o", "ү": "y", "ұ": "y", "ң": "h", "ҡ": "k", "ӊ": "h", "ӈ": "h",
    "й": "и",
    # Tajik typed in the old web encoding of Tajik sites (Macedonian/Serbian letters in place of the
    # Tajik ones): њ for ҳ, љ for ҷ (ќ ѓ ў ї lose their accent and fold to к г у и anyway). An
    # encoding habit, not obfuscation: "Њизби нањзати исломии Тољикистон"
    "њ": "x", "љ": "ч",
    # Cyrillic и and Latin i: Uzbek/Tajik typists and obfuscators type Latin i (or Ukrainian і) inside
    # Cyrillic words ("Ҳiзб ут-Таҳрир"); one representative makes both spellings one literal
    "и": "i",
    # Greek -> Latin look-alike
    "α": "a", "ο": "o", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "β": "b", "μ": "m", "η": "n", "γ": "y", "ϲ": "c", "ѡ": "w",
    # Latin letters with diacritics used as look-alikes or in transliteration
    "ı": "i",
    # Arabic letter variants (hamza seats, alef maqsura, ta marbuta, Persian forms)
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ی": "ي", "ة": "ه", "ک": "ك", "ؤ": "و", "ئ": "ي",
}

_RANGES = (
    (0x0041, 0x024F),  # Latin incl. extended A/B
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x052F),  # Cyrillic + supplement
    (0x0600, 0x06FF),  # Arabic
    (0x1D00, 0x1DBF),  # phonetic extensions (small caps)
    (0x1E00, 0x1EFF),  # Latin extended additional
    (0x2100, 0x214F),  # letterlike symbols
    (0x2460, 0x24FF),  # enclosed alphanumerics
    (0xFF00, 0xFFEF),  # full-width forms
    (0x1D400, 0x1D7FF),  # mathematical alphanumerics
    (0x1F130, 0x1F189),  # squared/negative circled letters
)


def _fold_char(ch: str) -> str | None:
    """The one-character fold of ``ch``, or None when it cannot stay one character."""
    n = unicodedata.normalize("NFKC", ch)
    if len(n) != 1:
        return None
    low = n.lower()
    if len(low) != 1:
        low = n
    low = _CONFUSABLE.get(low, low)
    # drop diacritics (ā -> a, ё -> е, ӣ -> и) so transliterations with and without them agree
    base = "".join(c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c))
    if len(base) == 1:
        low = base
    return _CONFUSABLE.get(low, low)


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for lo, hi in _RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            folded = _fold_char(ch)
            if folded is not None and folded != ch:
                table[cp] = folded
    for cp in _INVISIBLE:
        table[cp] = MARK
    for ch in _APOSTROPHES:
        table[ord(ch)] = "'"
    for ch in _DASHES:
        table[ord(ch)] = " "
    for ch in _SPACES:
        table[ord(ch)] = " "
    return table


TABLE: dict[int, str] = _build_table()
# The same map as a list indexed by code point: str.translate looks a list up about twice as fast
# as a dict. Code points past its end (none of which we fold) raise LookupError and stay as they are.
_FAST: list[int | None] = list(range(max(TABLE) + 1))
for _cp, _v in TABLE.items():
    _FAST[_cp] = ord(_v)

# Clean view for analysts' patterns: the text as written, only invisible characters removed.
CLEAN_TABLE: dict[int, str] = {cp: v for cp, v in TABLE.items() if v == MARK and not 0x300 <= cp < 0x370}

_RUN = re.compile("[ \x00]{2,}|\x00")  # what step 2 rewrites; _runs finds the same runs faster


class Folded:
    """Folded text plus the kept segments: folded[seg_m[k]:...] came from original[seg_o[k]:...].

    A plain slotted class, not a frozen dataclass: one is made per post on the hot path, and a frozen
    dataclass's ``__init__`` costs several times more. It never leaves the tagger.
    """

    __slots__ = ("marks", "seg_m", "seg_o", "source", "text")

    def __init__(self, text: str, seg_m: tuple[int, ...], seg_o: tuple[int, ...], source: str = "",
                 marks: bool = True) -> None:
        self.text = text
        self.seg_m = seg_m
        self.seg_o = seg_o
        self.source = source
        # False when the fold deleted no character (only collapsed spaces, or nothing): then the source
        # holds no invisible character, and its clean view (clean_text) is the source itself
        self.marks = marks

    def orig(self, i: int) -> int:
        """Original offset of folded position ``i`` (a start)."""
        if not self.seg_m:
            return i
        k = bisect_right(self.seg_m, i) - 1
        if k < 0:
            return i
        return self.seg_o[k] + (i - self.seg_m[k])

    def orig_end(self, j: int) -> int:
        """Original offset just after folded end position ``j`` (exclusive)."""
        if j <= 0:
            return 0
        return self.orig(j - 1) + 1


def _compact(t: str, source: str = "") -> Folded:
    marks = MARK in t
    if not marks and "  " not in t:
        return Folded(t, (), (), source, marks=False)
    pieces: list[str] = []
    seg_m: list[int] = []
    seg_o: list[int] = []
    pos_o = 0
    pos_m = 0
    for s, e in _runs(t, marks):
        if s > pos_o:
            pieces.append(t[pos_o:s])
            seg_m.append(pos_m)
            seg_o.append(pos_o)
            pos_m += s - pos_o
        i = t.find(" ", s, e)
        if i >= 0:
            pieces.append(" ")
            seg_m.append(pos_m)
            seg_o.append(i)
            pos_m += 1
        pos_o = e
    if pos_o < len(t):
        pieces.append(t[pos_o:])
        seg_m.append(pos_m)
        seg_o.append(pos_o)
    return Folded("".join(pieces), tuple(seg_m), tuple(seg_o), source, marks)


def _runs(t: str, marks: bool) -> Iterator[tuple[int, int]]:
    """(start, end) of each run that step 2 rewrites: two or more spaces or marks, or one mark.

    The same runs as ``_RUN.finditer``, found with ``str.find`` (a C loop over the characters): the
    regex tried every position of the post, and posts with a double space are common.
    """
    n = len(t)
    pos = 0
    while pos < n:
        i = t.find("  ", pos)
        if marks:
            j = t.find(MARK, pos)
            if j >= 0 and (i < 0 or j < i):
                i = j - 1 if j > pos and t[j - 1] == " " else j  # a space right before the mark is in the run
        if i < 0:
            return
        e = i + 1
        while e < n and t[e] in _RUN_CHARS:
            e += 1
        yield i, e
        pos = e


_RUN_CHARS = frozenset(" " + MARK)


# --- the fast path of step 1 -------------------------------------------------------------
# str.translate looks every character up in a Python list (~25 ns a character). Posts are almost
# all ASCII, Cyrillic (Russian, Tajik, Uzbek) and common punctuation, so those 255 characters get a
# private one-byte code: the C charmap codec encodes them, bytes.translate folds them (C, ~1 ns a
# byte) and the charmap codec decodes the result. Any other character (emoji, Arabic, exotic letter
# forms) is encoded as a placeholder and patched from the full table afterwards.
_PLACEHOLDER = "\x01"  # its own code point takes the slow path, so a placeholder is always patched


def _fast_alphabet() -> str:
    common = (
        [chr(c) for c in range(0x09, 0x0E)] + [chr(c) for c in range(0x20, 0x80)]  # rare C0 controls: slow path
        + [chr(c) for c in range(0x410, 0x450)] + ["ё", "Ё"]
        + list("ҲҳҶҷҚқҒғӢӣӮӯЎўІіЇїЄєҐґЈјҺһ")
        + list("ЊњЉљЌќЃѓ")  # old Tajik web encoding
        + list("\xa0\xad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u2009\u202f")
        + list("«»“”„‘’‚ʻʼ`´–—‐‑−…№•·")
    )
    out: list[str] = ["\x00", _PLACEHOLDER]  # byte 0 must be U+0000 for CPython's fast EncodingMap
    for ch in common:
        folded = chr(_FAST[ord(ch)] or 0) if ord(ch) < len(_FAST) else ch
        if ch not in out and len(out) < 256:
            out.append(ch)
        if folded not in out and len(out) < 256:
            out.append(folded)
    return "".join(out)


_ALPHABET = _fast_alphabet()
_ENCODING_MAP = codecs.charmap_build(_ALPHABET + "\ufffe" * (256 - len(_ALPHABET)))  # U+FFFE: unused
_DECODING = _ALPHABET + _PLACEHOLDER * (256 - len(_ALPHABET))
_BYTE_FOLD = bytes(
    _ALPHABET.index(chr(_FAST[ord(ch)] or 0) if ord(ch) < len(_FAST) else ch)
    if (chr(_FAST[ord(ch)] or 0) if ord(ch) < len(_FAST) else ch) in _ALPHABET else 0
    for ch in _DECODING
)
_ERRORS = "monitor-fold-placeholder"


def _to_placeholder(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return _PLACEHOLDER * (exc.end - exc.start), exc.end


codecs.register_error(_ERRORS, _to_placeholder)


def _translate(text: str) -> str:
    """``text.translate(_FAST)``, mostly in C (see above)."""
    try:
        coded = codecs.charmap_encode(text, _ERRORS, _ENCODING_MAP)[0]
    except UnicodeError:  # pragma: no cover - the handler covers every unencodable character
        return text.translate(_FAST)
    out = codecs.charmap_decode(coded.translate(_BYTE_FOLD), "strict", _DECODING)[0]
    if _PLACEHOLDER not in out:
        return out
    if out.count(_PLACEHOLDER) * 8 > len(out):  # mostly other scripts: the table is faster
        return text.translate(_FAST)
    chars = list(out)
    i = out.find(_PLACEHOLDER)
    while i >= 0:
        chars[i] = text[i].translate(_FAST)
        i = out.find(_PLACEHOLDER, i + 1)
    return "".join(chars)


# A word broken at the end of a line by a hyphen (print and PDF layout, court documents and reports
# pasted as text: "Исламского дви-\nжения", "Islamic Move-\nment") reads whole: the hyphen, the line
# break and the spaces around it become deletion marks. Only between lower-case letters: a capital
# after the break is a name's own hyphen ("аль-\nКаида", "IS-\nK"), which stays a word gap.
_LINE_HYPHEN = re.compile("[-\u00ad\u2010\u2011][ \t]*\r?\n[ \t]*")


def _join_line_hyphens(text: str, t: str) -> str:
    """``t`` (``text`` folded character by character) with line-end hyphenation marked for deletion."""
    chars: list[str] | None = None
    for mo in _LINE_HYPHEN.finditer(text):
        s, e = mo.span()
        if s == 0 or e >= len(text) or not (text[s - 1].islower() and text[e].islower()):
            continue
        if chars is None:
            chars = list(t)
        chars[s:e] = MARK * (e - s)
    return t if chars is None else "".join(chars)


def fold_text(text: str) -> Folded:
    """Fold a post for matching; see the module docstring."""
    t = _translate(text)
    if "\n" in text:
        t = _join_line_hyphens(text, t)
    return _compact(t, text)


_NEEDS_CLEAN = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(CLEAN_TABLE)) + "]")


def clean_text(text: str) -> Folded:
    """The view analysts' patterns see: the text as written minus invisible characters."""
    if _NEEDS_CLEAN.search(text) is None:
        return Folded(text, (), (), text)
    return _compact(text.translate(CLEAN_TABLE), text)


def fold_term(term: str) -> str:
    """Fold a lexicon alias or keyword the same way as text, trimmed."""
    return fold_text(term).text.strip()


# --- split letters -------------------------------------------------------------------------

_L = r"[^\W\d_]"
# single letters separated by 1-3 separator characters (spaces or punctuation), >= 3 letters,
# or >= 2 letters each followed by a dot (И.Г., I.S.I.S.)
_SPLIT = re.compile(
    rf"(?<![^\W_]){_L}(?:[ .*·•|/,+~:;]{{1,3}}{_L}(?![^\W_])){{2,}}"
    rf"|(?<![^\W_])(?:{_L}\.){{2,}}"
    # >= 3 multi-letter pieces joined by in-word punctuation without spaces (ta.li.ban, al*qa*eda)
    rf"|(?<![^\W_.*·•|])[^\W_]+(?:[.*·•|]+[^\W_]+){{2,}}"
)


@dataclass(frozen=True, slots=True)
class SplitView:
    """Letters of a split-up run, joined: ``pos[i]`` is the folded position of view char ``i``."""

    text: str
    pos: tuple[int, ...]
    starts: frozenset[int]  # view offsets where an original piece starts
    ends: frozenset[int]  # view offsets (exclusive) where an original piece ends


def _re2_hint() -> Any:  # re2 ships no type hints
    opts = re2.Options()
    opts.log_errors = False
    return re2.compile(
        r"[\pL\pN][.*·•|]+[\pL\pN]"
        r"|(?:^|[^\pL\pN])[\pL\pN][^\pL\pN]{1,3}[\pL\pN][^\pL\pN]{1,3}[\pL\pN](?:$|[^\pL\pN])",
        opts,
    )


# A cheap superset of _SPLIT (RE2 scans in one DFA pass): most posts are ruled out by it.
_HINT = _re2_hint()


# The hint's compiled program, called on UTF-8 bytes directly: the re2 module's str wrapper maps
# offsets back and forth in Python, which costs more than the scan itself for the common "no hint".
_HINT_RAW = _HINT._regexp
_UNANCHORED = re2._Anchor.UNANCHORED


def _split_raw() -> Any:  # re2 ships no type hints
    """_SPLIT for RE2: the look-arounds become consumed boundary characters, the run is a group."""
    opts = re2.Options()
    opts.log_errors = False
    b = r"(?:^|[^\pL\pN_])"
    return re2.compile(
        b + r"(\pL(?:[ .*·•|/,+~:;]{1,3}\pL){2,})(?:$|[^\pL\pN_])"
        + "|" + b + r"((?:\pL\.){2,})"
        + r"|(?:^|[^\pL\pN_.*·•|])([\pL\pN]+(?:[.*·•|]+[\pL\pN]+){2,})",
        opts,
    )._regexp


_SPLIT_RAW = _split_raw()


SPLIT_HINT = _HINT.pattern  # for a caller that scans the text with RE2 anyway (the tagger's cue scan)


def split_views(m: str, raw: bytes | None = None, hinted: bool | None = None) -> list[SplitView]:
    """Views of every run of split-up letters in folded text ``m`` (usually none).

    The RE2 hint rules most posts out in one scan of the UTF-8 bytes; where it fires, the exact
    pattern (also RE2, linear, on the same bytes) finds the runs. Offsets are mapped back to
    characters only for the runs found. ``raw``: ``m.encode()`` when the caller has it already
    (the tagger encodes a post once for all its RE2 scans). ``hinted``: whether ``SPLIT_HINT`` matches
    ``raw``, when the caller knows it already (None: scan for it here).
    """
    if raw is None:
        raw = m.encode()
    nb = len(raw)
    if hinted is None:
        hinted = _HINT_RAW.Match(_UNANCHORED, raw, 0, nb)[0][0] >= 0
    if not hinted:
        return []
    ascii_text = nb == len(m)
    views: list[SplitView] = []
    pos = 0
    while pos < nb:
        spans = _SPLIT_RAW.Match(_UNANCHORED, raw, pos, nb)
        if spans[0][0] < 0:
            break
        rs, rend = next(sp for sp in spans[1:] if sp[0] >= 0)
        base = rs if ascii_text else len(raw[:rs].decode())
        view = _view(raw[rs:rend].decode(), base)
        if view is not None:
            views.append(view)
        pos = max(rend, spans[0][0] + 1)
        while pos < nb and raw[pos] & 0xC0 == 0x80:  # never start inside a character
            pos += 1
    return views


def _view(run: str, base: int) -> SplitView | None:
    chars: list[str] = []
    pos: list[int] = []
    starts: set[int] = set()
    ends: set[int] = set()
    prev_letter = False
    for i, ch in enumerate(run):
        if ch.isalnum():
            if not prev_letter:
                starts.add(len(chars))
            chars.append(ch)
            pos.append(base + i)
            prev_letter = True
        else:
            if prev_letter:
                ends.add(len(chars))
            prev_letter = False
    ends.add(len(chars))
    if len(chars) < 2:
        return None
    return SplitView("".join(chars), tuple(pos), frozenset(starts), frozenset(ends))
