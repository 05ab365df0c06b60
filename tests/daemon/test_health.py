"""The verdict `monitor status` and the health check give, and when a channel's error counts as resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.health import STOPPED_PID, UNAUTHORIZED, assess, current_error
from monitor.models import WatchState

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def state(status: str = "active", **kw: object) -> WatchState:
    base: dict[str, object] = {
        "key": "ozod_sado",
        "channel": None,
        "labels": {},
        "poll_interval": None,
        "watched": True,
        "status": status,
        "status_reason": None,
        "retry_at": None,
        "last_poll_at": None,
        "last_success_at": None,
        "last_error": None,
        "checkpoint": 0,
    }
    return WatchState(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("beat", "channels", "expected"),
    [
        (None, [], ("never", False)),
        ((4242, NOW, NOW - timedelta(seconds=5)), [state()], ("running", True)),
        ((4242, NOW, NOW - timedelta(seconds=500)), [state()], ("stale", False)),
        ((STOPPED_PID, NOW, NOW - timedelta(seconds=5)), [state()], ("stopped", False)),
        ((4242, NOW, NOW), [state(), state(UNAUTHORIZED, status_reason="refused since T: X")], ("unauthorized", False)),
    ],
)
def test_one_verdict_for_status_and_health_checks(beat: object, channels: list, expected: tuple) -> None:
    verdict = assess(beat, channels, now=NOW, stale_after=60)  # type: ignore[arg-type]
    assert (verdict.state, verdict.healthy) == expected


def test_a_stopped_daemon_says_when_and_why() -> None:
    refused = state(UNAUTHORIZED, status_reason="the Telegram session was refused since T: SESSION_REVOKED")
    verdict = assess((STOPPED_PID, NOW, NOW), [refused], now=NOW + timedelta(hours=1), stale_after=60)
    assert verdict.summary.startswith("daemon stopped at 2026-12-07T12:00:00Z; UNAUTHORIZED:")


def test_a_channel_error_is_shown_with_its_time_until_a_later_poll_succeeds() -> None:
    failed = state(last_error="connection lost", last_poll_at=NOW, last_success_at=NOW - timedelta(minutes=5))
    assert current_error(failed) == ("connection lost", NOW)
    resolved = state(last_error="connection lost", last_poll_at=NOW, last_success_at=NOW)
    assert current_error(resolved) == (None, None)
    assert current_error(state(last_error="boom", last_poll_at=NOW)) == ("boom", NOW)  # never succeeded
