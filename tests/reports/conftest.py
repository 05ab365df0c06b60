"""Fixtures of the report tests; the data itself is built in reportdata.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from reports.reportdata import Dataset, fill


@pytest.fixture
async def dataset(store_factory: Any) -> AsyncIterator[Dataset]:
    yield await fill(await store_factory())
