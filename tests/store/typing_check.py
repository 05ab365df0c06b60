"""Checked by mypy in test_typing.py (never imported by pytest): each backend is a complete ``Store``.

Instantiating the class fails the check when any port method is missing (the ports are Protocols
with abstract bodies), and the return fails when a signature does not match its port.
"""

from __future__ import annotations

from pathlib import Path

from monitor.store.ports import AlertHistory, Outbox, PostWrites, ReportReads, Store, WatchList
from monitor.store.postgres import PostgresStore
from monitor.store.sqlite import SQLiteStore
from monitor.store.ports import BulkCopy
from monitor.store.postgres.bulk import PostgresBulk
from monitor.store.sqlite.bulk import SQLiteBulk


def sqlite_is_a_store(path: Path) -> Store:
    return SQLiteStore(path)


def sqlite_plays_every_role(store: SQLiteStore) -> tuple[WatchList, PostWrites, ReportReads, AlertHistory, Outbox]:
    return store, store, store, store, store


def postgres_is_a_store(url: str) -> Store:
    return PostgresStore(url)


def postgres_plays_every_role(
    store: PostgresStore,
) -> tuple[WatchList, PostWrites, ReportReads, AlertHistory, Outbox]:
    return store, store, store, store, store


def bulk_copy_on_both_backends(lite: SQLiteBulk, pg: PostgresBulk) -> tuple[BulkCopy, BulkCopy]:
    """``monitor db copy|check`` work through this port on either side."""
    return lite, pg
