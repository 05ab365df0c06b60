"""The store: one interface over the database (``ports.py``), one folder per backend.

Everything SQL lives below this package, in ``store/<backend>/`` with its migrations beside it
(``store/sqlite/``, the embedded default, and ``store/postgres/`` for a shared server). Callers
hand in and get back the frozen records of ``monitor.models`` through the role interfaces of
``monitor.store.ports``; ``open_store(url)`` picks the backend from the URL scheme and imports
it lazily, so no caller (and no CLI command) ever imports a backend.

Adding a backend: a package ``monitor.store.<name>`` with a ``from_url(url, **options)`` that
returns a ``Store``, one line in ``BACKENDS`` below, and one line in the contract suite's
``tests/store/conftest.py``; it is finished when that suite passes.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from monitor.errors import StoreError
from monitor.store.ports import Store

# URL scheme -> the backend package that opens it (a bare path means SQLite).
BACKENDS: dict[str, str] = {
    "sqlite": "monitor.store.sqlite",
    "postgresql": "monitor.store.postgres",
}


def url_scheme(url: str) -> str:
    """The backend scheme of a store URL: "sqlite" for a bare path, "postgresql" for postgres://."""
    head, sep, _ = url.partition("://")
    if not sep:
        return "sqlite"
    return "postgresql" if head in ("postgres", "postgresql") else head


def display_url(url: str | Path) -> str:
    """The store URL as it may be shown or logged: a password in it replaced by ``***``."""
    text = str(url)
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return "<unparseable database URL>"
    if password is None:
        return text
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def sqlite_path(url: str) -> Path:
    """The file path of a SQLite store URL (a bare path or sqlite:///path)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite://"):
        return Path(url.removeprefix("sqlite://"))
    return Path(url)


def open_store(url: str | Path, **options: Any) -> Store:
    """Pick the backend for ``url``; the returned store still needs ``await store.open()``.

    Raises StoreError for a scheme no backend handles.
    """
    text = str(url)
    scheme = url_scheme(text)
    module_name = BACKENDS.get(scheme)
    if module_name is None:
        raise StoreError(f"no store backend for {scheme}:// URLs (known: {', '.join(sorted(BACKENDS))})")
    backend = importlib.import_module(module_name)
    return cast(Store, backend.from_url(text, **options))


__all__ = ["BACKENDS", "Store", "display_url", "open_store", "sqlite_path", "url_scheme"]
