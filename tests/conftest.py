"""Suite-wide: the compiled-tagger cache lives in a temporary folder, never in the user's ~/.cache."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


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
