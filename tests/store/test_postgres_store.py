"""The PostgreSQL store against the real server: migrations, read-only use, and the guarantees of a
shared server (a cut connection, a server that goes away, a statement timeout, a read-only role),
each with "nothing stored changes" checked by counting."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from contract_data import CHANNEL, T0, tagged, watch
from postgres_server import fresh_schema, server_url

from monitor.errors import MigrationError, StoreError
from monitor.models import PostKey
from monitor.store import open_store
from monitor.store.postgres import PostgresStore
from monitor.store.postgres.connection import load_migrations

asyncpg = pytest.importorskip("asyncpg")


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with fresh_schema() as schema_url:
        yield schema_url


async def _admin(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def _schema(url: str) -> str:
    return urlsplit(url).query.split("search_path=")[1].split("&")[0]


def _with_user(url: str, user: str, password: str | None = None) -> str:
    parts = urlsplit(url)
    auth = user + (f":{password}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{auth}@{parts.netloc.rsplit('@', 1)[-1]}"))


async def _consistent(url: str) -> None:
    """The trigger-kept aggregates equal a recount of the posts (the invariant every write keeps)."""
    rows = await _admin(
        url,
        "SELECT (SELECT coalesce(sum(posts), 0) FROM agg_channel_day) AS agg, (SELECT count(*) FROM posts) AS n,"
        " (SELECT coalesce(sum(posts), 0) FROM agg_tag_day WHERE kind = 'group') AS tag_agg,"
        " (SELECT count(*) FROM post_tags WHERE kind = 'group') AS tags",
    )
    assert rows[0]["agg"] == rows[0]["n"] and rows[0]["tag_agg"] == rows[0]["tags"], dict(rows[0])


# -- migrations and read-only opening --------------------------------------------------------------------


async def test_migrates_an_empty_schema_once_and_refuses_a_newer_one(url: str) -> None:
    store = open_store(url)
    await store.open()
    assert isinstance(store, PostgresStore) and await store.schema_version() == len(load_migrations())
    await store.close()
    again = open_store(url)  # re-open applies nothing twice
    await again.open()
    await again.close()
    versions = [r[0] for r in await _admin(url, "SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == list(range(1, len(load_migrations()) + 1))

    await _admin(url, "INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    with pytest.raises(MigrationError, match="newer"):
        await open_store(url).open()
    with pytest.raises(MigrationError, match="newer"):
        await open_store(url, read_only=True).open()


async def test_collectors_starting_together_migrate_an_empty_schema_once(url: str) -> None:
    """Six stores opening one empty schema at the same moment (collectors started together): the
    ledger's CREATE races no more (it runs under the migration lock), every migration is applied once."""
    stores = [open_store(url) for _ in range(6)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    versions = [r[0] for r in await _admin(url, "SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == list(range(1, len(load_migrations()) + 1))


async def test_read_only_never_migrates_and_refuses_an_empty_or_older_schema(url: str) -> None:
    with pytest.raises(MigrationError, match="no monitor schema"):
        await open_store(url, read_only=True).open()
    assert (await _admin(url, "SELECT to_regclass('schema_migrations') IS NULL AS absent"))[0]["absent"]

    writer = open_store(url)
    await writer.open()
    await watch(writer)
    await writer.save_posts(CHANNEL.id, [tagged(1, groups=("IS",))], at=T0)
    await writer.close()

    reader = open_store(url, read_only=True)
    await reader.open()
    try:
        assert [s.key for s in await reader.watch_states()] == ["ozod_sado"]
        assert (await reader.counts())["posts"] == 1
        with pytest.raises(StoreError, match="read-only"):
            await reader.save_posts(CHANNEL.id, [tagged(2)], at=T0)
        with pytest.raises(StoreError, match="read-only"):
            await reader.heartbeat(pid=1, started_at=T0, at=T0)
        assert (await reader.counts())["posts"] == 1
    finally:
        await reader.close()

    last = load_migrations()[-1].version  # the schema as an older monitor (or none) left it
    await _admin(url, "DELETE FROM schema_migrations WHERE version = $1", last)
    with pytest.raises(MigrationError, match="run `monitor db migrate` first"):
        await open_store(url, read_only=True).open()


async def test_readers_sort_and_hash_in_64_mb_and_writers_keep_the_server_setting(url: str) -> None:
    """A report's grouped read of the aggregates spills to disk under the server's 4 MB default."""
    writer = PostgresStore(url)
    await writer.open()
    try:
        server = await _admin(url, "SELECT current_setting('work_mem') AS v")
        async with writer.db.pool.acquire() as conn:
            assert await conn.fetchval("SHOW work_mem") == server[0]["v"]
    finally:
        await writer.close()
    for store, expected in ((PostgresStore(url, read_only=True), "64MB"),
                            (PostgresStore(url, read_only=True, work_mem="8MB"), "8MB"),
                            (PostgresStore(url, read_only=True, work_mem=None), server[0]["v"])):
        await store.open()
        try:
            async with store.db.pool.acquire() as conn:
                assert await conn.fetchval("SHOW work_mem") == expected
        finally:
            await store.close()


@pytest.fixture
async def roles(url: str) -> AsyncIterator[tuple[str, str]]:
    """(analyst URL, read-only-by-default collector URL): a SELECT-only role, and a role whose
    sessions default to read-only transactions (as on a database set read-only)."""
    schema = _schema(url)
    analyst, frozen = f"monitor_analyst_{secrets.token_hex(4)}", f"monitor_frozen_{secrets.token_hex(4)}"
    writer = open_store(url)
    await writer.open()
    await watch(writer)
    await writer.save_posts(CHANNEL.id, [tagged(i, groups=("IS",)) for i in (1, 2)], at=T0)
    await writer.close()
    await _admin(url, f'CREATE ROLE "{analyst}" LOGIN')
    await _admin(url, f'GRANT USAGE ON SCHEMA "{schema}" TO "{analyst}"')
    await _admin(url, f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{analyst}"')
    await _admin(url, f'CREATE ROLE "{frozen}" LOGIN')
    await _admin(url, f'GRANT ALL ON SCHEMA "{schema}" TO "{frozen}"')
    await _admin(url, f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{frozen}"')
    await _admin(url, f'ALTER ROLE "{frozen}" SET default_transaction_read_only = on')
    try:
        yield _with_user(url, analyst), _with_user(url, frozen)
    finally:
        for role in (analyst, frozen):
            await _admin(url, f'DROP OWNED BY "{role}"')
            await _admin(url, f'DROP ROLE "{role}"')


async def test_an_analyst_role_reads_and_writes_nothing(url: str, roles: tuple[str, str]) -> None:
    analyst, _ = roles
    before = await _admin(url, "SELECT count(*), sum(views) FROM posts")
    store = open_store(analyst, read_only=True)
    await store.open()
    try:
        assert (await store.counts())["posts"] == 2
        assert [s.key for s in await store.watch_states()] == ["ozod_sado"]
        with pytest.raises(StoreError, match="read-only|permission denied"):
            await store.save_posts(CHANNEL.id, [tagged(1, views=999)], at=T0)
    finally:
        await store.close()
    assert await _admin(url, "SELECT count(*), sum(views) FROM posts") == before


async def test_a_read_only_database_is_named_and_nothing_changes(url: str, roles: tuple[str, str]) -> None:
    _, frozen = roles
    before = await _admin(url, "SELECT count(*), sum(views) FROM posts")
    collector = PostgresStore(frozen, reconnect_timeout=1)
    await collector.open()  # the schema is current: opening writes nothing
    try:
        with pytest.raises(StoreError, match="read-only"):
            await collector.save_posts(CHANNEL.id, [tagged(3), tagged(1, views=999)], at=T0, checkpoint=3)
        with pytest.raises(StoreError, match="read-only"):
            await collector.record_poll("ozod_sado", at=T0)
    finally:
        await collector.close()
    await _admin(url, "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
    with pytest.raises(MigrationError, match="read-only"):
        await open_store(frozen).open()  # a migration it cannot write: refused, and named
    assert await _admin(url, "SELECT count(*), sum(views) FROM posts") == before


async def test_a_statement_timeout_is_named_and_nothing_changes(url: str) -> None:
    # 1.5 s, not less: the saves before the blocked one must never reach it on a loaded machine
    store = PostgresStore(url, statement_timeout_ms=1500, reconnect_timeout=1)
    await store.open()
    try:
        await watch(store)
        await store.save_posts(CHANNEL.id, [tagged(1)], at=T0, checkpoint=1)
        blocker = await asyncpg.connect(url, timeout=10)
        try:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute("LOCK TABLE channels IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(StoreError, match="statement timeout"):
                await store.save_posts(CHANNEL.id, [tagged(2), tagged(3)], at=T0, checkpoint=3)
            await tx.rollback()
        finally:
            await blocker.close()
        assert (await store.counts())["posts"] == 1
        [state] = await store.watch_states()
        assert state.checkpoint == 1
    finally:
        await store.close()
    await _consistent(url)


def test_describe_names_a_full_disk() -> None:
    from monitor.store.postgres.connection import describe

    message = describe(asyncpg.exceptions.DiskFullError("could not extend file"), "postgresql://u:pw@h/db")
    assert "disk is full" in message and "pw" not in message.replace("***", "")


# -- the connection is cut, the server goes away -----------------------------------------------------------


async def _terminate(url: str, application_name: str) -> int:
    rows = await _admin(
        url,
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1",
        application_name,
    )
    return int(rows[0]["n"])


async def test_a_cut_connection_is_reopened_and_nothing_is_lost_or_doubled(url: str) -> None:
    name = f"monitor_test_{secrets.token_hex(4)}"
    store = PostgresStore(url, application_name=name, max_size=2)
    await store.open()
    try:
        await watch(store)
        await store.save_posts(CHANNEL.id, [tagged(i, groups=("IS",)) for i in range(1, 11)], at=T0, checkpoint=10)
        assert await _terminate(url, name) >= 1
        result = await store.save_posts(CHANNEL.id, [tagged(i) for i in range(5, 21)], at=T0, checkpoint=20)
        assert result.inserted == 10 and len(result.inserted_keys) == 10

        # a writer saving batch after batch while its connections are cut again and again
        async def writer() -> None:
            for start in range(21, 421, 20):
                await store.save_posts(
                    CHANNEL.id, [tagged(i, groups=("IS",) if i % 3 else ()) for i in range(start, start + 20)],
                    at=T0 + timedelta(seconds=start), checkpoint=start + 19,
                )

        async def cutter() -> int:
            cuts = 0
            for _ in range(15):
                await asyncio.sleep(0.02)
                cuts += await _terminate(url, name)
            return cuts

        _, cuts = await asyncio.gather(writer(), cutter())
        assert cuts >= 3
        assert await store.all_post_keys() == [PostKey(CHANNEL.id, i) for i in range(1, 421)]
        [state] = await store.watch_states()
        assert state.checkpoint == 420
    finally:
        await store.close()
    await _consistent(url)


class Proxy:
    """A loopback TCP proxy in front of the server that the test can take down and bring back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for link in list(self._links):
            link.close()
        await self._server.wait_closed()
        self._links.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_a_server_that_goes_away_is_waited_for_with_backoff(url: str) -> None:
    parts = urlsplit(url)
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    await proxy.up()
    via = urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit('@', 1)[0]}@127.0.0.1:{proxy.port}"))
    store = PostgresStore(via, reconnect_timeout=20, connect_timeout=2)
    await store.open()
    try:
        await watch(store)
        await store.save_posts(CHANNEL.id, [tagged(i) for i in range(1, 6)], at=T0, checkpoint=5)
        await proxy.down()  # connections cut, new ones refused

        async def back_later() -> None:
            await asyncio.sleep(1.5)
            await proxy.up()

        restart = asyncio.create_task(back_later())
        result = await store.save_posts(CHANNEL.id, [tagged(i) for i in range(3, 11)], at=T0, checkpoint=10)
        await restart
        assert result.inserted == 5
        assert await store.all_post_keys() == [PostKey(CHANNEL.id, i) for i in range(1, 11)]
    finally:
        await store.close()
        with contextlib.suppress(AssertionError):
            await proxy.down()
    await _consistent(url)


async def test_a_server_that_stays_away_is_a_clear_error_without_the_password() -> None:
    store = open_store("postgresql://monitor:S3cretPW@127.0.0.1:1/nowhere", connect_timeout=2)
    with pytest.raises(StoreError) as caught:
        await store.open()
    message = str(caught.value)
    assert "cannot reach" in message and "S3cretPW" not in message and "***" in message
    assert "S3cretPW" not in repr(store) and "S3cretPW" not in store.url


async def test_a_password_in_the_url_never_shows(url: str) -> None:
    secret = "Pw" + secrets.token_hex(6)
    with_password = _with_user(url, "postgres", secret)  # trust authentication: accepted, and ignored
    store = open_store(with_password)
    await store.open()
    try:
        assert secret not in store.url and secret not in repr(store) and "***" in store.url
    finally:
        await store.close()
    assert server_url()
