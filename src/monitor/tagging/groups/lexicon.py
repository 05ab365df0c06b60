"""The group lexicon as data: loading, merging analysts' files, validating.

Why data and not code: analysts extend and override names in their own files,
and a stored tag must say which lexicon produced it (``Lexicon.digest``).
Every problem is reported with where it is (file, group index, alias index,
key), all at once, as a ``ConfigError``.

File shape (TOML; the shipped ``lexicon.toml`` is the reference)::

    [paradigm]                 # named ending sets usable as {name} inside alias text
    ru_adj = ["ое", "ого", ...]

    [context.terror_ru]        # cue stems: a word starting with one of these is "context"
    note = "..."
    cues = ["боевик", "террор", ...]

    [[group]]
    id = "IS"
    name = "Islamic State"
    aliases = [ { text = "ИГИЛ", lang = "ru", abbr = true }, ... ]
    remove = ["..."]           # analysts' files only: drop aliases with this text

    Built-in context (no cue set): ``quoted`` holds when the alias is written
    inside quotation marks (``«Вилояти Хуросон»``): news quotes a group's
    self-chosen name, not a region or a concept. ``parent`` holds when the alias
    is written next to a name of the group's parent (``branch_of``): "afghan
    branch" counts only in "the Afghan branch of the Islamic State".
    ``capitalised`` holds when the alias starts with a capital letter (Tajik
    "Толибон" the movement; lower-case "толибон" may be students).

    [[person]]
    id = "abu_saloh"
    group = "KTJ"
    aliases = [ ... ]
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from monitor.errors import ConfigError, Problem

BUILTIN_CONTEXTS = frozenset({"quoted", "parent", "capitalised"})  # conditions the matcher checks itself (see matcher.py)

LANGS = frozenset({"en", "ru", "tg", "uz-Latn", "uz-Cyrl", "ar", "fa", "ky", "kk", "tr", "ps", "ug", "multi"})
CASES = frozenset({"title", "upper", "words"})
SUFFIXES = frozenset({"auto", "none", "ru"})
_ALIAS_KEYS = frozenset(
    {"text", "lang", "abbr", "stem", "note", "context", "veto", "not_after", "not_before", "case", "suffixes",
     "source", "generate"}
)
_GROUP_KEYS = frozenset({"id", "name", "note", "aliases", "remove", "branch_of", "source", "predecessors"})
_PERSON_KEYS = frozenset({"id", "name", "group", "note", "aliases", "remove", "source"})
_TOP_KEYS = frozenset({"paradigm", "context", "group", "person", "meta"})

Case = Literal["title", "upper", "words"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Alias:
    """One way of writing a name, with the conditions under which it counts."""

    text: str
    lang: str
    abbr: bool = False
    stem: bool = False  # never bare: needs an ending (талиб-ы, not талиб "student")
    note: str = ""
    context: tuple[str, ...] = ()  # names of cue sets; one must occur in the post
    veto: tuple[str, ...] = ()  # names of cue sets; none may occur in the post
    not_after: tuple[str, ...] = ()  # words that must not stand right before the alias
    not_before: tuple[str, ...] = ()  # words that must not stand right after it
    case: Case | None = None
    suffixes: str = "auto"
    # where the spelling comes from (designation list, encyclopaedia, news usage, court list, the
    # group's own media, analyst): shown with every match so an analyst can judge it
    source: str = ""
    generate: bool = True  # False: no generated orthographic variants (variants.generated)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entity:
    """A group (kind "group") or a named person (kind "person", with ``group``)."""

    kind: Literal["group", "person"]
    id: str
    name: str
    aliases: tuple[Alias, ...]
    group: str | None = None
    note: str = ""
    # a group that is a branch of another (ISKP of IS): the parent's name written right next to the
    # branch's ("ИШИДнинг Хуросон бўлими", "Khorasan branch of the Islamic State") is part of the
    # branch's name, not a second group
    branch_of: str | None = None
    source: str = ""  # default provenance of its aliases (each alias may name its own)


@dataclass(frozen=True, slots=True, kw_only=True)
class Lexicon:
    groups: tuple[Entity, ...]
    people: tuple[Entity, ...]
    contexts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    paradigms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    digest: str = ""

    @property
    def group_ids(self) -> frozenset[str]:
        return frozenset(g.id for g in self.groups)


# --- loading -------------------------------------------------------------------------------


def shipped_path() -> Path:
    return Path(str(resources.files("monitor.tagging.groups").joinpath("lexicon.toml")))


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(Problem(str(path), "lexicon file not found")) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(Problem(str(path), f"not valid TOML: {exc}")) from exc
    except OSError as exc:
        raise ConfigError(Problem(str(path), f"cannot read lexicon file: {exc}")) from exc


class _Draft:
    """Mutable state while files are merged; frozen into a Lexicon at the end."""

    def __init__(self) -> None:
        self.entities: dict[tuple[str, str], dict[str, Any]] = {}
        self.order: list[tuple[str, str]] = []
        self.contexts: dict[str, list[str]] = {}
        self.paradigms: dict[str, list[str]] = {}
        self.problems: list[Problem] = []

    def bad(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))


def _str_list(d: _Draft, where: str, value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        d.bad(where, "must be a string or a list of non-empty strings")
        return None
    return [v.strip() for v in value]


def _alias(d: _Draft, where: str, raw: Any, default_source: str = "") -> Alias | None:
    if isinstance(raw, str):
        raw = {"text": raw, "lang": "multi"}
    if not isinstance(raw, Mapping):
        d.bad(where, "an alias must be a table like { text = \"...\", lang = \"ru\" }")
        return None
    ok = True
    for key in raw:
        if key not in _ALIAS_KEYS:
            d.bad(f"{where}.{key}", f"unknown key (allowed: {', '.join(sorted(_ALIAS_KEYS))})")
            ok = False
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        d.bad(f"{where}.text", "missing or empty alias text")
        return None
    lang = raw.get("lang")
    if lang not in LANGS:
        d.bad(f"{where}.lang", f"unknown language {lang!r} (allowed: {', '.join(sorted(LANGS))})")
        ok = False
    case = raw.get("case")
    if case is not None and case not in CASES:
        d.bad(f"{where}.case", f"must be one of {', '.join(sorted(CASES))}")
        ok = False
    suffixes = raw.get("suffixes", "auto")
    if suffixes not in SUFFIXES:
        d.bad(f"{where}.suffixes", f"must be one of {', '.join(sorted(SUFFIXES))}")
        ok = False
    for flag in ("abbr", "stem"):
        if flag in raw and not isinstance(raw[flag], bool):
            d.bad(f"{where}.{flag}", "must be true or false")
            ok = False
    for key in ("note", "source"):
        if key in raw and not isinstance(raw[key], str):
            d.bad(f"{where}.{key}", "must be a string")
            ok = False
    if "generate" in raw and not isinstance(raw["generate"], bool):
        d.bad(f"{where}.generate", "must be true or false")
        ok = False
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("context", "veto", "not_after", "not_before"):
        if key in raw:
            got = _str_list(d, f"{where}.{key}", raw[key])
            if got is None:
                ok = False
            else:
                lists[key] = tuple(got)
    if text.count("{") != text.count("}"):
        d.bad(f"{where}.text", "unbalanced { } in inflection template")
        ok = False
    if not ok:
        return None
    return Alias(
        text=text.strip(),
        lang=str(lang),
        abbr=bool(raw.get("abbr", False)),
        stem=bool(raw.get("stem", False)),
        note=str(raw.get("note", "")),
        context=lists.get("context", ()),
        veto=lists.get("veto", ()),
        not_after=lists.get("not_after", ()),
        not_before=lists.get("not_before", ()),
        case=case,
        suffixes=str(suffixes),
        source=str(raw.get("source", default_source)),
        generate=bool(raw.get("generate", True)),
    )


def _merge(d: _Draft, data: Mapping[str, Any], source: str) -> None:
    for key in data:
        if key not in _TOP_KEYS:
            d.bad(f"{source}: {key}", f"unknown top-level key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    par = data.get("paradigm", {})
    if not isinstance(par, Mapping):
        d.bad(f"{source}: paradigm", "must be a table of name = [endings]")
    else:
        for name, endings in par.items():
            got = _str_list(d, f"{source}: paradigm.{name}", endings) if endings != [""] else [""]
            if got is not None:
                d.paradigms[name] = [("" if e == "-" else e) for e in got]
    ctx = data.get("context", {})
    if not isinstance(ctx, Mapping):
        d.bad(f"{source}: context", "must be a table of [context.NAME] tables")
    else:
        for name, table in ctx.items():
            where = f"{source}: context.{name}"
            if not isinstance(table, Mapping) or "cues" not in table:
                d.bad(where, "must be a table with cues = [...]")
                continue
            got = _str_list(d, f"{where}.cues", table["cues"])
            if got is not None:
                d.contexts.setdefault(name, []).extend(got)
    for kind, section, keys in (("group", "group", _GROUP_KEYS), ("person", "person", _PERSON_KEYS)):
        items = data.get(section, [])
        if not isinstance(items, list):
            d.bad(f"{source}: {section}", f"must be an array of tables ([[{section}]])")
            continue
        seen: set[str] = set()
        for i, raw in enumerate(items):
            where = f"{source}: {section}[{i}]"
            if not isinstance(raw, Mapping):
                d.bad(where, "must be a table")
                continue
            for key in raw:
                if key not in keys:
                    d.bad(f"{where}.{key}", f"unknown key (allowed: {', '.join(sorted(keys))})")
            ident = raw.get("id")
            if not isinstance(ident, str) or not ident.strip():
                d.bad(f"{where}.id", "missing id")
                continue
            if ident in seen:
                d.bad(f"{where}.id", f"duplicate {kind} id {ident!r} in the same file")
                continue
            seen.add(ident)
            where = f"{source}: {section}[{i}] ({ident})"
            entry = d.entities.get((kind, ident))
            if entry is None:
                entry = {"id": ident, "name": raw.get("name", ident), "note": raw.get("note", ""),
                         "source": raw.get("source", ""),
                         "group": raw.get("group"), "branch_of": raw.get("branch_of"), "aliases": []}
                d.entities[(kind, ident)] = entry
                d.order.append((kind, ident))
            else:
                for k in ("name", "note", "group", "branch_of", "source"):
                    if k in raw:
                        entry[k] = raw[k]
            if kind == "person" and not isinstance(entry.get("group"), str):
                d.bad(f"{where}.group", "a person needs the id of their group")
            if "remove" in raw:
                gone = _str_list(d, f"{where}.remove", raw["remove"])
                if gone is not None:
                    drop = {g.casefold() for g in gone}
                    entry["aliases"] = [a for a in entry["aliases"] if a.text.casefold() not in drop]
            aliases = raw.get("aliases", [])
            if not isinstance(aliases, list):
                d.bad(f"{where}.aliases", "must be an array of alias tables")
                continue
            for j, a in enumerate(aliases):
                src = "" if source == shipped_path().name else f"analyst file {source}"
                alias = _alias(d, f"{where}.aliases[{j}]", a, src)
                if alias is not None:
                    entry["aliases"].append(alias)


def _finish(d: _Draft) -> Lexicon:
    group_ids = {ident for kind, ident in d.order if kind == "group"}
    for kind, ident in d.order:
        entry = d.entities[(kind, ident)]
        if kind == "person" and isinstance(entry.get("group"), str) and entry["group"] not in group_ids:
            d.bad(f"person {ident}.group", f"unknown group id {entry['group']!r}")
        parent = entry.get("branch_of")
        if kind == "group" and parent is not None and (parent not in group_ids or parent == ident):
            d.bad(f"group {ident}.branch_of", f"unknown parent group id {parent!r}")
        for a in entry["aliases"]:
            for name in a.context + a.veto:
                if name not in d.contexts and not (name in BUILTIN_CONTEXTS and name in a.context):
                    d.bad(f"{kind} {ident}: alias {a.text!r}", f"unknown context {name!r}")
            for name in _template_names(a.text):
                if "|" not in name and name not in d.paradigms:
                    d.bad(f"{kind} {ident}: alias {a.text!r}", f"unknown paradigm {{{name}}}")
    if d.problems:
        raise ConfigError(d.problems)

    def ent(kind: Literal["group", "person"], ident: str) -> Entity:
        e = d.entities[(kind, ident)]
        return Entity(kind=kind, id=ident, name=str(e["name"]), note=str(e["note"] or ""),
                      group=e.get("group") if kind == "person" else None, aliases=tuple(e["aliases"]),
                      branch_of=e.get("branch_of") if kind == "group" else None, source=str(e.get("source") or ""))

    groups = tuple(ent("group", i) for k, i in d.order if k == "group")
    people = tuple(ent("person", i) for k, i in d.order if k == "person")
    contexts = {k: tuple(v) for k, v in sorted(d.contexts.items())}
    paradigms = {k: tuple(v) for k, v in sorted(d.paradigms.items())}
    digest = _digest(groups, people, contexts, paradigms)
    return Lexicon(groups=groups, people=people, contexts=contexts, paradigms=paradigms, digest=digest)


def _template_names(text: str) -> list[str]:
    out: list[str] = []
    i = 0
    while (s := text.find("{", i)) >= 0:
        e = text.find("}", s)
        if e < 0:
            break
        out.append(text[s + 1 : e])
        i = e + 1
    return out


def _digest(groups: Sequence[Entity], people: Sequence[Entity], contexts: Mapping[str, Any],
            paradigms: Mapping[str, Any]) -> str:
    def alias(a: Alias) -> list[Any]:
        return [a.text, a.lang, a.abbr, a.stem, list(a.context), list(a.veto), list(a.not_after),
                list(a.not_before), a.case, a.suffixes, a.source, a.generate]

    blob = {
        "groups": [[g.id, [alias(a) for a in g.aliases]] + ([g.branch_of] if g.branch_of else []) + [g.source]
                   for g in groups],
        "people": [[p.id, p.group, [alias(a) for a in p.aliases]] for p in people],
        "contexts": {k: list(v) for k, v in contexts.items()},
        "paradigms": {k: list(v) for k, v in paradigms.items()},
    }
    raw = json.dumps(blob, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


def load_lexicon(extra: Sequence[Path] = (), overrides: Mapping[str, Any] | None = None) -> Lexicon:
    """The shipped lexicon, then each analyst file in order, then ``overrides`` (same shape as a file).

    Raises ``ConfigError`` listing every problem with its place.
    """
    d = _Draft()
    shipped = shipped_path()
    _merge(d, _read(shipped), str(shipped.name))
    for path in extra:
        _merge(d, _read(Path(path)), str(path))
    if overrides:
        if not isinstance(overrides, Mapping):
            raise ConfigError(Problem("overrides", "must be a table shaped like a lexicon file"))
        _merge(d, overrides, "overrides")
    return _finish(d)
