"""The SQLite adapter's own lifecycle, in process and on real files: how it opens (pragmas, WAL, a damaged
file, a missing directory), opens read-only (never created or migrated; the schema must be current), migrates
(atomically, one record per migration), runs a write transaction and closes.

Why in process: the read-only commands are also tested through the CLI (test_read_only_commands.py,
test_read_only_files.py), in subprocesses that mutation testing cannot reach (docs/testing.md); these tests
state the same rules with their exact wording, each in milliseconds.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import MigrationError, StoreClosedError, StoreError
from monitor.models import ChannelRef, Post, Tags, TaggedPost
from monitor.store import open_store
from monitor.store.sqlite import SQLiteStore
from monitor.store.sqlite.migrate import load_migrations

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
NEWEST = len(load_migrations())


def _versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY version")]


async def _made(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    await store.close()


# -- opening for writing --------------------------------------------------------------------------------


async def test_open_sets_the_pragmas_on_the_writer_and_the_reader(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db", busy_timeout_ms=1234)
    assert (store.url, store.read_only) == (f"sqlite:///{tmp_path / 'm.db'}", False)
    await store.open()
    try:
        writer = store._conn()  # noqa: SLF001 - the pragmas are per connection
        pragmas = {}
        for name in ("busy_timeout", "journal_mode", "synchronous", "foreign_keys"):
            pragmas[name] = (await (await writer.execute(f"PRAGMA {name}")).fetchone())[0]
        assert pragmas == {"busy_timeout": 1234, "journal_mode": "wal", "synchronous": 1, "foreign_keys": 1}
        assert writer.isolation_level is None  # autocommit: the adapter writes BEGIN IMMEDIATE itself
        assert await store.query("PRAGMA busy_timeout") == [{"timeout": 1234}]
        assert await store.query("SELECT 1 AS one") == [{"one": 1}]  # rows as dicts, by column name
        assert await store.schema_version() == NEWEST
    finally:
        await store.close()
    assert _versions(tmp_path / "m.db") == list(range(1, NEWEST + 1))


async def test_the_default_busy_timeout_is_thirty_seconds(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    try:
        assert (await (await store._conn().execute("PRAGMA busy_timeout")).fetchone())[0] == 30_000  # noqa: SLF001
        assert await store.query("PRAGMA busy_timeout") == [{"timeout": 30_000}]
    finally:
        await store.close()


async def test_a_missing_directory_is_refused_or_made_when_asked(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=f"^database directory does not exist: {re.escape(str(tmp_path / 'a'))}$"):
        await SQLiteStore(tmp_path / "a" / "m.db").open()
    assert not (tmp_path / "a").exists()
    made = SQLiteStore(tmp_path / "b" / "c" / "m.db", create_dir=True)
    await made.open()
    await made.close()
    assert _versions(tmp_path / "b" / "c" / "m.db") == list(range(1, NEWEST + 1))


async def test_a_damaged_file_is_a_clear_error_and_leaves_no_connection(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database at all" * 200)
    store = SQLiteStore(path)
    with pytest.raises(StoreError, match=f"^cannot open database {re.escape(str(path))}: file is not a database$"):
        await store.open()
    with pytest.raises(StoreClosedError, match="^store is not open$"):
        await store.counts()
    await store.close()


async def test_a_table_damaged_behind_an_intact_schema_is_found_when_migrating(tmp_path: Path) -> None:
    path = tmp_path / "torn.db"
    await _made(path)
    with sqlite3.connect(path) as db:
        root, size = db.execute("SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_master"
                                " WHERE name = 'schema_migrations'").fetchone()
    pages = bytearray(path.read_bytes())
    pages[(root - 1) * size:root * size] = b"\xff" * size  # the ledger's page, read first by the migration step
    path.write_bytes(bytes(pages))
    store = SQLiteStore(path)
    with pytest.raises(StoreError, match=f"^cannot open database {re.escape(str(path))}: database disk image is"
                                         " malformed$"):
        await store.open()
    with pytest.raises(StoreClosedError, match="^store is not open$"):
        await store.counts()


async def test_a_database_without_wal_is_refused(tmp_path: Path) -> None:
    """A file system without shared memory cannot run WAL; SQLite's in-memory database stands in for it."""
    store = SQLiteStore(Path(":memory:"))
    with pytest.raises(StoreError, match=r"^:memory:: WAL mode is not available \(on a network file system\?\)$"):
        await store.open()
    with pytest.raises(StoreClosedError, match="^store is not open$"):
        await store.counts()


async def test_a_path_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "a_directory"
    path.mkdir()
    store = SQLiteStore(path)
    before = set(threading.enumerate())
    with pytest.raises(StoreError, match=f"^cannot open database {re.escape(str(path))}: unable to open database"
                                         " file$"):
        await store.open()
    with pytest.raises(StoreClosedError, match="^store is not open$"):
        await store.counts()
    # aiosqlite stops the worker of a failed connect without waiting for it; wait here, or its late answer
    # reaches a closed event loop after the test (an unhandled-thread warning in a later test)
    workers = [t for t in set(threading.enumerate()) - before if "_connection_worker_thread" in t.name]
    for worker in workers:
        await asyncio.to_thread(worker.join, 10)
    assert not any(w.is_alive() for w in workers)


async def test_a_refused_newer_schema_leaves_no_connection(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    await _made(path)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations VALUES (?, 'future', 0)", (NEWEST + 1,))
    store = SQLiteStore(path)
    expected = (f"{path} has schema version {NEWEST + 1}, newer than this monitor knows ({NEWEST});"
                " upgrade monitor instead of downgrading the database")
    with pytest.raises(MigrationError, match=f"^{re.escape(expected)}$"):
        await store.open()
    with pytest.raises(StoreClosedError, match="^store is not open$"):
        await store.watch_states()


async def test_a_failing_migration_is_named_rolled_back_and_leaves_no_connection(tmp_path: Path) -> None:
    path = tmp_path / "clash.db"
    with sqlite3.connect(path) as db:  # a table of the first migration already there: it cannot apply
        db.execute("CREATE TABLE channels (x)")
    store = SQLiteStore(path)
    first = load_migrations()[0]
    with pytest.raises(MigrationError, match=rf"^migration 0001_{first.name} failed on {re.escape(str(path))}:"
                                             " table channels already exists$"):
        await store.open()
    assert _versions(path) == []  # nothing of it recorded
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"channels", "schema_migrations"}  # nothing of it applied either
    with pytest.raises(StoreClosedError):
        await store.counts()


async def test_migrations_apply_only_the_missing_ones_each_with_its_record(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    await _made(path)
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").fetchall()
        db.execute("DELETE FROM schema_migrations WHERE version = ?", (NEWEST,))  # as if made before it
    assert [(v, n) for v, n, _ in rows] == [(m.version, m.name) for m in load_migrations()]
    assert all(abs(at - datetime.now(UTC).timestamp()) < 600 for _, _, at in rows)
    newest = load_migrations()[-1]
    # only the missing one is tried (its objects are there already, so it fails, and says which it was)
    with pytest.raises(MigrationError, match=f"^migration {NEWEST:04d}_{newest.name} failed on "):
        await SQLiteStore(path).open()
    assert _versions(path) == list(range(1, NEWEST))


# -- transactions -------------------------------------------------------------------------------------------


async def test_a_transaction_commits_or_rolls_back_all_of_it(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    try:
        async with store.transaction() as conn:
            await conn.execute("INSERT INTO parks (scope, until, reason) VALUES ('a', 1, '')")
        with pytest.raises(KeyError):
            async with store.transaction() as conn:
                await conn.execute("INSERT INTO parks (scope, until, reason) VALUES ('b', 1, '')")
                raise KeyError("stop")
        assert [r["scope"] for r in await store.query("SELECT scope FROM parks")] == ["a"]
        async with store.transaction() as conn:  # the lock was released and no transaction is left open
            await conn.execute("INSERT INTO parks (scope, until, reason) VALUES ('c', 1, '')")
        assert [r["scope"] for r in await store.query("SELECT scope FROM parks ORDER BY scope")] == ["a", "c"]
    finally:
        await store.close()


async def test_a_write_on_a_busy_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store = SQLiteStore(path, busy_timeout_ms=10)
    await store.open()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        with pytest.raises(StoreError, match=f"^cannot start a write on {re.escape(str(path))}: database is locked$"):
            await store.park("x", T0)
        other.execute("ROLLBACK")
        await store.park("x", T0)  # the failed start left nothing behind
        assert await store.parks(now=datetime(2000, 1, 1, tzinfo=UTC)) == {"x": T0}
    finally:
        other.close()
        await store.close()


async def test_a_query_error_is_a_store_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    try:
        with pytest.raises(StoreError, match="^query failed: no such table: missing$"):
            await store.query("SELECT * FROM missing")
        with pytest.raises(StoreError, match="^query failed: attempt to write a readonly database$"):
            await store.query("DELETE FROM posts")
    finally:
        await store.close()


async def test_close_is_final_and_says_so(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    with pytest.raises(StoreClosedError, match="^store is not open$"):
        await store.counts()
    await store.open()
    await store.query("SELECT 1")  # the reader is open too
    await store.close()
    with pytest.raises(StoreClosedError, match="^store was closed$"):
        await store.counts()
    with pytest.raises(StoreClosedError, match="^store was closed$"):
        await store.open()
    await store.close()


async def test_the_store_as_a_context_manager(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "m.db") as store:
        await store.sync_watchlist([ChannelRef(key="a", username="a")], at=T0)
        assert [s.key for s in await store.watch_states()] == ["a"]
    with pytest.raises(StoreClosedError, match="^store was closed$"):
        await store.watch_states()


# -- opening read-only ------------------------------------------------------------------------------------------


async def test_read_only_needs_an_existing_file_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    with pytest.raises(StoreError, match=f"^no database at {re.escape(str(path))}$"):
        await SQLiteStore(path, read_only=True).open()
    assert not path.exists()


async def test_read_only_refuses_a_file_that_is_no_monitor_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    store = SQLiteStore(path, read_only=True)
    with pytest.raises(MigrationError, match=f"^{re.escape(str(path))} is not a monitor database \\(no schema\\)$"):
        await store.open()
    with pytest.raises(StoreClosedError):
        await store.counts()
    empty = tmp_path / "empty.db"
    with sqlite3.connect(empty) as db:
        db.execute("CREATE TABLE schema_migrations (version INTEGER)")
    with pytest.raises(MigrationError, match="is not a monitor database"):
        await SQLiteStore(empty, read_only=True).open()


async def test_read_only_refuses_an_older_or_newer_schema_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    await _made(path)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM schema_migrations WHERE version = ?", (NEWEST,))
    older = (f"{path} has schema version {NEWEST - 1}, older than this monitor ({NEWEST}):"
             " run `monitor db migrate` (or start `monitor run`) first")
    with pytest.raises(MigrationError, match=f"^{re.escape(older)}$"):
        await SQLiteStore(path, read_only=True).open()
    assert _versions(path) == list(range(1, NEWEST))  # not migrated
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations VALUES (?, 'now', 0), (?, 'future', 0)", (NEWEST, NEWEST + 1))
    newer = (f"{path} has schema version {NEWEST + 1}, newer than this monitor knows ({NEWEST});"
             " upgrade monitor instead of downgrading the database")
    with pytest.raises(MigrationError, match=f"^{re.escape(newer)}$"):
        await SQLiteStore(path, read_only=True).open()


async def test_read_only_reads_a_current_database_and_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    async with SQLiteStore(path) as writer:
        await writer.sync_watchlist([ChannelRef(key="a", username="a")], at=T0)
    before = path.read_bytes()
    store = SQLiteStore(path, read_only=True, busy_timeout_ms=4321)
    await store.open()
    try:
        assert await store.schema_version() == NEWEST
        assert [s.key for s in await store.watch_states()] == ["a"]
        assert await store.query("PRAGMA busy_timeout") == [{"timeout": 4321}]
        assert (await (await store._conn().execute("PRAGMA busy_timeout")).fetchone())[0] == 4321  # noqa: SLF001
        with pytest.raises(StoreError, match=f"^{re.escape(str(path))} is open read-only: this command cannot write"
                                             " to it$"):
            await store.park("x", T0)
    finally:
        await store.close()
    assert path.read_bytes() == before


async def test_read_only_on_a_damaged_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match=f"^cannot open database {re.escape(str(path))} read-only: file is not a"
                                         " database$"):
        await SQLiteStore(path, read_only=True).open()


async def test_open_store_passes_the_options(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x" / "m.db", create_dir=True, busy_timeout_ms=77)
    await store.open()
    try:
        assert await store.query("PRAGMA busy_timeout") == [{"timeout": 77}]  # type: ignore[attr-defined]
    finally:
        await store.close()
    post = TaggedPost(post=Post(channel_id=1, message_id=1, posted_at=T0), tags=Tags(), tagger_version="v")
    async with SQLiteStore(tmp_path / "x" / "m.db") as again:
        assert (await again.save_posts(1, [post], at=T0)).inserted == 1
