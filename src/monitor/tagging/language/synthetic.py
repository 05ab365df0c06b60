"""Slavic text in Cyrillic letters that is none of our languages, made from the Latin-script pool.

Why: the Cyrillic rejection class learns "none of my languages" from
``train/other/*-Cyrl.txt``, which has only Turkic and Mongolic text (Yakut,
Buryat). An unseen Slavic language written in Cyrillic (Rusyn, a Bulgarian
dialect, Church Slavonic quotations...) then fits Russian better than the
rejection class, and would inflate Russian counts: with a labelled Slavic class
held out, 40% of Bulgarian and 19% of Ukrainian pieces came out Russian. The
pool does have West and South Slavic text in Latin script (Polish, Czech,
Slovak, Slovene); letter by letter in Cyrillic they give the rejection class
Slavic roots and endings that are not Russian ones. Croatian is left out: in
Cyrillic it is Serbian, a labelled class. The rendering is rough on purpose
(one fixed table, no phonology): it only has to look Slavic and not Russian.

The synthetic text never leaves training: it is derived from files in
``train/other`` at build time, like every other count, so ``monitor lid build``
stays reproducible from the shared files alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

__all__ = ["SLAVIC_LATIN", "SYNTHETIC_PREFIX", "slavic_cyrillic", "synthetic_lines"]

# train/other files rendered in Cyrillic (stems); each becomes one more out-of-set "language"
SLAVIC_LATIN: tuple[str, ...] = ("cs-Latn", "pl-Latn", "sk-Latn", "sl-Latn")
SYNTHETIC_PREFIX = "cyrl-from-"  # count key of a rendered file: "cyrl-from-pl-Latn"

_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("szcz", "щ"),
    ("sz", "ш"),
    ("cz", "ч"),
    ("rz", "ж"),
    ("ch", "х"),
    ("dž", "дж"),
    ("dz", "дз"),
    ("lj", "ль"),
    ("nj", "нь"),
    ("ja", "я"),
    ("ju", "ю"),
    ("jo", "ё"),
    ("ie", "е"),
)
_LETTERS: dict[str, str] = dict(
    zip(
        "abcčćdďeéěfghiíjklľĺłmnňńoóôpqrřŕsšśtťuúůvwxyýzžźżäąęá",
        (
            "а б ц ч ць д дь е е е ф г х и и й к л ль ль л м н нь нь о о о п к р рж р с ш сь т ть у у у в в кс "
            "ы ы з ж зь ж е он ен а"
        ).split(),
        strict=True,
    )
)
_LONGEST = max(len(a) for a, _ in _DIGRAPHS)


def slavic_cyrillic(line: str) -> str:
    """A Latin-script Slavic line letter by letter in Cyrillic (case kept on the first letter)."""
    out: list[str] = []
    i = 0
    lower = line.lower()
    while i < len(line):
        upper = line[i] != lower[i]
        for latin, cyrillic in _DIGRAPHS:
            if lower.startswith(latin, i):
                out.append(cyrillic.capitalize() if upper else cyrillic)
                i += len(latin)
                break
        else:
            mapped = _LETTERS.get(lower[i])
            if mapped is None:
                out.append(line[i])
            else:
                out.append(mapped.capitalize() if upper else mapped)
            i += 1
    return "".join(out)


def synthetic_lines(path: Path) -> Iterator[str]:
    """The non-empty lines of one ``train/other`` file, rendered in Cyrillic."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield slavic_cyrillic(line)
