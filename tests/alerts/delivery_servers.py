"""Real servers on loopback for the delivery tests: a raw-asyncio HTTP/1.1 server and an aiosmtpd SMTP server.

Not a test module: imported by tests/alerts/test_delivery*.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, dict[str, str], bytes]
Responder = Callable[[Request], Reply | Awaitable[Reply]]


def ok(_: Request) -> Reply:
    return 200, {}, b"ok"


class LoopbackHTTP:
    """A minimal HTTP/1.1 server (one request per connection) that records every request it reads."""

    def __init__(self, responder: Responder = ok) -> None:
        self.responder = responder
        self.requests: list[Request] = []
        self.received = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LoopbackHTTP:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        if hasattr(self._server, "close_clients"):
            self._server.close_clients()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = Request(method, path, headers, body)
            self.requests.append(request)
            self.received.set()
            reply = self.responder(request)
            if not isinstance(reply, tuple):
                reply = await reply
            status, extra, payload = reply
            out = [f"HTTP/1.1 {status} X", f"Content-Length: {len(payload)}", "Connection: close"]
            out += [f"{k}: {v}" for k, v in extra.items()]
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + payload)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        self.messages.append((envelope, message_from_bytes(raw, policy=policy.default)))  # type: ignore[arg-type]
        return "250 OK"


class Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(
        self, server: object, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and data.login == self.user and data.password == self.password
        return AuthResult(success=good, handled=False)


def smtp_controller(mailbox: Mailbox, *, authenticator: Authenticator | None = None) -> Controller:
    kwargs: dict[str, Any] = {}
    if authenticator is not None:
        kwargs = {"authenticator": authenticator, "auth_require_tls": False, "auth_required": True}
    return Controller(mailbox, hostname="127.0.0.1", port=free_port(), **kwargs)
