"""Expand one lexicon alias into the folded strings the automaton looks for.

Why expand at load time: the automaton matches literals, so every legitimate
way of writing an alias becomes one literal here, once, and matching stays a
single pass. An alias expands by:

- its inflection template (``Исламск{ru_adj} государств{ru_n_o}``): every
  combination; all but the first are rule "inflection";
- a Russian stem without its final vowel (``аль-каид`` + ending), rule "inflection";
- separators: words joined by a space, a hyphen (folded to a space) or nothing
  (``al-Qaeda``, ``al Qaeda``, ``alQaeda``);
- apostrophes written, dropped, or with stray spaces (``Hay'at``, ``Hayat``,
  ``Hay ’ at``);
- for Uzbek, the other script (Latin <-> Cyrillic), rule "transliteration".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .fold import fold_term
from .lexicon import Alias

MAX_TEMPLATE = 400  # combinations per alias; more means a template mistake

_APOS_FORMS = ("'", "", " ' ")  # written, dropped, spaced on both sides; one-sided spacing is rare and each form multiplies the automaton


@dataclass(frozen=True, slots=True)
class Variant:
    pattern: str  # folded literal
    rule: str  # "alias" | "abbreviation" | "inflection" | "transliteration" | "variant"
    stem: bool  # needs an ending after it
    gen: str = ""  # for rule "variant": the generator rule(s) that made it ("final_lla", "o_a+dzh_zh_ch")


def expand_template(text: str, paradigms: Mapping[str, tuple[str, ...]]) -> list[str]:
    """All strings an inflection template stands for, the base form first."""
    parts: list[tuple[str, ...]] = []
    i = 0
    while (s := text.find("{", i)) >= 0:
        e = text.find("}", s)
        parts.append((text[i:s],))
        inner = text[s + 1 : e]
        if "|" in inner:
            parts.append(tuple("" if x == "-" else x for x in inner.split("|")))
        else:
            parts.append(paradigms[inner])
        i = e + 1
    parts.append((text[i:],))
    out: list[str] = []
    for combo in itertools.product(*parts):
        out.append("".join(combo))
        if len(out) >= MAX_TEMPLATE:
            break
    return out


def _gap_forms(folded: str, abbr: bool) -> Iterator[str]:
    tokens = folded.split(" ")
    k = len(tokens)
    if k == 1:
        yield folded
        return
    # joining "IS-K" gives "isk", another word: short abbreviations keep their separator
    seps_allowed: tuple[str, ...] = (" ",) if abbr and len(folded) <= 5 else (" ", "", "'")
    if k <= 4:
        for seps in itertools.product(seps_allowed, repeat=k - 1):
            yield tokens[0] + "".join(sep + tok for sep, tok in zip(seps, tokens[1:], strict=True))
    else:
        yield " ".join(tokens)
        yield "".join(tokens)


def _apostrophe_forms(s: str, short: bool = False) -> Iterator[str]:
    n = s.count("'")
    if n == 0 or short:
        yield s
        return
    if n > 2:
        yield s
        yield s.replace("'", "")
        return
    pieces = s.split("'")
    for forms in itertools.product(_APOS_FORMS, repeat=n):
        out = pieces[0] + "".join(f + p for f, p in zip(forms, pieces[1:], strict=True))
        yield " ".join(out.split())


_VOWEL_END = tuple(fold_term(c) for c in "аяоеыиьй")
_GEN_STAN = fold_term("стана")  # Узбекистана, Таджикистана, Туркестана: a -stan country's genitive


def spellings(text: str, abbr: bool = False) -> set[str]:
    """Folded separator and apostrophe variants of one written form."""
    folded = fold_term(text)
    out: set[str] = set()
    for g in _gap_forms(folded, abbr):
        out.update(_apostrophe_forms(g, abbr and len(folded) <= 5))
    out.discard("")
    return out


def transliterate_uz(text: str, lang: str) -> str | None:
    """The same Uzbek text in the other script (alifbo), or None when not Uzbek or unchanged."""
    if lang not in ("uz-Latn", "uz-Cyrl"):
        return None
    import alifbo  # a dependency; imported here because most texts are not Uzbek
    if lang == "uz-Latn":
        out = alifbo.to_cyrillic(text).text
    else:
        out = alifbo.to_old_latin(alifbo.from_cyrillic(text).text).text
    return out if out != text else None


def new_latin_uz(text: str) -> str | None:
    """The 2026 Uzbek Latin spelling of an old-Latin form (sh -> ş, ch -> ç, oʻ -> ö, gʻ -> ğ), or None.

    The fold drops diacritics, so ``aş-Şom`` reads ``as som``: the new spelling of every Uzbek
    name must be a literal of its own. Not for abbreviations: ``IŞID`` folds to ``isid``, which is
    also an unrelated English acronym, so it is a lexicon alias with a condition instead.
    """
    if not all(c.isascii() or c in "ʻʼ‘’`" for c in text):
        return None  # Cyrillic or Arabic forms: their old-Latin transliteration is handled instead
    import alifbo  # a dependency; imported here because most texts are not Uzbek
    out = alifbo.to_new_latin(text).text
    folded = fold_term(out)
    # short names lose too much with their diacritics: 'Doish' in the new alphabet folds to 'dois'
    return out if folded != fold_term(text) and len(folded) >= 6 else None


def expand_alias(alias: Alias, paradigms: Mapping[str, tuple[str, ...]], *, translit: bool = True,
                 generate: bool = True) -> list[Variant]:
    """Every folded literal for ``alias`` with the rule it stands for (first rule wins per literal)."""
    base_rule = "abbreviation" if alias.abbr else "alias"
    found: dict[tuple[str, bool], str] = {}

    def add(pattern: str, rule: str, stem: bool) -> None:
        found.setdefault((pattern, stem), rule)

    forms = expand_template(alias.text, paradigms)
    written: list[tuple[str, str]] = [(f, base_rule if i == 0 else "inflection") for i, f in enumerate(forms)]
    if translit and not alias.abbr:
        for f, _rule in list(written):
            other = transliterate_uz(f, alias.lang)
            if other:
                written.append((other, "transliteration"))
    if translit and not alias.abbr and alias.lang in ("uz-Latn", "uz-Cyrl"):
        for f, _rule in list(written):
            newer = new_latin_uz(f)
            if newer:
                written.append((newer, "transliteration"))
    for form, rule in written:
        for s in spellings(form, alias.abbr):
            add(s, rule, alias.stem)
            is_cyr_ru = alias.lang in ("ru", "ky", "kk") and not alias.abbr and not alias.stem
            if is_cyr_ru and len(s) > 4 and s.endswith(_VOWEL_END) and alias.suffixes != "none":
                add(s[:-1], "inflection" if rule == "alias" else rule, True)
                if " " in s and s.endswith(_GEN_STAN):
                    # the last word a -stan country's genitive (Исламское движение Узбекистана) is often
                    # left in the nominative (Исламское движение Узбекистан): a slip of Russian news and
                    # of translations from Tajik and Uzbek, where the country does not decline. The
                    # stem stands alone then (names of two words or more: the rest is the name)
                    add(s[:-1], "inflection" if rule == "alias" else rule, False)
    gens: dict[str, str] = {}
    if generate and alias.generate and not alias.abbr and not alias.stem:
        for form, rule in written:
            if rule == "inflection":
                continue  # the base form of a template, not each case form: the endings do the rest
            cyr = any("\u0400" <= c <= "\u04ff" for c in form)
            lang = alias.lang if rule != "transliteration" else ("uz-Cyrl" if cyr else "uz-Latn")
            for g, gen_rule in generated(fold_term(form), lang, cyr):
                # one spelling each (words apart, apostrophes as written and dropped): every form
                # multiplies the automaton, and the curated aliases carry the rarer joinings
                for s in {g, " ".join(g.replace("'", "").split())}:
                    if (s, alias.stem) not in found:
                        found[(s, alias.stem)] = "variant"
                        gens[s] = gen_rule
                    is_cyr_ru = alias.lang in ("ru", "ky", "kk")
                    if is_cyr_ru and len(s) > 4 and s.endswith(_VOWEL_END) and alias.suffixes != "none" \
                            and (s[:-1], True) not in found:
                        found[(s[:-1], True)] = "variant"
                        gens[s[:-1]] = gen_rule
    return [Variant(p, r, st, gens.get(p, "") if r == "variant" else "") for (p, st), r in found.items()]


# --- generated orthographic variants ---------------------------------------------------------
# Real text keeps producing spellings of the long names that no list has: the Russian, Tajik and
# Uzbek renderings of the same Arabic name differ in a few letters (Ансаруллах / Ансорулло /
# Ансоруллоҳ, Джамаат / Жамоат / Ҷамоат, Таухид / Тавҳид, Qaeda / Qoida, Tawhid / Tavhid). Each rule
# below rewrites one word of a folded name in one such way; a name's generated variants change at
# most two of its words, and each variant records the rule that made it ("generated:final_lla").
# The rules work on folded text (fold.py), where ҳ/х, ў/у, ӣ/и, қ/к and Latin/Cyrillic look-alikes
# are already one letter, so they only need the differences the fold keeps.

MIN_GENERATED_LEN = 8  # letters; shorter names are too easily another word with one letter changed
MAX_GENERATED = 64  # generated spellings per alias form changing one word; MAX_PAIRS more change two

_CYR_FINAL = re.compile("(?:лл|л)[ao]x?$")  # -лла/-ллах/-лло/-ллох/-ллоҳ/-ла/-лах/-ло/-лох (folded)
_LAT_FINAL = re.compile("(?:ll|l)[ao](?:kh|h|x)?$")
_LAT_FINALS = ("lla", "llah", "llakh", "llo", "lloh", "llokh", "la", "lah", "lo", "loh")


def _fold_set(items: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for x in items:
        f = fold_term(x)
        if f not in out:
            out.append(f)
    return tuple(out)


_CYR_FINALS_F = _fold_set(("лла", "ллах", "лло", "ллох", "ла", "лах", "ло", "лох"))
_CYR_FIX = {
    # rule name: (pattern, replacements) applied at one site at a time (folded letters)
    "dzh_zh_ch": (re.compile("дж|ж|ч"), ("дж", "ж", "ч")),
    "soft_sign": (re.compile("[ьъ]"), ("",)),
    "ya_a": (re.compile("(?<=i)я|iя"), ("a", "я", "ia")),
    "e_i": (re.compile("(?<=[бвгджзклмнпрстфхцчшщbkmhtpcx])[ei](?=[бвгджзклмнпрстфхцчшщbkmhtpcx])"), ("e", "i")),
}
_LAT_FIX = {
    "q_k": (re.compile("q|k(?!h)"), ("q", "k")),
    "kh_x_h": (re.compile("kh|x|h"), ("kh", "x", "h")),
    "w_v": (re.compile("w|v"), ("w", "v")),
    "ee_i": (re.compile("ee|i"), ("ee", "i")),
    "oo_u": (re.compile("oo|u"), ("oo", "u")),
    "j_ch": (re.compile("j|ch|dzh|zh"), ("j", "ch", "dzh", "zh")),
    "y_i": (re.compile("(?<=[aeou])y|(?<=[aeou])i(?=[aeou])"), ("y", "i")),
}
_VOWEL_SWAP = {"a": "o", "o": "a"}  # Russian а for Tajik/Uzbek о in Arabic names, and back
_DOUBLE = re.compile(r"([^\W\d_aoeiyu])\1")


def _site_variants(word: str, fixes: dict[str, tuple[re.Pattern[str], tuple[str, ...]]]) -> Iterator[tuple[str, str]]:
    for rule, (pat, repls) in fixes.items():
        for mo in pat.finditer(word):
            for r in repls:
                if r != mo.group(0):
                    yield word[: mo.start()] + r + word[mo.end():], rule


def word_variants(word: str, cyrillic: bool) -> dict[str, str]:
    """Folded variants of one folded word, each with the rule that made it (first rule wins)."""
    out: dict[str, str] = {}

    def add(w: str, rule: str) -> None:
        if w and w != word and w not in out:
            out[w] = rule

    final_re, finals = (_CYR_FINAL, _CYR_FINALS_F) if cyrillic else (_LAT_FINAL, _LAT_FINALS)
    mo = final_re.search(word)
    if mo and mo.start() >= 3:
        for f in finals:
            add(word[: mo.start()] + f, "final_lla")
    # о/а: every site, and the whole word (a Tajik rendering writes every long a as о)
    sites = [i for i, c in enumerate(word) if c in _VOWEL_SWAP]
    for i in sites:
        add(word[:i] + _VOWEL_SWAP[word[i]] + word[i + 1:], "o_a")
    if len(sites) > 1:
        add("".join(_VOWEL_SWAP.get(c, c) if c == "a" else c for c in word), "o_a")
        add("".join(_VOWEL_SWAP.get(c, c) if c == "o" else c for c in word), "o_a")
    for w, rule in _site_variants(word, _CYR_FIX if cyrillic else _LAT_FIX):
        add(w, rule)
    if _DOUBLE.search(word):
        add(_DOUBLE.sub(r"\1", word), "double")
    if mo and mo.start() >= 3:  # the ending together with the Tajik о (Ансоруллоҳ from Ансаруллах)
        stem = word[: mo.start()]
        stems = {stem[:i] + _VOWEL_SWAP[stem[i]] + stem[i + 1:] for i, c in enumerate(stem) if c in _VOWEL_SWAP}
        stems.add("".join(_VOWEL_SWAP.get(c, c) if c == "a" else c for c in stem))
        for st in sorted(stems - {stem}):
            for f in finals:
                add(st + f, "final_lla+o_a")
    return out


def generated(folded: str, lang: str, cyrillic: bool) -> list[tuple[str, str]]:
    """Generated folded spellings of one folded name and the rule of each (at most two words changed)."""
    if lang not in _GEN_LANGS:
        return []
    words = folded.split(" ")
    if sum(len(w) for w in words) < MIN_GENERATED_LEN:
        return []
    per_word = [word_variants(w, cyrillic) if len(w) >= 4 else {} for w in words]
    out: dict[str, str] = {}
    # one word changed
    for i, vs in enumerate(per_word):
        for v, rule in vs.items():
            out.setdefault(" ".join(words[:i] + [v] + words[i + 1:]), rule)
    # two words changed: the commonest co-variations first (Жамаат Ансаруллох: ж and the ending)
    pairs: list[tuple[int, str, str]] = []
    for i, j in itertools.combinations(range(len(words)), 2):
        for vi, ri in per_word[i].items():
            if ri not in _PAIRABLE:
                continue
            for vj, rj in per_word[j].items():
                if rj not in _PAIRABLE:
                    continue
                ws = list(words)
                ws[i], ws[j] = vi, vj
                rank = _PAIR_RANK.get(ri, 3) + _PAIR_RANK.get(rj, 3)
                pairs.append((rank, " ".join(ws), f"{ri}+{rj}"))
    pairs.sort(key=lambda p: p[0])  # stable: the order of the words and rules within a rank
    singles = [(k, v) for k, v in out.items() if k != folded][:MAX_GENERATED]
    seen = {k for k, _ in singles} | {folded}
    for _, k, v in pairs:
        if len(singles) >= MAX_GENERATED + MAX_PAIRS:
            break
        if k not in seen:
            seen.add(k)
            singles.append((k, v))
    return singles


_GEN_LANGS = frozenset({"ru", "tg", "uz-Cyrl", "uz-Latn", "en", "ky", "kk"})
_PAIR_RANK = {"final_lla": 0, "final_lla+o_a": 0, "dzh_zh_ch": 1, "j_ch": 1, "o_a": 2}
MAX_PAIRS = 48
_PAIRABLE = frozenset({"final_lla", "final_lla+o_a", "dzh_zh_ch", "j_ch", "o_a", "kh_x_h", "w_v", "q_k"})
