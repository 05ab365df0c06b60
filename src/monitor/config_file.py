"""Editing the watch list in a config file: `monitor channels add/remove` and the demo use it.

Only the ``[[channels]]`` tables are rewritten; every other line of the analyst's file,
comments included, stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError, Problem


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*(\]\]?)\s*(#.*)?$")


def channel_entries(path: str | Path) -> list[dict[str, Any]]:
    """The ``[[channels]]`` tables of a config file as written (handle, labels, poll_interval)."""
    data = _read_toml(Path(path))
    value = data.get("channels", [])
    if not isinstance(value, list):
        raise ConfigError(Problem(f"{path}: channels", "expected an array of tables ([[channels]])"))
    return [dict(v) for v in value if isinstance(v, dict)]


def write_channels(path: str | Path, entries: Sequence[Mapping[str, Any]]) -> None:
    """Rewrite only the config's ``[[channels]]`` tables, keeping every other line as it was.

    Read with tomllib, rewritten as text, checked by parsing the result (everything
    but the channels must be unchanged) and replaced atomically, so a crash or a
    bug never leaves a half-written config for the daemon to pick up.
    """
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(Problem(str(path), f"cannot read config file: {exc.strerror or exc}")) from exc
    before = _read_toml(path)
    if "channels" in before and not _has_channel_tables(text):
        raise ConfigError(
            Problem(
                f"{path}: channels",
                "written inline; use [[channels]] tables to edit it with `monitor channels`",
            )
        )
    kept: list[str] = []
    insert_at: int | None = None
    in_channels = False
    for line in text.splitlines(keepends=True):
        m = _HEADER.match(line)
        if m:
            name = m.group(2).strip().strip("\"'")
            in_channels = name == "channels" or name.startswith("channels.")
            if in_channels and insert_at is None:
                insert_at = len(kept)
        stripped = line.strip()
        # Comment-only and blank lines stay: the ones after a channel block usually introduce what follows.
        if not in_channels or (not m and (not stripped or stripped.startswith("#"))):
            kept.append(line)
    blocks = "".join(_channel_block(e) for e in entries)
    if insert_at is None:
        if kept and not kept[-1].endswith("\n"):
            kept[-1] += "\n"
        if kept and kept[-1].strip():
            kept.append("\n")
        kept.append(blocks)
    else:
        kept.insert(insert_at, blocks)
    new_text = re.sub(r"\n{3,}", "\n\n", "".join(kept))  # blank lines of removed blocks must not pile up
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - a bug here must never reach the file
        raise ConfigError(
            Problem(str(path), f"refusing to write: the edited file would not parse ({exc})")
        ) from exc
    rest_before = {k: v for k, v in before.items() if k != "channels"}
    rest_after = {k: v for k, v in after.items() if k != "channels"}
    if rest_before != rest_after or after.get("channels", []) != [
        {k: v for k, v in e.items() if v is not None} for e in entries
    ]:
        raise ConfigError(
            Problem(str(path), "refusing to write: the edit would change more than the channels")
        )
    _atomic_write(path, new_text)


def _has_channel_tables(text: str) -> bool:
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m and m.group(1) == "[[" and m.group(2).strip().strip("\"'") == "channels":
            return True
    return False


def _channel_block(entry: Mapping[str, Any]) -> str:
    lines = ["[[channels]]"]
    handle = entry["handle"]
    lines.append(f"handle = {_toml_value(handle)}")
    labels = entry.get("labels")
    if labels:
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in labels.items())
        lines.append(f"labels = {{ {inner} }}")
    if entry.get("poll_interval") is not None:
        lines.append(f"poll_interval = {_toml_value(entry['poll_interval'])}")
    return "\n".join(lines) + "\n\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # A JSON string is a valid TOML basic string (same escapes, \\uXXXX included).
    return json.dumps(str(value), ensure_ascii=False)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(Problem(str(path), f"cannot read config file: {exc.strerror or exc}")) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(Problem(str(path), f"not valid TOML: {exc}")) from exc


def _atomic_write(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ConfigError(Problem(str(path), f"cannot write config file: {exc.strerror or exc}")) from exc
