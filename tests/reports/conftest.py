"""Fixtures of the report tests; the data itself is built in reportdata.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from reportdata import Dataset, ReportStore, fill


@pytest.fixture
async def dataset(tmp_path: Path) -> AsyncIterator[Dataset]:
    store = ReportStore(tmp_path / "monitor.db")
    await store.open()
    try:
        yield await fill(store)
    finally:
        await store.close()
