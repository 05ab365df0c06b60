"""Loopback TCP endpoints that misbehave the way a throttled network or a wrong server does.

Each runs in its own thread (so a test can block on a subprocess while it serves)
and speaks just enough of MTProto's TCP "full" transport to be believable:

* ``garbage``: answers every connection with a well-framed packet whose CRC is wrong
  and whose body is random bytes (Telethon: InvalidChecksumError);
* ``random``: answers with random bytes that frame as a huge packet, then goes quiet
  (Telethon waits for the rest: only a bounded connect ends it);
* ``close``: accepts and closes at once;
* ``respq``: answers the key exchange's first step (req_pq_multi) correctly, but offers
  a server key fingerprint the client does not know (a wrong rsa_key_file).
"""

from __future__ import annotations

import os
import random
import socket
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Literal

from telethon.crypto import AuthKey
from telethon.extensions import BinaryReader
from telethon.sessions import StringSession
from telethon.tl import types

Mode = Literal["garbage", "random", "close", "respq"]
UNKNOWN_FINGERPRINT = 0x1234567890ABCDEF - (1 << 64) // 2  # a signed 64-bit value no key has


def _frame(body: bytes, seq: int, *, bad_crc: bool = False) -> bytes:
    head = struct.pack("<ii", len(body) + 12, seq)
    crc = zlib.crc32(head + body)
    if bad_crc:
        crc ^= 0xFFFFFFFF
    return head + body + struct.pack("<I", crc)


def _read_frame(conn: socket.socket) -> bytes | None:
    head = _recv_exactly(conn, 8)
    if head is None:
        return None
    length, _seq = struct.unpack("<ii", head)
    rest = _recv_exactly(conn, length - 8)
    return None if rest is None else rest[:-4]


def _recv_exactly(conn: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class Endpoint:
    """A listening socket on 127.0.0.1 and a thread that answers each connection per ``mode``."""

    def __init__(self, mode: Mode, *, seed: int = 0) -> None:
        self.mode = mode
        self.connections = 0
        self._rng = random.Random(seed)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name=f"endpoint-{mode}", daemon=True)

    def start(self) -> Endpoint:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for conn in self._open:
            with suppress(OSError):
                conn.close()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        self._open.append(conn)
        conn.settimeout(5)
        try:
            if self.mode == "close":
                conn.close()
            elif self.mode == "garbage":
                conn.sendall(_frame(self._rng.randbytes(40), 0, bad_crc=True))
                self._stop.wait(30)
            elif self.mode == "random":
                conn.sendall(struct.pack("<ii", 1 << 30, 0) + self._rng.randbytes(56))
                self._stop.wait(30)
            elif self.mode == "respq":
                self._respq(conn)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                conn.close()

    def _respq(self, conn: socket.socket) -> None:
        seq = 0
        while not self._stop.is_set():
            body = _read_frame(conn)
            if body is None:
                return
            request = BinaryReader(body[20:]).tgread_object()  # after auth_key_id, msg_id, length
            answer = types.ResPQ(
                nonce=request.nonce,
                server_nonce=int.from_bytes(os.urandom(16), "big", signed=True),
                pq=(17 * 19).to_bytes(8, "big"),
                server_public_key_fingerprints=[UNKNOWN_FINGERPRINT],
            )
            data = bytes(answer)
            msg_id = (int.from_bytes(os.urandom(4), "big") | 1) << 2
            conn.sendall(_frame(struct.pack("<qqi", 0, msg_id, len(data)) + data, seq))
            seq += 1


@contextmanager
def endpoint(mode: Mode) -> Iterator[Endpoint]:
    server = Endpoint(mode).start()
    try:
        yield server
    finally:
        server.close()


def string_session_for(port: int, dc_id: int = 2) -> str:
    """A logged-in-looking string session (random auth key) that points at 127.0.0.1:port."""
    session = StringSession()
    session.set_dc(dc_id, "127.0.0.1", port)
    session.auth_key = AuthKey(os.urandom(256))
    return str(session.save())
