"""Reading a config: the TOML file, ``MONITOR_*`` overrides, and every problem with its file and key.

The reader never stops at the first problem: a bad value is reported and left at its
default so the rest of the file is still checked, and an analyst fixes everything in one
round. Each value is checked against its declaration in `monitor.settings.schema`
(`monitor.settings.values`); what no single field can say (duplicate channels, files
that must exist, a virtual clock without a scenario, RE2 patterns that must compile,
the [alerts] table) is checked here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError, Problem
from monitor.identity import parse_channel
from monitor.models import ChannelRef
from monitor.settings.credentials import Credentials, read_credentials
from monitor.settings import schema
from monitor.settings.schema import ConnectionSettings, KeywordEntry, Settings, resolve_database
from monitor.settings.values import convert, field_specs, from_env, show, suggest, tname

ENV_CONFIG = "MONITOR_CONFIG"
DEFAULT_CONFIG = "monitor.toml"


def default_config_path() -> Path:
    """``MONITOR_CONFIG``, or ``monitor.toml`` in the working directory."""
    return Path(os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def load(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None, telegram: bool = False
) -> Settings:
    """Read, check and return the settings; ConfigError lists every problem found.

    Telegram credentials (and the connection override) are read and checked only with
    ``telegram=True`` (``run``, ``login``): commands that never talk to Telegram must not
    stop for want of a secret they do not use, so without it ``settings.credentials`` is None.
    """
    settings, problems = _parse(Path(path) if path is not None else default_config_path(), env, telegram)
    if problems or settings is None:
        raise ConfigError(problems)
    _register_secrets(settings)
    return settings


def _register_secrets(settings: Settings) -> None:
    """Every secret the settings hold, masked from here on in every log line (monitor.redact)."""
    from monitor import redact

    if settings.credentials is not None:
        redact.register(settings.credentials.api_hash, settings.credentials.session)
    redact.register_url(settings.database_url if "://" in settings.database_url else None, password_only=True)


def check(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None, telegram: bool = True
) -> list[Problem]:
    """Every problem of a config, each with its file and key; [] when it is fine.

    By default it checks the config for the daemon (``telegram=True``: credentials included).
    """
    return _parse(Path(path) if path is not None else default_config_path(), env, telegram)[1]


def env_var(table: str, key: str) -> str:
    """The environment variable overriding ``table.key``: MONITOR_<KEY> for [monitor], else MONITOR_<TABLE>_<KEY>."""
    return f"MONITOR_{key.upper()}" if table == "monitor" else f"MONITOR_{table.upper()}_{key.upper()}"


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 date-time (``Z`` allowed; naive = UTC) as an aware UTC datetime, or None."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse(path: Path, env: Mapping[str, str] | None, telegram: bool) -> tuple[Settings | None, list[Problem]]:
    parser = _Parser(path, os.environ if env is None else env, telegram=telegram)
    try:
        settings = parser.run()
    except _Fatal:
        return None, parser.problems
    return settings, parser.problems


class _Fatal(Exception):
    """The file could not be read at all; nothing more to say about it."""


class _Parser:
    def __init__(self, path: Path, env: Mapping[str, str], *, telegram: bool) -> None:
        self.path = path
        self.env = env
        self.telegram = telegram  # read and check credentials (run, login, check)
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(f"{self.path}: {key}" if key else str(self.path), message))

    # -- whole file --------------------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self.problem("", "config file not found (give --config or set MONITOR_CONFIG)")
            raise _Fatal from None
        except OSError as exc:
            self.problem("", f"cannot read config file: {exc.strerror or exc}")
            raise _Fatal from None
        try:
            return tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            self.problem("", "not UTF-8 text")
        except tomllib.TOMLDecodeError as exc:
            self.problem("", f"not valid TOML: {exc}")
        except RecursionError:
            self.problem("", "not valid TOML: nested too deeply")
        raise _Fatal

    def run(self) -> Settings:
        data = self.read()
        for key in data:
            if key not in schema.TOP_LEVEL:
                self.problem(key, f"unknown table or key{suggest(key, schema.TOP_LEVEL)}")
        base = self.path.parent
        sections: dict[str, Any] = {}
        for name, cls in schema.SECTIONS.items():
            table = data.get(name, {})
            if not isinstance(table, dict):
                self.problem(name, f"expected a table, got {tname(table)}")
                table = {}
            sections[name] = self.section(name, cls, table)
        monitor: schema.MonitorSettings = sections["monitor"]
        telegram: schema.TelegramSettings = sections["telegram"]
        source: schema.SourceSettings = sections["source"]
        polling: schema.PollingSettings = sections["polling"]
        lexicon: schema.LexiconSettings = sections["lexicon"]
        collectors: schema.CollectorSettings = sections["collectors"]
        if collectors.lease_renew_interval >= collectors.lease_expiry:
            self.problem(
                "collectors.lease_renew_interval",
                f"must be below collectors.lease_expiry ({collectors.lease_expiry:g} seconds), got"
                f" {collectors.lease_renew_interval:g}: leases would run out between renewals",
            )
        channels = self.channels(data.get("channels", []))
        keywords = self.keywords(data.get("keywords", []))
        alerts = data.get("alerts", {})
        if not isinstance(alerts, dict):
            self.problem("alerts", f"expected a table, got {tname(alerts)}")
            alerts = {}
        self.check_alerts(alerts)
        self.check_database(monitor.database, base)
        self.check_lexicon(lexicon, base)
        self.check_source(source, base)
        credentials = None
        if self.telegram:
            credentials = self.credentials(telegram, base, required=source.kind == "telegram")
        if self.telegram and telegram.connection is not None and source.kind == "telegram":
            self.check_connection(telegram.connection, base)
        return Settings(
            path=self.path.resolve(),
            monitor=monitor,
            telegram=telegram,
            source=source,
            polling=polling,
            lexicon=lexicon,
            collectors=collectors,
            discovery=sections["discovery"],
            channels=channels,
            keywords=keywords,
            alerts=alerts,
            credentials=credentials,
        )

    # -- tables --------------------------------------------------------------------------------------
    def values(self, table: str, cls: type, given: Mapping[str, Any], *, label: str = "") -> dict[str, Any]:
        """The checked values of one table (bad and unknown keys reported and left out)."""
        specs = field_specs(cls)
        out: dict[str, Any] = {}
        for key, value in given.items():
            where = f"{label or table}.{key}"
            spec = specs.get(key)
            if spec is None:
                self.problem(where, f"unknown {'key' if label else 'setting'}{suggest(key, specs)}")
                continue
            ok, converted, message = convert(spec, value)
            if ok:
                out[key] = converted
            else:
                self.problem(where, message)
        return out

    def section(self, name: str, cls: type, table: Mapping[str, Any]) -> Any:
        nested = {k: v for k, v in table.items() if name == "telegram" and k == "connection"}
        values = self.values(name, cls, {k: v for k, v in table.items() if k not in nested})
        if nested:
            values["connection"] = self.connection(nested["connection"])
        for key, spec in field_specs(cls).items():
            var = env_var(name, key)
            if key == "connection" or var not in self.env:
                continue
            ok, converted, message = convert(spec, from_env(self.env[var]))
            if ok:
                values[key] = converted
            else:
                self.problem(f"environment {var}", message)
        return cls(**values)

    def connection(self, value: Any) -> ConnectionSettings | None:
        if not isinstance(value, dict):
            self.problem("telegram.connection", f"expected a table, got {tname(value)}")
            return None
        values = self.values("telegram.connection", ConnectionSettings, value)
        if "host" not in value:
            self.problem("telegram.connection.host", "missing: the override needs dc_id, host and port")
        return ConnectionSettings(**values)

    def channels(self, value: Any) -> tuple[ChannelRef, ...]:
        if not isinstance(value, list):
            self.problem("channels", f"expected an array of tables ([[channels]]), got {tname(value)}")
            return ()
        specs = field_specs(schema.ChannelEntry)
        refs: list[ChannelRef] = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(value):
            where = f"channels[{i}]"
            if not isinstance(entry, dict):
                self.problem(where, f"expected a table with a handle, got {tname(entry)}")
                continue
            for key in entry:
                if key not in specs:
                    self.problem(f"{where}.{key}", f"unknown key{suggest(key, specs)}")
            handle = entry.get("handle")
            labels = self.labels(entry.get("labels", {}), f"{where}.labels")
            interval = None
            if entry.get("poll_interval") is not None:
                ok, interval, message = convert(specs["poll_interval"], entry["poll_interval"])
                if not ok:
                    self.problem(f"{where}.poll_interval", message)
            accounts = entry.get("accounts", [])
            if not isinstance(accounts, list) or not all(isinstance(a, str) and a for a in accounts):
                self.problem(f"{where}.accounts", f"expected an array of account names, got {show(accounts)}")
                accounts = []
            if handle is None:
                self.problem(f"{where}.handle", "missing: @username, t.me link or numeric id")
                continue
            if isinstance(handle, bool) or not isinstance(handle, str | int):
                self.problem(f"{where}.handle", f"expected a string or an integer id, got {show(handle)}")
                continue
            try:
                ident = parse_channel(str(handle))
            except ValueError as exc:
                self.problem(f"{where}.handle", str(exc))
                continue
            ref = ChannelRef(
                key=ident.key,
                username=ident.username,
                channel_id=ident.channel_id,
                labels=labels,
                poll_interval=interval,
                accounts=tuple(accounts),
            )
            if ref.key in seen:
                self.problem(f"{where}.handle", f"duplicate channel {ref.key!r} (also channels[{seen[ref.key]}])")
                continue
            seen[ref.key] = i
            refs.append(ref)
        return tuple(refs)

    def labels(self, value: Any, where: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.problem(where, f'expected a table of key = "value", got {tname(value)}')
            return {}
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                self.problem(f"{where}.{k}", f"a label value must be a string or a number, got {show(v)}")
                continue
            out[str(k)] = str(v)
        return out

    def keywords(self, value: Any) -> tuple[KeywordEntry, ...]:
        if not isinstance(value, list):
            self.problem("keywords", f"expected an array of tables ([[keywords]]), got {tname(value)}")
            return ()
        if len(value) > schema.MAX_KEYWORDS:
            self.problem("keywords", f"{len(value)} keywords; at most {schema.MAX_KEYWORDS} are allowed")
            return ()
        patterns = sum(1 for e in value if isinstance(e, dict) and e.get("mode") == "pattern")
        if patterns > schema.MAX_PATTERN_KEYWORDS:
            self.problem(
                "keywords",
                f"{patterns} keywords with mode = \"pattern\"; at most {schema.MAX_PATTERN_KEYWORDS} are allowed"
                " (larger RE2 pattern sets fail to compile); use word or prefix keywords for plain terms",
            )
            return ()
        out: list[KeywordEntry] = []
        for i, entry in enumerate(value):
            where = f"keywords[{i}]"
            if not isinstance(entry, dict):
                self.problem(where, f"expected a table with a term, got {tname(entry)}")
                continue
            before = len(self.problems)
            values = self.values("keywords", KeywordEntry, entry, label=where)
            bad = len(self.problems) > before
            if not str(values.get("term", "")).strip():
                if "term" not in entry:
                    self.problem(f"{where}.term", "missing: the keyword to look for")
                elif isinstance(entry.get("term"), str) and "term" in values:
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
        if not alerts:
            return
        from monitor.alerts.config import parse_alerts

        try:
            parse_alerts(dict(alerts), f"{self.path}: alerts")
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

    def check_lexicon(self, lexicon: schema.LexiconSettings, base: Path) -> None:
        for i, extra in enumerate(lexicon.extra):
            p = _resolve(extra, base)
            if not p.is_file() or not os.access(p, os.R_OK):
                self.problem(f"lexicon.extra[{i}]", f"cannot read lexicon file {p}")

    def check_source(self, source: schema.SourceSettings, base: Path) -> None:
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

    def credentials(self, telegram: schema.TelegramSettings, base: Path, *, required: bool) -> Credentials | None:
        file = _resolve(telegram.credentials_file, base) if telegram.credentials_file else None
        return read_credentials(self.env, file, required=required, problem=self.problem)


def _resolve(value: str, base: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _re2_error(pattern: str) -> str | None:
    import re2

    try:
        re2.compile(pattern)
    except Exception as exc:  # noqa: BLE001 - re2 raises its own error type; we only need the message
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return str(detail) or type(exc).__name__
    return None


__all__ = ["DEFAULT_CONFIG", "ENV_CONFIG", "check", "default_config_path", "env_var", "load", "parse_instant"]
