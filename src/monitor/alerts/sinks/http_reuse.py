"""One HTTP client per sink, reused across sends.

Building an ``httpx.AsyncClient`` builds a TLS context (loading the CA bundle: tens of
milliseconds, much more on a busy machine) and drops pooled connections; a sink that
did it per send paid that on every alert. The client is rebuilt only when the sink is
used from another event loop, since a client belongs to the loop it was made on.
"""

from __future__ import annotations

import asyncio

import httpx


class ReusedClient:
    """One ``httpx.AsyncClient`` per sink, reused across sends (its TLS context and connections are
    built once), and rebuilt when used from another event loop (a client is bound to its loop)."""

    def __init__(self, timeout: float, transport: httpx.AsyncBaseTransport | None) -> None:
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()


__all__ = ["ReusedClient"]
