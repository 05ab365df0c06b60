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

from monitor.store import Store, open_store


@asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[Store]:
    store = open_store(tmp_path / "contract.db")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


Backend = Callable[[Path], AbstractAsyncContextManager[Store]]

# name -> factory of an opened, empty store. PostgreSQL joins with one line here.
BACKENDS: dict[str, Backend] = {
    "sqlite": sqlite_backend,
}


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened, empty store of each backend in turn."""
    async with BACKENDS[request.param](tmp_path) as opened:
        yield opened

