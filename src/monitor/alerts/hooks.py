"""What the daemon and `monitor import` plug in: the engine as a save step, and the delivery worker.

``AlertHooks`` is the pipeline's ``AlertStep``: ``before_save`` (retro-hunts), ``evaluator``
(run by ``Store.save_posts`` inside the save transaction), ``after_save`` (logs, pruning); ``run``
drains the outbox. Why one object: both halves share the store and the clock, and the daemon
should not need to know that one writes the outbox and the other drains it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta


from monitor.alerts.config import AlertsConfig
from monitor.alerts.delivery import Deliverer
from monitor.alerts.sinks import build_sinks
from monitor.alerts.engine import AlertEngine
from monitor.store.ports import Evaluate, History, Store
from monitor.alerts.retro import TextTagger
from monitor.clock import Clock
from monitor.alerts.terms import TermHit
from monitor.models import Alert, Channel, PostKey, SaveResult, TaggedPost
from monitor.logger import get_logger

log = get_logger("monitor.alerts")


@dataclass
class AlertHooks:
    engine: AlertEngine
    deliverer: Deliverer | None  # None for `monitor import`: it fills the outbox, the daemon drains it
    importing: bool = False  # posts of `monitor import`: fire only with alerts.fire_on_import
    _terms: dict[int, dict[PostKey, list[TermHit]]] = field(default_factory=dict)  # batch -> its terms
    _fired: list[Alert] = field(default_factory=list)  # evaluated in a save, logged once it committed

    async def before_save(self, channel: Channel, tagged: Sequence[TaggedPost]) -> None:
        """Before a batch is saved: retro-hunt new or changed rules (own transactions), and extract the
        batch's terms in a worker thread, outside the write transaction. Never raises."""
        await self.engine.prepare()
        try:
            self._terms[id(tagged)] = await self.engine.batch_terms(tagged)
        except Exception:  # noqa: BLE001 - the evaluation then extracts them itself
            log.exception("alerts.term_extraction_failed")

    def evaluator(self, channel: Channel, tagged: Sequence[TaggedPost]) -> Evaluate:
        """The alert step ``save_posts`` runs inside its transaction, over the posts it inserted."""
        fire = self.engine.config.fire_on_import if self.importing else True
        terms = self._terms.pop(id(tagged), None)

        async def evaluate(history: History, result: SaveResult) -> None:
            self._fired.extend(
                await self.engine.evaluate(history, channel, tagged, result.inserted_keys, fire=fire, terms=terms)
            )

        return evaluate

    async def after_save(self, channel: Channel, tagged: Sequence[TaggedPost], result: SaveResult) -> None:
        """Once the batch committed: log a failed evaluation, log what fired, prune. Never raises."""
        if result.evaluation_error is not None:
            log.error("alerts.engine_failed", channel_id=channel.id, posts=len(tagged), error=result.evaluation_error)
        fired, self._fired[:] = list(self._fired), []
        await self.engine.after(fired)

    async def on_saved(self, channel: Channel, tagged: Sequence[TaggedPost], result: SaveResult) -> None:
        """Evaluate an already saved batch in its own transaction (tools and tests). Never raises."""
        await self.engine.on_saved(channel, tagged, result.inserted_keys)

    async def run(self, stop: asyncio.Event) -> None:
        """The delivery worker until ``stop`` is set."""
        if self.deliverer is None:
            await stop.wait()
            return
        await self.deliverer.run(stop)


def daemon_hooks(
    config: AlertsConfig,
    *,
    store: Store,
    clock: Clock,
    tagger: TextTagger | None = None,
    env: Mapping[str, str] | None = None,
) -> AlertHooks:
    """Build the engine and, when the delivery side and the store's outbox queries exist, the deliverer.

    Raises ConfigError when a sink cannot be built (a missing secret in the environment), so the
    daemon refuses to start rather than collecting alerts nobody will receive.
    """
    engine = AlertEngine(config, store, clock, tagger=tagger)
    sinks = build_sinks(config.sinks, os.environ if env is None else env)
    digest = timedelta(seconds=config.digest_seconds) if config.digest_seconds else None
    return AlertHooks(engine, Deliverer(store, sinks, clock, digest=digest))


def import_hooks(
    config: AlertsConfig, *, store: Store, clock: Clock, tagger: TextTagger | None = None
) -> AlertHooks:
    """The engine for `monitor import`: imported posts feed history and discovery, and fire only with
    ``alerts.fire_on_import``; no deliverer (the daemon's worker sends what lands in the outbox)."""
    return AlertHooks(AlertEngine(config, store, clock, tagger=tagger), None, importing=True)
