"""Fixtures for the sources tests: a frozen clock, a fake-client builder, the shared-data folder."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.clock import FrozenClock
from monitor.sources.telegram import TelethonSource
from monitor.sources.telegram_fake import FakeTelegramClient

from sources.builders import T0, Build


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0 + timedelta(days=30))


@pytest.fixture
def build(clock: FrozenClock) -> Build:
    """Fake client + source over a scenario dict; the source is not started (tests await start())."""

    def _build(data: dict[str, Any], **source_kwargs: Any) -> tuple[FakeTelegramClient, TelethonSource]:
        fake = FakeTelegramClient.from_scenario(data, clock)
        return fake, TelethonSource(fake, clock=clock, **source_kwargs)

    return _build


@pytest.fixture
def shared_dir() -> Path:
    return Path(os.environ.get("MONITOR_SHARED", Path(__file__).resolve().parents[3] / "shared"))
