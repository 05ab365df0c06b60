"""Numbered, append-only schema migrations: the one loader every backend uses for its own folder.

Each backend ships ``migrations/NNNN_name.sql`` beside its adapter (``store/sqlite/``,
``store/postgres/``). A released file is never edited; a schema change is a new file with the
next number. Each backend applies them in its own way, each atomically with its record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from monitor.errors import MigrationError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_packaged(package: str) -> list[Migration]:
    """The migrations shipped in ``package``'s ``migrations`` folder, in order; refuses gaps and
    duplicates, so a bad merge cannot ship."""
    found: list[Migration] = []
    folder = resources.files(package) / "migrations"
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for index, migration in enumerate(found, start=1):
        if migration.version != index:
            raise MigrationError(
                f"{package} migrations must be numbered 1..n without gaps; found {migration.version:04d}"
            )
    return found
