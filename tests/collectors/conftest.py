"""Fixtures of the team-mode tests: a PostgreSQL store in a fresh schema, and a virtual clock."""

from __future__ import annotations

import importlib.util
import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.store import Store, open_store


def postgres_server() -> Any:
    """tests/store/postgres_server.py (a sibling folder that is not a package)."""
    path = Path(__file__).resolve().parents[1] / "store" / "postgres_server.py"
    spec = importlib.util.spec_from_file_location("postgres_server_collectors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli_process() -> Any:
    """tests/cli/test_cli_process.py, whose helpers run `monitor` as a user does (start, stop, kill,
    wait_for, beat_of, pg_fetch); loaded by path since tests/cli is not a package."""
    path = Path(__file__).resolve().parents[1] / "cli" / "test_cli_process.py"
    spec = importlib.util.spec_from_file_location("cli_process_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sync_schema_url() -> Iterator[str]:
    """A fresh schema's URL for tests that are not coroutines (they drive `monitor` subprocesses): skips
    without a server, fails under CI, and drops the schema afterwards."""
    server = postgres_server()
    server.require_server()
    loop = asyncio.new_event_loop()
    schema = server.fresh_schema()
    try:
        yield loop.run_until_complete(schema.__aenter__())
    finally:
        loop.run_until_complete(schema.__aexit__(None, None, None))
        loop.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with postgres_server().fresh_schema() as url:
        yield url


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[Store]:
    store = open_store(pg_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
