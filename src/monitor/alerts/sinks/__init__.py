"""Where alerts go: the registry of sink kinds, and ``[[alerts.sinks]]`` tables validated and built.

A new sink is one file in this package exporting ``KIND`` (a `SinkKind`) plus one line in
`REGISTRY`. Kind modules are imported on first use, by name, so the network clients
(httpx, aiosmtplib) load only when a config uses them, and no kind module imports this
one (they share ``base``): no import circle.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from monitor.alerts.sinks.base import (
    DigestPeriod,
    Option,
    PermanentDeliveryError,
    RetryAfter,
    Sink,
    SinkKind,
    check_options,
    delivery_id,
)
from monitor.errors import ConfigError, Problem

REGISTRY: Mapping[str, str] = {
    "log": "monitor.alerts.sinks.log",
    "webhook": "monitor.alerts.sinks.webhook",
    "email": "monitor.alerts.sinks.email",
    "telegram": "monitor.alerts.sinks.telegram",
}
KINDS = tuple(REGISTRY)


def sink_kind(kind: str) -> SinkKind:
    """The `SinkKind` of a registered kind (imports its module); KeyError for an unknown kind."""
    module = importlib.import_module(REGISTRY[kind])
    spec: SinkKind = module.KIND
    return spec


def sink_options() -> dict[str, dict[str, str]]:
    """kind -> option -> "what it is (unit, default)": for docs/settings.md and `monitor check --help`."""
    return {kind: {key: opt.doc for key, opt in sink_kind(kind).options.items()} for kind in KINDS}


def validate_sink(
    kind: str, options: Mapping[str, Any], where: str, *, watched: Collection[str] = ()
) -> list[Problem]:
    """Every problem with one ``[[alerts.sinks]]`` table (``where`` is its config location).

    ``watched`` are the store keys of watched channels ("username" or "id:123"): a
    Telegram sink whose chat is one of them is refused, since alerts about a
    channel must never be posted into it.
    """
    if kind not in REGISTRY:
        return [Problem(f"{where}.kind", f"unknown sink kind {kind!r}; expected one of {', '.join(KINDS)}")]
    spec = sink_kind(kind)
    problems = check_options(kind, spec, options, where)
    if spec.check is not None:
        problems += spec.check(options, where, watched)
    return problems


def build_sink(name: str, kind: str, options: Mapping[str, Any], env: Mapping[str, str]) -> Sink:
    """A ready sink; raises ConfigError (with every problem) on a bad table or a missing secret."""
    where = f"alerts.sinks[{name}]"
    problems = validate_sink(kind, options, where)
    if problems:
        raise ConfigError(problems)
    return sink_kind(kind).build(name, options, env, where)


class _SinkTable(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def options(self) -> Mapping[str, Any]: ...


def build_sinks(tables: Sequence[_SinkTable], env: Mapping[str, str]) -> dict[str, Sink]:
    """Every configured sink by name, plus the built-in "log" sink unless a sink takes that name.

    ``tables`` are ``monitor.alerts.config.SinkConfig`` records (anything with name, kind, options).
    Raises one ConfigError carrying the problems of all tables (a missing secret included).
    """
    built: dict[str, Sink] = {}
    problems: list[Problem] = []
    for table in tables:
        try:
            built[table.name] = build_sink(table.name, table.kind, table.options, env)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)
    if "log" not in built:
        built["log"] = build_sink("log", "log", {}, env)
    return built


__all__ = [
    "KINDS",
    "REGISTRY",
    "DigestPeriod",
    "Option",
    "PermanentDeliveryError",
    "RetryAfter",
    "Sink",
    "SinkKind",
    "build_sink",
    "build_sinks",
    "delivery_id",
    "sink_kind",
    "sink_options",
    "validate_sink",
]
