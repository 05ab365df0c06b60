"""Alert history on PostgreSQL: terms, discovered channels, rule state and fired alerts."""

from __future__ import annotations

from typing import Any

from monitor.store.postgres.connection import Database


class PostgresAlertTx:
    """The ``History`` handed to the alert engine inside a write transaction (``save_posts(evaluate=...)``).

    ``conn`` is the asyncpg connection of that transaction; every read and write of the engine goes
    through it, so the posts and their evaluation commit together (as ``AlertTx`` on SQLite).
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn


class PostgresAlertQueries:
    """``AlertHistory`` (and the ``History`` handed to the engine inside a save); ``self.db`` is the pool."""

    db: Database
