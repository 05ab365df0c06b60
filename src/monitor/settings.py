"""Settings: the TOML config file, environment overrides and credentials, as a frozen tree.

Precedence: defaults < config file < ``MONITOR_*`` environment < command-line options.
Every setting is a dataclass field whose metadata states its unit, default and
reason (kopf's configuration style); ``config/channels.example.toml`` documents
the same fields and a test keeps the two in step.

`check(path)` collects EVERY problem of a config (file and key of each), so an
analyst fixes them in one round; `load(path)` raises `ConfigError` carrying
that same list and otherwise returns `Settings`. Nothing here connects to
anything: the daemon and the CLI build adapters from the result.

Environment overrides: ``MONITOR_CONFIG`` (path of the config file),
``MONITOR_<KEY>`` for the ``[monitor]`` table (``MONITOR_DATABASE``,
``MONITOR_STORE_TEXT``...), ``MONITOR_<TABLE>_<KEY>`` for the others
(``MONITOR_POLLING_INTERVAL=60``), and the credentials ``MONITOR_API_ID``,
``MONITOR_API_HASH``, ``MONITOR_SESSION`` (a string session or a session file path).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.errors import ConfigError, Problem
from monitor.models import ChannelRef
from monitor.sources.links import parse_channel_ref

if TYPE_CHECKING:
    from monitor.tagging.groups import KeywordSpec

ENV_CONFIG = "MONITOR_CONFIG"
DEFAULT_CONFIG = "monitor.toml"


def setting(default: Any, *, unit: str, doc: str) -> Any:
    """A dataclass field carrying its unit and reason, for docs and the example-file test."""
    if isinstance(default, list | dict):
        factory = lambda d=default: type(d)(d)  # noqa: E731
        return field(default_factory=factory, metadata={"unit": unit, "doc": doc})
    return field(default=default, metadata={"unit": unit, "doc": doc})


# -- the tree ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorSettings:
    """``[monitor]``: the database and what is kept in it."""

    database: str = setting(
        "monitor.db",
        unit="path or sqlite:///path",
        doc="Where posts are stored; relative paths are taken from the config file's folder so the"
        " daemon finds the same file whatever its working directory.",
    )
    store_text: bool = setting(
        False,
        unit="boolean",
        doc="Keep full post text. Off by default: metadata, hashes and tags answer the reports"
        " without holding propaganda text longer than needed.",
    )
    text_retention_days: int = setting(
        30,
        unit="days",
        doc="When store_text is on, the daemon clears text of posts older than this; metadata,"
        " hashes and tags stay.",
    )
    log_format: str = setting(
        "auto",
        unit="auto | json | console",
        doc="auto = JSON when stderr is not a terminal (Docker, systemd), coloured console otherwise.",
    )
    heartbeat_interval: float = setting(
        30,
        unit="seconds",
        doc="How often the daemon writes its heartbeat to the store.",
    )
    heartbeat_stale_after: float = setting(
        180,
        unit="seconds",
        doc="`monitor status` exits non-zero when the heartbeat is older: a health check that"
        " catches a hung daemon, not only a dead one.",
    )
    config_reload_interval: float = setting(
        15,
        unit="seconds",
        doc="How often the daemon looks at the config file's mtime to pick up channel-list changes"
        " without a restart.",
    )
    shutdown_grace: float = setting(
        30,
        unit="seconds",
        doc="On SIGTERM/SIGINT, how long in-flight polls may take to commit their current batch"
        " before they are cancelled (a cancelled batch rolls back; nothing is half-written).",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionSettings:
    """``[telegram.connection]``: another MTProto endpoint (Telegram's test servers, a mirror)."""

    dc_id: int = setting(2, unit="DC number", doc="Data-centre id of the endpoint.")
    host: str = setting("", unit="IP or host name", doc="Address of the endpoint.")
    port: int = setting(443, unit="TCP port", doc="Port of the endpoint.")
    rsa_key_file: str = setting(
        "",
        unit="path (PEM)",
        doc="Extra server RSA public key to trust; test servers use keys Telethon does not ship.",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TelegramSettings:
    """``[telegram]``: how to reach Telegram; secrets come from the environment or a file outside the repo."""

    credentials_file: str = setting(
        "",
        unit="path",
        doc="TOML file with api_id, api_hash and optionally session_string; keep it outside the"
        " repository. Empty = use MONITOR_API_ID / MONITOR_API_HASH / MONITOR_SESSION.",
    )
    session_file: str = setting(
        "monitor.session",
        unit="path",
        doc="Telethon session file (auth key and entity cache), created with mode 0600; used when no"
        " string session is given.",
    )
    flood_sleep_threshold: int = setting(
        0,
        unit="seconds",
        doc="Flood waits up to this long are slept by Telethon inside a request; 0 = every flood wait"
        " reaches the daemon, which parks the channel or account and goes on with the others.",
    )
    connection: ConnectionSettings | None = setting(
        None, unit="table", doc="Optional endpoint override; absent = Telegram's production servers."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSettings:
    """``[source]``: where posts come from."""

    kind: str = setting(
        "telegram",
        unit="telegram | scenario",
        doc="scenario = offline replay of a scenario JSON through the real Telethon source code path"
        " (demo and tests); no account, no network.",
    )
    scenario: str = setting("", unit="path", doc="The scenario JSON when kind = scenario.")
    clock: str = setting(
        "system",
        unit="system | virtual",
        doc="virtual (scenario only): time starts at virtual_start and moves virtual_step per tick,"
        " every channel polled once per tick, so months replay in seconds and deterministically.",
    )
    virtual_start: str = setting(
        "",
        unit="ISO 8601 date-time",
        doc="Start of virtual time; empty = the scenario's first post.",
    )
    virtual_step: float = setting(21600, unit="seconds of virtual time", doc="Virtual time per tick.")
    virtual_end: str = setting(
        "",
        unit="ISO 8601 date-time",
        doc="End of virtual time (the daemon stops there); empty = the scenario's last event plus"
        " resample_days, so view growth is sampled to the end.",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PollingSettings:
    """``[polling]``: how often and how hard Telegram is asked."""

    interval: float = setting(
        300, unit="seconds", doc="Between polls of one channel (a channel's poll_interval overrides)."
    )
    jitter: float = setting(
        30, unit="seconds", doc="Random delay added to each poll so channels do not poll in lockstep."
    )
    max_concurrent: int = setting(4, unit="channels", doc="Channels polled at once.")
    requests_per_minute: float = setting(
        60,
        unit="requests per minute",
        doc="Global request budget over all channels (a token bucket); Telegram's GetHistory limit"
        " is about 30 requests per 10 s, flood bans follow bursts.",
    )
    backfill_posts: int = setting(
        200, unit="posts", doc="On first sight of a channel, at most this many newest posts..."
    )
    backfill_days: float = setting(30, unit="days", doc="... and none older than this.")
    resample_days: float = setting(
        7,
        unit="days",
        doc="Views/forwards of posts younger than this are re-sampled on every poll (reach growth);"
        " edits inside this window are caught too.",
    )
    unavailable_retry: float = setting(
        21600,
        unit="seconds",
        doc="Private, missing, renamed or banned channels are retried this rarely.",
    )
    batch_size: int = setting(
        100, unit="posts", doc="Posts per store transaction (posts, tags and checkpoint together)."
    )
    reconnect_max_backoff: float = setting(
        300, unit="seconds", doc="Ceiling of the exponential backoff between reconnect attempts."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LexiconSettings:
    """``[lexicon]``: the group lexicon shipped with monitor, extended by the analyst."""

    extra: tuple[str, ...] = setting(
        (), unit="paths", doc="Extra lexicon TOML files (same format as the shipped one), in order."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordEntry:
    """One ``[[keywords]]`` entry as written; `Settings.keyword_specs()` turns these into tagger specs."""

    term: str = setting("", unit="text", doc="The keyword, or an RE2 pattern when mode = pattern.")
    group: str | None = setting(None, unit="group id", doc="Tie the keyword to a canonical group.")
    lang: str | None = setting(None, unit="ISO 639-1", doc="Only in posts of this language.")
    mode: str = setting(
        "word",
        unit="word | prefix | pattern",
        doc="word = whole word; prefix = word start (inflected forms); pattern = RE2 (linear time).",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEntry:
    """One ``[[channels]]`` entry as written (documentation of the keys; parsed into ChannelRef)."""

    handle: str = setting("", unit="@username, t.me link or numeric id", doc="The channel.")
    labels: dict[str, str] = setting(
        {}, unit="table of strings", doc="Anything to group reports by: country, affiliation..."
    )
    poll_interval: float | None = setting(
        None, unit="seconds", doc="This channel's own interval; absent = polling.interval."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """Telegram API credentials; repr never shows the secrets."""

    api_id: int
    api_hash: str = field(repr=False)
    session: str | None = field(default=None, repr=False)  # string session; None = session file
    origin: str = ""  # "environment" or the credentials file path

    def __repr__(self) -> str:
        session = "***" if self.session else None
        return f"Credentials(api_id={self.api_id}, api_hash=***, session={session}, origin={self.origin!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    path: Path | None = None
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    source: SourceSettings = field(default_factory=SourceSettings)
    polling: PollingSettings = field(default_factory=PollingSettings)
    lexicon: LexiconSettings = field(default_factory=LexiconSettings)
    channels: tuple[ChannelRef, ...] = ()
    keywords: tuple[KeywordEntry, ...] = ()
    alerts: Mapping[str, Any] = field(default_factory=dict)  # raw [alerts] table, for monitor.alerts.config
    credentials: Credentials | None = field(default=None, repr=False)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    @property
    def database_url(self) -> str:
        """The store URL, relative paths resolved against the config file's folder."""
        return resolve_database(self.monitor.database, self.base_dir)

    def resolve_path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def keyword_specs(self) -> list[KeywordSpec]:
        """The analysts' keywords as the tagger's specs; imported lazily so settings loads without it."""
        from monitor.tagging.groups import KeywordSpec

        return [_keyword_spec(KeywordSpec, k) for k in self.keywords]

    def alerts_config(self) -> Any:
        """Parsed [alerts], or None when monitor.alerts is not installed or the table is empty."""
        parse = _parse_alerts_function()
        if parse is None or not self.alerts:
            return None
        return parse(dict(self.alerts), f"{self.path or 'config'}: alerts")

    def redacted(self) -> dict[str, Any]:
        """A JSON-able dump without secrets, for `monitor check --show` and logs."""
        out: dict[str, Any] = {}
        for name in ("monitor", "telegram", "source", "polling", "lexicon"):
            out[name] = _plain(getattr(self, name))
        out["channels"] = [
            {"key": c.key, "labels": dict(c.labels), "poll_interval": c.poll_interval} for c in self.channels
        ]
        out["keywords"] = [_plain(k) for k in self.keywords]
        out["credentials"] = None if self.credentials is None else {"origin": self.credentials.origin}
        return out


SECTIONS: Mapping[str, type] = {
    "monitor": MonitorSettings,
    "telegram": TelegramSettings,
    "source": SourceSettings,
    "polling": PollingSettings,
    "lexicon": LexiconSettings,
}
ARRAYS: Mapping[str, type] = {"channels": ChannelEntry, "keywords": KeywordEntry}
TOP_LEVEL = frozenset({*SECTIONS, *ARRAYS, "alerts"})
_ENUMS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("monitor", "log_format"): ("auto", "json", "console"),
    ("source", "kind"): ("telegram", "scenario"),
    ("source", "clock"): ("system", "virtual"),
    ("keywords", "mode"): ("word", "prefix", "pattern"),
}
# (table, key) -> (minimum, inclusive?) for numbers
_MINIMUM: Mapping[tuple[str, str], tuple[float, bool]] = {
    ("monitor", "text_retention_days"): (0, False),
    ("monitor", "heartbeat_interval"): (0, False),
    ("monitor", "heartbeat_stale_after"): (0, False),
    ("monitor", "config_reload_interval"): (0, False),
    ("monitor", "shutdown_grace"): (0, True),
    ("telegram", "flood_sleep_threshold"): (0, True),
    ("source", "virtual_step"): (0, False),
    ("polling", "interval"): (0, False),
    ("polling", "jitter"): (0, True),
    ("polling", "max_concurrent"): (1, True),
    ("polling", "requests_per_minute"): (0, False),
    ("polling", "backfill_posts"): (0, True),
    ("polling", "backfill_days"): (0, True),
    ("polling", "resample_days"): (0, True),
    ("polling", "unavailable_retry"): (0, False),
    ("polling", "batch_size"): (1, True),
    ("polling", "reconnect_max_backoff"): (0, False),
}


def setting_fields() -> dict[str, list[str]]:
    """Every documented key per table (``channels``/``keywords`` for the arrays); for docs and tests."""
    out = {name: [f.name for f in fields(cls)] for name, cls in SECTIONS.items()}
    out["telegram"] = [n for n in out["telegram"] if n != "connection"]
    out["telegram.connection"] = [f.name for f in fields(ConnectionSettings)]
    out.update({name: [f.name for f in fields(cls)] for name, cls in ARRAYS.items()})
    return out


def resolve_database(value: str, base: Path) -> str:
    if value.startswith(("postgresql://", "postgres://")):
        return value
    raw = value.removeprefix("sqlite:///") if value.startswith("sqlite:///") else value
    p = Path(raw).expanduser()
    if not p.is_absolute():
        p = base / p
    return str(p)


# -- loading and checking ------------------------------------------------------------------------


def default_config_path() -> Path:
    return Path(os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


_NOT_A_STRING_SESSION = (
    "is not a string session (the value `monitor login --print-string-session` prints); a session"
    " file is set with telegram.session_file, never here. The value is not shown: it is a secret"
)


def is_string_session(value: str) -> bool:
    """A Telethon string session: "1" + URL-safe base64 of DC id, IPv4 or IPv6 address, port and
    the 256-byte auth key (263 or 275 bytes). Anything else given as MONITOR_SESSION used to be
    taken as a session file name, which put the secret into a file name; it is refused instead."""
    import base64
    import binascii

    if not value.startswith("1") or not 300 < len(value) < 400:
        return False
    body = value[1:]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(raw) in (263, 275) and body.rstrip("=").replace("-", "").replace("_", "").isalnum()


def load(path: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> Settings:
    """Read, check and return the settings; ConfigError lists every problem found."""
    settings, problems = _parse(Path(path) if path is not None else default_config_path(), env)
    if problems:
        raise ConfigError(problems)
    assert settings is not None
    _register_secrets(settings)
    return settings


def _register_secrets(settings: Settings) -> None:
    """Every secret the settings hold, masked from here on in every log line (monitor.redact)."""
    from monitor import redact

    if settings.credentials is not None:
        redact.register(settings.credentials.api_hash, settings.credentials.session)
    redact.register_url(settings.database_url if "://" in settings.database_url else None, password_only=True)


def check(path: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of a config, each with its file and key; [] when it is fine."""
    return _parse(Path(path) if path is not None else default_config_path(), env)[1]


def _parse(path: Path, env: Mapping[str, str] | None) -> tuple[Settings | None, list[Problem]]:
    env = os.environ if env is None else env
    parser = _Parser(path, env)
    try:
        settings = parser.run()
    except _Fatal:
        return None, parser.problems
    return settings, parser.problems


class _Fatal(Exception):
    """The file could not be read at all; nothing more to say about it."""


class _Parser:
    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(f"{self.path}: {key}" if key else str(self.path), message))

    # -- whole file --------------------------------------------------------------------------------
    def run(self) -> Settings:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self.problem("", "config file not found (give --config or set MONITOR_CONFIG)")
            raise _Fatal from None
        except OSError as exc:
            self.problem("", f"cannot read config file: {exc.strerror or exc}")
            raise _Fatal from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            self.problem("", "not UTF-8 text")
            raise _Fatal from None
        except tomllib.TOMLDecodeError as exc:
            self.problem("", f"not valid TOML: {exc}")
            raise _Fatal from None
        for key in data:
            if key not in TOP_LEVEL:
                self.problem(key, f"unknown table or key{_suggest(key, TOP_LEVEL)}")
        base = self.path.parent
        sections: dict[str, Any] = {}
        for name, cls in SECTIONS.items():
            table = data.get(name, {})
            if not isinstance(table, dict):
                self.problem(name, f"expected a table, got {_tname(table)}")
                table = {}
            sections[name] = self.section(name, cls, table, self.env_overrides(name, cls))
        monitor: MonitorSettings = sections["monitor"]
        telegram: TelegramSettings = sections["telegram"]
        source: SourceSettings = sections["source"]
        polling: PollingSettings = sections["polling"]
        lexicon: LexiconSettings = sections["lexicon"]
        channels = self.channels(data.get("channels", []))
        keywords = self.keywords(data.get("keywords", []))
        alerts = data.get("alerts", {})
        if not isinstance(alerts, dict):
            self.problem("alerts", f"expected a table, got {_tname(alerts)}")
            alerts = {}
        self.check_alerts(alerts)
        self.check_database(monitor.database, base)
        self.check_lexicon(lexicon, base)
        self.check_source(source, base)
        credentials = self.credentials(telegram, base, required=source.kind == "telegram")
        if telegram.connection is not None and source.kind == "telegram":
            self.check_connection(telegram.connection, base)
        return Settings(
            path=self.path.resolve(),
            monitor=monitor,
            telegram=telegram,
            source=source,
            polling=polling,
            lexicon=lexicon,
            channels=channels,
            keywords=keywords,
            alerts=alerts,
            credentials=credentials,
        )

    # -- tables --------------------------------------------------------------------------------------
    def env_overrides(self, name: str, cls: type) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for f in fields(cls):
            if f.name == "connection":
                continue
            var = (
                f"MONITOR_{f.name.upper()}"
                if name == "monitor"
                else f"MONITOR_{name.upper()}_{f.name.upper()}"
            )
            if var in self.env:
                out[f.name] = (var, self.env[var])
        return out

    def section(
        self, name: str, cls: type, table: Mapping[str, Any], env: Mapping[str, tuple[str, str]]
    ) -> Any:
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in table.items():
            where = f"{name}.{key}"
            if key not in known:
                self.problem(where, f"unknown setting{_suggest(key, known)}")
                continue
            if name == "telegram" and key == "connection":
                values[key] = self.connection(value)
                continue
            ok, converted = self.value(name, key, known[key].type, value, where)
            if ok:
                values[key] = converted
        for key, (var, text) in env.items():
            ok, converted = self.value(name, key, known[key].type, _from_env(text), f"environment {var}")
            if ok:
                values[key] = converted
        return cls(**values)

    def connection(self, value: Any) -> ConnectionSettings | None:
        if not isinstance(value, dict):
            self.problem("telegram.connection", f"expected a table, got {_tname(value)}")
            return None
        known = {f.name: f for f in fields(ConnectionSettings)}
        values: dict[str, Any] = {}
        for key, v in value.items():
            where = f"telegram.connection.{key}"
            if key not in known:
                self.problem(where, f"unknown setting{_suggest(key, known)}")
                continue
            ok, converted = self.value("telegram.connection", key, known[key].type, v, where)
            if ok:
                values[key] = converted
        for required in ("host",):
            if required not in value:
                self.problem(
                    f"telegram.connection.{required}", "missing: the override needs dc_id, host and port"
                )
        conn = ConnectionSettings(**values)
        if not 1 <= conn.port <= 65535:
            self.problem("telegram.connection.port", f"{conn.port} is not a TCP port (1-65535)")
        if conn.dc_id <= 0:
            self.problem(
                "telegram.connection.dc_id", f"{conn.dc_id} is not a data-centre id (a positive integer)"
            )
        return conn

    def value(self, table: str, key: str, annotation: Any, value: Any, where: str) -> tuple[bool, Any]:
        """Type-check one value against its field's annotation (a string, as `from __future__` leaves it)."""
        ann = str(annotation)
        if ann.startswith("bool"):
            if not isinstance(value, bool):
                self.problem(where, f"expected true or false, got {_show(value)}")
                return False, None
            return True, value
        if ann.startswith("int"):
            if isinstance(value, bool) or not isinstance(value, int):
                self.problem(where, f"expected an integer, got {_show(value)}")
                return False, None
        elif ann.startswith("float"):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                self.problem(where, f"expected a number, got {_show(value)}")
                return False, None
            value = float(value)
        elif ann.startswith("str"):
            if not isinstance(value, str):
                self.problem(where, f"expected a string, got {_show(value)}")
                return False, None
            allowed = _ENUMS.get((table, key))
            if allowed is not None and value not in allowed:
                self.problem(where, f"{value!r} is not one of {', '.join(allowed)}")
                return False, None
            return True, value
        elif ann.startswith("tuple[str"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problem(where, f"expected an array of strings, got {_show(value)}")
                return False, None
            return True, tuple(value)
        minimum = _MINIMUM.get((table, key))
        if minimum is not None:
            low, inclusive = minimum
            if value < low or (value == low and not inclusive):
                self.problem(where, f"must be {'>=' if inclusive else '>'} {low:g}, got {value}")
                return False, None
        return True, value

    def channels(self, value: Any) -> tuple[ChannelRef, ...]:
        if not isinstance(value, list):
            self.problem("channels", f"expected an array of tables ([[channels]]), got {_tname(value)}")
            return ()
        refs: list[ChannelRef] = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(value):
            where = f"channels[{i}]"
            if not isinstance(entry, dict):
                self.problem(where, f"expected a table with a handle, got {_tname(entry)}")
                continue
            for key in entry:
                if key not in ("handle", "labels", "poll_interval"):
                    self.problem(
                        f"{where}.{key}", f"unknown key{_suggest(key, ('handle', 'labels', 'poll_interval'))}"
                    )
            handle = entry.get("handle")
            labels = self.labels(entry.get("labels", {}), f"{where}.labels")
            interval = entry.get("poll_interval")
            if interval is not None and (
                isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0
            ):
                self.problem(
                    f"{where}.poll_interval", f"expected a positive number of seconds, got {_show(interval)}"
                )
                interval = None
            if handle is None:
                self.problem(f"{where}.handle", "missing: @username, t.me link or numeric id")
                continue
            if isinstance(handle, bool) or not isinstance(handle, str | int):
                self.problem(f"{where}.handle", f"expected a string or an integer id, got {_show(handle)}")
                continue
            try:
                ref = parse_channel_ref(
                    str(handle),
                    labels=labels,
                    poll_interval=float(interval) if interval is not None else None,
                )
            except ValueError as exc:
                self.problem(f"{where}.handle", str(exc))
                continue
            if ref.key in seen:
                self.problem(
                    f"{where}.handle", f"duplicate channel {ref.key!r} (also channels[{seen[ref.key]}])"
                )
                continue
            seen[ref.key] = i
            refs.append(ref)
        return tuple(refs)

    def labels(self, value: Any, where: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.problem(where, f'expected a table of key = "value", got {_tname(value)}')
            return {}
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                self.problem(f"{where}.{k}", f"a label value must be a string or a number, got {_show(v)}")
                continue
            out[str(k)] = str(v)
        return out

    def keywords(self, value: Any) -> tuple[KeywordEntry, ...]:
        if not isinstance(value, list):
            self.problem("keywords", f"expected an array of tables ([[keywords]]), got {_tname(value)}")
            return ()
        out: list[KeywordEntry] = []
        known = {f.name: f for f in fields(KeywordEntry)}
        for i, entry in enumerate(value):
            where = f"keywords[{i}]"
            if not isinstance(entry, dict):
                self.problem(where, f"expected a table with a term, got {_tname(entry)}")
                continue
            values: dict[str, Any] = {}
            bad = False
            for key, v in entry.items():
                if key not in known:
                    self.problem(f"{where}.{key}", f"unknown key{_suggest(key, known)}")
                    continue
                ok, converted = self.value("keywords", key, known[key].type, v, f"{where}.{key}")
                bad |= not ok
                if ok:
                    values[key] = converted
            if not str(values.get("term", "")).strip():
                if "term" not in entry:
                    self.problem(f"{where}.term", "missing: the keyword to look for")
                elif isinstance(entry.get("term"), str):
                    self.problem(f"{where}.term", "empty term")
                continue
            kw = KeywordEntry(**values)
            if kw.mode == "pattern":
                err = _re2_error(kw.term)
                if err:
                    self.problem(f"{where}.term", f"not a valid RE2 pattern: {err}")
                    bad = True
            if not bad:
                out.append(kw)
        return tuple(out)

    # -- cross checks ---------------------------------------------------------------------------------
    def check_alerts(self, alerts: Mapping[str, Any]) -> None:
        parse = _parse_alerts_function()
        if parse is None or not alerts:
            return
        try:
            parse(dict(alerts), f"{self.path}: alerts")
        except ConfigError as exc:
            self.problems.extend(exc.problems)
        except (ValueError, TypeError, KeyError) as exc:
            self.problem("alerts", str(exc))

    def check_database(self, database: str, base: Path) -> None:
        url = resolve_database(database, base)
        if url.startswith(("postgresql://", "postgres://")):
            return
        folder = Path(url).parent
        if not folder.is_dir():
            self.problem("monitor.database", f"the database directory {folder} does not exist")
        elif Path(url).is_dir():
            self.problem("monitor.database", f"{url} is a directory, not a database file")

    def check_lexicon(self, lexicon: LexiconSettings, base: Path) -> None:
        for i, extra in enumerate(lexicon.extra):
            p = _resolve(extra, base)
            if not p.is_file() or not os.access(p, os.R_OK):
                self.problem(f"lexicon.extra[{i}]", f"cannot read lexicon file {p}")

    def check_source(self, source: SourceSettings, base: Path) -> None:
        if source.kind == "scenario":
            if not source.scenario:
                self.problem("source.scenario", 'kind = "scenario" needs the path of a scenario JSON')
            else:
                p = _resolve(source.scenario, base)
                if not p.is_file() or not os.access(p, os.R_OK):
                    self.problem("source.scenario", f"cannot read scenario file {p}")
        elif source.clock == "virtual":
            self.problem("source.clock", 'a virtual clock only makes sense with kind = "scenario"')
        for key in ("virtual_start", "virtual_end"):
            text = getattr(source, key)
            if text and parse_instant(text) is None:
                self.problem(f"source.{key}", f"{text!r} is not an ISO 8601 date-time")

    def check_connection(self, conn: ConnectionSettings, base: Path) -> None:
        if conn.rsa_key_file:
            p = _resolve(conn.rsa_key_file, base)
            try:
                pem = p.read_text("ascii")
            except (OSError, UnicodeDecodeError) as exc:
                self.problem("telegram.connection.rsa_key_file", f"cannot read RSA key file {p}: {exc}")
                return
            if "PUBLIC KEY-----" not in pem:
                self.problem("telegram.connection.rsa_key_file", f"{p} is not a PEM public key")

    def credentials(self, telegram: TelegramSettings, base: Path, *, required: bool) -> Credentials | None:
        env_id, env_hash = self.env.get("MONITOR_API_ID"), self.env.get("MONITOR_API_HASH")
        env_session = self.env.get("MONITOR_SESSION") or None
        if env_session is not None and not is_string_session(env_session):
            self.problem("environment MONITOR_SESSION", _NOT_A_STRING_SESSION)
            env_session = None
        if env_id or env_hash:
            if not (env_id and env_hash):
                self.problem("environment", "set both MONITOR_API_ID and MONITOR_API_HASH, or neither")
                return None
            if not env_id.strip().isdigit():
                self.problem("environment MONITOR_API_ID", "must be the numeric api_id from my.telegram.org")
                return None
            return Credentials(
                api_id=int(env_id), api_hash=env_hash.strip(), session=env_session, origin="environment"
            )
        if telegram.credentials_file:
            return self.credentials_file(_resolve(telegram.credentials_file, base), env_session)
        if required:
            self.problem(
                "telegram",
                "no Telegram credentials: set MONITOR_API_ID and MONITOR_API_HASH, or"
                " telegram.credentials_file (a file outside the repository)",
            )
        return None

    def credentials_file(self, p: Path, env_session: str | None) -> Credentials | None:
        key = "telegram.credentials_file"
        try:
            data = tomllib.loads(p.read_text("utf-8"))
        except OSError as exc:
            self.problem(key, f"cannot read credentials file {p}: {exc.strerror or exc}")
            return None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self.problem(key, f"{p} is not a TOML file: {exc}")
            return None
        repo = _git_root(p)
        if repo is not None:
            self.problem(key, f"{p} is inside the repository {repo}; keep credentials outside it")
        api_id, api_hash = data.get("api_id"), data.get("api_hash")
        session = data.get("session_string") or env_session
        ok = True
        if isinstance(api_id, bool) or not isinstance(api_id, int):
            self.problem(key, f"{p}: api_id must be an integer")
            ok = False
        if not isinstance(api_hash, str) or not api_hash:
            self.problem(key, f"{p}: api_hash must be a non-empty string")
            ok = False
        if session is not None and not isinstance(session, str):
            self.problem(key, f"{p}: session_string must be a string")
            ok = False
        elif isinstance(session, str) and not is_string_session(session):
            self.problem(key, f"{p}: session_string {_NOT_A_STRING_SESSION}")
            ok = False
        if not ok or not isinstance(api_id, int):
            return None
        return Credentials(api_id=api_id, api_hash=str(api_hash), session=session, origin=str(p))


# -- helpers ---------------------------------------------------------------------------------------


def parse_instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _resolve(value: str, base: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _git_root(p: Path) -> Path | None:
    for parent in p.resolve().parents:
        if (parent / ".git").exists():
            return parent
    return None


def _from_env(text: str) -> Any:
    """An environment string as the TOML value it spells (true, 60, 1.5, "x")."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _re2_error(pattern: str) -> str | None:
    try:
        import re2
    except ImportError:  # the tagger will say so when it loads
        return None
    try:
        re2.compile(pattern)
    except Exception as exc:  # noqa: BLE001 - re2 raises its own error type; we only need the message
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return str(detail) or type(exc).__name__
    return None


def _parse_alerts_function() -> Any:
    try:
        from monitor.alerts.config import parse_alerts
    except ImportError:
        return None
    return parse_alerts


def _keyword_spec(spec_cls: Any, k: KeywordEntry) -> Any:
    return spec_cls(term=k.term, group=k.group, lang=k.lang, mode=k.mode)


def _suggest(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _tname(value: Any) -> str:
    return {
        dict: "a table",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, dict) else "a table"
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{_tname(value)} {text}"


def _plain(obj: Any) -> Any:
    if obj is None:
        return None
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        return list(obj)
    return obj


def with_overrides(settings: Settings, **sections: Mapping[str, Any]) -> Settings:
    """A copy with some settings replaced (command-line options), e.g. ``polling={"interval": 5}``."""
    changes: dict[str, Any] = {}
    for name, values in sections.items():
        changes[name] = replace(getattr(settings, name), **values)
    return replace(settings, **changes)


__all__ = [
    "ChannelEntry",
    "ConnectionSettings",
    "Credentials",
    "KeywordEntry",
    "LexiconSettings",
    "MonitorSettings",
    "PollingSettings",
    "Settings",
    "SourceSettings",
    "TelegramSettings",
    "check",
    "load",
    "parse_instant",
    "resolve_database",
    "setting_fields",
    "with_overrides",
]
