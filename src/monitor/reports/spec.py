"""What an analyst asked for (ReportSpec) and how it maps onto the store's report queries.

Why a whitelist: ``--by`` names reach SQL only as choices among fixed fragments, and every
value (names, labels, tags, dates) is bound; anything not on the list is refused here with a
message naming what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from monitor.errors import ConfigError
from monitor.identity import channel_key, parse_id_key
from monitor.reports.periods import EVERY, Every, from_day, to_day
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
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ConfigError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSpec:
    """The common options of every report: range (inclusive, UTC), period, grouping and filters."""

    since: date | None = None
    until: date | None = None
    every: Every = "month"
    by: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()  # "uz" or "uz-Latn"
    scripts: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # @name, name, t.me link or numeric id
    labels: tuple[str, ...] = ()  # "key=value"; several values of one key: any of them
    keywords: tuple[str, ...] = ()
    people: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.every not in EVERY:
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

    def filters(self) -> dict[str, Any]:
        """Keyword arguments of the store's report queries for these filters."""
        return {
            "channel_ids": self.channel_ids,
            "tags": self.tags,
            "langs": self.langs,
            "scripts": self.scripts,
        }

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
            "every": spec.every,
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


async def resolve(store: ReportSource, spec: ReportSpec, *, today: date | None = None) -> Resolved:
    """Dates to day numbers (defaults: the first and last day with posts), names and labels to ids."""
    by = parse_by(list(spec.by))
    rows = await store.report_channels()
    infos = _channel_infos(rows)
    channel_ids: set[int] | None = None
    if spec.channels:
        channel_ids = set()
        for value in spec.channels:
            found = _match_channel(value, rows)
            if not found:
                raise ConfigError(f"--channel {value!r}: no such channel in the database")
            channel_ids.update(found)
    if spec.labels:
        wanted: dict[str, set[str]] = {}
        for item in spec.labels:
            key, val = parse_label(item)
            wanted.setdefault(key, set()).add(val)
        labelled = {
            cid for cid, info in infos.items()
            if all(info.labels.get(k) in vals for k, vals in wanted.items())
        }
        channel_ids = labelled if channel_ids is None else channel_ids & labelled
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
        langs=tuple(parse_lang(v) for v in spec.langs),
        scripts=tuple(s.capitalize() for s in spec.scripts),
    )
