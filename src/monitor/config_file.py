"""Editing the watch list in a config file: `monitor channels add/remove` and the demo use it.

Only the ``[[channels]]`` tables that change are touched; every other line of the analyst's
file, comments and odd formatting included, stays byte for byte. New tables are rendered by
tomlkit (quoting and escaping of labels), the file is parsed before and after, and the
edit is refused unless exactly the channels changed.
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

import tomlkit
import tomlkit.exceptions
from tomlkit.items import AoT

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
    """Make the config's ``[[channels]]`` tables hold ``entries``, touching only the tables that change.

    A table whose value stays is left byte for byte (comments, spacing, key order, quoting);
    a removed table's lines go, a new one is written by tomlkit after the last channel
    table. The result is parsed and compared (everything but the channels unchanged,
    the channels equal to ``entries``) and replaced atomically, so a crash or a bug
    never leaves a half-written config for the daemon to pick up.
    """
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(Problem(str(path), f"cannot read config file: {exc.strerror or exc}")) from exc
    before = _read_toml(path)
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:  # tomllib accepted it: a tomlkit gap, say so
        raise ConfigError(Problem(str(path), f"cannot edit this file: {exc}")) from exc
    if "channels" in doc and not isinstance(doc.item("channels"), AoT):
        raise ConfigError(
            Problem(f"{path}: channels", "written inline; use [[channels]] tables to edit it with `monitor channels`")
        )
    wanted = [_plain_entry(e) for e in entries]
    lines = text.splitlines(keepends=True)
    tables = _channel_tables(lines)
    existing = before.get("channels", [])
    if len(tables) != len(existing):
        raise ConfigError(Problem(f"{path}: channels", "cannot tell the [[channels]] tables apart; edit it by hand"))
    remaining = list(wanted)
    drop: list[tuple[int, int]] = []
    for (start, end), value in zip(tables, existing, strict=True):
        if value in remaining:
            remaining.remove(value)
        else:
            drop.append((start, end))
    insert_at = tables[-1][1] if tables else len(lines)
    added = "".join("\n" + _channel_block(e) for e in remaining)
    if added and insert_at == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if added and not lines:
        added = added[1:]
    out = lines[:insert_at] + ([added] if added else []) + lines[insert_at:]
    for start, end in sorted(drop, reverse=True):  # after insert_at, so indices still hold
        blank_before = start > 0 and not out[start - 1].strip()
        blank_after = end >= len(out) or not out[end].strip()
        if blank_before and blank_after:
            start -= 1
        del out[start:end]
    new_text = "".join(out)
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - a bug here must never reach the file
        raise ConfigError(Problem(str(path), f"refusing to write: the edited file would not parse ({exc})")) from exc
    rest_before = {k: v for k, v in before.items() if k != "channels"}
    rest_after = {k: v for k, v in after.items() if k != "channels"}
    if rest_before != rest_after or _sorted(after.get("channels", [])) != _sorted(wanted):
        raise ConfigError(Problem(str(path), "refusing to write: the edit would change more than the channels"))
    _atomic_write(path, new_text)


def _plain_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in entry.items() if v is not None}


def _sorted(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted(json.dumps(e, sort_keys=True, default=str) for e in entries)


def _channel_tables(lines: Sequence[str]) -> list[tuple[int, int]]:
    """``(first line, end)`` of each ``[[channels]]`` table with its sub-tables, up to its last content line.

    Blank and comment lines after a table's last value are left out: they usually introduce
    what follows, so they stay when the table is removed.
    """
    spans: list[tuple[int, int]] = []
    current: int | None = None
    last = 0
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m:
            name = m.group(2).strip().strip("\"'")
            if m.group(1) == "[[" and name == "channels":
                if current is not None:
                    spans.append((current, last + 1))
                current, last = i, i
                continue
            if name.startswith("channels.") and current is not None:
                last = i
                continue
            if current is not None:
                spans.append((current, last + 1))
                current = None
            continue
        stripped = line.strip()
        if current is not None and stripped and not stripped.startswith("#"):
            last = i
    if current is not None:
        spans.append((current, last + 1))
    return spans


def _channel_block(entry: Mapping[str, Any]) -> str:
    table = tomlkit.table()
    table["handle"] = entry["handle"]
    labels = entry.get("labels")
    if labels:
        inline = tomlkit.inline_table()
        inline.update({str(k): v for k, v in labels.items()})
        table["labels"] = inline
    if entry.get("poll_interval") is not None:
        table["poll_interval"] = entry["poll_interval"]
    return "[[channels]]\n" + tomlkit.dumps(table)


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
