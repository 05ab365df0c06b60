"""The SQLite backend: the adapter (``store.py`` with its query mixins) and its migrations beside it.

``monitor.store.open_store`` imports this package only for a SQLite URL, so aiosqlite stays
inside this folder; ``store/postgres/`` is the slot for the next backend.
"""

from __future__ import annotations

from typing import Any

from monitor.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore", "from_url"]


def from_url(url: str, **options: Any) -> SQLiteStore:
    """The store for a bare path or a sqlite:///path URL (``monitor.store.open_store`` calls this)."""
    from monitor.store import sqlite_path

    return SQLiteStore(sqlite_path(url), **options)
