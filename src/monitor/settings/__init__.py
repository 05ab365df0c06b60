"""Settings: the TOML config file, environment overrides and credentials, as a frozen tree.

Precedence: defaults < config file < ``MONITOR_*`` environment < command-line options.
Every setting is declared once in `schema` with its type, unit, default, bounds, allowed
values and reason; ``config/channels.example.toml`` documents the same fields and a test
keeps the two in step. `values` checks one value against its declaration (msgspec),
`loader` reads a file and collects EVERY problem (file and key of each) so an analyst
fixes them in one round, `credentials` holds the one part with secrets. Nothing here
connects to anything: the daemon and the CLI build adapters from the result.

Environment overrides: ``MONITOR_CONFIG`` (path of the config file),
``MONITOR_<KEY>`` for the ``[monitor]`` table (``MONITOR_DATABASE``,
``MONITOR_STORE_TEXT``...), ``MONITOR_<TABLE>_<KEY>`` for the others
(``MONITOR_POLLING_INTERVAL=60``), and the credentials ``MONITOR_API_ID``,
``MONITOR_API_HASH``, ``MONITOR_SESSION`` (a string session; a file is ``telegram.session_file``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from monitor.settings.credentials import Credentials, is_string_session
from monitor.settings.loader import (
    DEFAULT_CONFIG,
    ENV_CONFIG,
    check,
    default_config_path,
    env_var,
    load,
    parse_instant,
)
from monitor.settings.schema import (
    ARRAYS,
    SECTIONS,
    TOP_LEVEL,
    ChannelEntry,
    ConnectionSettings,
    KeywordEntry,
    LexiconSettings,
    MonitorSettings,
    PollingSettings,
    Settings,
    SourceSettings,
    TelegramSettings,
    resolve_database,
)
from monitor.settings.values import FieldSpec, convert, describe_range, field_specs


def setting_fields() -> dict[str, list[str]]:
    """Every documented key per table (``channels``/``keywords`` for the arrays); for docs and tests."""
    out = {name: list(field_specs(cls)) for name, cls in SECTIONS.items()}
    out["telegram"] = [n for n in out["telegram"] if n != "connection"]
    out["telegram.connection"] = list(field_specs(ConnectionSettings))
    out.update({name: list(field_specs(cls)) for name, cls in ARRAYS.items()})
    return out


def check_value(cls: type, key: str, value: Any) -> str | None:
    """The problem with one value of a settings table (e.g. a command-line option), or None."""
    ok, _, message = convert(field_specs(cls)[key], value)
    return None if ok else message


def reference_rows() -> list[str]:
    """One Markdown table row per setting (key, unit, default, allowed range or values): docs/settings.md."""
    rows = []
    tables = [*SECTIONS.items(), ("telegram.connection", ConnectionSettings), *ARRAYS.items()]
    for table, cls in tables:
        for key, spec in field_specs(cls).items():
            if key == "connection":
                continue
            default = spec.default
            shown = "" if default in (None, "", (), {}) else f"`{json.dumps(default)}`"
            allowed = describe_range(spec) or ", ".join(spec.choices)
            unit = spec.unit.replace("|", "\\|")
            rows.append(f"| `{table}.{key}` | {unit} | {shown} | {allowed} |")
    return rows


def with_overrides(settings: Settings, **sections: Mapping[str, Any]) -> Settings:
    """A copy with some settings replaced (command-line options), e.g. ``polling={"interval": 5}``."""
    changes: dict[str, Any] = {}
    for name, values in sections.items():
        changes[name] = replace(getattr(settings, name), **values)
    return replace(settings, **changes)


__all__ = [
    "ARRAYS",
    "DEFAULT_CONFIG",
    "ENV_CONFIG",
    "SECTIONS",
    "TOP_LEVEL",
    "ChannelEntry",
    "ConnectionSettings",
    "Credentials",
    "is_string_session",
    "FieldSpec",
    "KeywordEntry",
    "LexiconSettings",
    "MonitorSettings",
    "PollingSettings",
    "Settings",
    "SourceSettings",
    "TelegramSettings",
    "check",
    "check_value",
    "default_config_path",
    "env_var",
    "field_specs",
    "load",
    "parse_instant",
    "reference_rows",
    "resolve_database",
    "setting_fields",
    "with_overrides",
]
