"""TelethonSource.from_credentials: real TelegramClient objects, never connected.

The tests are async because Telethon 1.39 makes (and leaks) an event loop when
a client is built with none running; the daemon builds it inside its loop too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import rsa
from telethon import TelegramClient
from telethon.crypto import AuthKey
from telethon.crypto import rsa as telethon_rsa
from telethon.sessions import SQLiteSession, StringSession

from monitor.errors import ConfigError
from monitor.sources.telegram import TelethonSource


@pytest.fixture
def sources() -> Iterator[list[TelethonSource]]:
    made: list[TelethonSource] = []
    yield made
    for src in made:
        src.client.session.close()  # release the SQLite file; nothing was ever connected


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_session_file_is_created_0600_even_with_a_loose_umask(tmp_path: Path, sources: list) -> None:
    old = os.umask(0o000)
    try:
        src = TelethonSource.from_credentials(12345, "0123456789abcdef", tmp_path / "collector")
    finally:
        os.umask(old)
    sources.append(src)
    path = tmp_path / "collector.session"
    assert path.is_file() and _mode(path) == 0o600
    assert isinstance(src.client, TelegramClient) and not src.client.is_connected()
    assert isinstance(src.client.session, SQLiteSession)
    assert src.client.flood_sleep_threshold == 0


async def test_an_existing_world_readable_session_is_tightened(tmp_path: Path, sources: list) -> None:
    path = tmp_path / "old.session"
    path.write_bytes(b"")
    path.chmod(0o644)
    sources.append(TelethonSource.from_credentials(1, "x", path))
    assert _mode(path) == 0o600


async def test_missing_session_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        TelethonSource.from_credentials(1, "x", tmp_path / "nope" / "s.session")


async def test_string_session_is_recognised_and_keeps_its_dc(tmp_path: Path) -> None:
    sess = StringSession()
    sess.set_dc(4, "149.154.167.91", 443)
    sess.auth_key = AuthKey(os.urandom(256))
    text = sess.save()
    src = TelethonSource.from_credentials(1, "x", text)
    assert isinstance(src.client.session, StringSession)
    assert (src.client.session.dc_id, src.client.session.server_address) == (4, "149.154.167.91")
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 (a test's own tmp dir)


async def test_connection_override_sets_the_dc_and_trusts_the_key(tmp_path: Path, sources: list) -> None:
    pub, _ = rsa.newkeys(512)
    key_file = tmp_path / "server.pub"
    key_file.write_bytes(pub.save_pkcs1())
    fingerprint = telethon_rsa._compute_fingerprint(pub)
    telethon_rsa._server_keys.pop(fingerprint, None)
    conn = {"dc_id": 2, "host": "127.0.0.1", "port": 4430, "rsa_key_file": str(key_file)}
    try:
        src = TelethonSource.from_credentials(1, "x", tmp_path / "test-dc", connection=conn)
        sources.append(src)
        assert fingerprint in telethon_rsa._server_keys
        session = src.client.session
        assert (session.dc_id, session.server_address, session.port) == (2, "127.0.0.1", 4430)
        assert _mode(tmp_path / "test-dc.session") == 0o600
    finally:
        telethon_rsa._server_keys.pop(fingerprint, None)


async def test_a_bad_rsa_key_file_says_so(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key")
    conn = {"dc_id": 2, "host": "127.0.0.1", "port": 4430, "rsa_key_file": str(bad)}
    with pytest.raises(ConfigError, match="RSA public key"):
        TelethonSource.from_credentials(1, "x", tmp_path / "s", connection=conn)
