"""Schema upgrades, consistency checks and copies between deployments: ``monitor db migrate|check|copy``.

Why here and not in the CLI: these work on any backend through the ``BulkCopy`` port, and the
CLI never names a backend. Each backend package has a ``bulk`` module with ``bulk(store)``,
``peek_schema_version(url)`` and ``newest_version()``; this module picks it by URL scheme, like
``open_store``. Every URL that leaves this module is masked (``display_url``).

How a copy stays exact across a kill: the source is read in key order in chunks; each chunk is
upserted into the destination in one transaction together with its resume cursor (the last key
copied), so after a kill the next run continues after the last committed chunk and nothing is
copied twice. The destination's triggers keep its report aggregates right while posts and tags
arrive. At the end the rows of every table are counted on both sides and the aggregates are
recounted; a difference is reported, never hidden.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from monitor.errors import MigrationError, StoreError
from monitor.store import BACKENDS, display_url, open_store, url_scheme
from monitor.store.ports import AGGREGATE_TABLES, COPY_TABLE_NAMES, COPY_TABLES, BulkCopy, Store

DEFAULT_CHUNK = 5000


def _backend(url: str) -> ModuleType:
    scheme = url_scheme(url)
    name = BACKENDS.get(scheme)
    if name is None:
        raise StoreError(f"no store backend for {scheme}:// URLs (known: {', '.join(sorted(BACKENDS))})")
    return importlib.import_module(f"{name}.bulk")


def bulk_of(store: Store) -> BulkCopy:
    """The ``BulkCopy`` of an opened store (of any backend)."""
    return cast(BulkCopy, _backend(store.url).bulk(store))


async def open_bulk(url: str | Path, *, read_only: bool) -> tuple[Store, BulkCopy]:
    """Open the store at ``url`` (read-only: never created or migrated) and its ``BulkCopy``."""
    text = str(url)
    module = _backend(text)
    store = open_store(text, read_only=read_only)
    await store.open()
    return store, cast(BulkCopy, module.bulk(store))


@dataclass(frozen=True, slots=True)
class MigrateResult:
    url: str
    before: int
    after: int
    newest: int

    @property
    def applied(self) -> list[int]:
        return list(range(self.before + 1, self.after + 1))


async def migrate(url: str | Path) -> MigrateResult:
    """Bring the schema at ``url`` up to this code's newest version; refuses a newer schema untouched."""
    text = str(url)
    module = _backend(text)
    newest = int(module.newest_version())
    before = int(await module.peek_schema_version(text))
    if before > newest:
        raise MigrationError(
            f"{display_url(text)} has schema version {before}, newer than this monitor knows ({newest});"
            " upgrade monitor instead of downgrading the database"
        )
    store = open_store(text)
    await store.open()  # migrates, each migration in its own transaction with its record
    try:
        after = int(await cast(Any, store).schema_version())
    finally:
        await store.close()
    return MigrateResult(url=display_url(text), before=before, after=after, newest=newest)


@dataclass(frozen=True, slots=True)
class CheckResult:
    url: str
    version: int
    newest: int
    counts: dict[str, int]
    drift: list[str]

    @property
    def ok(self) -> bool:
        return not self.drift and self.version == self.newest


async def check(url: str | Path) -> CheckResult:
    """Schema version, rows per table and the aggregates against a recount, on a read-only connection."""
    text = str(url)
    module = _backend(text)
    store, bulk = await open_bulk(text, read_only=True)
    try:
        version = await bulk.schema_version()
        counts = await bulk.table_counts([*COPY_TABLE_NAMES, *AGGREGATE_TABLES])
        drift = await bulk.aggregate_drift()
    finally:
        await store.close()
    return CheckResult(url=display_url(text), version=version, newest=int(module.newest_version()), counts=counts,
                       drift=drift)


@dataclass(slots=True)
class CopyResult:
    source: str
    destination: str
    resumed: bool
    source_counts: dict[str, int]
    destination_counts: dict[str, int]
    copied: dict[str, int] = field(default_factory=dict)
    drift: list[str] = field(default_factory=list)

    @property
    def mismatched(self) -> dict[str, tuple[int, int]]:
        return {t: (n, self.destination_counts.get(t, -1)) for t, n in self.source_counts.items()
                if self.destination_counts.get(t) != n}

    @property
    def ok(self) -> bool:
        return not self.mismatched and not self.drift


Progress = Callable[[str, int], None]  # (table, rows just copied)
Start = Callable[[int, int], None]  # (rows in the source, rows already copied by an earlier run)


async def copy(
    source: str | Path,
    destination: str | Path,
    *,
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    start: Start | None = None,
) -> CopyResult:
    """Copy every table of ``COPY_TABLES`` from ``source`` into ``destination``, resuming an earlier run.

    The source is opened read-only (it must be at this code's schema version); the destination is
    migrated (a newer schema is refused before anything is written) and must be empty unless it
    holds an unfinished copy of the same source. Collectors should be stopped on the source while
    it runs: rows added meanwhile show up as count mismatches at the end.
    """
    src_text, dst_text = str(source), str(destination)
    if url_scheme(src_text) == url_scheme(dst_text) and _same(src_text, dst_text):
        raise StoreError("source and destination are the same database")
    src_store, src = await open_bulk(src_text, read_only=True)
    try:
        dst_store, dst = await open_bulk(dst_text, read_only=False)
    except BaseException:
        await src_store.close()
        raise
    try:
        return await _copy(src, dst, chunk=chunk, progress=progress, start=start)
    finally:
        await dst_store.close()
        await src_store.close()


def _same(a: str, b: str) -> bool:
    if url_scheme(a) == "sqlite":
        from monitor.store import sqlite_path

        return sqlite_path(a).resolve() == sqlite_path(b).resolve()
    return a == b


async def _copy(src: BulkCopy, dst: BulkCopy, *, chunk: int, progress: Progress | None, start: Start | None) -> CopyResult:
    # Each backend numbers its own migrations: the source was opened read-only, which requires its
    # newest version, and the destination was migrated to its newest, so the tables agree.
    job = src.url
    state = await dst.copy_progress(job)
    resumed = bool(state)
    if not state:
        held = {t: n for t, n in (await dst.table_counts(COPY_TABLE_NAMES)).items() if n}
        if held:
            jobs = await dst.copy_jobs()
            hint = f" (it holds a copy from {', '.join(jobs)})" if jobs else ""
            raise StoreError(
                f"{dst.url} is not empty ({', '.join(f'{t}: {n}' for t, n in held.items())}){hint};"
                " copy into an empty database"
            )
    source_counts = await src.table_counts(COPY_TABLE_NAMES)
    if start is not None:
        start(sum(source_counts.values()), sum(copied for _, copied, _ in state.values()))
    result = CopyResult(source=src.url, destination=dst.url, resumed=resumed, source_counts=source_counts,
                        destination_counts={})
    for table in COPY_TABLES:
        cursor, copied, done = state.get(table.name, (None, 0, False))
        if not done:
            key_at = [table.columns.index(k) for k in table.key]
            while True:
                rows = await src.export_rows(table.name, cursor, chunk)
                if not rows:
                    break
                cursor = tuple(rows[-1][i] for i in key_at)
                copied += len(rows)
                await dst.import_rows(table.name, rows, job=job, cursor=cursor, copied=copied)
                if progress is not None:
                    progress(table.name, len(rows))
            await dst.finish_table(table.name, job=job)
        result.copied[table.name] = copied
    result.destination_counts = await dst.table_counts(COPY_TABLE_NAMES)
    result.drift = await dst.aggregate_drift()
    return result


__all__ = ["CheckResult", "CopyResult", "DEFAULT_CHUNK", "MigrateResult", "bulk_of", "check", "copy", "migrate", "open_bulk"]
