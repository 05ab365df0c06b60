"""Where alerts go: the Sink protocol and the ``[[alerts.sinks]]`` kinds, validated and built.

A sink delivers one message (one alert, or a digest of many) or raises
``DeliveryError``; it never retries by itself. Retrying, backoff and the
delivery ledger belong to ``monitor.alerts.delivery``, so every medium gets the
same at-least-once/exactly-once behaviour. Each network call has a timeout, so
a dead endpoint costs one bounded attempt, never a stuck daemon.

Concrete sinks live in ``sink_<kind>.py`` and are imported lazily by
``build_sink``: the network clients (httpx, aiosmtplib) stay confined there.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from monitor import redact
from monitor.errors import ConfigError, DeliveryError, Problem
from monitor.models import Alert

KINDS = ("log", "webhook", "email", "telegram")


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


# -- validation ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Opt:
    types: tuple[type, ...]
    required: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""


_TIMEOUT = _Opt((int, float), doc="seconds per network call (default 10)")
_SPECS: dict[str, dict[str, _Opt]] = {
    "log": {"level": _Opt((str,), choices=("info", "warning", "error"), doc="log level (default warning)")},
    "webhook": {
        "url": _Opt((str,), required=True, doc="http(s) URL receiving a POST"),
        "secret_env": _Opt((str,), required=True, doc="env var holding the HMAC-SHA256 shared secret"),
        "format": _Opt((str,), choices=("json", "slack"), doc="json (default) | slack (Slack/Mattermost)"),
        "timeout": _TIMEOUT,
    },
    "email": {
        "host": _Opt((str,), required=True, doc="SMTP server"),
        "port": _Opt((int,), doc="default 587 (starttls), 465 (ssl), 25 (none)"),
        "security": _Opt((str,), choices=("starttls", "ssl", "none"), doc="default starttls"),
        "username_env": _Opt((str,), doc="env var with the SMTP user name (optional)"),
        "password_env": _Opt((str,), doc="env var with the SMTP password (optional)"),
        "from": _Opt((str,), required=True, doc="sender address"),
        "to": _Opt((list,), required=True, doc="list of recipient addresses"),
        "subject_prefix": _Opt((str,), doc='default "[monitor]"'),
        "ca_file": _Opt(
            (str,), doc="PEM bundle to verify the server with (a private CA); default: system CAs"
        ),
        "allow_plaintext_auth": _Opt(
            (bool,), doc="send the password over a connection without TLS (default false: refused)"
        ),
        "timeout": _TIMEOUT,
    },
    "telegram": {
        "token_env": _Opt((str,), required=True, doc="env var holding the bot token"),
        "chat_id": _Opt((int, str), required=True, doc="the alert chat: numeric id or @name"),
        "base_url": _Opt((str,), doc="Bot API root (default https://api.telegram.org)"),
        "timeout": _TIMEOUT,
    },
}
_COMMON = {"name", "kind"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
_CHAT = re.compile(r"^(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,31})$")


def sink_options() -> dict[str, dict[str, str]]:
    """kind -> option -> "what it is (unit, default)": for docs/settings.md and `monitor check --help`."""
    return {kind: {key: opt.doc for key, opt in spec.items()} for kind, spec in _SPECS.items()}


def _check_url(value: str, where: str, *, https_only: bool = False) -> list[Problem]:
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname:
        want = " or ".join(f"{s}://" for s in schemes)
        return [Problem(where, f"must be a {want} URL, got {value!r}")]
    return []


def validate_sink(
    kind: str, options: Mapping[str, Any], where: str, *, watched: Collection[str] = ()
) -> list[Problem]:
    """Every problem with one ``[[alerts.sinks]]`` table (``where`` is its config location).

    ``watched`` are the store keys of watched channels ("username" or "id:123"): a
    Telegram sink whose chat is one of them is refused, since alerts about a
    channel must never be posted into it.
    """
    if kind not in _SPECS:
        return [Problem(f"{where}.kind", f"unknown sink kind {kind!r}; expected one of {', '.join(KINDS)}")]
    spec = _SPECS[kind]
    problems: list[Problem] = []
    for key in sorted(set(options) - set(spec) - _COMMON):
        problems.append(
            Problem(f"{where}.{key}", f"unknown option for a {kind} sink; known: {', '.join(spec)}")
        )
    for key, opt in spec.items():
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
        if key.endswith("_env") and not _ENV_NAME.match(str(value)):
            problems.append(Problem(f"{where}.{key}", f"must name an environment variable, got {value!r}"))
        if key == "timeout" and not 0 < float(value) <= 300:
            problems.append(Problem(f"{where}.{key}", "must be > 0 and <= 300 seconds"))
        if key == "port" and not 0 < int(value) < 65536:
            problems.append(Problem(f"{where}.{key}", "must be a TCP port (1-65535)"))
    if kind == "webhook" and isinstance(options.get("url"), str):
        problems += _check_url(options["url"], f"{where}.url")
    if kind == "telegram":
        if isinstance(options.get("base_url"), str):
            problems += _check_url(options["base_url"], f"{where}.base_url")
        chat = options.get("chat_id")
        if isinstance(chat, (int, str)) and not isinstance(chat, bool):
            text = str(chat)
            if not _CHAT.match(text):
                problems.append(
                    Problem(f"{where}.chat_id", f"must be a numeric chat id or @name, got {text!r}")
                )
            elif _chat_key(text) & set(watched):
                problems.append(
                    Problem(
                        f"{where}.chat_id",
                        "is a watched channel; alerts go to a separate chat, never to a source",
                    )
                )
    if kind == "email":
        sender = options.get("from")
        if isinstance(sender, str) and not _ADDRESS.match(sender):
            problems.append(Problem(f"{where}.from", f"not an e-mail address: {sender!r}"))
        rcpts = options.get("to")
        if isinstance(rcpts, list):
            if not rcpts:
                problems.append(Problem(f"{where}.to", "needs at least one recipient"))
            for i, rcpt in enumerate(rcpts):
                if not isinstance(rcpt, str) or not _ADDRESS.match(rcpt):
                    problems.append(Problem(f"{where}.to[{i}]", f"not an e-mail address: {rcpt!r}"))
        if ("username_env" in options) != ("password_env" in options):
            problems.append(Problem(where, "username_env and password_env go together"))
        if (
            "password_env" in options
            and options.get("security") == "none"
            and options.get("allow_plaintext_auth") is not True
        ):
            problems.append(
                Problem(
                    f"{where}.security",
                    'is "none" but a password is set: it would cross the network in clear text;'
                    " use starttls or ssl (or set allow_plaintext_auth = true for a trusted local relay)",
                )
            )
    return problems


def _chat_key(chat: str) -> set[str]:
    """The watch keys a Bot API chat id could stand for (@name -> name; -100<id> and <id> -> id:<id>)."""
    if chat.startswith("@"):
        return {chat[1:].lower(), chat[1:]}
    number = chat.removeprefix("-")
    keys = {f"id:{number}"}
    if chat.startswith("-100"):
        keys.add(f"id:{chat[4:]}")
    return keys


def _env(env: Mapping[str, str], var: str, where: str, *, secret: bool = True) -> str:
    """A value from the environment; a secret is registered for masking in every log line (monitor.redact)."""
    value = env.get(var, "")
    if not value:
        raise ConfigError(Problem(where, f"environment variable {var} is not set"))
    if secret:
        redact.register(value)
    return value


def build_sink(name: str, kind: str, options: Mapping[str, Any], env: Mapping[str, str]) -> Sink:
    """A ready sink; raises ConfigError (with every problem) on a bad table or a missing secret."""
    where = f"alerts.sinks[{name}]"
    problems = validate_sink(kind, options, where)
    if problems:
        raise ConfigError(problems)
    timeout = float(options.get("timeout", 10))
    if kind == "log":
        from monitor.alerts.sink_log import LogSink

        return LogSink(name, level=str(options.get("level", "warning")))
    if kind == "webhook":
        from monitor.alerts.sink_webhook import WebhookSink

        redact.register_url(options["url"])  # for Slack and Mattermost the URL is the secret
        secret = _env(env, options["secret_env"], f"{where}.secret_env")
        return WebhookSink(
            name, url=options["url"], secret=secret, format=options.get("format", "json"), timeout=timeout
        )
    if kind == "email":
        from monitor.alerts.sink_email import EmailSink

        security = options.get("security", "starttls")
        port = int(options.get("port", {"starttls": 587, "ssl": 465, "none": 25}[security]))
        username = password = None
        if "username_env" in options:
            username = _env(env, options["username_env"], f"{where}.username_env", secret=False)
            password = _env(env, options["password_env"], f"{where}.password_env")
        return EmailSink(
            name,
            host=options["host"],
            port=port,
            security=security,
            username=username,
            password=password,
            sender=options["from"],
            recipients=tuple(options["to"]),
            subject_prefix=options.get("subject_prefix", "[monitor]"),
            ca_file=options.get("ca_file"),
            timeout=timeout,
        )
    from monitor.alerts.sink_telegram import TelegramBotSink

    token = _env(env, options["token_env"], f"{where}.token_env")
    return TelegramBotSink(
        name,
        token=token,
        chat_id=options["chat_id"],
        base_url=options.get("base_url", "https://api.telegram.org"),
        timeout=timeout,
    )


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
        from monitor.alerts.sink_log import LogSink

        built["log"] = LogSink("log")
    return built


__all__ = [
    "KINDS",
    "DigestPeriod",
    "PermanentDeliveryError",
    "RetryAfter",
    "Sink",
    "build_sink",
    "build_sinks",
    "delivery_id",
    "sink_options",
    "validate_sink",
]
