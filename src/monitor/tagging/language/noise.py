"""Strip what carries no language from a Telegram post before deciding its language.

URLs, @mentions, #hashtags, e-mail addresses, emoji, numbers and the
"Forwarded from ..." header lines say nothing about the language of the post
(or, worse, pull it towards English), so they are removed first; what is left
decides, and too little left means ``und``.
"""

from __future__ import annotations

import re
import unicodedata

from monitor.tagging.safe_text import scrub

from .features import decode_first, encode

__all__ = [
    "content_letters",
    "join_letter_abbreviations",
    "letter_count",
    "normalise",
    "strip_for_model",
    "strip_noise",
]

# Headers that Telegram clients and export tools put above a forwarded post. On its own line the
# whole line goes (the channel name may be several words); glued to the post on one line (as in
# one-post-per-line input) only the phrase and the next token go, so the post itself survives.
_FORWARD_PHRASE = r"(?:forwarded from|forwarded message|forward from|переслано от|переслано из|пересланное сообщение)"
_FORWARD_LINE = re.compile(rf"^[ \t]*{_FORWARD_PHRASE}\b[^\n]*\n", re.IGNORECASE | re.MULTILINE)
_FORWARD_INLINE = re.compile(rf"^[ \t]*{_FORWARD_PHRASE}\b:?[ \t]*\S*", re.IGNORECASE | re.MULTILINE)
_URL = re.compile(
    r"(?:https?://|ftp://|www\.|tg://)\S+"
    r"|\b(?:t\.me|telegram\.me|telegram\.dog|youtu\.be)/\S*"
    r"|\b[\w.-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|ru|uz|tj|kz|kg|tm|ua|by|info|io|me|tv|"
    r"news|online|site|gov|edu|az|tr|ir|af|de|uk|us|fm|am|ge)\b(?:/\S*)?",
    re.IGNORECASE,
)
_MENTION_TAG = re.compile(r"[@#$][\w\u0300-\u036f'ʻʼ’‘`]+")
# Numbers with their separators and units glued on (10:30, 1.5, 2024-01-01, 5%).
_NUMBER = re.compile(r"[+\-−]?\d[\d.,:/\-–%°]*")
# Emoji, pictographs, dingbats, flags, variation selectors, joiners, keycaps, box drawing.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf"
    "\u2900-\u297f\u2b00-\u2bff\u3030\u303d\u3297\u3299\ufe00-\ufe0f\u200b-\u200f\u2060-\u206f"
    "\U000e0000-\U000e007f\u20e3\ufeff]+"
)
_SPACES = re.compile(r"\s+")

_URL_SCHEME = re.compile(
    r"(?:https?|ftp|tg)://\S+|www\.\S+|\b(?:t\.me|telegram\.me|telegram\.dog|youtu\.be)/\S*", re.IGNORECASE
)
_DOMAIN_HINT = re.compile(
    r"\.(?:com|org|net|ru|uz|tj|kz|kg|tm|ua|by|info|io|me|tv|news|online|site|gov|edu|az|tr|ir|af|de|uk|us|fm|am|ge)\b",
    re.IGNORECASE,
)
_HASH_SIGN = re.compile(r"#(?=\w)")
# Abbreviations written letter by letter: "И.Г.И.Л.", "И. Г. И. Л.", "U.S.", and capitals spaced out: "И Г И Л".
_DOTTED = re.compile(r"(?<![^\W\d_])[^\W\d_](?:\.\s?[^\W\d_])+\.?(?![^\W\d_])")
_SPACED = re.compile(r"(?<![^\W\d_])[^\W\d_](?: [^\W\d_]){2,}(?![^\W\d_])")
_WORD = re.compile(r"[^\W\d_]+")
# Cheap necessary conditions for the two above: they start with a literal, so the regex engine skips
# ahead instead of trying a lookbehind at every position (4-5 times faster over real posts, where
# fewer than one in ten has a dot before a letter and one in a hundred a spaced-out letter).
# The dotted one ends in a dot, maybe a space, and a letter standing alone (". Г." or ".Л"): a sentence
# end followed by a word (". Next") is not, so the hint rules out nine posts in ten that have a dot.
_DOTTED_HINT = re.compile(r"\.\s?[^\W\d_](?![^\W\d_])")
_SPACED_HINT = re.compile(r" [^\W\d_] [^\W\d_](?![^\W\d_])")
SHOUTED = 6  # an all-capitals word this long is a word typed in capitals, not an abbreviation
LONG_NAME = 8  # a capitalised word this long is more likely a word than a name


def strip_noise(text: str) -> str:
    """Remove forward headers, URLs, mentions, hashtags, emoji and numbers; squeeze spaces.

    This is the readable form (for people and tests); the model's own path is
    ``strip_for_model`` plus the vectorised letter filter in ``features.encode``.
    """
    if not text:
        return ""
    text = _safe(text)
    text = _FORWARD_INLINE.sub(" ", _FORWARD_LINE.sub(" ", text))
    text = _URL.sub(" ", text)
    text = _MENTION_TAG.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def join_letter_abbreviations(text: str) -> str:
    """``И.Г.И.Л.`` and ``И Г И Л`` -> ``ИГИЛ``: an abbreviation spelt out is read as the word it spells.

    Spaced-out letters are joined only when they are capitals, since single-letter
    words (Russian в, с, и, а) follow each other in ordinary lower-case text.
    """
    if "." in text and _DOTTED_HINT.search(text) is not None:
        text = _DOTTED.sub(lambda m: "".join(ch for ch in m.group(0) if ch not in ". "), text)
    if " " in text and _SPACED_HINT.search(text) is not None:
        text = _SPACED.sub(lambda m: m.group(0).replace(" ", "") if m.group(0).isupper() else m.group(0), text)
    return text


def content_letters(text: str, enough: int = 3) -> int:
    """Letters (up to ``enough``) in words that are not abbreviations: what can decide a language.

    A word counts when it does not start with a capital (scripts without case,
    such as Arabic, always count), or is all capitals and at least SHOUTED
    letters long (a shouted word, not an abbreviation). Capitalised words count
    only when there are two or more of them or one is long (``Генеральная
    Ассамблея``, ``Shevaishlatilmasin``): one short name alone (``Путин``) does
    not. Short all-capital words (ИГИЛ, ХАМАС, США, and И.Г.И.Л. once joined) never
    count: a post of nothing else, or of numbers and hashtags, is ``und``.
    """
    found = 0
    titled = 0
    titled_letters = 0
    for m in _WORD.finditer(text):
        word = m.group(0)
        if not word[0].isupper():
            found += len(word)
        elif word.isupper():
            if len(word) >= SHOUTED:
                found += len(word)
            continue
        else:
            titled += 1
            titled_letters += len(word)
            if len(word) >= LONG_NAME:
                titled += 1
        if found >= enough:
            return found
    return found + titled_letters if titled >= 2 else found


def strip_for_model(text: str, *, keep_hashtags: bool = False) -> str:
    """Remove what regexes must find (headers, URLs, e-mails, @mentions, #hashtags), cheaply.

    Each pattern runs only when a plain substring test says it can match, which
    keeps this at a few microseconds a post. Emoji, digits and punctuation are
    left for ``features.encode``, which turns every non-letter into a space.
    ``keep_hashtags`` keeps the words of hashtags (without ``#``): the second try
    for posts that are nothing but hashtags, whose words still carry a language.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", _safe(text))
    if "\n" in text or text.lstrip()[:1] in "FfПп":
        text = _FORWARD_INLINE.sub(" ", _FORWARD_LINE.sub(" ", text))
    if "/" in text or "www." in text or "WWW." in text:
        text = _URL_SCHEME.sub(" ", text)
    if "@" in text or _DOMAIN_HINT.search(text) is not None:
        text = _URL.sub(" ", text)
    if "@" in text or "#" in text or "$" in text:
        if keep_hashtags:
            text = _HASH_SIGN.sub(" ", text)
        text = _MENTION_TAG.sub(" ", text)
    return join_letter_abbreviations(text)


def _safe(text: str) -> str:
    """No NUL (the batch separator) and no lone surrogate (unencodable) reaches the model."""
    text = scrub(text)
    return text.replace("\0", " ") if "\0" in text else text


def normalise(text: str) -> str:
    """The exact letters-and-spaces string the model sees for ``text`` (for people and tests)."""
    return decode_first(encode([strip_for_model(text)]))


def letter_count(text: str) -> int:
    """Letters in an already normalised text (apostrophes and spaces do not count)."""
    return len(text) - text.count(" ") - text.count("'")
