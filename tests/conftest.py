"""Fixtures every test may use: environment hygiene, a frozen clock, and stores opened one way.

Why hygiene: settings read MONITOR_* variables (database, credentials, config path); a developer's
shell must not change what a test sees. ``MONITOR_SHARED`` (where ../shared lives) is test
configuration, not a setting, and is kept; ``MONITOR_CACHE_DIR`` is set for the whole session to a
temporary folder, so the compiled-tagger cache never lands in the user's ~/.cache.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from monitor.clock import FrozenClock
from monitor.store import Store, open_store

# CI runs the property tests on a fixed seed, so a run is reproducible and never red by the draw of the
# day; a developer's run explores new examples each time (and prints the blob to replay a failure).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")

KEPT_ENV = frozenset({"MONITOR_SHARED", "MONITOR_CACHE_DIR", "MONITOR_TEST_POSTGRES"})
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

StoreFactory = Callable[..., Awaitable[Store]]


def _leaking_env() -> list[str]:
    return [name for name in os.environ if name.startswith("MONITOR_") and name not in KEPT_ENV]


def pytest_configure(config: pytest.Config) -> None:
    """Drop MONITOR_* before any test module is imported, so subprocesses inherit a clean environment."""
    for name in _leaking_env():
        del os.environ[name]


@pytest.fixture(autouse=True, scope="session")
def _tagger_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One cache for the session (set in os.environ, so subprocesses share it): built once, then loaded."""
    old = os.environ.get("MONITOR_CACHE_DIR")
    os.environ["MONITOR_CACHE_DIR"] = str(tmp_path_factory.mktemp("tagger-cache"))
    yield
    if old is None:
        os.environ.pop("MONITOR_CACHE_DIR", None)
    else:
        os.environ["MONITOR_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def _no_monitor_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MONITOR_* variable leaks in from the shell or from another test."""
    for name in _leaking_env():
        monkeypatch.delenv(name)


@pytest.fixture
def clock() -> FrozenClock:
    """A clock that only moves when the test says so."""
    return FrozenClock(T0)


@pytest.fixture
async def store_factory(tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Open (and at teardown close) stores through ``open_store``, the way the application does.

    ``await store_factory()`` opens ``tmp_path/monitor.db``; pass a name or a URL for another.
    """
    opened: list[Store] = []

    async def _open(where: str | Path = "monitor.db", **options: object) -> Store:
        url = where if isinstance(where, Path) or "://" in str(where) or "/" in str(where) else tmp_path / where
        store = open_store(url, **options)
        await store.open()
        opened.append(store)
        return store

    yield _open
    for store in reversed(opened):
        await store.close()


@pytest.fixture
async def sqlite_store(store_factory: StoreFactory) -> Store:
    """An opened, empty SQLite store in the test's own folder."""
    return await store_factory()
