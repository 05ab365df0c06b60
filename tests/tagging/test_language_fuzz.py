"""Poison posts: no text, alone or in a batch, may make a tagger raise (a poll must never fail on a post).

Property tests (hypothesis) over every tagger entry point with arbitrary Unicode,
lone surrogates and NUL included, plus the fixed cases that once crashed a whole
batch: one letter, emoji next to an empty post, only combining marks, 1 MB.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.models import Post
from monitor.tagging import Tagger, build_tagger
from monitor.tagging.language import ENGINE_NAMES, LanguageGuess, get_identifier

# every code point, lone surrogates included (hypothesis leaves them out of text() by default)
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
SHORTISH = st.text(alphabet=ANY_CHAR, max_size=40)
MIXED = st.one_of(
    SHORTISH,
    st.text(alphabet=st.sampled_from("aИя ў.ʻ\u0301\u200d\0\ud800🔥#@ 1"), max_size=30),
    st.text(max_size=200),
)

FIXED: list[str] = [
    "",
    "x",
    "Я",
    "\0",
    "a\0b",
    "Салом\0дунё",
    "\ud800",
    "\udcff abc \udcfe",
    "\udfff\ud800",
    "🔥🔥🔥",
    "\u0301\u0301\u0301",
    "a\u0301\u0308\u0327",
    "\u200d\u200b\ufeff",
    "И.Г.И.Л.",
    "И Г И Л",
    "##",
    "@",
    "x" * 1_000_000,
    ("Салом дунё 🔥 " * 80_000)[:1_000_000],
    "\U0010ffff\U000e0001",
]
FIXED_BATCHES: list[list[str]] = [
    ["x"],
    ["🔥🔥🔥", ""],
    ["", ""],
    ["a", "b", "c"],
    ["\0", "\ud800", "x", "🔥", ""],
    ["\u0301", "Привет мир", "\0\0"],
    FIXED,
]


@cache
def _tagger() -> Tagger:
    return build_tagger()


def _check_guess(g: LanguageGuess) -> None:
    assert isinstance(g, LanguageGuess)
    assert isinstance(g.lang, str) and g.lang
    assert g.script in (None, "Cyrl", "Latn", "Arab")
    assert 0.0 <= g.confidence <= 1.0


@pytest.mark.parametrize("text", FIXED, ids=range(len(FIXED)))
def test_fixed_poison_posts_single(text: str) -> None:
    engine = get_identifier()
    single = engine(text)
    _check_guess(single)
    assert engine.identify_many([text]) == [single]
    _tagger().tag(text)


@pytest.mark.parametrize("batch", FIXED_BATCHES, ids=range(len(FIXED_BATCHES)))
def test_fixed_poison_batches(batch: list[str]) -> None:
    engine = get_identifier()
    guesses = engine.identify_many(batch)
    assert len(guesses) == len(batch)
    for g in guesses:
        _check_guess(g)
    assert guesses == [engine(t) for t in batch]
    assert len(_tagger().tag_many(batch)) == len(batch)


def test_poison_posts_keep_their_neighbours_answers() -> None:
    engine = get_identifier()
    good = "Имрӯз дар Душанбе ҷаласаи вазирон баргузор шуд"
    assert engine.identify_many(["\0", good, "\ud800", "x", ""])[1] == engine(good)
    assert engine(good).lang == "tg"


@pytest.mark.parametrize("name", [n for n in ENGINE_NAMES if n != "vote"])
def test_every_engine_survives_the_fixed_cases(name: str) -> None:
    engine = get_identifier(name)
    cases = [t[:5000] for t in FIXED]  # langdetect is slow on 1 MB; the nb engine covers full length above
    for g in engine.identify_many(cases):
        _check_guess(g)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MIXED)
def test_language_single_never_raises(text: str) -> None:
    engine = get_identifier()
    g = engine(text)
    _check_guess(g)
    assert engine.identify_many([text]) == [g]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MIXED, max_size=12))
def test_language_batch_never_raises_and_equals_single(texts: list[str]) -> None:
    engine = get_identifier()
    guesses = engine.identify_many(texts)
    assert guesses == [engine(t) for t in texts]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MIXED, max_size=8))
def test_language_shares_never_raise(texts: list[str]) -> None:
    from monitor.tagging.language import language_shares

    for shares in language_shares(texts):
        if shares is not None:
            assert len(shares) >= 2
            assert abs(sum(shares.values()) - 1.0) <= 0.02


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MIXED)
def test_group_tagger_never_raises(text: str) -> None:
    groups, people, keywords, matches = _tagger()._groups.tag(text)
    for m in matches:
        assert 0 <= m.start <= m.end <= len(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MIXED, max_size=8))
def test_post_tagger_used_by_the_pipeline_never_raises(texts: list[str]) -> None:
    posts = [
        Post(channel_id=1, message_id=i + 1, posted_at=datetime(2024, 1, 1, tzinfo=UTC), text=t)
        for i, t in enumerate(texts)
    ]
    tagged = _tagger().tag_posts(posts)
    assert [t.post for t in tagged] == posts
    assert _tagger().tag_many(texts) == [t.tags for t in tagged]


def test_monitor_tag_reads_invalid_utf8_and_poison_lines() -> None:
    stdin = b"x\n\xff\xfe broken \xc3\n\xf0\x9f\x94\xa5\xf0\x9f\x94\xa5\n\n\x00\nN\xcc\x81\xcc\x81\n\xed\xa0\x80\n"
    proc = subprocess.run(
        [sys.executable, "-c", "from monitor.cli import main; main()", "tag"],
        input=stdin,
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},  # as under a strict UTF-8 locale
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-2000:]
    lines = proc.stdout.decode("utf-8").splitlines()
    assert len(lines) == 7
    assert all('"lang"' in line for line in lines)
