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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .fold import fold_term
from .lexicon import Alias

MAX_TEMPLATE = 400  # combinations per alias; more means a template mistake

_APOS_FORMS = ("'", "", " ' ")  # written, dropped, spaced on both sides; one-sided spacing is rare and each form multiplies the automaton


@dataclass(frozen=True, slots=True)
class Variant:
    pattern: str  # folded literal
    rule: str  # "alias" | "abbreviation" | "inflection" | "transliteration"
    stem: bool  # needs an ending after it


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
    try:
        import alifbo
    except ImportError:  # pragma: no cover - alifbo is installed with the package
        return None
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
    try:
        import alifbo
    except ImportError:  # pragma: no cover - alifbo is installed with the package
        return None
    out = alifbo.to_new_latin(text).text
    folded = fold_term(out)
    # short names lose too much with their diacritics: 'Doish' in the new alphabet folds to 'dois'
    return out if folded != fold_term(text) and len(folded) >= 6 else None


def expand_alias(alias: Alias, paradigms: Mapping[str, tuple[str, ...]], *, translit: bool = True) -> list[Variant]:
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
    return [Variant(p, r, st) for (p, st), r in found.items()]
