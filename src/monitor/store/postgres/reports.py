"""Report reads on PostgreSQL: the same rows as the SQLite backend's ``reports.py``, from the same aggregates."""

from __future__ import annotations

from monitor.store.postgres.connection import Database


class PostgresReportQueries:
    """``ReportReads`` over the aggregate tables; ``self.db`` is the store's pool."""

    db: Database
