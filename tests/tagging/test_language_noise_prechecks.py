"""The abbreviation joiner's cheap prechecks skip only texts the full patterns would leave unchanged."""

from __future__ import annotations

import pytest

from monitor.tagging.language import noise

from _language_shared import lid_dir_or_skip


def _reference(text: str) -> str:
    """``join_letter_abbreviations`` as it was before the prechecks: both patterns on every text."""
    if "." in text:
        text = noise._DOTTED.sub(lambda m: "".join(ch for ch in m.group(0) if ch not in ". "), text)
    if " " in text:
        text = noise._SPACED.sub(lambda m: m.group(0).replace(" ", "") if m.group(0).isupper() else m.group(0), text)
    return text


EDGES = [
    "И.Г.И.Л.",
    "И. Г. И. Л.",
    "U.S. forces",
    "в с и а",
    "И Г И Л",
    "x A B C",
    "A B C.",
    "A B Cd",
    "A B",
    "A. B",
    "a.b",
    "word. Next",
    "ا ب ت",
    "A\tB C",
    "A B C\nD E F",
    "ǅ A B",
    "…A.B…",
    "1.A.2",
    "Д. Трамп и Дж. Байден",
    "A. B.",
    "A.\nB c",
    "США. И. Г. И. Л. взял",
    "",
]


@pytest.mark.parametrize("text", EDGES)
def test_prechecks_change_nothing_on_edge_cases(text: str) -> None:
    assert noise.join_letter_abbreviations(text) == _reference(text)


def test_prechecks_change_nothing_on_dev_texts() -> None:
    rows = (lid_dir_or_skip() / "dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
    texts = [row.split("\t")[-1] for row in rows]
    changed = [t for t in texts if _reference(t) != t]
    assert changed, "the dev set should contain abbreviations for this test to mean anything"
    assert [noise.join_letter_abbreviations(t) for t in texts] == [_reference(t) for t in texts]
