"""The PostgreSQL Store: lifecycle, watch list, post writes and daemon state; reads come from the mixins."""

from __future__ import annotations

from typing import Any

from monitor.store.postgres.alerts import PostgresAlertQueries
from monitor.store.postgres.connection import Database, mask_url
from monitor.store.postgres.delivery import PostgresDeliveryQueries
from monitor.store.postgres.reports import PostgresReportQueries


class PostgresStore(PostgresReportQueries, PostgresAlertQueries, PostgresDeliveryQueries):
    """One database shared by a team: collectors write, analysts read through read-only connections."""

    def __init__(self, url: str, *, read_only: bool = False, **options: Any) -> None:
        self.url = url
        self.db = Database(url, read_only=read_only, **options)

    def __repr__(self) -> str:
        return f"PostgresStore({mask_url(self.url)!r})"
