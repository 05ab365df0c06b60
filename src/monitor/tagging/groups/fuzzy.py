"""Fuzzy matching of long names: bounded edit distance on a folded consonant skeleton.

Why: real text keeps producing spellings of the long names that no list and no rule has (a dropped
letter, two letters swapped, three renderings mixed in one name: ``Islamic Movement of Uzbekstan``,
``Катибат Имом аль-Бухари``). Listing them cannot keep up; a bounded distance on a skeleton that
already ignores the differences that carry no information (vowel quality, ж/дж/ҷ/j/ch, х/ҳ/kh/x,
q/k, w/v, doubled letters, Arabic articles, a word's final vowel such as the Tajik izofat -и)
catches them while a short or common name never qualifies.

Cost: clean text pays nothing. Candidates start from *anchors*: the first letters of a long name's
distinctive words (and their generated spellings) are literals of the tagger's one automaton, so a
post is looked at only when it holds such a word, the word is not already inside an exact match,
and (checked by the tagger) the post has militancy words or names another group. Each candidate
is then one C-level distance computation (rapidfuzz) per name sharing the anchor.

A fuzzy match records rule "fuzzy" and its edit distance (on the skeleton) in ``Match.distance``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from .fold import fold_term
from .variants import word_variants

MIN_SKELETON = 10  # skeleton letters: shorter names never match fuzzily
ANCHOR_LEN = 4  # folded letters of a distinctive word that make an anchor literal


def threshold(n: int) -> int:
    """Edit distance allowed on a skeleton of ``n`` letters: grows with length."""
    if n < MIN_SKELETON:
        return 0
    if n < 16:
        return 1
    if n < 24:
        return 2
    return 3


# Arabic articles and linking particles, written many ways and often dropped: not part of the skeleton
_ARTICLES = frozenset(fold_term(w) for w in (
    "al", "el", "ul", "ал", "аль", "ул", "уль", "at", "ad", "an", "ash", "as", "az", "ar", "ut", "ud", "un", "ush",
    "ат", "ад", "ан", "аш", "ас", "аз", "ар", "ут", "уд", "ун", "уш", "of", "the", "va", "ва", "wa", "and", "и",
))
# words too common to anchor a candidate: every post about the region has them
_COMMON = frozenset(fold_term(w) for w in (
    "islamic", "islam", "islomiy", "islom", "исламское", "исламская", "исламский", "исламск", "ислом", "исломий",
    "исломии", "movement", "party", "state", "union", "group", "front", "organization", "organisation", "движение",
    "партия", "государство", "союз", "группа", "фронт", "организация", "ҳаракати", "ҳизби", "ҳизб", "давлати",
    "гурӯҳи", "harakati", "partiyasi", "davlati", "guruhi", "afghanistan", "афганистан", "афғонистон",
    # words that are names of their own or everyday words in this domain (the region, the province,
    # editing, the scholar, students): a name is anchored on its other words
    "шом", "шам", "sham", "shom", "levant", "леванта", "iraq", "ирака", "khorasan", "khurasan", "xuroson",
    "хуросон", "хорасан", "viloyati", "вилояти", "вилоят", "вилаят", "wilayat", "province", "провинция",
    "tahrir", "таҳрир", "тахрир", "bukhari", "бухари", "бухорӣ", "buxoriy", "бухорий", "taliban", "талибан",
    "толибон", "tolibon", "толибони", "tolibonlari", "imam", "имам", "имом", "imom", "hizb", "ҳизб", "ҳизби",
    "uzbekistan", "o'zbekiston", "узбекистана", "узбекистан", "ӯзбекистон", "ўзбекистон", "узбакистон",
    "tajikistan", "таджикистана", "таджикистан", "тоҷикистон", "tojikiston", "turkestan", "turkistan",
    "туркестана", "туркистон", "turkiston", "туркистони", "шарқӣ", "sharqiy", "шарқий", "east", "eastern",
    "восточного", "renaissance", "revival", "возрождения", "tajik", "таджикские", "таджикский",
    "religion", "committee", "liberation", "emirate", "эмират", "имороти", "amirligi", "caliphate", "soldiers",
    "guardians", "society", "brothers", "brigade", "battalion", "branch", "affiliate", "tehrik", "техрик",
    "бригада", "батальон", "batalyon", "batalyoni", "syria", "сирии", "сирия", "suriya", "сурия", "hayot", "hayat",
    "ozodlik", "озодлик", "озодии", "tiklanish", "тикланиш", "ittihod", "ittifoq", "иттиҳод", "иттиҳоди", "ittifoqi",
    "oshiqlari", "ошиқлари", "khilafah", "khilafa", "халифат", "хилофа", "xilofa", "amirligi", "амирлиги",
    "uyg'onish", "уйғониш", "партияси", "partiyasi",
    "jihad", "джихада", "джихад", "ҷиҳод", "jihod", "жиҳод", "brotherhood", "muslim", "мусульман",
    "исломӣ", "islomi", "davlat", "давлат", "ҳаракат", "harakat", "ҳаракат", "джамаат", "jamoat", "jamaat",
    "ҷамоат", "жамоат", "джамоат",
))

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_CYR = re.compile("[\u0400-\u04ff]")

# folded Cyrillic letters (look-alikes are Latin after the fold) to one Latin skeleton alphabet
_CYR_MAP = str.maketrans({
    "a": "a", "o": "a", "e": "a", "i": "a", "y": "a", "ы": "a", "э": "a", "ю": "a", "я": "a", "ь": None, "ъ": None,
    "б": "b", "b": "v", "г": "g", "д": "d", "ж": "j", "з": "z", "k": "k", "л": "l", "m": "m", "h": "n", "п": "p",
    "p": "r", "c": "s", "t": "t", "ф": "f", "x": "h", "ц": "s", "ч": "j", "ш": "S", "щ": "S", "'": None,
})
_LAT_MAP = str.maketrans({
    "e": "a", "i": "a", "o": "a", "u": "a", "y": "a", "q": "k", "w": "v", "x": "h", "c": "k", "'": None,
})
_LAT_DIGRAPHS = (("dzh", "j"), ("dj", "j"), ("zh", "j"), ("ch", "j"), ("kh", "h"), ("sh", "S"), ("ph", "f"),
                 ("ts", "s"), ("gh", "g"))
_RUNS = re.compile(r"(.)\1+")


@functools.lru_cache(maxsize=4096)
def word_skeleton(word: str, cyrillic: bool) -> str:
    """Skeleton of one folded word ('' for an article)."""
    if word in _ARTICLES:
        return ""
    if cyrillic:
        s = word.replace("дж", "ж").translate(_CYR_MAP)
    else:
        s = word
        for a, b in _LAT_DIGRAPHS:
            s = s.replace(a, b)
        s = s.translate(_LAT_MAP)
    s = _RUNS.sub(r"\1", s)
    if len(s) > 3 and s.endswith("a"):  # a final vowel: izofat -и, case endings -а/-ы/-е, Uzbek -i
        s = s[:-1]
    return s


def skeleton(words: list[str], cyrillic: bool) -> str:
    return "".join(word_skeleton(w, cyrillic) for w in words)


@dataclass(frozen=True, slots=True)
class FuzzyName:
    """One long name that may match fuzzily, with what the tagger needs to judge a candidate."""

    canonical: str
    folded: str  # the name folded, words apart
    words: tuple[str, ...]  # its skeleton-bearing words (articles dropped), folded
    skeleton: str
    cyrillic: bool
    max_distance: int
    entry: object  # the tagger's entry for the name (conditions, group, source)
    skeletons: tuple[str, ...] = ()  # of each word


def content_words(folded: str) -> list[str]:
    return [w for w in _WORD.findall(folded) if w not in _ARTICLES]


def make_name(canonical: str, folded: str, cyrillic: bool, entry: object) -> FuzzyName | None:
    """A FuzzyName for a folded long name, or None when it is too short or has fewer than two words."""
    words = content_words(folded)
    if len(words) < 2:
        return None
    sk = skeleton(words, cyrillic)
    k = threshold(len(sk))
    if not k:
        return None
    return FuzzyName(canonical, folded, tuple(words), sk, cyrillic, k, entry,
                     tuple(word_skeleton(w, cyrillic) for w in words))


_ANCHOR_RULES = frozenset({"final_lla", "final_lla+o_a", "o_a", "dzh_zh_ch", "j_ch"})


@functools.lru_cache(maxsize=1)
def _common_skeletons() -> frozenset[str]:
    return frozenset(word_skeleton(w, cyr) for w in _COMMON for cyr in (True, False))


def anchors(name: FuzzyName) -> set[str]:
    """Anchor literals of a name: the first letters of its most distinctive word (the longest that is not
    a common word) and of that word's spellings by the rules that change first letters. Never the first
    letters of a common word: "Ислам…" would send every post about Islam here."""
    common = _common_skeletons()
    cands = [w for w in name.words if w not in _COMMON and len(w) > ANCHOR_LEN
             and word_skeleton(w, name.cyrillic) not in common]
    if not cands:
        return set()
    w = max(cands, key=len)
    out: set[str] = set()
    for v in (w, *(v for v, rule in word_variants(w, name.cyrillic).items() if rule in _ANCHOR_RULES)):
        if len(v) >= ANCHOR_LEN and v[:ANCHOR_LEN] not in _common_anchors():
            out.add(v[:ANCHOR_LEN])
    if not name.cyrillic:
        out |= {v for a in out for v in _vowel_anchors(a) if v not in _common_anchors()}
    return out


_LAT_VOWELS = "aeiou"


def _vowel_anchors(a: str) -> set[str]:
    """The anchor with one of its vowels after the first letter written as another vowel. Why: the
    skeleton already ignores vowel quality (Ansurallah, Khelafah, Tarkistan are a distance 0-1 from the
    names), but an anchor is the word's first letters as listed, so a vowel changed there sent the word
    nowhere. Latin only: Cyrillic renderings differ in а/о, which the o_a rule covers already."""
    return {a[:i] + v + a[i + 1:] for i in range(1, len(a)) if a[i] in _LAT_VOWELS for v in _LAT_VOWELS} - {a}


@functools.lru_cache(maxsize=1)
def _common_anchors() -> frozenset[str]:
    """Built on first use (building a tagger), not at import: a cached tagger never needs it."""
    out: set[str] = set()
    for w in _COMMON:
        for cyr in (True, False):
            for v in (w, *word_variants(w, cyr)):
                out.add(v[:ANCHOR_LEN])
    return frozenset(out)



class PostWords:
    """The words around one anchor at a word start (articles dropped), tokenised only when the anchor's own
    word is close to a name's word, and the anchor's position among them (-1: no word starts there).

    The words before the anchor and from it are found apart, by ``findall`` (no match object per word):
    no word spans the anchor's start, which follows a character that is no letter or digit, except
    after an apostrophe joining a letter (``d'Islam``: one word, so none starts at the anchor). Their
    offsets are found only for a window that matched (:meth:`span`).
    """

    __slots__ = ("_at", "_cut", "_hi", "_lo", "_m", "pos", "toks")

    def __init__(self, m: str, at: int, before: int = 60, after: int = 70) -> None:
        lo, hi = max(0, at - before), min(len(m), at + after)
        cut = lo > 0 and m[lo - 1].isalpha()  # a word starting at ``lo`` is the end of a longer one
        self._m, self._at, self._lo, self._hi, self._cut = m, at, lo, hi, cut
        if at >= lo + 2 and m[at - 1] == "'" and _WORD.match(m, at - 2, at - 1) is not None:
            self.toks: list[str] = []
            self.pos = -1
            return
        head = _WORD.findall(m, lo, at)
        if head and cut and _WORD.match(m, lo, at) is not None:
            del head[0]
        tail = _WORD.findall(m, at, hi)
        arts = _ARTICLES
        toks = [w for w in head if w not in arts]
        # the anchor's own word comes first in ``tail`` when a word starts at ``at``
        self.pos = len(toks) if tail and tail[0] not in arts and _WORD.match(m, at, hi) is not None else -1
        toks += [w for w in tail if w not in arts]
        self.toks = toks

    def skel(self, i: int, cyrillic: bool) -> str:
        return word_skeleton(self.toks[i], cyrillic)

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Folded start of word ``i`` and end of word ``j``: the window tokenised again with offsets."""
        m, lo = self._m, self._lo
        spans = [mo.span() for mo in _WORD.finditer(m, lo, self._hi)
                 if mo[0] not in _ARTICLES and not (self._cut and mo.start() == lo)]
        return spans[i][0], spans[j][1]


def word_bound(a: str) -> int:
    # every word must be close on its own: a different word (Pakistan for Tajikistan) is another name
    return 1 if len(a) < 6 else 2


def best_window(words: PostWords, name: FuzzyName, index: int) -> tuple[int, int, int] | None:
    """(folded start, folded end, skeleton distance) of the words matching ``name`` when the anchor's word
    stands for its word ``index``, or None when they are not within its bounds."""
    pos = words.pos
    n = len(name.words)
    first = pos - index
    if first < 0 or first + n > len(words.toks):
        return None
    total = 0
    for k in range(n):
        a = name.skeletons[k]
        b = words.skel(first + k, name.cyrillic)
        bound = word_bound(a)
        if k == n - 1 and len(b) > len(a):  # the last word may carry an ending (Uzbekstanda, Ансаруллоха)
            d = min(Levenshtein.distance(a, b[: len(b) - j], score_cutoff=bound + 1)
                    for j in range(min(3, len(b) - len(a)) + 1))
        else:
            d = Levenshtein.distance(a, b, score_cutoff=bound + 1)
        if d > bound:
            return None
        total += d
        if total > name.max_distance:
            return None
    return (*words.span(first, first + n - 1), total)
