"""Numbered, append-only schema migrations, each applied atomically with its record.

Migrations are the files ``migrations/NNNN_name.sql`` shipped in this package.
A released file is never edited; a schema change is a new file with the next number.
"""

from __future__ import annotations

from monitor.store.migrations import Migration, load_packaged

__all__ = ["CREATE_LEDGER", "Migration", "load_migrations"]


def load_migrations() -> list[Migration]:
    """All SQLite migrations shipped beside the adapter, in order."""
    return load_packaged("monitor.store.sqlite")


CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
)
"""
