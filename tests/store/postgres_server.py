"""Where the PostgreSQL tests find their server, and a fresh schema for each test.

The server is ``MONITOR_TEST_POSTGRES`` (a libpq URL), or the development and CI machines' local
server at postgresql://postgres@127.0.0.1:5432/test. Each test gets its own schema, named at
random and dropped afterwards, so tests never see each other's rows and a run leaves nothing.
When no server answers, the tests skip and say how to run them; under CI (CI=true) they fail
instead, because a CI run that skipped PostgreSQL proves nothing about it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

ENV = "MONITOR_TEST_POSTGRES"
DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get(ENV) or DEFAULT


@cache
def _unreachable_reason() -> str | None:
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed: pip install -e '.[postgres]'"

    async def probe() -> None:
        conn = await asyncpg.connect(server_url(), timeout=5)
        await conn.close()

    try:
        # in a thread of its own: the caller may already be inside an event loop (an async fixture)
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, probe()).result()
    except Exception as exc:  # noqa: BLE001 - any failure means: no server for these tests
        return f"no PostgreSQL server at {server_url()} ({type(exc).__name__}: {exc})"
    return None


def require_server() -> None:
    """Skip (or, under CI, fail) when no PostgreSQL server answers."""
    reason = _unreachable_reason()
    if reason is None:
        return
    message = f"{reason}; set {ENV}=postgresql://user@host:port/db to run the PostgreSQL tests"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def with_search_path(url: str, schema: str) -> str:
    """The URL with ``search_path`` set as a server setting (asyncpg passes unknown query keys on)."""
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode({"search_path": schema})
    return urlunsplit(parts._replace(query=query))


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """A URL whose connections work in a new, empty schema; the schema is dropped afterwards."""
    import asyncpg

    require_server()
    schema = "monitor_test_" + secrets.token_hex(6)
    admin = await asyncpg.connect(server_url(), timeout=10)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await admin.close()
    try:
        yield with_search_path(server_url(), schema)
    finally:
        admin = await asyncpg.connect(server_url(), timeout=10)
        try:
            # end sessions a test left behind (a killed daemon's), then drop everything in the schema
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await admin.close()
