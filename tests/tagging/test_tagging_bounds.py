"""Bounds on what a stranger's post costs the tagger and the store (docs/operations.md, Limits)."""

from __future__ import annotations

import pytest

from monitor.tagging import MAX_MATCHES, MAX_TAG_CHARS, Tagger, build_tagger


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return build_tagger()


def test_matches_per_post_are_capped_and_the_rest_counted(tagger: Tagger) -> None:
    text = "ИГИЛ взял ответственность. " * 3_000  # 3,000 mentions, ~81,000 characters
    tags = tagger.tag(text[: MAX_TAG_CHARS])
    assert tags.groups
    assert len(tags.matches) == MAX_MATCHES
    assert tags.matches_dropped > 0
    assert tags.matches_dropped + len(tags.matches) >= 2_000
    # the kept ones are the first ones, in text order
    assert [m.start for m in tags.matches] == sorted(m.start for m in tags.matches)


def test_a_short_post_keeps_every_match_and_drops_none(tagger: Tagger) -> None:
    tags = tagger.tag("ИГИЛ и ИГИЛ")
    assert tags.matches_dropped == 0
    assert 1 <= len(tags.matches) <= 2


def test_only_the_first_max_tag_chars_are_tagged(tagger: Tagger) -> None:
    filler = "а " * (MAX_TAG_CHARS // 2 + 10)
    late = filler + " ИГИЛ взял ответственность"
    assert len(late) > MAX_TAG_CHARS
    assert tagger.tag(late).groups == ()
    assert tagger.tag("ИГИЛ взял ответственность " + filler).groups != ()
    assert tagger.tag_many([late])[0].groups == ()


def test_a_two_megabyte_post_is_tagged_within_the_bounds(tagger: Tagger) -> None:
    tags = tagger.tag("ИГИЛ " * 400_000)  # 2 MB: what stored a 44.7 MB matches field before
    assert len(tags.matches) <= MAX_MATCHES
    assert max(m.end for m in tags.matches) <= MAX_TAG_CHARS
