"""A database file filled by a test's own ``fill(store)``, for tests that then read it through the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from monitor.store import open_store


def build_database(path: Path | str, fill: Callable[[Any], Awaitable[object]]) -> None:
    """Open (and migrate) the store at ``path``, run ``fill`` on it and close it again."""

    async def build() -> None:
        store = open_store(path)
        await store.open()
        try:
            await fill(store)
        finally:
            await store.close()

    asyncio.run(build())
