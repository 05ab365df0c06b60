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
import threading
from collections import OrderedDict
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
MEMO_POSTS = 4_096  # texts whose tags a Tagger remembers (the re-read posts of a week, for most watch lists)
MEMO_CHARS = 4_096  # longer texts are not remembered: the memo stays under 16 M characters


def _bounded(text: str) -> str:
    """The part of ``text`` that is tagged: its first `MAX_TAG_CHARS` characters, scrubbed."""
    return scrub(text[:MAX_TAG_CHARS])


class Tagger:
    """Tags texts; remembers the tags of the last `MEMO_POSTS` short texts it was given.

    Why the memo: the collector re-reads each post of the last ``resample_days`` at every poll for its
    view counts, and stores it again with its tags; without the memo every such post was tagged again
    (28 times per post in the demo, a third of its CPU). Tagging is a pure function of the text (and of
    the suppress list, fixed per Tagger), so a remembered answer is the answer. The memo is per Tagger,
    and a Tagger has one version.
    """

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
        self._memo: OrderedDict[str, tuple[Tags, str, int]] = OrderedDict()
        self._memo_lock = threading.Lock()  # tag_posts runs in worker threads, several polls at once

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
        """Tags and text fingerprints of a batch: all the CPU work a post needs before it is stored.
        Texts seen lately are answered from the memo; the others are tagged as one batch."""
        with self._memo_lock:
            known = {p.text: self._memo[p.text] for p in posts if p.text in self._memo}
            for text in known:
                self._memo.move_to_end(text)
        todo = list(dict.fromkeys(p.text for p in posts if p.text not in known))
        fresh = {
            text: (tags, content_hash(scrub(text)), simhash64(scrub(text)))
            for text, tags in zip(todo, self.tag_many(todo), strict=True)
        }
        if fresh:
            with self._memo_lock:
                for text, answer in fresh.items():
                    if len(text) <= MEMO_CHARS:
                        self._memo[text] = answer
                while len(self._memo) > MEMO_POSTS:
                    self._memo.popitem(last=False)
        out = []
        for p in posts:
            tags, chash, shash = known.get(p.text) or fresh[p.text]
            out.append(TaggedPost(post=p, tags=tags, tagger_version=self.version, content_hash=chash, simhash=shash))
        return out

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
    groups: GroupTagger | None = None,
) -> Tagger:
    """The tagger the daemon, the importer, the demo and `monitor tag` all use (``groups``: a group
    tagger built already, such as the disk cache's; else one is built from the keywords and lexicon)."""
    from monitor.tagging.groups import GroupTagger, load_lexicon
    from monitor.tagging.language import get_identifier

    return Tagger(
        language=get_identifier(engine),
        groups=groups if groups is not None else GroupTagger(load_lexicon(extra=lexicon_extra), keywords),
        suppress=suppress,
    )
