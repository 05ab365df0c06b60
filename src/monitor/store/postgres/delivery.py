"""The delivery outbox on PostgreSQL: claims use FOR UPDATE SKIP LOCKED, so two senders never take one row."""

from __future__ import annotations

from monitor.store.postgres.connection import Database


class PostgresDeliveryQueries:
    """``Outbox``; ``self.db`` is the pool."""

    db: Database
