"""Terms of a post for new_term / rising_term: words, hashtags, @names and t.me links, folded.

Why fold: "талибы", "талибов" and "талибами" are one term to an analyst, and so are
Tajik "толибон", "толибонро" and Uzbek "tolibonlar", "Tolibonning". Russian goes
through the Snowball stemmer. Tajik and Uzbek have no Snowball stemmer, so this module
strips their common suffixes itself, lightly, by rule:

* Tajik (Cyrillic): the object marker -ро, possessive endings (-ам -ат -аш -амон
  -атон -ашон -ям -ят -яш), the izofat -и/-ӣ and the plurals -ҳо -он -ён -гон, in
  that order (outermost first), each at most once. Words ending in -истон/-стон
  (place names) keep their -он.
* Uzbek (Latin and Cyrillic): one case ending (-ning -ni -ga -ka -qa -da -ta -dan
  -tan -dagi -gacha), then one possessive (-imiz -ingiz -lari -im -ing -si -i), then
  the plural -lar, each at most once (Tajik plurals may stack: толибонҳо -> толиб).

Every strip keeps a stem of at least 3 letters, so short words stay as written.
Light stemming over-folds a little (a rare word may share a stem with another);
that only makes new_term quieter, never noisier. Apostrophe variants of Uzbek oʻ/gʻ
(ʻ ‘ ’ ` ʼ) become one ASCII apostrophe; zero-width characters are dropped; ё is е.

Stop-words are never terms. The lists below were written for this project (common
function words, pronouns, auxiliaries and reporting verbs of ru, tg, uz-Latn,
uz-Cyrl and en); a token is dropped when its folded form is a stop-word of any of
these languages (short posts are often tagged with the wrong one), or when its stem
is the stem of a stop-word of the post's own language (которых -> котор). Stems are
compared per language only: Russian "бой" stems to "бо", which is Tajik "with".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from monitor.identity import RESERVED_TME_PATHS

TermKind = str  # "word" | "hashtag" | "mention" | "link"

_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u00ad\ufeff"), None
)
_APOSTROPHES = str.maketrans({c: "'" for c in "ʻ‘’`ʼ´ʹ′"})
_URL = re.compile(r"(?i)(?:https?://|www\.)[^\s<>\"«»]+|\b(?:t\.me|telegram\.me)/[^\s<>\"«»]+")
_TME = re.compile(r"(?i)(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})\b")
_HASHTAG = re.compile(r"(?<![\w#])#([^\W_][\w\u200b-\u200d\u2060\u00ad]{1,63})")
_MENTION = re.compile(r"(?<![\w@./])@([A-Za-z][A-Za-z0-9_]{3,31})\b")
_LETTER_OR_INVISIBLE = r"(?:[^\W\d_]|[\u200b-\u200d\u2060\u00ad])"
# A word starts with a letter; Uzbek apostrophes join letters (bo'ldi); a hyphen splits (Толибон-ро).
_WORD = re.compile(rf"[^\W\d_]{_LETTER_OR_INVISIBLE}*(?:['ʻ‘’`ʼ][^\W\d_]{_LETTER_OR_INVISIBLE}*)*")

_RU_STOP = """
а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже для до его ее ей
ему если есть еще же за здесь и из или им их к как какой когда кто ли либо между меня мне много может мы на
над надо наш не него нее нет ни них но ну о об однако он она они оно от очень по под после потом при про раз
с сам свой себя со так также такой там тебя тем то того тоже той только том ты у уже хотя чего чей чем что
чтобы чье эта эти это этого этой этом этот я который которая которое которые также ведь вдруг вновь всегда
сейчас теперь тут через чуть будет будут было были сказал сказала заявил заявила сообщил сообщает сообщила
года году год лет день дня время новости новость ранее сегодня вчера около более менее также кроме против
среди где-то
""".split()
_TG_STOP = """
ва дар ба аз ки бо то ин он барои ҳам низ аст буд будааст мешавад шуд шудааст карда кард кардааст дорад
доранд як ҳар бар ё агар чун баъд пеш пас ҳамчун худ онҳо мо шумо ман ту вай ӯ чунин чи чӣ кӣ куҷо чаро зеро
лекин аммо вале бояд метавонад нест ҳаст ро ҳамин ҳамон боз ҳоло акнун инҷо онҷо мебошад мебошанд гуфт гуфта
гуфтааст соли сол рӯзи рӯз баъди пеши байни зери рӯи сари назди тавассути бинобар ҳатто танҳо хеле бисёр кам
ҳеҷ
""".split()
_UZ_LATN_STOP = """
va bilan uchun bu shu u ular biz siz men sen ham esa edi emas bor yo'q lekin ammo yoki deb qilib qildi
bo'lib bo'ldi bo'lgan bo'ladi kabi haqida keyin oldin endi hali har bir ikki o'z ana mana agar chunki qadar
orqali tomonidan uning ularning bizning hamda yana faqat juda ko'p kam nima kim qayer qachon qanday nega yil
yili kuni kun dedi etdi etib etgan ekan emish shunday bunday barcha hamma boshqa ichida orasida sababli
""".split()
_UZ_CYRL_STOP = """
ва билан учун бу шу у улар биз сиз мен сен ҳам эса эди эмас бор йўқ лекин аммо ёки деб қилиб қилди бўлиб
бўлди бўлган бўлади каби ҳақида кейин олдин энди ҳали ҳар бир икки ўз ана мана агар чунки қадар орқали
томонидан унинг уларнинг бизнинг ҳамда яна фақат жуда кўп кам нима ким қаер қачон қандай нега йил йили куни
кун деди этди этиб этган экан эмиш шундай бундай барча ҳамма бошқа ичида орасида сабабли
""".split()
_EN_STOP = """
a about after again all also an and any are as at be been before being but by can could did do does for from
had has have he her his how i if in into is it its just more most my new no not now of on one only or other
our out over said says she should so some than that the their them then there these they this those through
to too under up very was we were what when where which while who will with would you your
""".split()


def _fold(token: str) -> str:
    """Case, width, invisible characters, apostrophes and ё folded; no stemming."""
    text = unicodedata.normalize("NFKC", token).translate(_INVISIBLE).translate(_APOSTROPHES)
    return text.casefold().replace("ё", "е")


_TG_SUFFIX_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ро",),
    ("амон", "атон", "ашон", "ям", "ят", "яш", "ам", "ат", "аш"),
    ("ӣ", "и"),
    ("гон", "ҳо", "он", "ён"),
)
_UZ_SUFFIX_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "gacha",
        "ning",
        "dagi",
        "dan",
        "tan",
        "ni",
        "ga",
        "ka",
        "qa",
        "da",
        "ta",
        "гача",
        "нинг",
        "даги",
        "дан",
        "тан",
        "ни",
        "га",
        "ка",
        "қа",
        "да",
        "та",
    ),
    ("ingiz", "imiz", "lari", "ing", "im", "si", "i", "ингиз", "имиз", "лари", "инг", "им", "си", "и"),
    ("lar", "лар"),
)
_MIN_STEM = 3


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def _strip_groups(
    word: str, groups: tuple[tuple[str, ...], ...], keep: Iterable[str] = (), last_twice: bool = False
) -> str:
    keep = tuple(keep)
    for index, group in enumerate(groups):
        rounds = 2 if last_twice and index == len(groups) - 1 else 1
        for _ in range(rounds):
            for suffix in group:  # longest first within a group
                if word.endswith(suffix) and _letters(word[: -len(suffix)]) >= _MIN_STEM:
                    if suffix in ("он", "ён") and word.endswith(keep):
                        continue
                    word = word[: -len(suffix)]
                    break
    return word


def stem_tajik(word: str) -> str:
    """Light Tajik stemming (see module docstring); ``word`` already folded."""
    return _strip_groups(word, _TG_SUFFIX_GROUPS, keep=("стон",), last_twice=True)


def stem_uzbek(word: str) -> str:
    """Light Uzbek stemming, Latin and Cyrillic (see module docstring); ``word`` already folded."""
    return _strip_groups(word, _UZ_SUFFIX_GROUPS)


@lru_cache(maxsize=1)
def _russian() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("russian")


@lru_cache(maxsize=1)
def _english() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    """The folded stem of an already folded word in language ``lang``."""
    if lang == "ru":
        return str(_russian().stemWord(word))
    if lang == "tg":
        return stem_tajik(word)
    if lang == "uz":
        return stem_uzbek(word)
    if lang == "en":
        return str(_english().stemWord(word))
    return word


_STOP_SURFACE = frozenset(_fold(w) for w in (*_RU_STOP, *_TG_STOP, *_UZ_LATN_STOP, *_UZ_CYRL_STOP, *_EN_STOP))
_STOP_STEMS: dict[str, frozenset[str]] = {
    "ru": frozenset(stem(_fold(w), "ru") for w in _RU_STOP),
    "tg": frozenset(stem(_fold(w), "tg") for w in _TG_STOP),
    "uz": frozenset(stem(_fold(w), "uz") for w in (*_UZ_LATN_STOP, *_UZ_CYRL_STOP)),
    "en": frozenset(stem(_fold(w), "en") for w in _EN_STOP),
}
_NO_STEMS: frozenset[str] = frozenset()


def is_stopword(word: str, lang: str = "und") -> bool:
    folded = _fold(word)
    return folded in _STOP_SURFACE or stem(folded, lang) in _STOP_STEMS.get(lang, _NO_STEMS)


@dataclass(frozen=True, slots=True)
class TermHit:
    """One term of one post: its key (what history counts), kind, and where it was written."""

    key: str  # "талиб", "#hashtag", "@name"
    kind: TermKind
    surface: str  # as written
    start: int
    end: int
    letters: int = 0  # letters in the surface form (words only): rules compare it with min_length


@lru_cache(maxsize=262_144)
def _word(token: str, lang: str) -> tuple[int, str | None]:
    """(letters, history key or None) of a word token; cached because posts repeat their words."""
    return _letters(token), word_key(token, lang)


def word_key(token: str, lang: str) -> str | None:
    """The history key of a word, or None when it is a stop-word."""
    folded = _fold(token)
    if folded in _STOP_SURFACE:
        return None
    key = stem(folded, lang)
    if key in _STOP_STEMS.get(lang, _NO_STEMS):  # an inflected stop-word of the post's language
        return None
    if _letters(key) < _MIN_STEM:  # the stemmer ate a short word (ИГИЛ -> иг): keep it whole
        return folded
    return key


def extract_terms(
    text: str,
    lang: str,
    *,
    mentions: Iterable[str] = (),
    kinds: Iterable[TermKind] = ("word", "hashtag", "mention", "link"),
    min_length: int = 4,
) -> list[TermHit]:
    """The distinct terms of a post, first occurrence each, in text order.

    ``mentions`` are the source's normalised @names / t.me paths (``Post.mentions``);
    they count as "@name" terms even when the text no longer shows them.
    """
    wanted = set(kinds)
    hits: dict[str, TermHit] = {}

    def add(hit: TermHit) -> None:
        if hit.key not in hits:
            hits[hit.key] = hit

    blank = list(text)
    for m in _URL.finditer(text):
        tme = _TME.match(m.group(0))
        if tme and "link" in wanted and tme.group(1).lower() not in RESERVED_TME_PATHS:
            add(TermHit(f"@{tme.group(1).lower()}", "link", m.group(0), m.start(), m.end()))
        blank[m.start() : m.end()] = " " * (m.end() - m.start())
    for m in _MENTION.finditer(text):
        if "mention" in wanted:
            add(TermHit(f"@{m.group(1).lower()}", "mention", m.group(0), m.start(), m.end()))
        blank[m.start() : m.end()] = " " * (m.end() - m.start())
    for m in _HASHTAG.finditer(text):
        tag = _fold(m.group(1))
        if "hashtag" in wanted and _letters(tag) >= min(min_length, 3) and not tag.isdigit():
            add(TermHit(f"#{tag}", "hashtag", m.group(0), m.start(), m.end()))
        blank[m.start() : m.end()] = " " * (m.end() - m.start())
    if "word" in wanted:
        cleaned = "".join(blank)
        for piece in _WORD.finditer(cleaned):
            letters, key = _word(piece.group(0), lang)
            if letters < min_length or key is None:
                continue
            add(TermHit(key, "word", text[piece.start() : piece.end()], piece.start(), piece.end(), letters))
    if wanted & {"mention", "link"}:
        for ref in mentions:
            ref = ref.lower()
            if ref and ref[0].isalpha() and "/" not in ref:
                add(TermHit(f"@{ref}", "mention", f"@{ref}", -1, -1))
    return list(hits.values())


def context(text: str, start: int, end: int, width: int = 40) -> str:
    """A short window of ``text`` around [start, end), cut at spaces, with ellipses; raw (sinks escape)."""
    if start < 0 or end > len(text) or start >= end:
        return ""
    left = max(0, start - width)
    right = min(len(text), end + width)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    snippet = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + snippet + ("…" if right < len(text) else "")
