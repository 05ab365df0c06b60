"""The contract suite's one ``store`` fixture, parametrized over every backend.

A backend joins the suite with one line in ``BACKENDS``: a name and an async factory that returns
an opened, EMPTY store (and a cleanup). The suite then runs every contract test against it; the
backend is finished when all pass. Backends whose server is not reachable skip with the reason.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from postgres_server import fresh_schema

from monitor.store import Store, open_store, ports


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

# name -> factory of an opened, empty store. PostgreSQL joins with one line here.
BACKENDS: dict[str, Backend] = {
    "sqlite": sqlite_backend,
    "postgres": postgres_backend,
}


def _unbuilt(store: Store, test: Callable[..., object]) -> list[str]:
    """Port methods ``test`` calls that the backend does not define yet (a backend under construction)."""
    return sorted(name for name in _called(test) & _PORT_METHODS if not hasattr(store, name))


def _called(test: Callable[..., object]) -> set[str]:
    """Attribute names used by the test and the module-level helpers it calls (one level deep)."""
    module = inspect.getmodule(test)
    tree = ast.parse(textwrap.dedent(inspect.getsource(test)))
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and module is not None:
            helper = getattr(module, node.func.id, None)
            if inspect.isfunction(helper) and helper.__module__ == module.__name__:
                names |= {n.attr for n in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(helper))))
                          if isinstance(n, ast.Attribute)}
    return names


_PORT_METHODS = {  # the store's own methods (History's are checked through alert_transaction)
    name
    for cls in Store.__mro__
    if cls.__module__ == ports.__name__
    for name, value in vars(cls).items()
    if inspect.isfunction(value) and not name.startswith("_")
}


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened, empty store of each backend in turn.

    While a backend is being built, a test that needs a port method it does not have yet skips and
    names the method; once the backend is complete (tests/store/typing_check.py) nothing skips.
    """
    async with BACKENDS[request.param](tmp_path) as opened:
        missing = _unbuilt(opened, request.function)
        if missing:
            pytest.skip(f"{request.param} backend does not implement {', '.join(missing)} yet")
        yield opened

