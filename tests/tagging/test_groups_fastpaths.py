"""The matcher's fast paths give what the plain code they replace gives."""

from __future__ import annotations

import itertools
import pickle
from dataclasses import FrozenInstanceError

import pytest

from hypothesis import given
from hypothesis import strategies as st

from test_matcher_small import CASES, KEYWORDS, LEXICON

from monitor.models import Match
from monitor.tagging.groups import GroupTagger, fuzzy, matcher
from monitor.tagging.groups.context import (
    _LOWER,
    _UPPER,
    CueSets,
    compile_not_after,
    is_shouting,
    not_after_reach,
    not_after_start,
)
from monitor.tagging.groups.fold import _HINT_RAW, _RUN, _UNANCHORED, MARK, SPLIT_HINT, _runs, fold_text, split_views
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


_CAPS_TEXT = st.text(alphabet="AZaz АЯаяЁёҲҳ.,Ωω", max_size=100)


@given(_CAPS_TEXT, st.integers(0, 100), st.integers(0, 12))
def test_shouting_is_the_full_count_of_capitals_and_small_letters(text: str, start: int, length: int) -> None:
    # the precheck (six capitals in one pass) never changes the answer of counting both
    start = min(start, len(text))
    end = min(len(text), start + length)
    window = text[max(0, start - 40):start] + " " + text[end:end + 40]
    upper, lower = len(_UPPER.findall(window)), len(_LOWER.findall(window))
    assert is_shouting(text, start, end) == (upper >= 6 and upper > 2 * lower)


_SPLIT_TEXT = st.text(alphabet="ИГЛилaisT .*|-·суд", max_size=40)
_CUES = {"a": ["боевик"], "b": ["суд$"], "c": ["qqq"]}


_WITH_HINT = CueSets(_CUES, extra=SPLIT_HINT)
_PLAIN_CUES = CueSets(_CUES)
_UNPICKLED = pickle.loads(pickle.dumps(_WITH_HINT))  # the tagger cache pickles the cue sets


@given(_SPLIT_TEXT)
def test_the_split_hint_in_the_cue_scan_answers_as_its_own_scan(text: str) -> None:
    for cues in (_WITH_HINT, _UNPICKLED):
        m = fold_text(text).text
        raw = m.encode()
        names, hinted = cues.find_extra(raw)
        assert names == _PLAIN_CUES.find(m)
        assert hinted == (_HINT_RAW.Match(_UNANCHORED, raw, 0, len(raw))[0][0] >= 0)
        assert split_views(m, raw, hinted) == split_views(m)


def test_without_cue_sets_or_extra_pattern_the_scan_says_nothing_of_the_hint() -> None:
    assert CueSets({}, extra=SPLIT_HINT).find_extra("И.Г.И.Л.".encode()) == (frozenset(), None)
    assert CueSets(_CUES).find_extra(fold_text("боевики И.Г.").text.encode()) == (frozenset({"a"}), None)
    assert CueSets(_CUES, extra=SPLIT_HINT).find_extra(b"plain") == (frozenset(), False)


def test_the_literals_order_and_the_root_space_change_no_match(monkeypatch: pytest.MonkeyPatch) -> None:
    # the automaton's literals are inserted by letter frequency, behind a literal that only gives the root a
    # space child: the same trie (so the same hits) as literals in code-point order without that literal
    texts = [text for text, _ in CASES] + ["И.Г.И.Л. \x00 ta.li.ban", "  ", " \x00 ", "\x00"]
    fast = GroupTagger(LEXICON, KEYWORDS)
    count = fast.literal_count
    monkeypatch.setattr(matcher, "_BY_FREQUENCY", {})
    monkeypatch.setattr(matcher, "_SPACE_SENTINEL", "")
    plain = GroupTagger(LEXICON, KEYWORDS)
    assert " \x00" in fast._automaton and " \x00" not in plain._automaton
    assert count == plain.literal_count
    for text in texts:
        assert fast.match(text) == plain.match(text)
    assert any(fast.match(text) for text in texts)


def test_the_ending_memo_is_kept_per_ending_pattern() -> None:
    # "га" is an ending of a Latin abbreviation (ISKPга) but not of an English name (Talibanга): one memo
    # answer per (pattern, rest), whichever of the two the post names first
    t = GroupTagger(LEXICON)
    matcher._ENDING_OK.clear()
    assert [m.term for m in t.match("ISKPга и Talibanга")] == ["ISKPга"]
    assert [m.term for m in t.match("Talibanга и ISKPга")] == ["ISKPга"]
    matcher._ENDING_OK.clear()
    assert [m.term for m in t.match("Talibanга и ISKPга")] == ["ISKPга"]


@given(st.text(alphabet="aAzZбБ\u200bｉ", max_size=8), st.booleans())
def test_the_obfuscation_memo_gives_the_regex_answer(span: str, abbr: bool) -> None:
    if span.isascii():
        want = not abbr and matcher._ODD_CASE.search(span) is not None
    else:
        want = (matcher._OBFUSCATED if abbr else matcher._OBFUSCATED_OR_ODD_CASE).search(span) is not None
    assert matcher._obfuscated(span, abbr) == want
    assert matcher._obfuscated(span, abbr) == want  # remembered now


def test_the_memos_stay_bounded() -> None:
    matcher._OBFUSCATED_NAME.clear()
    for i in range(matcher._MEMO_MAX + 10):
        assert matcher._obfuscated(f"{i}aB", False)
        assert len(matcher._OBFUSCATED_NAME) <= matcher._MEMO_MAX
    assert len(matcher._OBFUSCATED_NAME) == 10  # emptied once when full


def _reference_words(m: str, at: int) -> tuple[list[tuple[str, int, int]], int]:
    """PostWords as first written: one finditer over the window, every word with its offsets."""
    lo, hi = max(0, at - 60), min(len(m), at + 70)
    cut = lo > 0 and m[lo - 1].isalpha()
    toks: list[tuple[str, int, int]] = []
    pos = -1
    for mo in fuzzy._WORD.finditer(m, lo, hi):
        if mo[0] in fuzzy._ARTICLES or (mo.start() == lo and cut):
            continue
        if mo.start() == at:
            pos = len(toks)
        toks.append((mo[0], mo.start(), mo.end()))
    return toks, pos


@given(st.text(alphabet="ab'al the 2²-.", max_size=150), st.integers(0, 150))
def test_post_words_are_the_words_of_one_scan_of_the_window(m: str, at: int) -> None:
    if at >= len(m) or (at and m[at - 1].isalnum()) or not m[at].isalpha():
        return  # an anchor starts a word with a letter (the scan's word-start check)
    toks, pos = _reference_words(m, at)
    words = fuzzy.PostWords(m, at)
    assert words.pos == pos
    if pos >= 0:
        assert words.toks == [w for w, _, _ in toks]
        for i in range(len(toks)):
            assert words.span(i, len(toks) - 1) == (toks[i][1], toks[-1][2])


_NOT_AFTER_WORDS = ("anti", "pro", "ex", "против", "d'")
_NOT_AFTER = compile_not_after(_NOT_AFTER_WORDS)


@given(st.text(alphabet="antiprox экспротив'\"«» .-", max_size=60), st.integers(0, 60))
def test_the_narrowed_not_after_search_finds_what_the_window_search_finds(m: str, end: int) -> None:
    end = min(end, len(m))
    lo = max(0, end - 40)
    assert _NOT_AFTER is not None
    start = not_after_start(m, lo, end, not_after_reach(_NOT_AFTER_WORDS))
    assert lo <= start <= end
    assert (_NOT_AFTER.search(m, start, end) is None) == (_NOT_AFTER.search(m, lo, end) is None)
