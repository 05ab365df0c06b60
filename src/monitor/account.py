"""The daemon's connection to Telegram: connect without hanging, reconnect with backoff, never die quietly.

Kept out of the daemon's scheduling code so each rule is one function with a test:

* every connect attempt is raced against the stop event, so SIGTERM/SIGINT end the
  process at every stage (the source bounds each attempt in time too);
* connection faults (dropped sockets, Telegram's 500s, an endpoint answering with
  garbage) are retried with exponential backoff and jitter up to a ceiling;
* a session Telegram refuses is recorded (every channel ``unauthorized``, with the
  reason and time; `monitor status` and the health check fail), logged as an error,
  and retried at the slowest pace: the reconnect loop stays alive, and so do the
  heartbeat, retention and alert delivery;
* a custom endpoint's wrong server key, and anything unexpected, are logged as errors
  and retried at the slowest pace instead of killing the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable

from monitor import logs
from monitor.clock import Stopped, until_stopped
from monitor.errors import ConfigError, MonitorError, SourceConnectionError, SourceUnauthorized
from monitor.sources import Source

log = logs.get_logger("monitor.daemon")

OnRefused = Callable[[SourceUnauthorized], Awaitable[None]]


async def connect_at_start(source: Source, stop: asyncio.Event, on_refused: OnRefused) -> bool:
    """The first connect: True when connected, False when the reconnect loop should take over.

    A refused session at start is a configuration problem the operator must fix
    (`monitor login`), so it is recorded and then raised as ConfigError: the daemon
    does not start. A wrong server key is raised as it is (also a ConfigError).
    """
    try:
        await until_stopped(source.start(), stop)
    except Stopped:
        return False
    except SourceConnectionError as exc:
        log.warning("cannot connect yet; retrying with backoff", error=str(exc))
        return False
    except SourceUnauthorized as exc:
        await on_refused(exc)
        raise ConfigError(f"{exc}; log in once with `monitor login`, then start again") from exc
    return True


async def reconnect(
    source: Source,
    stop: asyncio.Event,
    *,
    max_backoff: float,
    rng: random.Random,
    on_refused: OnRefused,
) -> bool:
    """Close and start the source until it connects (True) or the daemon stops (False); never raises."""
    delay = 1.0
    while not stop.is_set():
        with contextlib.suppress(MonitorError, OSError, ConnectionError, Stopped):
            await until_stopped(source.close(), stop)
        try:
            await until_stopped(source.start(), stop)
        except Stopped:
            return False
        except SourceConnectionError as exc:
            wait = min(delay, max_backoff) * (0.5 + rng.random() / 2)
            log.warning("reconnect failed", error=str(exc), retry_in=round(wait, 1))
            delay *= 2
        except SourceUnauthorized as exc:
            await on_refused(exc)
            wait = max_backoff
            log.error(
                "Telegram refuses the session; nothing is collected until it is logged in again",
                error=str(exc),
                retry_in=round(wait, 1),
            )
        except ConfigError as exc:  # e.g. a custom endpoint's server key does not match
            wait = max_backoff
            log.error("cannot connect: configuration problem", error=str(exc), retry_in=round(wait, 1))
        except Exception as exc:  # noqa: BLE001 - the loop must outlive any bug in a source
            wait = max_backoff
            log.exception("reconnect attempt failed unexpectedly", error=repr(exc), retry_in=round(wait, 1))
        else:
            log.info("reconnected")
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
    return False


__all__ = ["Stopped", "connect_at_start", "reconnect", "until_stopped"]
