"""What an analyst asked for (ReportSpec) and how it maps onto the store's report queries.

Why a whitelist: ``--by`` names reach SQL only as choices among fixed fragments, and every
value (names, labels, tags, dates) is bound; anything not on the list is refused here with a
message naming what is allowed.

Why filter values are checked against what is known: a filter that matches nothing would
answer with a report of zeros, which reads as "nothing happened". So ``resolve`` refuses a
group, person, language, script, label or keyword that is neither in the shipped lexicon /
the tagger's label set nor in the data, with the known values and a did-you-mean; group ids
are matched case-insensitively. Living here, the checks serve the CLI and any other front end.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from monitor.errors import ConfigError, Problem
from monitor.identity import channel_key, parse_id_key
from monitor.reports.periods import EVERY, Every, from_day, to_day
from monitor.store.ports import PostFilters
from monitor.store.ports import ReportReads as ReportSource

BY_NAMES = ("group", "language", "script", "channel", "keyword", "person")
_BY_ALIASES = {"groups": "group", "lang": "language", "languages": "language", "channels": "channel",
               "keywords": "keyword", "people": "person"}
_LABEL_KEY = re.compile(r"^[\w.-]{1,64}$")
_LANG = re.compile(r"^([a-z]{2,3})(?:[-_]([A-Za-z]{4}))?$")
_SCRIPT = re.compile(r"^[A-Za-z]{4}$")
_TAG_OF_BY = {"group": "group", "keyword": "keyword", "person": "person"}
NONE = "(none)"


def parse_by(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"group,language,label:country"`` -> validated dimension names, in order, without repeats."""
    if text is None:
        return ()
    items = text.split(",") if isinstance(text, str) else [p for t in text for p in t.split(",")]
    out: list[str] = []
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        if name.lower().startswith("label:"):
            key = name[6:]
            if not _LABEL_KEY.fullmatch(key):
                raise ConfigError(f"--by {name!r}: a label key is letters, digits, '_', '.', '-' (1-64)")
            name = f"label:{key}"
        else:
            name = _BY_ALIASES.get(name.lower(), name.lower())
            if name not in BY_NAMES:
                raise ConfigError(
                    f"--by {raw.strip()!r} is not a report dimension; use any of "
                    f"{', '.join(BY_NAMES)}, label:<key>"
                )
        if name not in out:
            out.append(name)
    return tuple(out)


def parse_lang(value: str) -> tuple[str, str | None]:
    """``uz`` -> (uz, None) (any script); ``uz-Latn`` -> (uz, Latn)."""
    match = _LANG.fullmatch(value.strip())
    if not match:
        raise ConfigError(f"--lang {value!r}: expected an ISO 639-1 code, optionally with a script (uz-Latn)")
    script = match.group(2)
    return match.group(1).lower(), script.capitalize() if script else None


def parse_label(value: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not _LABEL_KEY.fullmatch(key.strip()):
        raise ConfigError(f"--label {value!r}: expected key=value")
    return key.strip(), val.strip()


def parse_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value if not isinstance(value, datetime) else value.astimezone(UTC).date()
    from monitor.when import parse_day

    try:
        return parse_day(value, now=datetime.now(UTC))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSpec:
    """The common options of every report: range (inclusive, UTC), period, grouping and filters."""

    since: date | None = None
    until: date | None = None
    every: Every | None = None  # None: the report's default (month); refused where periods mean nothing
    by: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()  # "uz" or "uz-Latn"
    scripts: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # @name, name, t.me link or numeric id
    labels: tuple[str, ...] = ()  # "key=value"; several values of one key: any of them
    keywords: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    quarantined: bool = False  # also count channels polled in quarantine (left out by default)

    @property
    def period(self) -> Every:
        """The period of time-series reports: ``every``, else a calendar month."""
        return self.every or "month"

    def __post_init__(self) -> None:
        if self.every is not None and self.every not in EVERY:
            raise ConfigError(f"--every {self.every!r}: use day, week or month")
        parse_by(list(self.by))
        for lang in self.langs:
            parse_lang(lang)
        for script in self.scripts:
            if not _SCRIPT.fullmatch(script):
                raise ConfigError(f"--script {script!r}: expected a 4-letter ISO 15924 code (Latn, Cyrl, Arab)")
        for item in self.labels:
            parse_label(item)
        if self.since and self.until and self.since > self.until:
            raise ConfigError(f"--since {self.since} is after --until {self.until}")


OPTION_NAMES = {"by": "--by", "every": "--every", "groups": "--group", "langs": "--lang", "scripts": "--script",
                "keywords": "--keyword", "people": "--person", "channels": "--channel", "labels": "--label"}
CHANNEL_SCOPE = frozenset({"channels", "labels"})
POST_FILTERS = frozenset({"groups", "langs", "scripts", "keywords", "people"}) | CHANNEL_SCOPE


def refuse_unused(spec: ReportSpec, report: str, applies: frozenset[str] | set[str], why: str = "") -> None:
    """Refuse an option that would have no effect on ``report`` (an analyst would trust a filter that was
    silently ignored). ``applies``: the ReportSpec fields the report honours."""
    for name, option in OPTION_NAMES.items():
        if name not in applies and getattr(spec, name):
            raise ConfigError(Problem(option, f"has no effect on the {report} report{why}"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelInfo:
    id: int
    name: str  # what is shown: @username, else the title, else the id
    username: str | None
    title: str | None
    watched: bool
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    """A spec turned into the store's terms: day numbers, channel ids, SQL dimensions and filters."""

    spec: ReportSpec
    since_day: int
    until_day: int
    by: tuple[str, ...]
    sql_dims: tuple[str, ...]
    channel_ids: tuple[int, ...] | None
    channels: Mapping[int, ChannelInfo]
    tags: Mapping[str, tuple[str, ...]]
    langs: tuple[tuple[str, str | None], ...]
    scripts: tuple[str, ...]

    def filters(self) -> PostFilters:
        """Keyword arguments of the store's report queries for these filters."""
        return PostFilters(channel_ids=self.channel_ids, tags=self.tags, langs=self.langs, scripts=self.scripts)

    def channel_name(self, channel_id: int | None) -> str:
        if channel_id is None:
            return NONE
        info = self.channels.get(int(channel_id))
        return info.name if info else str(channel_id)

    def dim_values(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        """The shown value of each ``--by`` dimension for one row of a report query."""
        out: list[str] = []
        for name in self.by:
            if name in _TAG_OF_BY:
                out.append(str(row[f"tag_{name}"]))
            elif name == "language":
                lang, script = row["lang"], row.get("script") or ""
                out.append(f"{lang}-{script}" if script else str(lang))
            elif name == "script":
                out.append(str(row["script"]) or NONE)
            elif name == "channel":
                out.append(self.channel_name(row["channel_id"]))
            else:  # label:<key>
                info = self.channels.get(int(row["channel_id"]))
                out.append((info.labels.get(name[6:]) if info else None) or NONE)
        return tuple(out)

    def meta(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "since": self.since_day_iso(),
            "until": self.until_day_iso(),
            "every": spec.period,
            "by": list(self.by),
            "filters": {
                k: list(v)
                for k, v in {
                    "group": spec.groups, "language": spec.langs, "script": spec.scripts,
                    "channel": spec.channels, "label": spec.labels, "keyword": spec.keywords,
                    "person": spec.people,
                }.items()
                if v
            },
            "timezone": "UTC",
        }

    def since_day_iso(self) -> str:
        return from_day(self.since_day).isoformat()

    def until_day_iso(self) -> str:
        return from_day(self.until_day).isoformat()


def _channel_infos(rows: Sequence[Mapping[str, Any]]) -> dict[int, ChannelInfo]:
    out: dict[int, ChannelInfo] = {}
    for r in rows:
        if r["id"] is None:
            continue
        cid = int(r["id"])
        name = f"@{r['username']}" if r["username"] else (r["title"] or str(cid))
        out[cid] = ChannelInfo(
            id=cid, name=name, username=r["username"], title=r["title"], watched=bool(r["watched"]),
            labels=dict(r["labels"]),
        )
    return out


def _match_channel(value: str, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    key = channel_key(value)
    wanted = parse_id_key(key) if key is not None else None
    if wanted is not None:
        return [int(r["id"]) for r in rows if r["id"] is not None and int(r["id"]) == wanted]
    text = key if key is not None else value.strip().removeprefix("@").strip("/")
    low = text.lower()
    return [
        int(r["id"])
        for r in rows
        if r["id"] is not None
        and ((r["username"] or "").lower() == low or any(k.lower() == low for k in r["keys"]))
    ]


@lru_cache(maxsize=1)
def lexicon_ids() -> tuple[frozenset[str], frozenset[str]]:
    """(group ids, person ids) of the shipped lexicon, read from its TOML without building a tagger."""
    text = resources.files("monitor").joinpath("tagging/groups/lexicon.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return (frozenset(str(g["id"]) for g in data.get("group", []) if "id" in g),
            frozenset(str(p["id"]) for p in data.get("person", []) if "id" in p))


def tagger_languages() -> frozenset[tuple[str, str | None]]:
    """(language, script) pairs the language tagger can emit, plus ``und`` (undetermined)."""
    from monitor.tagging.language.labels import ALL_CLASSES, split_class

    return frozenset({split_class(c) for c in ALL_CLASSES} | {("und", None)})


def did_you_mean(option: str, value: str, known: Iterable[str], *, what: str, given: str | None = None) -> ConfigError:
    """``--group 'NOPE': no such group id; did you mean ...? Known: ...`` (the whole list, up to 40)."""
    names = sorted(set(known), key=lambda k: (k.lower(), k))
    lowered = {n.lower(): n for n in names}
    close = [lowered[m] for m in difflib.get_close_matches(value.lower(), list(lowered), n=3, cutoff=0.6)]
    message = f"no such {what}"
    message += f"; did you mean {' or '.join(close)}?" if close else "."
    if names:
        shown = ", ".join(names[:40]) + (f", ... ({len(names)} in all)" if len(names) > 40 else "")
        message += f" Known: {shown}."
    else:
        message += " (there are none in this database)"
    return ConfigError(Problem(f"{option} {given if given is not None else repr(value)}", message))


async def _data_values(store: ReportSource, dim: str) -> list[dict[str, Any]]:
    """The distinct values of one dimension in the data, from the aggregate tables (one grouped query)."""
    span = await store.report_day_range()
    if not span:
        return []
    rows, _table = await store.report_volume(since_day=span[0], until_day=span[1], every="all", dims=(dim,))
    return [r for r in rows if int(r.get("posts") or 0) > 0]


async def _in_data(store: ReportSource, kind: str, value: str) -> bool:
    """Does any stored post carry this exact tag? (The filtered count the report itself would read.)"""
    span = await store.report_day_range()
    if not span:
        return False
    rows, _table = await store.report_volume(since_day=span[0], until_day=span[1], every="all", dims=(),
                                             tags={kind: [value]})
    return any(int(r.get("posts") or 0) > 0 for r in rows)


async def _canonical_tags(store: ReportSource, kind: str, values: Sequence[str]) -> tuple[str, ...]:
    """Filter values of a tag kind mapped to their stored form; unknown values refused with the known ones."""
    if not values:
        return ()
    groups, people = lexicon_ids() if kind in ("group", "person") else (frozenset(), frozenset())
    known = set(groups if kind == "group" else people if kind == "person" else ())
    in_data: set[str] | None = None
    out: list[str] = []
    for value in values:
        exact = value.strip()
        found = _find(exact, known)
        if found is None and await _in_data(store, kind, exact):  # one indexed lookup, no listing
            found = exact
        if found is None:
            if in_data is None:
                in_data = {str(r[f"tag_{kind}"]) for r in await _data_values(store, kind)}
                known |= in_data
            found = _find(exact, known)
        if found is None:
            raise did_you_mean(f"--{kind}", exact, known, what={"group": "group id", "person": "person id",
                                                                 "keyword": "analyst keyword"}[kind])
        if found not in out:
            out.append(found)
    return tuple(out)


def _find(value: str, known: set[str]) -> str | None:
    """``value`` as known, else its only case-insensitive match (``iskp`` -> ``ISKP``), else None."""
    if value in known:
        return value
    low = value.casefold()
    matches = [k for k in known if k.casefold() == low]
    return matches[0] if len(matches) == 1 else None


async def _check_langs(store: ReportSource, spec: ReportSpec) -> tuple[tuple[str, str | None], ...]:
    langs = tuple(parse_lang(v) for v in spec.langs)
    if not langs:
        return ()
    known = set(tagger_languages())
    data = {(str(r["lang"]), r.get("script") or None) for r in await _data_values(store, "lang")}
    known |= data
    codes = {lang for lang, _ in known}
    for raw, (lang, script) in zip(spec.langs, langs, strict=True):
        if lang not in codes or (script is not None and (lang, script) not in known):
            shown = {lang if s is None else f"{lang}-{s}" for lang, s in known} | codes
            raise did_you_mean("--lang", raw.strip(), shown, what="language the tagger emits or the data holds")
    return langs


async def _check_scripts(store: ReportSource, spec: ReportSpec) -> tuple[str, ...]:
    if not spec.scripts:
        return ()
    known = {s for _, s in tagger_languages() if s}
    known |= {str(r["script"]) for r in await _data_values(store, "script") if r.get("script")}
    out: list[str] = []
    for raw in spec.scripts:
        found = _find(raw.strip(), known)
        if found is None:
            raise did_you_mean("--script", raw.strip(), known, what="script the tagger emits or the data holds")
        out.append(found)
    return tuple(out)


def _check_labels(spec: ReportSpec, infos: Mapping[int, ChannelInfo]) -> dict[str, set[str]]:
    """key -> wanted values, each matched (case-insensitively) to a label of some channel."""
    present: dict[str, set[str]] = {}
    for info in infos.values():
        for k, v in info.labels.items():
            present.setdefault(k, set()).add(v)
    wanted: dict[str, set[str]] = {}
    for item in spec.labels:
        key, val = parse_label(item)
        found_key = _find(key, set(present))
        if found_key is None:
            raise did_you_mean("--label", key, present, what="label key on any channel")
        found_val = _find(val, present[found_key])
        if found_val is None:
            raise did_you_mean("--label", val, present[found_key], given=repr(f"{key}={val}"),
                               what=f"value of label {found_key!r} on any channel")
        wanted.setdefault(found_key, set()).add(found_val)
    return wanted


async def resolve(store: ReportSource, spec: ReportSpec, *, today: date | None = None) -> Resolved:
    """Dates to day numbers (defaults: the first and last day with posts), names and labels to ids.

    Every filter value must be known (see the module docstring): ConfigError names the known values.
    """
    by = parse_by(list(spec.by))
    rows = await store.report_channels()
    infos = _channel_infos(rows)
    spec = replace(
        spec,
        groups=await _canonical_tags(store, "group", spec.groups),
        people=await _canonical_tags(store, "person", spec.people),
        keywords=await _canonical_tags(store, "keyword", spec.keywords),
        scripts=await _check_scripts(store, spec),
    )
    langs = await _check_langs(store, spec)
    wanted_labels = _check_labels(spec, infos)
    channel_ids: set[int] | None = None
    if spec.channels:
        channel_ids = set()
        for value in spec.channels:
            found = _match_channel(value, rows)
            if not found:
                names = [f"@{r['username']}" if r["username"] else str(r["id"]) for r in rows if r["id"] is not None]
                raise did_you_mean("--channel", value, names, what="channel in the database")
            channel_ids.update(found)
    if wanted_labels:
        labelled = {
            cid for cid, info in infos.items()
            if all(info.labels.get(k) in vals for k, vals in wanted_labels.items())
        }
        channel_ids = labelled if channel_ids is None else channel_ids & labelled
    if not spec.quarantined:
        # Channels polled in quarantine are counted apart from the watch list until accepted.
        held = {q.channel_id for q in await store.quarantined() if q.channel_id is not None}
        if held and spec.channels and channel_ids is not None and channel_ids <= held:
            # every channel asked for is in quarantine: say so rather than print a report of zeros
            raise ConfigError(
                f"--channel {', '.join(spec.channels)}: polled in quarantine (not yet accepted into the watch"
                " list); add --quarantined to count it"
            )
        if held:
            channel_ids = (set(infos) if channel_ids is None else channel_ids) - held
    span = await store.report_day_range()
    fallback = to_day(today or datetime.now(UTC).date())
    since_day = to_day(spec.since) if spec.since else (span[0] if span else fallback)
    until_day = to_day(spec.until) if spec.until else (span[1] if span else fallback)
    since_day = min(since_day, until_day)
    sql_dims: list[str] = []
    for name in by:
        dim = {"language": "lang", "group": "group", "keyword": "keyword", "person": "person",
               "script": "script"}.get(name, "channel")
        if dim not in sql_dims:
            sql_dims.append(dim)
    tags = {k: v for k, v in {"group": spec.groups, "keyword": spec.keywords, "person": spec.people}.items() if v}
    return Resolved(
        spec=spec,
        since_day=since_day,
        until_day=until_day,
        by=by,
        sql_dims=tuple(sql_dims),
        channel_ids=tuple(sorted(channel_ids)) if channel_ids is not None else None,
        channels=infos,
        tags=tags,
        langs=langs,
        scripts=spec.scripts,
    )
