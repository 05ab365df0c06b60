"""Known-group, person and keyword tagging across scripts, inflection and obfuscation.

Public API::

    from monitor.tagging.groups import GroupTagger, KeywordSpec, load_lexicon, Lexicon

    tagger = GroupTagger(load_lexicon(extra=[Path("my_terms.toml")]),
                         keywords=[KeywordSpec(term="вербовк", mode="prefix")])
    groups, people, keywords, matches = tagger.tag(post_text)

How matching works and how to extend the lexicon: docs/groups.md.
"""

from __future__ import annotations

from .keywords import KeywordSpec
from .lexicon import Alias, Entity, Lexicon, load_lexicon
from .matcher import GroupTagger

__all__ = ["Alias", "Entity", "GroupTagger", "KeywordSpec", "Lexicon", "load_lexicon"]
