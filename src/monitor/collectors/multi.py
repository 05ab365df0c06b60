"""Several accounts in one `monitor run` process: one collector per account, one shared tagger.

Why one collector per account rather than one scheduler juggling several sessions: each account
keeps everything the single-account daemon already does right (its own session and connection,
its own request budget, its own reconnect loop, its own leases and health state), so a parked or
lost account gives its channels back through the leases exactly as a separate process would, to
the process's other accounts or to other processes. What they share is what costs memory: the
tagger (built once). SIGTERM stops them all; each releases its leases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from monitor import logs
from monitor.errors import StoreError
from monitor.settings import Settings
from monitor.store import open_store

log = logs.get_logger("monitor.collectors")


async def run_pool(settings: Settings, count: int, *, until: Callable[[object], bool] | None = None) -> list[object]:
    """Take up to ``count`` free accounts of ``telegram.accounts_dir`` and run a collector on each until
    stopped; returns the daemons. One stopping (a signal, a fatal store error) stops the others."""
    from monitor.collectors.pool import choose_accounts
    from monitor.compose import build_parts, build_tagger
    from monitor.daemon import Daemon

    store = open_store(settings.database_url)
    await store.open()
    try:
        chosen = await choose_accounts(settings, store, count)
    finally:
        await store.close()
    if len(chosen) < count:
        log.warning("fewer free accounts than accounts_per_collector", wanted=count, took=len(chosen))
    tagger = await asyncio.to_thread(build_tagger, settings)
    daemons: list[Daemon] = []
    try:
        for one in chosen:
            daemons.append(Daemon(one, await build_parts(one, tagger=tagger)))
    except BaseException:
        for d in daemons:
            await d.store.close()
        raise
    tasks = [asyncio.create_task(d.run(until)) for d in daemons]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for d in daemons:
            d.request_stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if (exc := task.exception()) is not None:
            raise exc
    for d in daemons:
        if d.fatal is not None:
            raise StoreError(d.fatal)
    return list(daemons)


__all__ = ["run_pool"]
