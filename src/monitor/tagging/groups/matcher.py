"""GroupTagger: every alias and keyword in one Aho-Corasick pass over folded text.

How a post is matched (details in docs/groups.md):

1. fold the text (fold.py) and keep the offset map;
2. run one automaton over it; each hit must start at a word start and end at a
   word end or be followed by an allowed ending (suffixes.py);
3. collapsed views of split-up letters (``И.Г.И.Л.``) run through the same automaton;
4. conditions of ambiguous aliases are checked (context.py);
5. overlapping group/person hits keep the longest (``ISIS-K`` is ISKP, not IS);
6. spans are mapped back to the original text, and each match names its rule.

Pure: no I/O after construction, same input -> same output.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick

from monitor.models import Match

from . import suffixes
from .context import case_ok, compile_not_after, compile_not_before, is_shouting
from .fold import Folded, SplitView, clean_text, fold_term, fold_text, split_views
from .keywords import KeywordSpec, PatternSet, validate
from .lexicon import Alias, Entity, Lexicon, load_lexicon
from .variants import expand_alias, spellings

MATCHER_REVISION = "1"  # bump when matching logic changes what is tagged

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


@dataclass(frozen=True, slots=True)
class _Entry:  # noqa: PLR0902
    """What one automaton literal stands for, with the checks it needs."""

    kind: str  # "group" | "person" | "keyword" | "cue" (a context word, never a match)
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
    not_before: re.Pattern[str] | None = None


_Raw = tuple[int, int, int, int, "_Entry", str]  # folded start/end, original start/end, entry, rule


def _alifbo_version() -> str:
    """Generated Uzbek spellings depend on alifbo, so its version is part of the tagger version."""
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
                 *, translit: bool = True) -> None:
        self.lexicon = lexicon if lexicon is not None else load_lexicon()
        self.keywords = tuple(keywords)
        validate(self.keywords, self.lexicon.group_ids)
        self._automaton = ahocorasick.Automaton()
        table: dict[str, list[_Entry]] = {}
        for name, stems in self.lexicon.contexts.items():  # cue words ride in the same pass
            for stem in stems:
                whole = stem.endswith("$")
                literal = fold_term(stem.rstrip("$"))
                if literal:
                    table.setdefault(literal, []).append(_Entry(kind="cue", canonical=name, group=None, rule="cue",
                                                                prefix=not whole))
        for entity in self.lexicon.groups + self.lexicon.people:
            self._add_entity(table, entity, translit)
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
        for literal, entries in table.items():
            # cue words that may start a word ride separately: most hits are only those, and need no more work
            cue_prefix = frozenset(e.canonical for e in entries if e.kind == "cue" and e.prefix)
            rest_entries = tuple(e for e in entries if not (e.kind == "cue" and e.prefix))
            self._automaton.add_word(literal, (len(literal), cue_prefix, rest_entries))
        if table:
            self._automaton.make_automaton()
        self._patterns = PatternSet(patterns)
        spec_blob = json.dumps([[k.term, k.group, k.lang, k.mode] for k in self.keywords], ensure_ascii=False)
        h = hashlib.sha256()
        for part in (self.lexicon.digest, spec_blob, MATCHER_REVISION, f"translit={translit}:{_alifbo_version()}"):
            h.update(part.encode())
            h.update(b"\0")
        self.version = h.hexdigest()[:12]

    # -- construction ------------------------------------------------------------------------

    def _add_entity(self, table: dict[str, list[_Entry]], entity: Entity, translit: bool) -> None:
        kind = entity.kind
        group = entity.id if kind == "group" else entity.group
        for alias in entity.aliases:
            not_after = compile_not_after(alias.not_after)
            not_before = compile_not_before(alias.not_before)
            for v in expand_alias(alias, self.lexicon.paradigms, translit=translit):
                entry = _Entry(
                    kind=kind, canonical=entity.id, group=group, rule=v.rule, stem=v.stem,
                    suffix=_suffix_for(alias, v.pattern), abbr=alias.abbr,
                    arabic=alias.lang in ("ar", "fa", "ps", "ug"), case=alias.case,
                    context=alias.context, veto=alias.veto, not_after=not_after, not_before=not_before,
                )
                bucket = table.setdefault(v.pattern, [])
                if not any(e.kind == kind and e.canonical == entity.id and e.stem == v.stem for e in bucket):
                    bucket.append(entry)

    # -- matching ----------------------------------------------------------------------------

    @property
    def literal_count(self) -> int:
        """How many folded literals the automaton holds (for benchmarks and docs)."""
        return len(self._automaton)

    def match(self, text: str) -> tuple[Match, ...]:
        """Every match, sorted by start; spans index into ``text``."""
        return self._run(text)

    def tag(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[Match, ...]]:
        """(groups, people, keywords, matches): sorted unique ids and the matches behind them."""
        matches = self._run(text)
        groups = sorted({m.canonical for m in matches if m.kind == "group"})
        people = sorted({m.canonical for m in matches if m.kind == "person"})
        kws = sorted({m.canonical for m in matches if m.kind == "keyword"})
        return tuple(groups), tuple(people), tuple(kws), matches

    def _run(self, text: str) -> tuple[Match, ...]:
        if not text:
            return ()
        folded = fold_text(text)
        m = folded.text
        state = _PostState(text, m)
        raw: list[_Raw] = []
        if self._automaton.kind == ahocorasick.AHOCORASICK:
            self._scan_main(folded, state, raw)
            for view in split_views(m):
                self._scan_view(folded, view, raw)
        cands: list[tuple[int, int, _Entry, str]] = []
        pending: list[tuple[int, int, _Entry, str]] = []
        for ms, me, os_, oe, entry, rule in raw:  # cues are all known now: check the conditions
            if entry.kind == "keyword":
                cands.append((os_, oe, entry, rule))
                continue
            verdict = state.guards(entry, ms, me, os_, oe)
            if verdict == FAIL:
                continue
            if rule != "deobfuscation" and _obfuscated(text[os_:oe], entry):
                rule = "deobfuscation"
            (cands if verdict == OK else pending).append((os_, oe, entry, rule))
        if pending and any(c[2].kind == "group" for c in cands):
            cands.extend(pending)  # another group named outright is militancy context enough
        out = _resolve(text, cands)
        if self._patterns:
            clean = clean_text(text)
            found = self._patterns.spans(clean.text)
            for idx, s, e in found:
                spec = self._pattern_specs[idx]
                os_, oe = clean.orig(s), clean.orig_end(e)
                out.append(Match(kind="keyword", canonical=spec.term, term=text[os_:oe], start=os_, end=oe,
                                 rule="pattern", group=spec.group))
            if found:
                out = sorted(set(out), key=_order)  # a pattern may repeat a word keyword's span
        return tuple(out)

    def _scan_main(self, folded: Folded, st: _PostState, raw: list[_Raw]) -> None:
        m = folded.text
        n = len(m)
        text = st.text
        cues = st.cues
        identity = not folded.seg_m
        for end_idx, (plen, cue_prefix, entries) in self._automaton.iter(m):
            start = end_idx - plen + 1
            left_ok = start == 0 or not m[start - 1].isalnum()
            if not left_ok:
                if not (m[start - 1] in _ARABIC_PROCLITICS and (start == 1 or not m[start - 2].isalnum())):
                    continue
                arabic_left = True
            else:
                arabic_left = False
                if cue_prefix:
                    cues.update(cue_prefix)
            if not entries:
                continue
            end = end_idx + 1
            word_end = _word_end(m, end) if end < n and m[end].isalnum() else end
            rest = m[end:word_end]
            for entry in entries:
                if entry.kind == "cue":
                    if not rest and not arabic_left:
                        cues.add(entry.canonical)
                    continue
                if arabic_left and not entry.arabic:
                    continue
                if entry.prefix:
                    stop, rule = word_end, entry.rule
                elif rest:
                    if not suffixes.suffix_ok(entry.suffix, rest):
                        continue
                    stop, rule = word_end, ("inflection" if entry.rule in ("alias", "abbreviation") else entry.rule)
                else:
                    stop, rule = end, entry.rule
                    if entry.kind != "keyword" and end + 1 < n and m[end] == " ":
                        o = end if identity else folded.orig(end)
                        if text[o] in _HYPHENS:  # Tajik/Uzbek ending after a hyphen: Толибон-ро, ISHID-ga
                            e2 = _word_end(m, end + 1)
                            tail = m[end + 1 : e2]
                            if 0 < len(tail) <= 5 and suffixes.suffix_ok(entry.suffix, tail) and not _is_word(tail):
                                stop, rule = e2, ("inflection" if entry.rule in ("alias", "abbreviation")
                                                  else entry.rule)
                    if entry.stem and stop == end:
                        continue
                if identity:
                    raw.append((start, stop, start, stop, entry, rule))
                else:
                    raw.append((start, stop, folded.orig(start), folded.orig_end(stop), entry, rule))

    def _scan_view(self, folded: Folded, view: SplitView, raw: list[_Raw]) -> None:
        text = folded.source
        for end_idx, (plen, _, entries) in self._automaton.iter(view.text):
            start = end_idx - plen + 1
            end = end_idx + 1
            if start not in view.starts or end not in view.ends or plen < 2:
                continue
            ms, me = view.pos[start], view.pos[end - 1] + 1
            os_, oe = folded.orig(ms), folded.orig_end(me)
            for entry in entries:
                if entry.stem or entry.prefix or entry.kind == "cue":
                    continue
                span = text[os_:oe]
                dotted = entry.abbr and all(not c.isalnum() or c.isupper() for c in span)
                rule = entry.rule if entry.kind == "keyword" else ("abbreviation" if dotted else "deobfuscation")
                raw.append((ms, me, os_, oe, entry, rule))


def _word_end(m: str, i: int) -> int:
    """End of the run of letters/digits starting at ``i`` (``i`` itself when there is none)."""
    mo = _WORD_REST.match(m, i)
    return mo.end() if mo is not None else i


_COMMON_WORDS = frozenset({"va", "ва", "bu", "бу", "ham", "ҳам", "хам", "da", "и", "не", "на", "по", "в"})


def _is_word(tail: str) -> bool:
    """A short token after a hyphen that is a word on its own, not an ending."""
    return tail in _COMMON_WORDS


def _obfuscated(span: str, entry: _Entry) -> bool:
    """Did the span need de-obfuscation (invisibles, mixed scripts, odd case, exotic letter forms)?"""
    if _OBFUSCATED.search(span):
        return True
    return not entry.abbr and _ODD_CASE.search(span) is not None


class _PostState:
    """Per-post facts the guards need: the texts and the cue sets the automaton saw."""

    __slots__ = ("cues", "m", "text")

    def __init__(self, text: str, m: str) -> None:
        self.text = text
        self.m = m
        self.cues: set[str] = set()  # cue sets seen by the automaton pass

    def cue(self, name: str) -> bool:
        return name in self.cues

    def guards(self, entry: _Entry, ms: int, me: int, os_: int, oe: int) -> int:
        """FAIL, OK, or PENDING: only the militancy context is missing, which another group name supplies."""
        missing = bool(entry.context) and not any(c in self.cues for c in entry.context)
        if missing and TERROR not in entry.context:
            return FAIL
        if entry.veto and any(c in self.cues for c in entry.veto):
            return FAIL
        if entry.case is not None and not case_ok(entry.case, self.text[os_:oe],
                                                  lambda: is_shouting(self.text, os_, oe)):
            return FAIL
        if entry.not_after is not None and entry.not_after.search(self.m, max(0, ms - 40), ms):
            return FAIL
        if entry.not_before is not None:
            we = _word_end(self.m, me)
            if entry.not_before.match(self.m[we : we + 40]):
                return FAIL
        return PENDING if missing else OK


FAIL, OK, PENDING = 0, 1, 2
TERROR = "terror"  # cue set that any unconditional group name in the same post also satisfies


def _order(m: Match) -> tuple[int, int, str, str]:
    return (m.start, m.end, m.kind, m.canonical)


def _resolve(text: str, cands: list[tuple[int, int, _Entry, str]]) -> list[Match]:
    """Longest non-overlapping group/person matches; every keyword match; as sorted Match records."""
    best: dict[tuple[str, str, int, int], tuple[int, Match]] = {}
    ents = [c for c in cands if c[2].kind != "keyword"]
    if ents:
        ents.sort(key=lambda c: (c[0], -(c[1] - c[0]), _RULE_RANK.get(c[3], 9)))
        taken_end = -1
        taken: tuple[int, int] | None = None
        for s, e, entry, rule in ents:
            if taken != (s, e):
                if s < taken_end:
                    continue
                taken = (s, e)
                taken_end = e
            key = (entry.kind, entry.canonical, s, e)
            rank = _RULE_RANK.get(rule, 9)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, Match(kind=entry.kind, canonical=entry.canonical, term=text[s:e],  # type: ignore[arg-type]
                                         start=s, end=e, rule=rule, group=entry.group))
    for s, e, entry, rule in cands:
        if entry.kind == "keyword":
            key = ("keyword", entry.canonical, s, e)
            if key not in best:
                best[key] = (0, Match(kind="keyword", canonical=entry.canonical, term=text[s:e], start=s, end=e,
                                      rule=rule, group=entry.group))
    return sorted((m for _, m in best.values()), key=_order)


_RULE_RANK = {"deobfuscation": 0, "transliteration": 1, "inflection": 2, "abbreviation": 3, "alias": 4,
              "keyword": 5, "prefix": 6, "pattern": 7}
