"""The Tagger's memo: a text tagged lately is answered from memory, with exactly the answer tagging
gives, and the memo stays bounded (by count, and long texts are never kept).

The collector re-reads every post of the last week at each poll and stores it again with its tags;
the memo is what keeps that from tagging the same text again and again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor import tagging
from monitor.models import Post
from monitor.tagging import Tagger
from monitor.tagging.groups import GroupTagger
from monitor.tagging.language import get_identifier


class Counting:
    """The real language identifier, counting the texts it is asked about."""

    def __init__(self) -> None:
        self.inner = get_identifier()
        self.name, self.version = self.inner.name, self.inner.version
        self.texts: list[str] = []

    def __call__(self, text: str) -> object:
        self.texts.append(text)
        return self.inner(text)

    def identify_many(self, texts: list[str]) -> list[object]:
        self.texts.extend(texts)
        return list(self.inner.identify_many(texts))


@pytest.fixture(scope="module")
def groups() -> GroupTagger:
    return GroupTagger()


def post(i: int, text: str) -> Post:
    return Post(channel_id=1, message_id=i, posted_at=datetime(2024, 3, 1, tzinfo=UTC), text=text)


TEXTS = [
    "ИГИЛ-Хорасан взял ответственность за нападение",
    "Toliblar viloyat markazini egallab olishdi",
    "",
    "🔥🔥🔥",
    "x",
    "Ҳизбут-Таҳрир дар Тоҷикистон",
]


def test_remembered_answers_equal_fresh_tagging_and_repeat_texts_are_tagged_once(groups: GroupTagger) -> None:
    language = Counting()
    tagger = Tagger(language=language, groups=groups)  # type: ignore[arg-type]
    fresh = Tagger(language=get_identifier(), groups=groups)
    batch = [post(i, TEXTS[i % len(TEXTS)]) for i in range(30)]  # every text five times in one batch
    first = tagger.tag_posts(batch)
    assert len(language.texts) == len(TEXTS)  # each distinct text once
    again = tagger.tag_posts(list(reversed(batch)))
    assert len(language.texts) == len(TEXTS)  # all from the memo
    expected = [fresh.tag_posts([p])[0] for p in batch]
    assert first == expected
    assert again == list(reversed(expected))
    assert [t.post for t in again] == list(reversed(batch))  # the post itself is never taken from the memo
    assert {t.tagger_version for t in first} == {tagger.version}


def test_the_memo_is_bounded(groups: GroupTagger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tagging, "MEMO_POSTS", 3)
    language = Counting()
    tagger = Tagger(language=language, groups=groups)  # type: ignore[arg-type]
    tagger.tag_posts([post(i, f"текст номер {i}") for i in range(5)])
    assert len(tagger._memo) == 3
    tagger.tag_posts([post(0, "текст номер 0"), post(4, "текст номер 4")])  # 0 was dropped, 4 was kept
    assert language.texts[5:] == ["текст номер 0"]
    long = "б" * (tagging.MEMO_CHARS + 1)
    tagger.tag_posts([post(9, long)])
    tagger.tag_posts([post(9, long)])
    assert language.texts[-2:] == [long, long] and long not in tagger._memo
