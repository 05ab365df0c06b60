"""GroupTagger: every alias and keyword in one Aho-Corasick pass over folded text.

How a post is matched (details in docs/groups.md):

1. fold the text (fold.py) and keep the offset map;
2. run one automaton over it; each hit must start at a word start and end at a
   word end or be followed by an allowed ending (suffixes.py);
3. collapsed views of split-up letters (``И.Г.И.Л.``) run through the same automaton;
4. conditions of ambiguous aliases are checked (context.py; cue words are looked
   up only now, and only when a hit needs them); abbreviations need capitals;
5. a branch's name next to its parent's is one branch match (``ИШИДнинг Хуросон
   бўлими`` is ISKP, not IS + ISKP);
6. overlapping group/person hits keep the longest (``ISIS-K`` is ISKP, not IS);
7. spans are mapped back to the original text, and each match names its rule.

Pure: no I/O after construction, same input -> same output.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TypeVar

import ahocorasick
from rapidfuzz.distance import Levenshtein

from monitor.models import Match
from monitor.tagging.safe_text import scrub

from . import suffixes
from .bound import bind
from .context import (
    CueSets,
    case_ok,
    compile_not_after,
    compile_not_before,
    is_quoted,
    is_shouting,
    not_after_reach,
    not_after_start,
    sentence_start,
)
from .fold import SPLIT_HINT, Folded, SplitView, clean_text, fold_term, fold_text, split_views
from .keywords import KeywordSpec, PatternSet, validate
from .lexicon import Alias, Entity, Lexicon, load_lexicon
from .fuzzy import FuzzyName, PostWords, anchors, best_window, make_name, word_bound, word_skeleton
from .variants import expand_alias, expand_template, spellings, transliterate_uz

MATCHER_REVISION = "8"  # bump when matching logic changes what is tagged

_WORD_REST = re.compile(r"[^\W_]*")
_HYPHENS = frozenset("-‐‑‒–—―−﹣－")
_ARABIC_PROCLITICS = frozenset("وبلفك")
# Signs that a span needed de-obfuscation: invisible characters, scripts mixed inside a word,
# full-width/mathematical letters; and (for non-abbreviations) a capital after a small letter.
_OBFUSCATED = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff\u0300-\u036f]"
    "|[\uff00-\uffef\U0001d400-\U0001d7ff\U0001f130-\U0001f189\u2460-\u24ff]"
    "|[A-Za-z\u00c0-\u024f][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][A-Za-z\u00c0-\u024f]"
    "|[\u0370-\u03ff][\u0400-\u04ff]|[\u0400-\u04ff][\u0370-\u03ff]"
)
_ODD_CASE = re.compile(r"[a-zа-яёәөүұқғҳҷӣӯўі][A-ZА-ЯЁӘӨҮҰҚҒҲҶӢӮЎІ]")
_OBFUSCATED_OR_ODD_CASE = re.compile(f"{_OBFUSCATED.pattern}|{_ODD_CASE.pattern}")


@dataclass(frozen=True, slots=True)
class _Entry:  # noqa: PLR0902
    """What one automaton literal stands for, with the checks it needs."""

    kind: str  # "group" | "person" | "keyword"
    canonical: str
    group: str | None
    rule: str
    stem: bool = False
    suffix: re.Pattern[str] | None = None
    prefix: bool = False
    abbr: bool = False
    arabic: bool = False
    case: str | None = None
    context: tuple[str, ...] = ()
    veto: tuple[str, ...] = ()
    not_after: re.Pattern[str] | None = None
    not_after_reach: int = 0  # its longest word (context.not_after_start)
    not_before: re.Pattern[str] | None = None
    plain: bool = False  # no condition at all: the guards are skipped (most aliases)
    capital: bool = False  # must start with a capital letter (case "upper"): checked first, in the scan
    source: str = ""  # where the alias comes from, and the generator rule for rule "variant" (Match.source)
    # an anchor of fuzzy candidates: (skeleton of a name's word, its script, ((name, the word's index), ...))
    names: tuple[tuple[str, bool, tuple[tuple[FuzzyName, int], ...]], ...] = ()


# an automaton value: literal length, its entries, whether any entry takes more letters after it, and the
# scan's path for them (_mode)
_Value = tuple[int, tuple["_Entry", ...], bool, int]
# Scan paths, decided per literal when the tagger is built (each takes a shortcut the others cannot):
_ANY = 0  # the full checks, entry by entry
_KEYWORDS = 1  # only analysts' words and prefixes: no ending, no case, no condition
_CAPITALS = 2  # every entry needs a capital first letter ("IS", "ИГ"): a hit in lower case ("is" in every
# English post) is dropped before the rest of the word is looked at
_ANCHORS = 3  # only fuzzy anchors: they need the start of the word and nothing else


# Folded characters from the most frequent in posts (the development sets and the language-identification
# training lines) down; the sort key of the literals (see GroupTagger.__init__). Only speed depends on it.
_FREQUENT = (' aioehtpykcيлmاдbnrгlбыsرونпلd.з,uمدxتكшهgячسبэжəцقشەپjьېzvزфےqfفجع0ہ"ۇ\'خ،юگw1چحغъ2ںھҙ“طصщ:ڭۈ«»53ۋ”'
             '9ړٹ)(468ض۔')
_BY_FREQUENCY = {ord(c): chr(i + 1) for i, c in enumerate(_FREQUENT)}
# A literal no folded text holds (the fold deletes U+0000): it only gives the automaton's root a space child.
_SPACE_SENTINEL = " \x00"


def _mode(entries: Sequence[_Entry]) -> int:
    if all(e.kind == "keyword" for e in entries):
        return _KEYWORDS
    if all(e.capital for e in entries):
        return _CAPITALS
    if all(e.names for e in entries):
        return _ANCHORS
    return _ANY
# a judged hit: original start/end (with the ending), entry, rule
_Cand = tuple[int, int, "_Entry", str]
_K = TypeVar("_K")


def _alifbo_version() -> str:
    """Generated Uzbek spellings depend on alifbo, so its version is part of the tagger version."""
    import importlib.metadata  # here: only a build needs it, a tagger loaded from the cache does not

    try:
        return importlib.metadata.version("alifbo")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def _suffix_for(alias: Alias, pattern: str) -> re.Pattern[str] | None:
    if alias.suffixes == "none":
        return None
    if alias.suffixes == "ru":
        return suffixes.RUSSIAN
    letters = [c for c in pattern if c.isalpha()]
    if any("\u0600" <= c <= "\u06ff" for c in letters):
        return None
    if any("\u0400" <= c <= "\u04ff" for c in letters):
        return suffixes.CYRILLIC
    if alias.abbr:  # IShIDga, ISIS's; not "IS"+"is" inside "ISIS"
        return suffixes.LATIN_ABBR
    # Latin-only folded pattern: might have come from Cyrillic look-alikes; allow both families
    return suffixes.LATIN if alias.lang in ("en", "uz-Latn", "tr") else _EITHER


_EITHER = re.compile(f"(?:{suffixes.LATIN.pattern})|(?:{suffixes.CYRILLIC.pattern})")


class GroupTagger:
    """Tags text with groups, people and analysts' keywords; see the module docstring."""

    def __init__(self, lexicon: Lexicon | None = None, keywords: Sequence[KeywordSpec] = (),
                 *, translit: bool = True, generate: bool = True, fuzzy: bool = True) -> None:
        self.lexicon = lexicon if lexicon is not None else load_lexicon()
        self.keywords = tuple(keywords)
        validate(self.keywords, self.lexicon.group_ids)
        self._automaton = ahocorasick.Automaton()
        self._entries: dict[_Entry, _Entry] = {}
        # Cue words are found only for posts with a conditional alias hit (a minority), by one RE2 set
        # (one pattern per cue set) that says which sets occur: most posts pay nothing for the ~500 cue
        # stems, which are common words, and the rest pay one linear scan in C.
        # The split-letter hint rides along in that scan: a post that needed its cue words (most posts with
        # a name do) then skips the hint's own scan.
        self._cue_sets = CueSets(self.lexicon.contexts, extra=SPLIT_HINT)
        table: dict[str, list[_Entry]] = {}
        self._generate = generate
        self._fuzzy = fuzzy
        later: list[tuple[str, _Entry]] = []
        self._fuzzy_names: list[FuzzyName] = []
        for entity in self.lexicon.groups + self.lexicon.people:
            self._add_entity(table, entity, translit, later)
        self._add_generated(table, later)
        if fuzzy:
            self._add_anchors(table)
        patterns: list[str] = []
        self._pattern_specs: list[KeywordSpec] = []
        for spec in self.keywords:
            if spec.mode == "pattern":
                patterns.append(spec.term)
                self._pattern_specs.append(spec)
                continue
            for s in spellings(spec.term):
                entry = _Entry(kind="keyword", canonical=spec.term, group=spec.group,
                               rule="keyword" if spec.mode == "word" else "prefix", prefix=spec.mode == "prefix")
                table.setdefault(s, []).append(entry)
        self._entries.clear()
        tuples: dict[tuple[_Entry, ...], tuple[_Entry, ...]] = {}
        # The ~78,000 literals carry only ~4,700 distinct values: one shared tuple per value saves the
        # daemon about 6 MB resident and the cache load as much again at its peak (issue 16, memory).
        values: dict[_Value, _Value] = {}
        if table:
            # a space at the root: the walk takes one comparison instead of a scan of the root's children
            self._automaton.add_word(_SPACE_SENTINEL, (len(_SPACE_SENTINEL), (), False, _ANY))
        # literals in the order of their letters' frequency in posts: a node's children are a list searched
        # in order (pyahocorasick), so the common letters are found first. Same trie, same hits.
        for literal in sorted(table, key=lambda lit: lit.translate(_BY_FREQUENCY)):
            entries = table[literal]
            # can any entry take more letters after the literal (an ending, a prefix keyword)? Most cannot,
            # and then a hit inside a longer word is dropped before any further work
            takes_rest = any(e.prefix or e.suffix is not None for e in entries)
            shared = tuples.setdefault(tuple(entries), tuple(entries))
            # only analysts' words and prefixes: the scan takes a short path (no ending, case or condition)
            value = (len(literal), shared, takes_rest, _mode(entries))
            self._automaton.add_word(literal, values.setdefault(value, value))
        if table:
            self._automaton.make_automaton()
        self._scannable = self._automaton.kind == ahocorasick.AHOCORASICK  # an empty automaton cannot scan
        self._patterns = PatternSet(patterns)
        self._branches = {g.id: g.branch_of for g in self.lexicon.groups if g.branch_of}
        spec_blob = json.dumps([[k.term, k.group, k.lang, k.mode] for k in self.keywords], ensure_ascii=False)
        h = hashlib.sha256()
        for part in (self.lexicon.digest, spec_blob, MATCHER_REVISION, f"translit={translit}:{_alifbo_version()}",
                     f"generate={generate}:fuzzy={fuzzy}"):
            h.update(part.encode())
            h.update(b"\0")
        self.version = h.hexdigest()[:12]

    # -- construction ------------------------------------------------------------------------

    def _add_entity(self, table: dict[str, list[_Entry]], entity: Entity, translit: bool,
                    later: list[tuple[str, _Entry]]) -> None:
        """Add the entity's literals; generated variants go to ``later``, added once every curated
        literal is known (a spelling someone listed, with its conditions, always wins over a guess)."""
        kind = entity.kind
        group = entity.id if kind == "group" else entity.group
        # a generated spelling is a guess: it carries every veto of its group (a variant of the group's
        # own name for its province, «Вилоят Хорасан», is also the Iranian province in Tajik spelling)
        vetoes = tuple(sorted({v for a in entity.aliases for v in a.veto}))
        for alias in entity.aliases:
            not_after = compile_not_after(alias.not_after)
            reach = not_after_reach(alias.not_after)
            not_before = compile_not_before(alias.not_before)
            base_source = alias.source or entity.source or "lexicon"
            if self._fuzzy:
                fuzzy_veto = tuple(sorted(set(alias.veto) | set(vetoes)))
                self._fuzzy_candidates(entity, alias, self._intern(_Entry(
                    kind=kind, canonical=entity.id, group=group, rule="fuzzy", context=alias.context,
                    veto=fuzzy_veto, not_after=not_after, not_after_reach=reach, not_before=not_before,
                    source=f"{base_source}; fuzzy:{alias.text}")), translit)
            for v in expand_alias(alias, self.lexicon.paradigms, translit=translit,
                                  generate=self._generate and kind == "group"):
                generated = v.rule == "variant"
                veto = tuple(sorted(set(alias.veto) | set(vetoes))) if generated else alias.veto
                context = alias.context
                if generated and " " not in v.pattern and not context:
                    context = (TERROR,)  # one word changed by a rule may be another word: needs the setting
                entry = self._intern(_Entry(
                    kind=kind, canonical=entity.id, group=group, rule=v.rule, stem=v.stem,
                    suffix=_suffix_for(alias, v.pattern), abbr=alias.abbr,
                    arabic=alias.lang in ("ar", "fa", "ps", "ug"), case=alias.case,
                    context=context, veto=veto, not_after=not_after, not_after_reach=reach,
                    not_before=not_before,
                    plain=not (context or veto or alias.case or not_after or not_before),
                    capital=alias.case == "upper",
                    source=f"{base_source}; generated:{v.gen}" if generated else base_source,
                ))
                if generated:
                    later.append((v.pattern, entry))
                    continue
                bucket = table.setdefault(v.pattern, [])
                if not any(e.kind == kind and e.canonical == entity.id and e.stem == entry.stem for e in bucket):
                    bucket.append(entry)

    def _fuzzy_candidates(self, entity: Entity, alias: Alias, entry: _Entry, translit: bool) -> None:
        """Long names (two words or more, a long skeleton) of a group may also match fuzzily."""
        if entity.kind != "group" or alias.abbr or alias.stem or alias.lang in ("ar", "fa", "ps", "ug"):
            return
        if alias.context or alias.case:
            return  # an ambiguous name (a place, a phrase) one letter away from another word is that word
        forms = expand_template(alias.text, self.lexicon.paradigms)[:1]
        if translit:
            other = transliterate_uz(forms[0], alias.lang)
            if other:
                forms.append(other)
        for form in forms:
            cyr = any("\u0400" <= c <= "\u04ff" for c in form)
            name = make_name(entity.id, fold_term(form), cyr, entry)
            if name is not None and all(n.folded != name.folded for n in self._fuzzy_names):
                self._fuzzy_names.append(name)

    def _add_anchors(self, table: dict[str, list[_Entry]]) -> None:
        by_anchor: dict[str, dict[tuple[str, bool], list[tuple[FuzzyName, int]]]] = {}
        for name in self._fuzzy_names:
            best = anchors(name)
            for i, w in enumerate(name.words):
                one = FuzzyName(name.canonical, name.folded, (w,), name.skeleton, name.cyrillic, name.max_distance,
                                name.entry)
                for a in sorted(anchors(one) & best):  # sorted: the same candidates order in every process
                    by_anchor.setdefault(a, {}).setdefault((name.skeletons[i], name.cyrillic), []).append((name, i))
        for a, keys in by_anchor.items():
            names = tuple((sk, cyr, tuple(lst)) for (sk, cyr), lst in keys.items())
            table.setdefault(a, []).append(_Entry(kind="anchor", canonical="", group=None, rule="anchor",
                                                  prefix=True, names=names))

    @staticmethod
    def _add_generated(table: dict[str, list[_Entry]], later: list[tuple[str, _Entry]]) -> None:
        curated = set(table)
        for pattern, entry in later:
            if pattern in curated:
                continue  # listed already (for this group, with its conditions, or for another group)
            bucket = table.setdefault(pattern, [])
            if not any(e.kind == entry.kind and e.canonical == entry.canonical and e.stem == entry.stem
                       for e in bucket):
                bucket.append(entry)

    def _intern(self, entry: _Entry) -> _Entry:
        """One shared object per distinct entry: an alias expands into thousands of literals whose
        entries are equal, and sharing them keeps the daemon's memory down (about 20 MB)."""
        return self._entries.setdefault(entry, entry)

    # -- matching ----------------------------------------------------------------------------

    @property
    def literal_count(self) -> int:
        """How many folded literals the automaton holds (for benchmarks and docs)."""
        return len(self._automaton) - (_SPACE_SENTINEL in self._automaton) + self._cue_sets.stem_count

    def match(self, text: str) -> tuple[Match, ...]:
        """Every match, sorted by start; spans index into ``text``."""
        return self._run(text)

    def tag(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[Match, ...]]:
        """(groups, people, keywords, matches): sorted unique ids and the matches behind them."""
        matches = self._run(text)
        if not matches:
            return (), (), (), matches
        groups: list[str] = []
        people: list[str] = []
        keywords: list[str] = []
        for m in matches:
            kind = m.kind
            (groups if kind == "group" else people if kind == "person" else keywords).append(m.canonical)
        # sorted unique ids; most posts have none or one of a kind: no set or sort for them
        return (tuple(groups) if len(groups) < 2 else tuple(sorted(set(groups))),
                tuple(people) if len(people) < 2 else tuple(sorted(set(people))),
                tuple(keywords) if len(keywords) < 2 else tuple(sorted(set(keywords))), matches)

    def _run(self, text: str) -> tuple[Match, ...]:
        if not text:
            return ()
        try:
            tb = text.encode()  # for the analysts' patterns; the encoder also stops at a lone surrogate
        except UnicodeEncodeError:
            text = scrub(text)  # a lone surrogate would make every encoder below raise
            tb = text.encode()
        folded = fold_text(text)
        m = folded.text
        mb = m.encode()  # one UTF-8 encoding for every RE2 scan of the folded text
        state = _PostState(text, m, mb, self._cue_sets)
        # each hit is judged as the scan finds it (the conditions depend only on the post and the hit):
        # accepted names, names waiting for another name, branch names waiting for their parent's, and
        # analysts' words, which no condition or overlap removes
        cands: list[_Cand] = []
        pending: list[_Cand] = []
        orphans: list[_Cand] = []
        kws: list[_Cand] = []
        if self._scannable:
            self._scan_main(folded, state, cands, pending, orphans, kws)
            if state.hinted is not False:  # the cue scan found no split letters: no call at all
                for view in split_views(m, mb, state.hinted):
                    self._scan_view(folded, state, view, cands, pending, orphans, kws)
        # most posts of ordinary text hit nothing: they skip the resolution and the fuzzy pass
        out = (self._decide(folded, state, cands, pending, orphans, kws)
               if cands or pending or orphans or kws or state.anchors else [])
        if self._patterns:
            # the fold deleted nothing (it may have collapsed spaces), so the text holds no invisible
            # character to clean: its clean view is the text itself
            clean = None if m and not folded.marks else clean_text(text)  # None: the text itself
            clean_text_ = text if clean is None else clean.text
            found = self._patterns.spans(clean_text_, tb if clean_text_ is text else None)
            for idx, s, e in found:
                spec = self._pattern_specs[idx]
                os_, oe = (s, e) if clean is None else (clean.orig(s), clean.orig_end(e))
                out.append(_match("keyword", spec.term, text[os_:oe], os_, oe, "pattern", spec.group, ""))
            if found:
                out = sorted(set(out), key=_order)  # a pattern may repeat a word keyword's span
        return tuple(out)

    def _decide(self, folded: Folded, state: _PostState, cands: list[_Cand], pending: list[_Cand],  # noqa: PLR0913
                orphans: list[_Cand], kws: list[_Cand]) -> list[Match]:
        """The post's matches from its judged hits: pairs decided, overlaps resolved, fuzzy names added."""
        text = state.text
        if orphans and self._branches:
            _with_parent(text, orphans, cands, pending, self._branches)
        if pending and cands:
            # another group or a named militant figure (Юлдашев, Abu Saloh) written outright is militancy
            # context enough: "После гибели Юлдашева ИДУ возглавил…"
            cands.extend(pending)
        elif len(pending) > 1 and self._branches and _branch_pair(text, pending, self._branches):
            cands.extend(pending)  # "Хорасанское отделение ИГ": branch and parent vouch for each other
        branches = self._branches
        out, groups = _resolve(text, cands, kws, branches)
        if state.anchors:
            out = self._fuzzy_matches(folded, state, out)
            groups = max([_BRANCH if x.canonical in branches else _GROUP for x in out if x.kind == "group"],
                         default=_NO_GROUP)
        if groups and "(" in text:  # without a group name a definition binds nothing and drops nothing
            out = bind(text, out, _bound_match)  # (a bound abbreviation takes the group of a match in ``out``)
        if groups == _BRANCH and len(out) > 1:  # only a branch's match merges with its parent's
            out = _merge_branches(text, out, branches)
        return out

    def _fuzzy_matches(self, folded: Folded, state: _PostState, out: list[Match]) -> list[Match]:
        """Long names written in a spelling no list or rule has, where the post's setting supports it."""
        text, m = state.text, state.m
        # a guess needs the setting: militancy words or another name. Another name is known now, and the
        # cue words often are (a conditional hit looked them up): without the setting no window is built
        taken = [(x.start, x.end) for x in out if x.kind != "keyword"]
        setting: bool | None = True if taken else None
        if setting is None and state.known_cues is not None:
            setting = TERROR in state.known_cues
            if not setting:
                return out
        added: list[Match] = []
        words: PostWords | None = None
        seen: set[int] = set()
        for ms, anchor in state.anchors:
            if ms in seen:
                continue
            seen.add(ms)
            os_ = folded.orig(ms)
            if any(s <= os_ < e for s, e in taken):
                continue  # inside a name matched exactly
            word = m[ms:_word_end(m, ms)]
            words = None
            # whether a name's first word is close to the post's word at ``first``: names sharing an anchor
            # often share their first word ("Islamic …"), and most candidates fail on it (best_window's own
            # first check, done once per word here)
            firsts: dict[tuple[int, str, bool], bool] = {}
            for key, cyr, names in anchor.names:
                # the anchor's own word first: one C-level distance for all the names sharing that word,
                # and the words around it are looked at only when it is close
                if Levenshtein.distance(key, word_skeleton(word, cyr), score_cutoff=3) > word_bound(key):
                    continue
                if words is None:
                    words = PostWords(m, ms)
                    if words.pos < 0:
                        break
                pos, ntoks = words.pos, len(words.toks)
                for name, index in names:
                    first = pos - index
                    if first < 0 or first + len(name.words) > ntoks:
                        continue  # the name does not fit around the anchor: best_window says None
                    a0 = name.skeletons[0]
                    ok = firsts.get((first, a0, name.cyrillic))
                    if ok is None:  # a name has two words or more: its first word is never the last (no ending)
                        bound = word_bound(a0)
                        ok = Levenshtein.distance(a0, words.skel(first, name.cyrillic), score_cutoff=bound + 1) <= bound
                        firsts[(first, a0, name.cyrillic)] = ok
                    if not ok:
                        continue
                    got = best_window(words, name, index)
                    if got is None:
                        continue
                    fs, fe, dist = got
                    s, e = folded.orig(fs), folded.orig_end(fe)
                    if any(s < te and ts < e for ts, te in taken):
                        continue
                    if setting is None:
                        setting = TERROR in state.cues
                    if not setting:
                        return out
                    entry: _Entry = name.entry  # type: ignore[assignment]  # a guessed name always carries its entry (only keyword hits have none)
                    if state.guards(entry, fs, fe, s, e, e) == FAIL:
                        continue
                    added.append(_match(entry.kind, entry.canonical, text[s:e], s, e, "fuzzy", entry.group,
                                        entry.source, dist))
                    taken.append((s, e))
                    break
        return sorted(out + added, key=_order) if added else out

    def _scan_main(self, folded: Folded, st: _PostState, cands: list[_Cand], pending: list[_Cand],  # noqa: PLR0913
                   orphans: list[_Cand], kws: list[_Cand]) -> None:
        m = folded.text
        n = len(m)
        text = st.text
        identity = not folded.seg_m
        orig, orig_end = folded.orig, folded.orig_end
        max_suffix = suffixes.MAX_SUFFIX
        word_rest = _WORD_REST.match
        ending_ok = _ENDING_OK.get
        anchors = st.anchors
        for end_idx, (plen, entries, takes_rest, mode) in self._automaton.iter(m):
            start = end_idx - plen + 1
            if start and m[start - 1].isalnum():
                if mode == _KEYWORDS or not (m[start - 1] in _ARABIC_PROCLITICS
                                             and (start == 1 or not m[start - 2].isalnum())):
                    continue
                arabic_left = True
            else:
                arabic_left = False
            if mode == _ANCHORS:
                if not arabic_left:
                    for entry in entries:
                        anchors.append((start, entry))
                continue
            if mode == _CAPITALS and not text[start if identity else orig(start)].isupper():
                continue  # each entry would be dropped below: "is", "игра" in lower case
            end = end_idx + 1
            if end < n and m[end].isalnum():
                if not takes_rest:
                    continue
                word_end = word_rest(m, end).end()  # type: ignore[union-attr]  # "[^\W_]*" always matches
                rest = m[end:word_end]
            else:
                word_end, rest = end, ""
            if mode == _KEYWORDS:  # analysts' words and prefixes: no ending, no case, no condition
                for entry in entries:
                    if rest and not entry.prefix:
                        continue
                    stop = word_end if entry.prefix else end
                    if identity:
                        kws.append((start, stop, entry, entry.rule))
                    else:
                        kws.append((orig(start), orig_end(stop), entry, entry.rule))
                continue
            for entry in entries:
                if entry.names:
                    if not arabic_left:
                        anchors.append((start, entry))
                    continue
                if arabic_left and not entry.arabic:
                    continue
                if entry.capital and not text[start if identity else orig(start)].isupper():
                    continue  # "is", "игра": an upper-case-only name written in lower case
                if entry.prefix:
                    stop, rule = word_end, entry.rule
                elif rest:
                    sfx = entry.suffix
                    if sfx is None or len(rest) > max_suffix:
                        continue
                    ok = ending_ok((sfx.pattern, rest))
                    if ok is None:
                        ok = _remember(_ENDING_OK, (sfx.pattern, rest), sfx.fullmatch(rest) is not None)
                    if not ok:
                        continue
                    stop, rule = word_end, ("inflection" if entry.rule in ("alias", "abbreviation") else entry.rule)
                else:
                    stop, rule = end, entry.rule
                    if entry.kind != "keyword" and end + 1 < n and m[end] == " ":
                        o = end if identity else orig(end)
                        if text[o] in _HYPHENS:  # Tajik/Uzbek ending after a hyphen: Толибон-ро, ISHID-ga
                            e2 = _word_end(m, end + 1)
                            tail = m[end + 1 : e2]
                            if 0 < len(tail) <= 5 and suffixes.suffix_ok(entry.suffix, tail) and not _is_word(tail):
                                stop, rule = e2, ("inflection" if entry.rule in ("alias", "abbreviation")
                                                  else entry.rule)
                    if entry.stem and stop == end:
                        continue
                if entry.kind == "keyword":
                    if identity:
                        kws.append((start, stop, entry, rule))
                    else:
                        kws.append((orig(start), orig_end(stop), entry, rule))
                elif identity:
                    _judge(st, entry, rule, start, stop, start, stop, end, cands, pending, orphans)
                else:
                    # orig_end(j) is orig(j - 1) + 1 (stop and end are never 0); most names take no ending
                    oe = orig(stop - 1) + 1
                    _judge(st, entry, rule, start, stop, orig(start), oe, oe if stop == end else orig(end - 1) + 1,
                           cands, pending, orphans)

    def _scan_view(self, folded: Folded, st: _PostState, view: SplitView, cands: list[_Cand],  # noqa: PLR0913
                   pending: list[_Cand], orphans: list[_Cand], kws: list[_Cand]) -> None:
        text = folded.source
        for end_idx, (plen, entries, *_) in self._automaton.iter(view.text):
            start = end_idx - plen + 1
            end = end_idx + 1
            if start not in view.starts or end not in view.ends or plen < 2:
                continue
            ms, me = view.pos[start], view.pos[end - 1] + 1
            os_, oe = folded.orig(ms), folded.orig_end(me)
            for entry in entries:
                if entry.stem or entry.prefix:
                    continue
                if entry.kind == "keyword":
                    kws.append((os_, oe, entry, entry.rule))
                    continue
                span = text[os_:oe]
                dotted = entry.abbr and all(not c.isalnum() or c.isupper() for c in span)
                _judge(st, entry, "abbreviation" if dotted else "deobfuscation", ms, me, os_, oe, oe, cands, pending,
                       orphans)


def _judge(st: _PostState, entry: _Entry, rule: str, ms: int, me: int, os_: int, oe: int, ob: int,  # noqa: PLR0913
           cands: list[_Cand], pending: list[_Cand], orphans: list[_Cand]) -> None:
    """Check one group/person hit's conditions and file it: accepted, pending (only the militancy setting is
    missing, which another name supplies) or an orphan (a branch name that needs its parent's next to it).

    ``ms``/``me``: the hit in the folded text; ``os_``/``oe``: in the original text, with its ending; ``ob``:
    where the name ends there without its ending. The cue words are looked up on the first hit that needs them.
    """
    text = st.text
    if entry.abbr and entry.case is None and not _capitals(text, os_, ob) and not (
            oe > ob and suffixes.DERIVED.fullmatch(fold_term(text[ob:oe]).lstrip(" '")) is not None):
        return  # "ishida" (Uzbek "in the case of") is not IShID, Kazakh "етім" is not ETIM; игиловцы is
    if entry.plain:
        verdict = OK
    else:
        case = entry.case  # cheap rejections first: English "is" hits the alias IS in every post
        if case == "upper" and not text[os_:ob].isupper():
            return
        if case is not None and case != "upper" and text[os_].isalpha() and not text[os_].isupper():
            return
        verdict = st.guards(entry, ms, me, os_, oe, ob)
        if verdict == FAIL:
            return
    # judged on the name without its ending: "ISKPга" (Latin acronym, Cyrillic ending) is not obfuscated
    if rule != "deobfuscation" and _obfuscated(text[os_:ob], entry.abbr):
        rule = "deobfuscation"
    (cands if verdict == OK else pending if verdict == PENDING else orphans).append((os_, oe, entry, rule))


def _capitals(text: str, start: int, end: int) -> bool:
    """An abbreviation is written with at least two capitals (ИГИЛ, IShID, КТДж): in lower case the same
    letters are ordinary words (Uzbek "ishida", Kazakh "етім")."""
    n = 0
    for c in text[start:end]:
        if c.isupper():
            n += 1
            if n == 2:
                return True
    return False


def _word_end(m: str, i: int) -> int:
    """End of the run of letters/digits starting at ``i`` (``i`` itself when there is none)."""
    mo = _WORD_REST.match(m, i)
    return mo.end() if mo is not None else i


_COMMON_WORDS = frozenset(fold_term(w) for w in ("va", "ва", "bu", "бу", "ham", "ҳам", "хам", "da", "и", "не", "на",
                                                  "по", "в"))


def _is_word(tail: str) -> bool:
    """A short token after a hyphen that is a word on its own, not an ending."""
    return tail in _COMMON_WORDS


def _obfuscated(span: str, abbr: bool) -> bool:
    """Did the span need de-obfuscation (invisibles, mixed scripts, odd case, exotic letter forms)?"""
    memo = _OBFUSCATED_ABBR if abbr else _OBFUSCATED_NAME
    got = memo.get(span)
    if got is not None:
        return got
    if span.isascii():  # one script, no invisibles: only odd capitals can tell (tAlIbAn)
        found = not abbr and _ODD_CASE.search(span) is not None
    else:
        found = (_OBFUSCATED if abbr else _OBFUSCATED_OR_ODD_CASE).search(span) is not None
    return _remember(memo, span, found)


# Answers of pure checks on short strings that recur from post to post (the same names, the same endings):
# a dict lookup instead of a regex run. Bounded: emptied when full (post text is attacker-controlled).
_MEMO_MAX = 2048
_OBFUSCATED_ABBR: dict[str, bool] = {}  # _obfuscated's answer per span, for abbreviations
_OBFUSCATED_NAME: dict[str, bool] = {}  # and for other names
_ENDING_OK: dict[tuple[str, str], bool] = {}  # (ending pattern's source, rest of the word): does it fullmatch?


def _remember(memo: dict[_K, bool], key: _K, answer: bool) -> bool:
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = answer
    return answer


class _PostState:
    """Per-post facts the guards need: the texts and the cue sets the automaton saw."""

    __slots__ = ("_cue_sets", "_cues", "anchors", "hinted", "m", "mb", "text")

    def __init__(self, text: str, m: str, mb: bytes, cue_sets: CueSets) -> None:
        self.text = text
        self.m = m
        self.mb = mb
        self.anchors: list[tuple[int, _Entry]] = []
        self._cue_sets = cue_sets
        self._cues: frozenset[str] | None = None
        self.hinted: bool | None = None  # the split-letter hint's answer, once the cue scan has given it

    @property
    def known_cues(self) -> frozenset[str] | None:
        """The cue sets if some check has looked them up already, else None (no scan is started)."""
        return self._cues

    @property
    def cues(self) -> frozenset[str]:
        """Cue sets named in the post: found on first use, by one RE2 set scan."""
        if self._cues is None:
            self._cues, self.hinted = self._cue_sets.find_extra(self.mb)
        return self._cues

    def guards(self, entry: _Entry, ms: int, me: int, os_: int, oe: int, ob: int) -> int:
        """FAIL, OK, or PENDING: only the militancy context is missing, which another group name supplies.

        ``ob`` is where the name ends without its ending: case is judged on the name as written
        (``IMUning``: "IMU" is in capitals even though the Uzbek ending is not).
        """
        # the checks on the span itself first: they are cheap and need no cue words
        text = self.text
        case = entry.case
        if case is not None:
            span = text[os_:ob]
            if case == "upper":  # case_ok for "upper", without a closure per call
                if not span.isupper() or is_shouting(text, os_, ob):
                    return FAIL
            elif not case_ok(case, span, _never):
                return FAIL
        not_after = entry.not_after
        if not_after is not None:
            lo = max(0, ms - 40)
            if not_after.search(self.m, not_after_start(self.m, lo, ms, entry.not_after_reach), ms):
                return FAIL
        if entry.not_before is not None:
            we = _word_end(self.m, me)
            if entry.not_before.match(self.m[we : we + 40]):
                return FAIL
        context = entry.context
        if context:
            cues = self._cues
            if cues is None:
                cues = self.cues
            missing = cues.isdisjoint(context)
        else:
            missing = False
        if missing:
            if QUOTED in context and is_quoted(text, os_, oe):
                missing = False
            elif CAPITALISED in context and text[os_].isupper() and not (
                    oe == ob and sentence_start(text, os_) and not text[os_:ob].isupper()):
                # a bare word's capital at a sentence start is no evidence ("Толибон дар мадраса…" = students);
                # an ending (Толибонлар) or capitals throughout (ТОЛИБОН-РО) still are
                missing = False
            elif PARENT in context:
                return NEEDS_PARENT  # decided once every hit is known (_with_parent)
            elif TERROR not in context:
                return FAIL
        if entry.veto and not self.cues.isdisjoint(entry.veto):
            return FAIL
        # a capital at the start of a sentence is no evidence of a name ("Исламское государство в
        # понимании богословов…"): there the alias needs militancy words (or another group) like a
        # short name does, unless it is quoted. Only for "title" names: in a "words" name the later
        # capitals are evidence ("Islamic State Pakistan Province was announced…")
        if (entry.case == "title" and not missing and sentence_start(self.text, os_)
                and TERROR not in self.cues and not is_quoted(self.text, os_, oe)):
            missing = True
        return PENDING if missing else OK


def _never() -> bool:
    return False


FAIL, OK, PENDING, NEEDS_PARENT = 0, 1, 2, 3
TERROR = "terror"  # cue set that any unconditional group name in the same post also satisfies
QUOTED = "quoted"  # built-in condition: the name is written inside quotation marks
CAPITALISED = "capitalised"  # built-in condition: the name starts with a capital letter
PARENT = "parent"  # built-in condition: written next to a name of the group's parent ("afghan branch" + "of IS")


def _bound_match(long_: Match, term: str, start: int, end: int, abbr: str) -> Match:
    return Match(kind="group", canonical=long_.canonical, term=term, start=start, end=end, rule="bound",
                 group=long_.group, source=f"defined in the post: {long_.term} ({abbr})")


def _order(m: Match) -> tuple[int, int, str, str]:
    return (m.start, m.end, m.kind, m.canonical)


_NO_GROUP, _GROUP, _BRANCH = 0, 1, 2  # no group match, some group match, some match of a branch (see _resolve)


def _resolve(text: str, ents: list[_Cand], kws: list[_Cand], branches: dict[str, str]) -> tuple[list[Match], int]:
    """Longest non-overlapping group/person matches (``ents``, sorted here); every keyword match (``kws``);
    as sorted Match records, and _NO_GROUP, _GROUP or _BRANCH: the most a group match among them is.

    A Match is built only for each winner (a frozen dataclass costs microseconds to build). Rows are sorted
    as _order sorts Matches before any is built: (start, end, kind, canonical) is unique per winner, so the
    tuples never compare their entries."""
    rows: list[tuple[int, int, str, str, _Entry, str]] = []
    groups = _NO_GROUP
    if ents:
        if len(ents) > 1:
            rank_of = _RULE_RANK.get
            ents.sort(key=lambda c: (c[0], c[0] - c[1], rank_of(c[3], 9)))
        # the hits of one span are next to each other, by rule rank: the first of each name wins
        taken_end = span_start = span_end = -1
        names: list[tuple[str, str]] = []  # the names already taken on the current span
        for s, e, entry, rule in ents:
            if s != span_start or e != span_end:
                if s < taken_end:
                    continue
                span_start, span_end, taken_end = s, e, e
                names = []
            kind, canonical = entry.kind, entry.canonical
            if names and (kind, canonical) in names:
                continue
            names.append((kind, canonical))
            rows.append((s, e, kind, canonical, entry, rule))
            if kind == "group" and groups != _BRANCH:
                groups = _BRANCH if canonical in branches else _GROUP
    if len(kws) == 1:
        s, e, entry, rule = kws[0]
        rows.append((s, e, "keyword", entry.canonical, entry, rule))
    elif kws:
        seen: set[tuple[str, int, int]] = set()
        for s, e, entry, rule in kws:  # the first of each keyword on a span
            key = (entry.canonical, s, e)
            if key not in seen:
                seen.add(key)
                rows.append((s, e, "keyword", entry.canonical, entry, rule))
    if len(rows) > 1:
        rows.sort()
    return [_match(kind, canonical, text[s:e], s, e, rule, entry.group, "" if kind == "keyword" else entry.source)
            for s, e, kind, canonical, entry, rule in rows], groups


class _Unfrozen:
    """Match's slots without the freezing: filled by plain attribute stores, then turned into a Match.

    Why: a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, and even the
    slots' own descriptors cost a call per field; stores into a class with the same slots are the
    interpreter's fastest path, and assigning ``__class__`` between two classes with the same slots is
    allowed (the layout is identical). About three times faster than the descriptors, five times
    faster than ``Match(...)``; the result is an ordinary Match (``type(m) is Match``).
    """

    __slots__ = Match.__slots__
    kind: str
    canonical: str
    term: str
    start: int
    end: int
    rule: str
    group: str | None
    source: str
    distance: int


_NEW = object.__new__
# the same fields in the same order, or the class switch below would mix them up
assert tuple(f.name for f in fields(Match)) == _Unfrozen.__slots__ == Match.__slots__  # noqa: S101


def _match(kind: str, canonical: str, term: str, start: int, end: int, rule: str, group: str | None,  # noqa: PLR0913
           source: str, distance: int = 0) -> Match:
    """``Match(...)`` with the same fields, without the frozen dataclass's per-field cost (see _Unfrozen)."""
    m = _NEW(_Unfrozen)  # no __init__: its call frame cost as much as the stores (the matcher's hot path)
    m.kind = kind
    m.canonical = canonical
    m.term = term
    m.start = start
    m.end = end
    m.rule = rule
    m.group = group
    m.source = source
    m.distance = distance
    m.__class__ = Match  # type: ignore[assignment]  # same slots, same layout: the object becomes a Match
    return m  # type: ignore[return-value]  # it is a Match now


# which rule explains a span when several do: the most specific first, then a listed spelling before a
# generated one (an analyst judges "Аль-Каидой" better as an inflection of a listed name than as a guess)
_RULE_RANK = {"deobfuscation": 0, "transliteration": 1, "inflection": 2, "abbreviation": 3, "alias": 4, "bound": 5,
              "variant": 6, "fuzzy": 7, "keyword": 8, "prefix": 9, "pattern": 10}


# Words that may stand between a branch's name and its parent's and still be one name: genitive
# links and "group/organisation" in each language ("«Вилояти Хуросон»-и гурӯҳи ДИИШ",
# "Khorasan branch of the Islamic State", "«Хорасанской провинции» ИГ", "ИШИДнинг Хуросон бўлими").
_P = r"[\s\"'«»“”„‘’‹›()\[\],:*–—-]*"
_LINK = re.compile(
    _P + r"(?:(?<=[\"'»”’›-])-?(?:нинг|ning|ни|ni|и|i)(?![^\W_])" + _P + ")?"
    r"(?:(?:of\s+the|of|the|its|'s|’s|группировки|группы|организации|гурӯҳи|гуруҳи|guruhi|ташкилоти|tashkiloti|group's|"
    r"terror\s+group|террористической\s+группировки)(?![^\W_])" + _P + ")?",
    re.IGNORECASE,
)
_MAX_LINK = 40


def _linked(text: str, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Spans ``a`` and ``b`` (in either order) are joined only by link words and punctuation."""
    gap = text[a[1]:b[0]] if a[1] <= b[0] else text[b[1]:a[0]] if b[1] <= a[0] else None
    return gap is not None and len(gap) <= _MAX_LINK and _LINK.fullmatch(gap) is not None


def _with_parent(text: str, orphans: list[_Cand], cands: list[_Cand],
                 pending: list[_Cand], branches: dict[str, str]) -> None:
    """Accept each branch descriptor ("афганский филиал") written next to a name of its parent ("ИГ")."""
    for hit in orphans:
        parent = branches.get(hit[2].canonical)
        if parent is None:
            continue
        for pool in (cands, pending):
            near = [h for h in pool if h[2].kind == "group" and h[2].canonical == parent
                    and _linked(text, (hit[0], hit[1]), (h[0], h[1]))]
            if near:
                cands.append(hit)
                if pool is pending:  # the pair vouches for the parent's short name too
                    for h in near:
                        pending.remove(h)
                        cands.append(h)
                break


def _branch_pair(text: str, pending: list[_Cand], branches: dict[str, str]) -> bool:
    """Some pending branch name stands right next to a pending name of its parent."""
    for s, e, entry, _ in pending:
        parent = branches.get(entry.canonical) if entry.kind == "group" else None
        if parent is None:
            continue
        for s2, e2, other, _ in pending:
            if other.kind == "group" and other.canonical == parent and _linked(text, (s, e), (s2, e2)):
                return True
    return False


def _merge_branches(text: str, out: list[Match], branches: dict[str, str]) -> list[Match]:
    """A parent's name written right next to its branch's is part of the branch's name (one match)."""
    groups = [m for m in out if m.kind == "group"]
    drop: set[int] = set()
    grow: dict[int, tuple[int, int]] = {}
    for i, m in enumerate(groups):
        parent = branches.get(m.canonical)
        if parent is None:
            continue
        s, e = m.start, m.end
        for j in (i - 1, i + 1):
            if not 0 <= j < len(groups) or j in drop or groups[j].canonical != parent:
                continue
            n = groups[j]
            if _linked(text, (s, e), (n.start, n.end)):
                drop.add(j)
                s, e = min(s, n.start), max(e, n.end)
        if (s, e) != (m.start, m.end):
            grow[i] = (s, e)
    if not drop:
        return out
    merged: list[Match] = []
    index = {id(m): i for i, m in enumerate(groups)}
    for m in out:
        k = index.get(id(m))
        if k is None:
            merged.append(m)
        elif k in drop:
            continue
        elif k in grow:
            s, e = grow[k]
            merged.append(Match(kind=m.kind, canonical=m.canonical, term=text[s:e], start=s, end=e, rule=m.rule,
                                group=m.group, source=m.source, distance=m.distance))
        else:
            merged.append(m)
    return sorted(merged, key=_order)
