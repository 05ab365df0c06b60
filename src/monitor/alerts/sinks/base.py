"""What every sink shares: the Sink protocol, delivery ids, the delivery errors and option specs.

A sink delivers one message (one alert, or a digest of many) or raises
``DeliveryError``; it never retries by itself. Retrying, backoff and the
delivery ledger belong to ``monitor.alerts.delivery``, so every medium gets the
same at-least-once/exactly-once behaviour. Each network call has a timeout, so
a dead endpoint costs one bounded attempt, never a stuck daemon.

Concrete sinks live beside this module, one file per kind, each exporting ``KIND``
(a `SinkKind`: its options, extra checks and builder); ``monitor.alerts.sinks``
lists them. Sink modules import only this module, never the registry.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from monitor import redact
from monitor.errors import ConfigError, DeliveryError, Problem
from monitor.models import Alert

@dataclass(frozen=True, slots=True)
class DigestPeriod:
    """The UTC period a digest message covers: [start, end)."""

    start: datetime
    end: datetime

    def as_tuple(self) -> tuple[datetime, datetime]:
        return (self.start, self.end)


@runtime_checkable
class Sink(Protocol):
    name: str

    async def send(self, alerts: Sequence[Alert], *, period: DigestPeriod | None = None) -> None:
        """Deliver ``alerts`` as one message, or raise DeliveryError.

        ``period`` is set for a digest (the alerts fired in it); the sink may split a
        message that is too long for its medium, but only between alerts.
        """
        ...


def delivery_id(sink: str, alerts: Sequence[Alert]) -> str:
    """A stable id of one delivery (sink + alert ids): a resend after a crash carries the same id,
    so receivers that keep ids (webhooks: X-Monitor-Delivery, mail: Message-ID) can drop it."""
    ids = ",".join(str(a.id) for a in alerts)
    digest = hashlib.sha256(f"{sink}\x00{ids}".encode()).hexdigest()[:24]
    return f"{sink}-{digest}"


class PermanentDeliveryError(DeliveryError):
    """The endpoint refused the message for good (bad token, 4xx): retrying cannot help."""


class RetryAfter(DeliveryError):
    """The endpoint asked us to wait (HTTP 429 / Retry-After, Telegram retry_after)."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


# -- option specs ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Option:
    """One option of a sink kind: accepted types, whether it is required, allowed values, what it is."""

    types: tuple[type, ...]
    required: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""


TIMEOUT = Option((int, float), doc="seconds per network call (default 10)")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Check = Callable[[Mapping[str, Any], str, Collection[str]], list[Problem]]
Build = Callable[[str, Mapping[str, Any], Mapping[str, str], str], Sink]


@dataclass(frozen=True, slots=True)
class SinkKind:
    """What the registry needs of one sink kind.

    ``check(options, where, watched)`` adds the kind's own problems to the generic type,
    choice and range checks; ``build(name, options, env, where)`` returns a ready sink
    (options already valid) or raises ConfigError for a missing secret.
    """

    options: Mapping[str, Option]
    build: Build
    check: Check | None = None


def check_url(value: str, where: str, *, https_only: bool = False) -> list[Problem]:
    """A problem unless ``value`` is an http(s) URL with a host."""
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname:
        want = " or ".join(f"{s}://" for s in schemes)
        return [Problem(where, f"must be a {want} URL, got {value!r}")]
    return []


def env_value(env: Mapping[str, str], var: str, where: str, *, secret: bool = True) -> str:
    """A value from the environment; ConfigError naming the variable (never its value) when unset.
    A secret is registered for masking in every log line (monitor.redact)."""
    value = env.get(var, "")
    if not value:
        raise ConfigError(Problem(where, f"environment variable {var} is not set"))
    if secret:
        redact.register(value)
    return value


def check_options(kind: str, spec: SinkKind, options: Mapping[str, Any], where: str) -> list[Problem]:
    """The checks every kind shares: unknown and missing options, types, choices, env names, ranges."""
    common = {"name", "kind"}
    problems: list[Problem] = []
    for key in sorted(set(options) - set(spec.options) - common):
        problems.append(
            Problem(f"{where}.{key}", f"unknown option for a {kind} sink; known: {', '.join(spec.options)}")
        )
    for key, opt in spec.options.items():
        if key not in options:
            if opt.required:
                problems.append(Problem(f"{where}.{key}", f"required for a {kind} sink ({opt.doc})"))
            continue
        raw = options[key]
        if (isinstance(raw, bool) and bool not in opt.types) or not isinstance(raw, opt.types):
            names = " or ".join(t.__name__ for t in opt.types)
            problems.append(Problem(f"{where}.{key}", f"must be {names}, got {type(raw).__name__}"))
            continue
        value: Any = raw  # of one of opt.types from here on
        if opt.choices and value not in opt.choices:
            problems.append(
                Problem(f"{where}.{key}", f"must be one of {', '.join(opt.choices)}, got {value!r}")
            )
        if key.endswith("_env") and not ENV_NAME.match(str(value)):
            problems.append(Problem(f"{where}.{key}", f"must name an environment variable, got {value!r}"))
        if key == "timeout" and not 0 < float(value) <= 300:
            problems.append(Problem(f"{where}.{key}", "must be > 0 and <= 300 seconds"))
        if key == "port" and not 0 < int(value) < 65536:
            problems.append(Problem(f"{where}.{key}", "must be a TCP port (1-65535)"))
    return problems

