"""Connections to PostgreSQL: one asyncpg pool, read-only for readers, migrations under a lock.

Why asyncpg: on the ingest benchmark it writes the daemon's batches faster than psycopg 3 (the
figures are in BENCHMARKS.md), and it speaks the binary protocol with prepared statements, which
the report queries reuse. It is imported only here, so the `postgres` extra stays optional.

Errors: every asyncpg/OS error leaves this module as a `StoreError` whose message names the cause
(server unreachable, statement timeout, read-only database, disk full, ...) and shows the URL with
its password masked. A lost connection is `StoreUnavailable`: the caller retries later, and the
pool opens a fresh connection on the next acquire.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from monitor.errors import MigrationError, StoreClosedError, StoreError
from monitor.store import display_url
from monitor.store.migrations import Migration, load_packaged

try:  # the extra is optional: a clear message instead of an ImportError traceback
    import asyncpg
except ImportError:  # pragma: no cover - exercised only without the extra
    asyncpg = None

log = logging.getLogger("monitor.store.postgres")
T = TypeVar("T")

# Keys for pg_advisory_xact_lock: collectors starting together migrate one at a time (per schema:
# deployments in other schemas of the same database do not wait on each other).
_MIGRATION_LOCK = 0x6D6F6E6D  # "monm", the first of the two int4 keys; the second hashes the search_path
_TAKE_MIGRATION_LOCK = "SELECT pg_advisory_xact_lock($1::int4, hashtext(current_setting('search_path')))"


class StoreUnavailable(StoreError):
    """The server could not be reached or the connection was lost; retry later."""


class StoreConflict(StoreError):
    """Two writers collided (deadlock detected, serialization failure): the transaction was rolled back
    and may simply be run again."""


# How often ``Database.run`` re-runs a transaction that lost a deadlock or a serialization conflict.
CONFLICT_RETRIES = 4


def is_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the server rolled the transaction back, a re-run may succeed."""
    return asyncpg is not None and isinstance(
        exc, asyncpg.exceptions.DeadlockDetectedError | asyncpg.exceptions.SerializationError
    )


def mask_url(url: str) -> str:
    """The URL as it may be shown: the password, if any, replaced by ``***``."""
    return display_url(url)


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def load_migrations() -> list[Migration]:
    """The PostgreSQL migrations shipped beside this module, in order, without gaps."""
    return load_packaged("monitor.store.postgres")


def describe(exc: BaseException, url: str) -> str:
    """One line naming the cause, for a person: never the password."""
    where = mask_url(url)
    if asyncpg is not None:
        if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
            return f"{where}: statement timeout: the query ran longer than the server allows ({exc})"
        if isinstance(exc, asyncpg.exceptions.ReadOnlySQLTransactionError):
            return f"{where}: the database is read-only here (a read-only role, replica or session): {exc}"
        if isinstance(exc, asyncpg.exceptions.DiskFullError):
            return f"{where}: the database server's disk is full: {exc}"
        if isinstance(exc, asyncpg.exceptions.InsufficientResourcesError):
            return f"{where}: the database server is out of resources (disk, memory or connections): {exc}"
        if isinstance(exc, asyncpg.exceptions.InsufficientPrivilegeError):
            return f"{where}: permission denied: {exc}"
        if isinstance(exc, asyncpg.exceptions.InvalidPasswordError | asyncpg.exceptions.InvalidAuthorizationSpecificationError):
            return f"{where}: authentication failed for this user"
        if isinstance(exc, asyncpg.exceptions.InvalidCatalogNameError):
            return f"{where}: the database does not exist"
    if isinstance(exc, OSError | asyncio.TimeoutError):
        return f"{where}: cannot reach the database server ({type(exc).__name__}: {exc})"
    return f"{where}: {type(exc).__name__}: {exc}"


def _lost(exc: BaseException) -> bool:
    if isinstance(exc, OSError | asyncio.TimeoutError | ConnectionError):
        return True
    if asyncpg is None:
        return False
    return isinstance(
        exc,
        asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.exceptions.AdminShutdownError
        | asyncpg.exceptions.CannotConnectNowError
        | asyncpg.exceptions.ConnectionFailureError
        | asyncpg.exceptions.TooManyConnectionsError
        | asyncpg.exceptions.InterfaceError
        # a connection the server ended while idle in the pool can fail its next use this way
        | asyncpg.exceptions._base.InternalClientError,  # noqa: SLF001
    )


@contextmanager
def _translated(url: str) -> Iterator[None]:
    """Database and connection errors raised inside become `translate`'s StoreError; others pass."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001
        if asyncpg is not None and isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError) or _lost(exc):
            raise translate(exc, url) from exc
        raise


def translate(exc: BaseException, url: str) -> StoreError:
    message = describe(exc, url)
    if is_conflict(exc):
        return StoreConflict(message)
    return StoreUnavailable(message) if _lost(exc) else StoreError(message)


class Database:
    """A pool of connections to one database.

    ``read_only`` sets default_transaction_read_only on every connection, so an analyst's report can
    never write, whatever role it connects with. ``statement_timeout_ms`` bounds every statement.
    ``work_mem`` (read-only pools): the memory one sort or hash of a report may use before it spills to
    disk. PostgreSQL's default, 4 MB, makes the large grouped reads (a group x channel x month heat map
    regroups about 100,000 aggregate rows) spill both their hash and their sort; a reader's pool holds
    at most ``max_size`` connections, so the bound stays small. ``None`` keeps the server's setting.
    """

    def __init__(
        self,
        url: str,
        *,
        read_only: bool = False,
        min_size: int = 1,
        max_size: int = 4,
        statement_timeout_ms: int = 300_000,
        connect_timeout: float = 10.0,
        reconnect_timeout: float = 60.0,
        application_name: str = "monitor",
        work_mem: str | None = "64MB",
    ) -> None:
        self.url = url
        self.read_only = read_only
        self._min = min_size
        self._max = max_size
        self._timeout_ms = statement_timeout_ms
        self._connect_timeout = connect_timeout
        self.reconnect_timeout = reconnect_timeout
        self.application_name = application_name
        self._work_mem = work_mem
        self._pool: Any = None
        self._closed = False

    async def open(self) -> None:
        if asyncpg is None:
            raise StoreError("PostgreSQL support is not installed: pip install 'monitor[postgres]'")
        if self._pool is not None:
            return
        if self._closed:
            raise StoreClosedError("store was closed")
        settings = {"application_name": self.application_name, "statement_timeout": str(self._timeout_ms), "timezone": "UTC"}
        if self.read_only:
            settings["default_transaction_read_only"] = "on"
            if self._work_mem is not None:
                settings["work_mem"] = self._work_mem
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=self._min,
                max_size=self._max,
                server_settings=settings,
                timeout=self._connect_timeout,
            )
        except Exception as exc:  # noqa: BLE001 - every cause becomes one clear StoreError
            raise translate(exc, self.url) from exc

    async def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=10)
            except Exception:  # noqa: BLE001 - closing a broken pool must not raise
                pool.terminate()

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise StoreClosedError("store was closed" if self._closed else "store is not open")
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        with _translated(self.url):
            async with self.pool.acquire() as conn:
                yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """One transaction on one connection, committed on exit, rolled back on any error."""
        async with self.connection() as conn:
            with _translated(self.url):
                async with conn.transaction():
                    yield conn

    async def run(self, work: Callable[[Any], Awaitable[T]], *, write: bool = True) -> T:
        """``work(conn)`` in one transaction (``write``) or on one connection, retried while the server is away.

        Why here: a collector must ride out a server restart or a cut connection. A lost connection
        (or a server refusing connections) rolls the transaction back, so ``work`` is run again from the
        start on a fresh connection, with exponential backoff, for up to ``reconnect_timeout`` seconds;
        then the StoreUnavailable is raised. Every other error (timeout, read-only, disk full) is raised
        at once: retrying would not help. ``work`` must be safe to repeat (the store's writes are upserts).

        A transaction that lost a deadlock or a serialization conflict to another writer (two collectors
        whose batches touch the same aggregate rows in different statements) is rolled back by the
        server; it is run again, up to ``CONFLICT_RETRIES`` times, after a short random pause.
        """
        delay = 0.1
        deadline = time.monotonic() + self.reconnect_timeout
        conflicts = 0
        while True:
            try:
                if write:
                    async with self.transaction() as conn:
                        return await work(conn)
                async with self.connection() as conn:
                    return await work(conn)
            except StoreConflict as exc:
                conflicts += 1
                if conflicts > CONFLICT_RETRIES:
                    raise
                log.info("write conflict with another writer, running the transaction again: %s", exc)
                await asyncio.sleep(random.uniform(0.01, 0.05) * conflicts)
            except StoreUnavailable as exc:
                if self._closed or time.monotonic() + delay > deadline:
                    raise
                wait = delay * (0.5 + random.random() / 2)
                log.warning("database unavailable, retrying in %.1f s: %s", wait, exc)
                await asyncio.sleep(wait)
                delay = min(delay * 2, 5.0)

    async def schema_version(self) -> int:
        async with self.connection() as conn:
            exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            if not exists:
                return 0
            return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    async def check_schema(self) -> int:
        """For read-only users: the schema must be there and not newer than this code."""
        version = await self.schema_version()
        newest = max((m.version for m in load_migrations()), default=0)
        if version == 0:
            raise MigrationError(f"{mask_url(self.url)} has no monitor schema yet: run `monitor db migrate` first")
        if version > newest:
            raise MigrationError(
                f"{mask_url(self.url)} has schema version {version}, newer than this monitor knows ({newest});"
                " upgrade monitor instead of downgrading the database"
            )
        if version < newest:
            raise MigrationError(
                f"{mask_url(self.url)} has schema version {version}, older than this monitor ({newest}):"
                " run `monitor db migrate` first"
            )
        return version

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each in its own transaction with its record; returns those applied.

        Several collectors may start at once: an advisory lock makes them migrate one after another,
        and each re-reads the ledger under the lock. A schema newer than the code is refused before
        anything changes.
        """
        if self.read_only:
            raise MigrationError(f"{mask_url(self.url)}: a read-only connection never migrates")
        known = load_migrations()
        newest = max((m.version for m in known), default=0)
        applied_now: list[int] = []
        async with self.connection() as conn:
            # Up to date: nothing to write (a collector whose role or database is read-only still opens,
            # and its first write names the cause).
            if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
                current = int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))
                if current == newest:
                    return applied_now
            try:
                # under the lock: CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin (both
                # see no table, the second fails on the catalog's unique index)
                async with conn.transaction():
                    await conn.execute(_TAKE_MIGRATION_LOCK, _MIGRATION_LOCK)
                    await conn.execute(
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
                    )
            except Exception as exc:  # noqa: BLE001
                raise MigrationError(f"cannot create the migration ledger: {describe(exc, self.url)}") from exc
            for migration in known:
                try:
                    async with conn.transaction():
                        await conn.execute(_TAKE_MIGRATION_LOCK, _MIGRATION_LOCK)
                        rows = await conn.fetch("SELECT version FROM schema_migrations")
                        applied = {int(r["version"]) for r in rows}
                        if applied and max(applied) > newest:
                            raise MigrationError(
                                f"{mask_url(self.url)} has schema version {max(applied)}, newer than this monitor"
                                f" knows ({newest}); upgrade monitor instead of downgrading the database"
                            )
                        if migration.version in applied:
                            continue
                        await conn.execute(migration.sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, applied_at)"
                            " VALUES ($1, $2, extract(epoch FROM now())::bigint)",
                            migration.version,
                            migration.name,
                        )
                        applied_now.append(migration.version)
                except MigrationError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} failed: {describe(exc, self.url)}"
                    ) from exc
        return applied_now
