"""Alert history on PostgreSQL: terms, discovered channels, rule state and fired alerts."""

from __future__ import annotations

from monitor.store.postgres.connection import Database


class PostgresAlertQueries:
    """``AlertHistory`` (and the ``History`` handed to the engine inside a save); ``self.db`` is the pool."""

    db: Database
