"""Delivering stored alerts: an outbox worker with retries, backoff, digests and a crash policy.

The engine writes an ``alerts`` row and one ``deliveries`` row per sink (state
'pending') in the transaction that evaluates the post; this module only reads that outbox.
``Deliverer.run_once()`` is meant to run in its own scheduler job (APScheduler,
``max_instances=1``, ``coalesce=True``): collection never awaits it, and every
send is bounded by ``send_timeout`` so a dead or slow sink costs one bounded
attempt per backoff period, never a stalled daemon.

Delivery guarantees (the policy the issue asks for, written down):

* A row is claimed ('sending', ``attempts + 1``, lease until now + ``lease``) in a
  committed transaction *before* the network call, and marked 'delivered' in a
  second transaction right after it. Restarting the process between two polls
  therefore never resends anything: delivered rows are never claimed again, and
  pending rows are sent once by the next poll.
* The only window left is a crash *during* a send (after the claim, before the
  mark). Such a row is "in doubt": whether the receiver got it is unknowable from
  here. Once its lease has expired, ``in_doubt`` decides:
  - ``"resend"`` (default, at-least-once): it is sent again, counting towards
    ``max_attempts``. The resend carries the same delivery id (webhook header
    ``X-Monitor-Delivery``, the e-mail Message-ID), so receivers that keep ids see
    it exactly once; a Telegram chat may show it twice.
  - ``"drop"`` (at-most-once): it is marked 'failed' with a note and never resent
    by itself; ``requeue_failed`` brings it back after a look.
  Leases, not process start-up, define "in doubt", so a second deliverer (say a
  CLI flush next to the daemon) never steals rows that are still being sent.
* Marks are conditional on the claim (state 'sending' and the same ``attempts``),
  and are shielded from cancellation, so a shutdown right after a successful send
  still records it.
* Failures: ``PermanentDeliveryError`` fails the row at once; anything else is
  retried after ``min(cap, base * 2**(attempts-1))`` seconds shrunk by up to
  ``jitter`` (so a fleet of retries does not synchronise), or after the server's
  Retry-After when that is longer; after ``max_attempts`` the row is 'failed'.
  A sink that failed is not tried again (for any row) before that retry time.

Digest mode (``digest`` set): alerts are grouped per sink by the UTC-aligned
period of ``fired_at``; once a period has ended, its alerts go out as one
message and their rows become 'digested'. Alerts that reach the outbox after
their period's digest was sent go out in a second message for that period.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal


from monitor.alerts.sinks import DigestPeriod, PermanentDeliveryError, RetryAfter, Sink, build_sinks
from monitor.clock import Clock
from monitor.errors import MonitorError
from monitor.models import ClaimedDelivery
from monitor.store.ports import Outbox
from monitor.logger import get_logger

InDoubt = Literal["resend", "drop"]



@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """What one ``run_once`` did, counted in outbox rows (``messages`` counts sends that succeeded)."""

    delivered: int = 0
    digested: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0
    messages: int = 0
    errors: tuple[str, ...] = ()


@dataclass(slots=True)
class _Tally:
    delivered: int = 0
    digested: int = 0
    retried: int = 0
    failed: int = 0
    messages: int = 0
    errors: list[str] = field(default_factory=list)


class Deliverer:
    def __init__(
        self,
        store: Outbox,
        sinks: Sequence[Sink] | Mapping[str, Sink],
        clock: Clock,
        *,
        max_attempts: int = 8,
        backoff_base: float = 30.0,
        backoff_cap: float = 3600.0,
        jitter: float = 0.5,
        send_timeout: float = 60.0,
        lease: float | None = None,
        batch_size: int = 20,
        digest: timedelta | None = None,
        digest_limit: int = 500,
        in_doubt: InDoubt = "resend",
        rng: random.Random | None = None,
        logger: Any = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if not 0 <= jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if digest is not None and digest.total_seconds() < 1:
            raise ValueError("a digest period must be at least a second")
        if in_doubt not in ("resend", "drop"):
            raise ValueError("in_doubt must be 'resend' or 'drop'")
        self.store = store
        self.sinks: dict[str, Sink] = (
            dict(sinks) if isinstance(sinks, Mapping) else {s.name: s for s in sinks}
        )
        self.clock = clock
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.jitter = jitter
        self.send_timeout = send_timeout
        self.lease = lease if lease is not None else send_timeout + 30.0
        if self.lease <= send_timeout:
            raise ValueError("lease must be longer than send_timeout, or live sends would look in doubt")
        self.batch_size = batch_size
        self.digest = digest
        self.digest_limit = digest_limit
        self.in_doubt = in_doubt
        self._rng = rng or random.Random()
        self._log = logger if logger is not None else get_logger("monitor.alerts.delivery")
        self._hold: dict[str, datetime] = {}  # sink -> not before (after a transient failure)
        self._checked_orphans = False

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``: exponential, capped, shrunk by up to ``jitter``."""
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(attempts - 1, 0))
        return float(delay * (1.0 - self.jitter * self._rng.random()))

    async def run_once(self) -> DeliveryReport:
        """Resolve rows in doubt, then send what is due on every sink (sinks in parallel)."""
        now = self.clock.now()
        recovered = await self.store.recover_in_doubt(
            now=now, resend=self.in_doubt == "resend", max_attempts=self.max_attempts
        )
        if recovered:
            self._log.warning("alert deliveries in doubt", rows=recovered, policy=self.in_doubt)
        if not self._checked_orphans:  # once per process: rows for sinks that left the config wait
            self._checked_orphans = True
            orphans = [s for s in await self.store.pending_sinks() if s not in self.sinks]
            if orphans:
                self._log.warning(
                    "pending alert deliveries for sinks that are not configured; they wait until the sink"
                    " is configured again",
                    sinks=orphans,
                )
        tallies = [_Tally() for _ in self.sinks]
        jobs = []
        for (name, sink), tally in zip(self.sinks.items(), tallies, strict=True):
            hold = self._hold.get(name)
            if hold is not None and now < hold:
                continue
            self._hold.pop(name, None)
            jobs.append(
                self._run_digest(name, sink, tally) if self.digest else self._run_immediate(name, sink, tally)
            )
        broken: list[str] = []
        for outcome in await asyncio.gather(*jobs, return_exceptions=True):
            # a store error: the claimed row stays 'sending' and is in doubt once its lease ends
            if isinstance(outcome, BaseException):
                self._log.error("alert delivery run failed", error=repr(outcome))
                broken.append(f"{type(outcome).__name__}: {outcome}")
        return DeliveryReport(
            delivered=sum(t.delivered for t in tallies),
            digested=sum(t.digested for t in tallies),
            retried=sum(t.retried for t in tallies),
            failed=sum(t.failed for t in tallies),
            recovered=recovered,
            messages=sum(t.messages for t in tallies),
            errors=tuple(e for t in tallies for e in t.errors) + tuple(broken),
        )

    async def run(self, stop: asyncio.Event, *, interval: float = 15.0) -> None:
        """The daemon's delivery worker: ``run_once`` every ``interval`` seconds until ``stop`` is set.

        A run in progress is finished, not cancelled (each send is bounded by
        ``send_timeout``), so a clean shutdown leaves nothing in doubt. A failing run is
        logged and the loop goes on: delivery never takes the daemon down.
        """
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception as exc:  # noqa: BLE001 - logged; the next run retries
                    self._log.error("alert delivery run failed", error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the sinks' reused network clients (sinks without one have no ``aclose``)."""
        for sink in self.sinks.values():
            close = getattr(sink, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    async def _run_immediate(self, name: str, sink: Sink, tally: _Tally) -> None:
        for _ in range(self.batch_size):
            now = self.clock.now()
            claimed = await self.store.claim_deliveries(
                name, now=now, lease_until=now + timedelta(seconds=self.lease), limit=1
            )
            if not claimed:
                return
            if not await self._deliver(name, sink, claimed, None, tally):
                return

    async def _run_digest(self, name: str, sink: Sink, tally: _Tally) -> None:
        assert self.digest is not None
        seconds = int(self.digest.total_seconds())
        for _ in range(self.batch_size):
            now = self.clock.now()
            found = await self.store.claim_digest(
                name,
                now=now,
                period_seconds=seconds,
                lease_until=now + timedelta(seconds=self.lease),
                limit=self.digest_limit,
            )
            if found is None:
                return
            start, claimed = found
            if not claimed:
                return
            period = DigestPeriod(start, start + timedelta(seconds=seconds))
            if not await self._deliver(name, sink, claimed, period, tally):
                return

    async def _deliver(
        self, name: str, sink: Sink, claimed: list[ClaimedDelivery], period: DigestPeriod | None, tally: _Tally
    ) -> bool:
        """Send one message and record the outcome; False when the sink should rest until later."""
        alerts = [alert for alert, _ in claimed]
        items = [(alert.id or 0, attempts) for alert, attempts in claimed]
        try:
            async with asyncio.timeout(self.send_timeout):
                if period is None:
                    await sink.send(alerts)
                else:
                    await sink.send(alerts, period=period)
        except Exception as exc:  # noqa: BLE001 - any sink failure is a failed attempt, never a dead job
            await asyncio.shield(self._record_failure(name, items, exc, tally))
            return False
        at = self.clock.now()
        await asyncio.shield(self.store.mark_delivered(name, items, at=at, digested=period is not None))
        tally.messages += 1
        if period is None:
            tally.delivered += len(items)
        else:
            tally.digested += len(items)
        self._log.info(
            "alert delivered",
            sink=name,
            alerts=[i for i, _ in items],
            digest=period is not None,
            attempts=items[0][1],
        )
        return True

    async def _record_failure(
        self, name: str, items: list[tuple[int, int]], exc: Exception, tally: _Tally
    ) -> None:
        if isinstance(exc, TimeoutError):
            error = f"{name}: no answer within {self.send_timeout:g}s"
        elif isinstance(exc, MonitorError):
            error = str(exc)
        else:
            error = f"{name}: {type(exc).__name__}: {exc}"
            self._log.error("alert sink raised an unexpected error", sink=name, exc_info=exc)
        tally.errors.append(error)
        now = self.clock.now()
        permanent = isinstance(exc, PermanentDeliveryError)
        spent = [i for i in items if permanent or i[1] >= self.max_attempts]
        again = [i for i in items if i not in spent]
        if spent:
            await self.store.mark_failed(name, spent, at=now, error=error)
            tally.failed += len(spent)
            self._log.error(
                "alert delivery failed for good", sink=name, alerts=[i for i, _ in spent], error=error
            )
        if again:
            attempts = max(a for _, a in again)
            delay = self.backoff(attempts)
            if isinstance(exc, RetryAfter):
                delay = max(delay, exc.seconds)
            next_at = now + timedelta(seconds=delay)
            await self.store.mark_retry(name, again, next_attempt_at=next_at, error=error)
            tally.retried += len(again)
            self._hold[name] = next_at
            self._log.warning(
                "alert delivery will be retried",
                sink=name,
                alerts=[i for i, _ in again],
                attempts=attempts,
                next_attempt_at=next_at.isoformat(),
                error=error,
            )


def build_deliverer(
    config: Any, *, store: Outbox, clock: Clock, env: Mapping[str, str], **options: Any
) -> Deliverer:
    """The Deliverer of an ``AlertsConfig`` (its ``sinks`` and ``digest_seconds``); raises ConfigError
    when a sink's secret is missing from ``env``. ``options`` go to ``Deliverer`` as they are."""
    sinks = build_sinks(tuple(getattr(config, "sinks", ())), env)
    seconds = float(getattr(config, "digest_seconds", 0.0) or 0.0)
    digest = timedelta(seconds=seconds) if seconds > 0 else None
    return Deliverer(store, sinks, clock, digest=digest, **options)


__all__ = ["Deliverer", "DeliveryReport", "InDoubt", "build_deliverer"]
