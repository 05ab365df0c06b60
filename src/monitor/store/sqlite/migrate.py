"""Numbered, append-only schema migrations, each applied atomically with its record.

Migrations are the files ``migrations/NNNN_name.sql`` shipped in this package.
A released file is never edited; a schema change is a new file with the next number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """All shipped migrations in order; refuses gaps and duplicates so a bad merge cannot ship."""
    found: list[Migration] = []
    folder = resources.files("monitor.store.sqlite") / "migrations"
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for index, migration in enumerate(found, start=1):
        if migration.version != index:
            raise RuntimeError(f"migrations must be numbered 1..n without gaps; found {migration.version:04d}")
    return found


CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
)
"""
