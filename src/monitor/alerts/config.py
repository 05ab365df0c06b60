"""The ``[alerts]`` section of the config: rules and sinks as frozen records, every problem at once.

Why one ``AlertRule`` record for all kinds (with kind-specific fields defaulted) rather
than one class per kind: the TOML is flat, the rule hash must cover exactly the
fields that change what a rule detects, and an unknown key is reported per kind so a
typo ("treshold") never silently falls back to a default.

Sinks are parsed only as {name, kind, raw options}: their options belong to the
delivery side: each kind's module in ``monitor.alerts.sinks`` validates them
(`validate_sink`), so a new sink kind needs no change here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.alerts.sinks import KINDS, validate_sink
from monitor.errors import ConfigError, Problem
from monitor.identity import channel_key

RULE_KINDS = ("match", "spike", "new_term", "rising_term", "new_channel")
SINK_KINDS = KINDS  # the sink registry decides which kinds exist
SPIKE_ON = ("group", "language", "channel")
BASELINES = ("weekly", "daily")
TERM_KINDS = ("word", "hashtag", "mention", "link")
VIA = ("forward", "link")
BUILTIN_SINKS = frozenset({"log"})  # usable in rules without an [[alerts.sinks]] entry

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_LANG = re.compile(r"^(?:[a-z]{2,3}|und)$")


MAX_DURATION_DAYS = 366  # windows, cool-downs and ages: longer ones overflow date arithmetic or mean "never"
MAX_NUMBER = 1_000_000  # counts, periods, factors and thresholds of a rule


def parse_duration(value: object) -> float:
    """``"90s"``, ``"30m"``, ``"1h"``, ``"1d"``, ``"2w"`` or a number of seconds -> seconds (at most 366 days)."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as "1h", not a boolean')
    seconds: float | None = None
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        seconds = float(value)
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if seconds is not None:
        if not seconds <= MAX_DURATION_DAYS * 86400:  # also refuses nan and inf
            raise ValueError(
                f"must be <= {MAX_DURATION_DAYS} days ({MAX_DURATION_DAYS * 86400} seconds), got {value!r}"
            )
        return seconds
    raise ValueError(f'expected a duration such as "90s", "30m", "1h", "1d" or "2w", got {value!r}')


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRule:
    """One alert rule. Durations are seconds. Fields not used by ``kind`` keep their defaults."""

    name: str
    kind: str
    sinks: tuple[str, ...] = ("log",)
    cooldown: float = 0.0  # seconds after a firing during which the rule stays quiet
    enabled: bool = True
    # filters (every kind): which new posts the rule looks at
    channels: tuple[str, ...] = ()  # watch keys: "username" or "id:123"
    languages: tuple[str, ...] = ()
    labels: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (key, allowed values), all keys must match
    # match; spike on="group" also uses ``groups`` as the series to watch (empty = every group)
    groups: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    # spike
    on: str = "group"
    window: float = 3600.0  # spike: counting window; rising_term: current window (rounded to days)
    baseline: str = "weekly"  # same weekday+hour ("weekly") or same hour ("daily") in earlier periods
    baseline_periods: int = 8
    min_history: int = 3  # earlier periods (with data) needed before a spike or rising_term can fire
    threshold: float = 4.0  # robust z-score (median/MAD) that fires
    min_count: int = 0  # 0 = the kind's default (spike 5, new_term 1, rising_term 5, new_channel 1)
    # new_term / rising_term
    term_kinds: tuple[str, ...] = TERM_KINDS
    min_length: int = 4
    within: float = 7 * 86400.0  # new_term: the min_count posts must come within this of first sight
    warmup: float = 7 * 86400.0  # new_term: quiet until the term history spans this much
    history_days: int = 28
    factor: float = 3.0  # rising_term: current must also be >= factor x baseline median
    # new_channel
    via: tuple[str, ...] = VIA
    ignore_bots: bool = True

    @property
    def effective_min_count(self) -> int:
        if self.min_count > 0:
            return self.min_count
        return {"spike": 5, "rising_term": 5}.get(self.kind, 1)

    @property
    def label_map(self) -> dict[str, tuple[str, ...]]:
        return dict(self.labels)

    def detection_hash(self) -> str:
        """Hash of what the rule detects (not where it sends, nor how often); a retro-hunt runs on change."""
        data = {
            k: getattr(self, k)
            for k in self.__dataclass_fields__
            if k not in ("sinks", "cooldown", "enabled", "name")
        }
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=list)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True, kw_only=True)
class SinkConfig:
    name: str
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)  # raw; validated by the delivery side


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertsConfig:
    digest: str = ""  # as written; "" = immediate
    digest_seconds: float = 0.0
    max_post_age: float = 86400.0  # seconds: older posts (backfill, imports) feed history but never alert
    fire_on_import: bool = False  # may posts of `monitor import` fire alerts? (they always feed history)
    rules: tuple[AlertRule, ...] = ()
    sinks: tuple[SinkConfig, ...] = ()

    def rule(self, name: str) -> AlertRule | None:
        return next((r for r in self.rules if r.name == name), None)

    def sink(self, name: str) -> SinkConfig | None:
        return next((s for s in self.sinks if s.name == name), None)


_COMMON = {"name", "kind", "sinks", "cooldown", "enabled", "channels", "languages", "labels"}
_KIND_KEYS: dict[str, set[str]] = {
    "match": {"groups", "people", "keywords"},
    "spike": {
        "on",
        "groups",
        "window",
        "baseline",
        "baseline_periods",
        "min_history",
        "threshold",
        "min_count",
    },
    "new_term": {"term_kinds", "min_length", "min_count", "within", "warmup"},
    "rising_term": {
        "term_kinds",
        "min_length",
        "min_count",
        "window",
        "history_days",
        "min_history",
        "factor",
        "threshold",
    },
    "new_channel": {"via", "min_count", "ignore_bots"},
}


class _Collector:
    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.at(path), message))

    def at(self, path: str) -> str:
        """``where`` + key path; ``where`` may already end in "alerts" (settings passes "file: alerts")."""
        if self.where.endswith("alerts") and path.startswith("alerts"):
            return f"{self.where}{path[len('alerts') :]}"
        return f"{self.where}: {path}"


def _str_list(
    c: _Collector, path: str, value: object, check: Callable[[str], str | None] | None = None
) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.add(path, "expected a list of strings")
        return ()
    out: list[str] = []
    for i, v in enumerate(value):
        if check is not None:
            err = check(v)
            if err:
                c.add(f"{path}[{i}]", err)
                continue
        if not v.strip():
            c.add(f"{path}[{i}]", "empty string")
            continue
        if v not in out:
            out.append(v)
    return tuple(out)


def _number(
    c: _Collector, path: str, value: object, *, integer: bool = False, minimum: float = 0
) -> float | None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and not isinstance(value, int))
    ):
        c.add(path, f"expected {'an integer' if integer else 'a number'}, got {value!r}")
        return None
    if value < minimum:
        c.add(path, f"must be >= {minimum:g}, got {value!r}")
        return None
    if not value <= MAX_NUMBER:  # also refuses nan and inf
        c.add(path, f"must be <= {MAX_NUMBER:,}, got {value!r}")
        return None
    return value


def _duration(c: _Collector, path: str, value: object, *, positive: bool = False) -> float | None:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        c.add(path, str(exc))
        return None
    if positive and seconds <= 0:
        c.add(path, "must be longer than zero")
        return None
    return seconds


def _choice_list(c: _Collector, path: str, value: object, allowed: tuple[str, ...]) -> tuple[str, ...]:
    def check(v: str) -> str | None:
        return None if v in allowed else f"unknown value {v!r}; expected one of {', '.join(allowed)}"

    items = _str_list(c, path, value, check)
    if not items and isinstance(value, list) and not value:
        c.add(path, "must not be empty")
    return items


def _parse_rule(c: _Collector, path: str, raw: object, sink_names: set[str]) -> AlertRule | None:
    if not isinstance(raw, dict):
        c.add(path, "expected a table")
        return None
    before = len(c.problems)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        c.add(f"{path}.name", "required: letters, digits, '_', '-', '.', at most 64 characters")
        name = None
    kind = raw.get("kind")
    if kind not in RULE_KINDS:
        c.add(f"{path}.kind", f"required: one of {', '.join(RULE_KINDS)}; got {kind!r}")
        return None
    allowed = _COMMON | _KIND_KEYS[kind]
    for key in raw:
        if key not in allowed:
            c.add(f"{path}.{key}", f"unknown key for a {kind} rule (allowed: {', '.join(sorted(allowed))})")
    values: dict[str, Any] = {}
    if "sinks" in raw:
        sinks = _str_list(c, f"{path}.sinks", raw["sinks"])
        for i, s in enumerate(sinks):
            if s not in sink_names and s not in BUILTIN_SINKS:
                c.add(f"{path}.sinks[{i}]", f"no sink named {s!r} in [[alerts.sinks]] (built in: log)")
        if not sinks and "sinks" in raw:
            c.add(f"{path}.sinks", 'must name at least one sink ("log" is built in)')
        values["sinks"] = sinks
    if "cooldown" in raw:
        values["cooldown"] = _duration(c, f"{path}.cooldown", raw["cooldown"])
    if "enabled" in raw:
        if not isinstance(raw["enabled"], bool):
            c.add(f"{path}.enabled", "expected true or false")
        values["enabled"] = raw["enabled"]
    if "channels" in raw:
        chans = raw["channels"]
        if not isinstance(chans, list):
            chans = [chans]
        keys: list[str] = []
        for i, v in enumerate(chans):
            key = channel_key(v)
            if key is None:
                c.add(f"{path}.channels[{i}]", f"not a channel handle, t.me link or numeric id: {v!r}")
            elif key not in keys:
                keys.append(key)
        values["channels"] = tuple(keys)
    if "languages" in raw:
        values["languages"] = tuple(
            v.lower()
            for v in _str_list(
                c,
                f"{path}.languages",
                raw["languages"],
                lambda v: (
                    None if _LANG.match(v.lower()) else 'expected an ISO 639-1 code such as "uz" or "und"'
                ),
            )
        )
    if "labels" in raw:
        labels = raw["labels"]
        if not isinstance(labels, dict):
            c.add(f"{path}.labels", "expected a table of label = value or label = [values]")
        else:
            pairs = []
            for key, val in labels.items():
                vals = _str_list(c, f"{path}.labels.{key}", val)
                if vals:
                    pairs.append((str(key), vals))
            values["labels"] = tuple(sorted(pairs))
    for key in ("groups", "people", "keywords"):
        if key in raw and key in allowed:
            values[key] = _str_list(c, f"{path}.{key}", raw[key])
    if kind == "spike" and "groups" in raw:
        values["groups"] = tuple(g.upper() for g in values.get("groups", ()))
    if kind == "match":
        values["groups"] = tuple(g.upper() for g in values.get("groups", ()))
        if not (values.get("groups") or values.get("people") or values.get("keywords")):
            c.add(path, "a match rule needs at least one of groups, people, keywords")
    if "on" in raw and "on" in allowed:
        if raw["on"] not in SPIKE_ON:
            c.add(f"{path}.on", f"expected one of {', '.join(SPIKE_ON)}, got {raw['on']!r}")
        else:
            values["on"] = raw["on"]
    if "baseline" in raw and "baseline" in allowed:
        if raw["baseline"] not in BASELINES:
            c.add(f"{path}.baseline", f"expected one of {', '.join(BASELINES)}, got {raw['baseline']!r}")
        else:
            values["baseline"] = raw["baseline"]
    for key in ("window", "within", "warmup"):
        if key in raw and key in allowed:
            values[key] = _duration(c, f"{path}.{key}", raw[key], positive=key == "window")
    for key, minimum in (
        ("baseline_periods", 1),
        ("min_history", 1),
        ("min_count", 1),
        ("min_length", 1),
        ("history_days", 1),
    ):
        if key in raw and key in allowed:
            got = _number(c, f"{path}.{key}", raw[key], integer=True, minimum=minimum)
            values[key] = int(got) if got is not None else None
    for key in ("threshold", "factor"):
        if key in raw and key in allowed:
            values[key] = _number(c, f"{path}.{key}", raw[key], minimum=0)
    if "term_kinds" in raw and "term_kinds" in allowed:
        values["term_kinds"] = _choice_list(c, f"{path}.term_kinds", raw["term_kinds"], TERM_KINDS)
    if "via" in raw and "via" in allowed:
        values["via"] = _choice_list(c, f"{path}.via", raw["via"], VIA)
    if "ignore_bots" in raw and "ignore_bots" in allowed:
        if not isinstance(raw["ignore_bots"], bool):
            c.add(f"{path}.ignore_bots", "expected true or false")
        values["ignore_bots"] = raw["ignore_bots"]
    if kind == "spike" and values.get("min_history") and values.get("baseline_periods"):
        if values["min_history"] > values["baseline_periods"]:
            c.add(f"{path}.min_history", "cannot exceed baseline_periods")
    if len(c.problems) > before or name is None:
        return None
    return AlertRule(name=name, kind=kind, **{k: v for k, v in values.items() if v is not None})


def parse_alerts(section: Mapping[str, Any] | None, where: str) -> AlertsConfig:
    """Parse ``[alerts]``; raise ConfigError with every problem.

    ``where`` is the file name ("monitor.toml") or the file and table ("monitor.toml: alerts");
    problems read "monitor.toml: alerts.rules[2].cooldown".
    """
    c = _Collector(where)
    if section is None:
        return AlertsConfig()
    if not isinstance(section, Mapping):
        raise ConfigError(Problem(c.at("alerts"), "expected a table"))
    for key in section:
        if key not in ("digest", "max_post_age", "fire_on_import", "rules", "sinks"):
            c.add(f"alerts.{key}", "unknown key (allowed: digest, max_post_age, fire_on_import, rules, sinks)")
    fire_on_import = section.get("fire_on_import", False)
    if not isinstance(fire_on_import, bool):
        c.add("alerts.fire_on_import", "expected true or false")
    digest = section.get("digest", "")
    digest_seconds = 0.0
    if digest not in ("", None):
        got = _duration(c, "alerts.digest", digest, positive=True)
        digest_seconds = got or 0.0
    max_age = 86400.0
    if "max_post_age" in section:
        max_age = _duration(c, "alerts.max_post_age", section["max_post_age"], positive=True) or max_age
    raw_sinks = section.get("sinks", [])
    sinks: list[SinkConfig] = []
    if not isinstance(raw_sinks, list):
        c.add("alerts.sinks", "expected an array of tables ([[alerts.sinks]])")
        raw_sinks = []
    for i, raw in enumerate(raw_sinks):
        path = f"alerts.sinks[{i}]"
        if not isinstance(raw, dict):
            c.add(path, "expected a table")
            continue
        name, kind = raw.get("name"), raw.get("kind")
        ok = True
        if not isinstance(name, str) or not _NAME.match(name):
            c.add(f"{path}.name", "required: letters, digits, '_', '-', '.', at most 64 characters")
            ok = False
        elif any(s.name == name for s in sinks):
            c.add(f"{path}.name", f"duplicate sink name {name!r}")
            ok = False
        if kind not in SINK_KINDS:
            c.add(f"{path}.kind", f"required: one of {', '.join(SINK_KINDS)}; got {kind!r}")
            ok = False
        options = {k: v for k, v in raw.items() if k not in ("name", "kind")}
        if ok:
            c.problems.extend(validate_sink(str(kind), options, c.at(path)))
        if ok:
            sinks.append(SinkConfig(name=str(name), kind=str(kind), options=options))
    sink_names = {s.name for s in sinks} | {
        r.get("name") for r in raw_sinks if isinstance(r, dict) and isinstance(r.get("name"), str)
    }
    raw_rules = section.get("rules", [])
    rules: list[AlertRule] = []
    if not isinstance(raw_rules, list):
        c.add("alerts.rules", "expected an array of tables ([[alerts.rules]])")
        raw_rules = []
    names_seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        name = raw.get("name") if isinstance(raw, dict) else None
        if isinstance(name, str) and name in names_seen:
            c.add(f"alerts.rules[{i}].name", f"duplicate rule name {name!r}")
            continue
        if isinstance(name, str):
            names_seen.add(name)
        rule = _parse_rule(c, f"alerts.rules[{i}]", raw, sink_names)  # type: ignore[arg-type]  # sink_names holds only the str names (others were reported above); its set literal infers Optional
        if rule is not None:
            rules.append(rule)
    if c.problems:
        raise ConfigError(c.problems)
    return AlertsConfig(
        digest=str(digest or ""),
        digest_seconds=digest_seconds,
        max_post_age=max_age,
        fire_on_import=fire_on_import is True,
        rules=tuple(rules),
        sinks=tuple(sinks),
    )
