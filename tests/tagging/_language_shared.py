"""Where the read-only shared data lives (``$MONITOR_SHARED`` or ``<repo>/../shared``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    return Path(os.environ.get("MONITOR_SHARED", REPO.parent / "shared"))


def lid_dir_or_skip() -> Path:
    lid = shared_dir() / "data" / "lid"
    if not (lid / "dev.tsv").is_file() or not (lid / "train").is_dir():
        pytest.skip(f"shared language-ID data not found at {lid} (set MONITOR_SHARED)")
    return lid
