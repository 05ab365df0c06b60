"""The contract suite's one ``store`` fixture, parametrized over every backend.

A backend joins the suite with one line in ``BACKENDS``: a name and an async factory that returns
an opened, EMPTY store (and a cleanup). The suite then runs every contract test against it; the
backend is finished when all pass. Backends whose server is not reachable skip with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from postgres_server import fresh_schema

from monitor.store import Store, open_store


@asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[Store]:
    store = open_store(tmp_path / "contract.db")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def postgres_backend(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh schema on the test server (skips with the reason, or fails under CI, without one)."""
    async with fresh_schema() as url:
        store = open_store(url)
        await store.open()
        try:
            yield store
        finally:
            await store.close()


Backend = Callable[[Path], AbstractAsyncContextManager[Store]]

# name -> factory of an opened, empty store.
BACKENDS: dict[str, Backend] = {
    "sqlite": sqlite_backend,
    "postgres": postgres_backend,
}


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened, empty store of each backend in turn."""
    async with BACKENDS[request.param](tmp_path) as opened:
        yield opened

