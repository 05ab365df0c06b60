"""The tagging entry's pre-normalisation: terminal escape sequences never hide a name from the taggers."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from monitor.tagging import Tagger
from monitor.tagging.clean import pre_normalise
from monitor.tagging.groups import GroupTagger


class _Guess(NamedTuple):
    lang: str
    script: str | None
    confidence: float


class _Und:
    """The language stage is not under test here: every text is 'und'."""

    name = "und"
    version = "1"

    def __call__(self, text: str) -> _Guess:
        return _Guess("und", None, 0.0)

    def identify_many(self, texts: list[str]) -> list[_Guess]:
        return [self(t) for t in texts]


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(language=_Und(), groups=GroupTagger())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "\x1b[31mИГИЛ\x1b[0m взял ответственность",  # SGR colour around the name
        "\x1b[1;31mИГИЛ\x1b[0m",
        "ИГ\x1b[0mИЛ взял ответственность",  # a reset inside the word
        "\x1b]8;;https://x.example\x07ИГИЛ\x1b]8;;\x07 взял",  # an OSC 8 hyperlink around it
        "\x9b31mИГИЛ\x9b0m взял",  # the one-character C1 CSI form
    ],
)
def test_a_group_name_wrapped_in_escape_sequences_is_tagged(tagger: Tagger, text: str) -> None:
    assert tagger.tag(text).groups == ("IS",)
    assert tagger.tag_many([text, "пусто"])[0].groups == ("IS",)


def test_pre_normalise_removes_only_escape_sequences() -> None:
    assert pre_normalise("a\x1b[31mb\x1b[0mc") == "abc"
    assert pre_normalise("Исламское государство\u200b и [31m") == "Исламское государство\u200b и [31m"
