"""Tagging: text in, tags out. Pure, deterministic, no I/O after the models are loaded.

A `Tagger` folds two stages over a post's text, in the manner of structlog's
processor chain: the language identifier (`tagging.language`) and the group,
person and keyword matcher (`tagging.groups`). Its ``version`` names both, so
stored posts tagged by an older lexicon or model can be found and re-tagged.

Two bounds keep a stranger's text from costing more than a post can (docs/operations.md, Limits):
only the first `MAX_TAG_CHARS` characters are tagged (a Telegram post is at most 4,096), and at
most `MAX_MATCHES` matches are kept per post, with the number dropped beyond it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.fingerprint import content_hash, simhash64
from monitor.models import Post, Tags, TaggedPost
from monitor.tagging.clean import pre_normalise
from monitor.tagging.safe_text import scrub

if TYPE_CHECKING:
    from monitor.tagging.groups import GroupTagger, KeywordSpec
    from monitor.tagging.language import LanguageGuess, LanguageIdentifier

MAX_TAG_CHARS = 65_536  # characters of a post the taggers see: 16 times Telegram's 4,096-character post
MAX_MATCHES = 1_000  # matches kept per post; the rest are counted in Tags.matches_dropped


def _bounded(text: str) -> str:
    """The part of ``text`` that is tagged: its first `MAX_TAG_CHARS` characters, scrubbed."""
    return scrub(text[:MAX_TAG_CHARS])


class Tagger:
    def __init__(
        self, *, language: LanguageIdentifier, groups: GroupTagger, suppress: Sequence[str] = ()
    ) -> None:
        self._language = language
        self._groups = groups
        # aliases the analysts' labels mark wrong too often ([lexicon] suppress): matches written so are dropped
        self._suppress = frozenset(term.casefold() for term in suppress if term.strip())
        self.version = f"lang={language.name}@{language.version};lex={groups.version}"
        if self._suppress:  # a changed list must make stored posts stale for `monitor retag`
            digest = hashlib.sha256("\n".join(sorted(self._suppress)).encode("utf-8")).hexdigest()[:8]
            self.version += f";sup={digest}"

    def tag(self, text: str) -> Tags:
        text = pre_normalise(_bounded(text))
        return self._combine(text, self._language(text))

    def tag_many(self, texts: Sequence[str]) -> list[Tags]:
        """Tag a batch: the language model scores the whole batch at once (about twice as fast)."""
        # no text may make a batch fail (lone surrogates, NUL, ...); terminal escapes are not text
        texts = [pre_normalise(_bounded(t)) for t in texts]
        guesses = self._language.identify_many(texts)
        return [self._combine(text, guess) for text, guess in zip(texts, guesses, strict=True)]

    def tag_posts(self, posts: Sequence[Post]) -> list[TaggedPost]:
        """Tags and text fingerprints of a batch: all the CPU work a post needs before it is stored."""
        tags = self.tag_many([p.text for p in posts])
        return [
            TaggedPost(
                post=p,
                tags=t,
                tagger_version=self.version,
                content_hash=content_hash(scrub(p.text)),
                simhash=simhash64(scrub(p.text)),
            )
            for p, t in zip(posts, tags, strict=True)
        ]

    def _combine(self, text: str, guess: LanguageGuess) -> Tags:
        groups, people, keywords, matches = self._groups.tag(text)
        if self._suppress and matches:
            kept = tuple(m for m in matches if m.term.casefold() not in self._suppress)
            if len(kept) != len(matches):
                matches = kept
                groups = tuple(sorted({m.canonical for m in kept if m.kind == "group"}))
                people = tuple(sorted({m.canonical for m in kept if m.kind == "person"}))
                keywords = tuple(sorted({m.canonical for m in kept if m.kind == "keyword"}))
        dropped = max(0, len(matches) - MAX_MATCHES)
        return Tags(
            lang=guess.lang,
            script=guess.script,
            confidence=round(float(guess.confidence), 4),
            groups=groups,
            people=people,
            keywords=keywords,
            matches=matches[:MAX_MATCHES],
            matches_dropped=dropped,
        )

    def tag_post(self, post: Post) -> TaggedPost:
        return self.tag_posts([post])[0]


def build_tagger(
    *,
    keywords: Sequence[KeywordSpec] = (),
    lexicon_extra: Sequence[Path] = (),
    engine: str | None = None,
    suppress: Sequence[str] = (),
) -> Tagger:
    """The tagger the daemon, the importer, the demo and `monitor tag` all use."""
    from monitor.tagging.groups import GroupTagger, load_lexicon
    from monitor.tagging.language import get_identifier

    return Tagger(
        language=get_identifier(engine),
        groups=GroupTagger(load_lexicon(extra=lexicon_extra), keywords),
        suppress=suppress,
    )
