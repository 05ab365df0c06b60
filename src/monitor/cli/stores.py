"""The one way every CLI command opens the store: by URL, through ``monitor.store.open_store``.

Why here: commands that only read (status, alerts, reports) must not create an empty database
where a typo points, nor write or migrate one, while ``run`` and ``import`` may; the CLI never
names a backend.
"""

from __future__ import annotations

from pathlib import Path

from monitor.errors import MonitorError
from monitor.store import Store, open_store, sqlite_path, url_scheme


def missing_database(url: str) -> Path | None:
    """The SQLite file a URL names when it does not exist yet (None for servers or existing files)."""
    if url_scheme(url) != "sqlite":
        return None
    path = sqlite_path(url)
    return None if path.is_file() else path


async def open_db(url: str | Path, *, must_exist: bool = False, read_only: bool = False) -> Store:
    """Open (and migrate) the store at ``url``. Raises MonitorError when ``must_exist`` (implied by
    ``read_only``) and there is no database yet, StoreError when it cannot be opened.

    ``read_only`` is for commands that only read (status, reports, alerts list): the store is opened
    read-only (a SQLite file with mode=ro, PostgreSQL with default_transaction_read_only) and is never
    created or migrated, so an analyst's report can neither write nor change the schema."""
    text = str(url)
    if (must_exist or read_only) and (missing := missing_database(text)) is not None:
        raise MonitorError(f"no database at {missing} yet: start the collector with `monitor run` first")
    OPENED.append(text)
    store = open_store(text, read_only=read_only)
    await store.open()
    return store


OPENED: list[str] = []  # databases this process opened, newest last: named when one turns out damaged


def database_error(exc: BaseException) -> str:
    """One line for a database error the store did not translate (a damaged page met while reading)."""
    where = sqlite_path(OPENED[-1]) if OPENED and url_scheme(OPENED[-1]) == "sqlite" else "the database"
    return f"database {where}: {exc}"
