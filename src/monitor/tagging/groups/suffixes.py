"""Inflection and derivation endings a name may carry and still be the name.

Why endings and not a stemmer: the text is matched once with an automaton over
literal aliases; the ending of the word that follows the alias is then checked
against these patterns (``fullmatch`` of the rest of the word). That keeps the
one-pass speed and tells "Талибаном" (an inflected name) from "Talibanesque" or
"Толибонлик"-like words we never listed.

Patterns are written in ordinary spelling and folded with the same fold as the
text, so Tajik ҳ/х and Latin look-alikes agree automatically.
"""

from __future__ import annotations

import re

from .fold import fold_term

# Russian: case endings, and -ов-ец / -ск-ий / -ист derivations (игиловцы, талибский, хизбутовцы).
_RU_INFL = (
    "а|я|у|ю|ом|ем|ём|ой|ей|ою|ею|е|и|ы|ов|ев|ам|ям|ами|ями|ах|ях|"
    "ого|его|ому|ему|ым|им|ую|юю|ая|яя|ое|ее|ые|ие|ых|их|ыми|ими|ь|ью|ья|ьи|ьев|ьям|ьями|ьях"
)
_RU_DERIV = (
    "(?:ов|ев)?(?:ец|цы|ца|цу|цев|цам|цами|цах|цем|це|ка|ки|ке|ку|кой|ок|ские|ский|ская|ское|ских|ского|ской|ским|скими|скую|скому)"
    "|(?:ов|ев)?ск(?:ий|ая|ое|ие|ого|ой|ому|им|их|ими|ую|ом)"
    "|ист(?:ы|ов|ам|ами|ах|а|у|ом|е|ск(?:ий|ая|ое|ие|их|ого|ой|им|ими))?"
    "|ство|ства|ству|ством|стве"
)
# Tajik: plural -ҳо/-он/-ён, izofat -и/-ӣ, object -ро, -ву, possessives, copula; hyphen optional.
_TG = (
    "(?:ҳо|хо|он|ён|гон|ён)?(?:и|ӣ)?(?:ҳо|хо)?"
    "(?:ро|ра|ву|у|ям|ям|ам|ат|аш|амон|атон|ашон|ест|аст|анд|ба|ӣ|и|ро)?(?:ро)?"
)
# Uzbek (Cyrillic): -чи/-лик/-лар/possessives/cases/particles.
_UZ_CYRL = (
    "(?:чи|чилар|лик|ликлар|ча)?(?:лар)?(?:и|си|имиз|ингиз|лари)?"
    "(?:нинг|ни|га|ка|қа|да|та|дан|тан|даги|гача|дек|дай)?(?:ми|ку|чи|у|ю|дир|дек)?"
)
# Uzbek (Latin)
_UZ_LATN = (
    "(?:chi|chilar|lik|liklar|cha)?(?:lar)?(?:i|si|imiz|ingiz|lari)?"
    "(?:ning|ni|ga|ka|qa|da|ta|dan|tan|dagi|gacha|dek|day)?(?:mi|ku|chi|u|yu|dir|dek)?"
)
# English: plural, demonym/adjective (Daeshi), -ist
_EN = "s|es|i|is|ist|ists|ite|ites"


def _compile(*parts: str) -> re.Pattern[str]:
    alts = "|".join(f"(?:{fold_term(p)})" for p in parts)
    return re.compile(f"(?:{alts})")


CYRILLIC = _compile(_RU_DERIV, _RU_INFL, _TG, _UZ_CYRL)
LATIN = _compile(_EN, _UZ_LATN)
# Latin abbreviations take endings of the language around them, in its script: ISKPга, ISIS-а, IShIDga
LATIN_ABBR = _compile("s", _UZ_LATN, _UZ_CYRL, _RU_INFL, _TG)
# Russian-only endings for stems that are never bare (талиб-ы, not талиб "student").
RUSSIAN = _compile(_RU_DERIV, _RU_INFL)

# Derivations (not case endings) of abbreviations, which are written in lower case as ordinary words:
# игиловцы, даишевский, IShIDchilar. An abbreviation in lower case with only a case ending is another
# word ("ishida" is Uzbek "in the case of", not IShID + -a).
DERIVED = _compile(_RU_DERIV, "chi|chilar|chilarning|chilarni|чи|чилар|ист|ists?|ites?")

MAX_SUFFIX = 16  # longer remainders are another word glued on, not an ending


def suffix_ok(pattern: re.Pattern[str] | None, rest: str) -> bool:
    """True when ``rest`` (the remaining letters of the word) is an allowed ending."""
    if not rest:
        return True
    if pattern is None or len(rest) > MAX_SUFFIX:
        return False
    return pattern.fullmatch(rest) is not None
