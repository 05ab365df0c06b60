"""The matcher's fast paths give what the plain code they replace gives."""

from __future__ import annotations

import itertools
from dataclasses import FrozenInstanceError

import pytest

from hypothesis import given
from hypothesis import strategies as st

from monitor.models import Match
from monitor.tagging.groups.fold import _RUN, MARK, _runs, fold_text
from monitor.tagging.groups.matcher import _match
from monitor.tagging.safe_text import scrub


@given(st.text(alphabet=" \x00ab\u200b\t", max_size=40))
def test_space_runs_are_the_regex_runs(text: str) -> None:
    t = text.replace("\t", "  ")
    assert list(_runs(t, MARK in t)) == [mo.span() for mo in _RUN.finditer(t)]


def test_every_short_string_of_spaces_and_marks_gives_the_regex_runs() -> None:
    for n in range(9):
        for chars in itertools.product(" \x00a", repeat=n):
            t = "".join(chars)
            assert list(_runs(t, MARK in t)) == [mo.span() for mo in _RUN.finditer(t)], repr(t)


def test_fold_keeps_offsets_with_marks_and_double_spaces() -> None:
    text = "Толи\u200bбон  ва   ИГИЛ\u00ad ҳам"
    folded = fold_text(text)
    assert folded.marks
    assert "  " not in folded.text and "\x00" not in folded.text
    i = folded.text.index(fold_text("ИГИЛ").text)
    assert text[folded.orig(i):folded.orig_end(i + 4)] == "ИГИЛ"
    assert not fold_text("Толибон  ва ИГИЛ").marks  # only spaces collapsed


def test_built_match_is_a_plain_frozen_match() -> None:
    m = _match("group", "IS", "ИГ", 3, 5, "abbreviation", "IS", "lexicon")
    ref = Match(kind="group", canonical="IS", term="ИГ", start=3, end=5, rule="abbreviation", group="IS",
                source="lexicon")
    assert type(m) is Match
    assert m == ref and hash(m) == hash(ref) and repr(m) == repr(ref)
    with pytest.raises(FrozenInstanceError):
        m.start = 4  # type: ignore[misc]


def test_scrub_replaces_only_lone_surrogates() -> None:
    assert scrub("ИГИЛ \ud800 x") == "ИГИЛ \ufffd x"
    text = "ИГИЛ 🙂 x"
    assert scrub(text) is text
