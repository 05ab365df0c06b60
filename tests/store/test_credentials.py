"""Where the PostgreSQL password comes from (libpq conventions) and that it is never shown.

The development server trusts local connections and never asks for a password, so these tests
put a real loopback server in front of the client that speaks the start of the PostgreSQL wire
protocol: it asks for a cleartext password, records what the client sends, and refuses it with
the server's own error (28P01). That shows which password asyncpg took from PGPASSWORD, a
.pgpass file or a service file, and what `monitor db check` prints when it is refused.
"""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import fresh_schema

ROOT = Path(__file__).resolve().parents[2]


class PasswordServer:
    """Accepts PostgreSQL start-up, asks for a cleartext password, records it and refuses it."""

    def __init__(self) -> None:
        self.passwords: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            length, code = struct.unpack("!ii", await reader.readexactly(8))
            if code == 80877103:  # SSLRequest: no TLS here, go on in the clear
                writer.write(b"N")
                await writer.drain()
                (length,) = struct.unpack("!i", await reader.readexactly(4))
                await reader.readexactly(length - 4)
            else:
                await reader.readexactly(length - 8)
            writer.write(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            await writer.drain()
            if await reader.readexactly(1) != b"p":
                return
            (length,) = struct.unpack("!i", await reader.readexactly(4))
            self.passwords.append((await reader.readexactly(length - 4)).rstrip(b"\0").decode())
            fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "monitor"\0\0'
            writer.write(b"E" + struct.pack("!i", len(fields) + 4) + fields)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def __enter__(self) -> PasswordServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def server() -> Iterator[PasswordServer]:
    with PasswordServer() as s:
        yield s


def cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "PG"))}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def _refused_cleanly(result: subprocess.CompletedProcess[str], secret: str) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "authentication failed" in result.stderr, out
    assert secret not in out
    assert "Traceback" not in out and result.stderr.startswith("error: ")


def test_pgpassword_is_sent_and_never_shown(server: PasswordServer, tmp_path: Path) -> None:
    url = f"postgresql://monitor@127.0.0.1:{server.port}/monitor"
    result = cli("db", "check", url, env_extra={"PGPASSWORD": "pw-from-env-91", "HOME": str(tmp_path)})
    assert "pw-from-env-91" in server.passwords
    _refused_cleanly(result, "pw-from-env-91")


def test_pgpass_file_is_read(server: PasswordServer, tmp_path: Path) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{server.port}:monitor:monitor:pw-from-pgpass-17\n")
    passfile.chmod(0o600)
    url = f"postgresql://monitor@127.0.0.1:{server.port}/monitor"
    result = cli("db", "check", url, env_extra={"PGPASSFILE": str(passfile), "HOME": str(tmp_path)})
    assert server.passwords == ["pw-from-pgpass-17"] or "pw-from-pgpass-17" in server.passwords
    _refused_cleanly(result, "pw-from-pgpass-17")


def test_service_file_is_read(server: PasswordServer, tmp_path: Path) -> None:
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[monitor]\nhost=127.0.0.1\nport={server.port}\nuser=monitor\ndbname=monitor\npassword=pw-from-service-5\n"
    )
    result = cli("db", "check", "postgresql:///?service=monitor",
                 env_extra={"PGSERVICEFILE": str(services), "HOME": str(tmp_path)})
    assert "pw-from-service-5" in server.passwords
    _refused_cleanly(result, "pw-from-service-5")


def test_a_wrong_password_in_the_url_is_masked(server: PasswordServer, tmp_path: Path) -> None:
    url = f"postgresql://monitor:wrong-pw-33@127.0.0.1:{server.port}/monitor"
    for args in (("db", "check", url), ("db", "migrate", url), ("db", "copy", url, str(tmp_path / "x.db"))):
        result = cli(*args, env_extra={"HOME": str(tmp_path)})
        _refused_cleanly(result, "wrong-pw-33")
        assert f"monitor:***@127.0.0.1:{server.port}" in result.stderr
    assert "wrong-pw-33" in server.passwords


def test_a_password_in_the_url_is_masked_when_it_works(tmp_path: Path) -> None:
    async def go() -> None:
        async with fresh_schema() as url:
            # the local server trusts 127.0.0.1, so any password is accepted: it must still never show
            with_pw = url.replace("postgresql://postgres@", "postgresql://postgres:hunter2-secret@", 1)
            assert "hunter2-secret" in with_pw
            for args in (("db", "migrate", with_pw), ("db", "check", with_pw)):
                result = await asyncio.to_thread(cli, *args, env_extra={"HOME": str(tmp_path)})
                assert result.returncode == 0, result.stderr
                assert "hunter2-secret" not in result.stdout + result.stderr
                assert "postgres:***@" in result.stdout

    asyncio.run(go())
