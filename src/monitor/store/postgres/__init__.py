"""The PostgreSQL backend: the adapter (``store.py`` with its query mixins) and its migrations beside it.

``monitor.store.open_store`` imports this package only for a postgresql:// URL, so asyncpg stays
inside this folder and the ``postgres`` extra stays optional.
"""

from __future__ import annotations

from typing import Any

from monitor.store.postgres.store import PostgresStore

__all__ = ["PostgresStore", "from_url"]


def from_url(url: str, **options: Any) -> PostgresStore:
    """The store for a postgresql:// (or postgres://) URL; libpq conventions for the password."""
    return PostgresStore(url, **options)
