"""What the daemon plugs in: the engine's ``on_saved`` and the delivery worker.

``monitor.daemon.alert_hooks`` looks for ``monitor.alerts.daemon_hooks(config, *, store,
clock)`` and expects an object with ``on_saved(channel, tagged, result)`` and
``run(stop_event)``. Why one object: both halves share the store and the clock, and
the daemon should not need to know that one writes the outbox and the other drains it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from monitor.alerts.config import AlertsConfig
from monitor.alerts.engine import AlertEngine
from monitor.store.ports import AlertHistory
from monitor.alerts.retro import TextTagger
from monitor.clock import Clock
from monitor.models import Channel, SaveResult, TaggedPost

log = structlog.get_logger("monitor.alerts")


@dataclass
class AlertHooks:
    engine: AlertEngine
    deliverer: Any | None  # monitor.alerts.delivery.Deliverer, when the store has the outbox queries

    async def on_saved(self, channel: Channel, tagged: Sequence[TaggedPost], result: SaveResult) -> None:
        """After each saved batch; only the posts the store inserted are evaluated. Never raises."""
        await self.engine.on_saved(channel, tagged, result.inserted_keys)

    async def run(self, stop: asyncio.Event) -> None:
        """The delivery worker until ``stop`` is set (idles when delivery is not available)."""
        if self.deliverer is None:
            await stop.wait()
            return
        await self.deliverer.run(stop)


def daemon_hooks(
    config: AlertsConfig,
    *,
    store: AlertHistory,
    clock: Clock,
    tagger: TextTagger | None = None,
    env: Mapping[str, str] | None = None,
) -> AlertHooks:
    """Build the engine and, when the delivery side and the store's outbox queries exist, the deliverer.

    Raises ConfigError when a sink cannot be built (a missing secret in the environment), so the
    daemon refuses to start rather than collecting alerts nobody will receive.
    """
    engine = AlertEngine(config, store, clock, tagger=tagger)
    deliverer = None
    try:
        from monitor.alerts.delivery import Deliverer
        from monitor.alerts.sinks import build_sinks
    except ImportError:
        log.warning("alerts.delivery_unavailable", reason="monitor.alerts.delivery is not installed")
        return AlertHooks(engine, None)
    if not hasattr(store, "claim_deliveries"):
        log.warning("alerts.delivery_unavailable", reason="the store has no outbox queries (DeliveryQueries)")
        return AlertHooks(engine, None)
    sinks = build_sinks(config.sinks, os.environ if env is None else env)
    digest = timedelta(seconds=config.digest_seconds) if config.digest_seconds else None
    deliverer = Deliverer(store, sinks, clock, digest=digest)  # type: ignore[arg-type]
    return AlertHooks(engine, deliverer)
