"""What users read: help texts and error messages carry no internal references; the docs warn about ids."""

from __future__ import annotations

import re
from pathlib import Path

import click

from monitor.cli import main

ROOT = Path(__file__).resolve().parents[2]
INTERNAL = re.compile(r"\bissue\s*#?\d+|\.\./|\bshared/|/work/|\bworktree\b|\bcoordinator\b", re.IGNORECASE)


def _helps(cmd: click.Command, path: str):  # type: ignore[no-untyped-def]
    yield path, cmd.get_help(click.Context(cmd, info_name=path))
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _helps(sub, f"{path} {name}")


def test_no_internal_references_in_any_help_text() -> None:
    found = [(path, m.group(0)) for path, text in _helps(main, "monitor") for m in INTERNAL.finditer(text)]
    assert not found


def test_no_internal_references_in_error_messages() -> None:
    """Strings that reach users: exception messages and click echo/help literals in the source."""
    bad = []
    for path in (ROOT / "src" / "monitor").rglob("*.py"):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if re.search(r"(Error|Exception|echo|help=)\(?.*[\"']", line) and INTERNAL.search(line):
                bad.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bad


def test_readme_and_config_say_numeric_ids_resolve_only_once_seen() -> None:
    for doc in (ROOT / "README.md", ROOT / "config" / "channels.example.toml"):
        text = " ".join(doc.read_text("utf-8").split())
        text = text.replace("# ", "")
        assert "numeric id only for a channel the account has already seen" in text, doc
        assert "username or `t.me` link is the reliable way" in text or "username or t.me link is the reliable way" in text, doc
