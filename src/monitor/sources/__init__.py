"""Sources turn Telegram (or an export, or a scenario replay) into plain `Post` records.

A source knows nothing of storage or tagging. It raises only `monitor.errors`
types: `FloodWait` (the caller parks the channel or the account and moves on),
`ChannelUnavailable` (the caller records the reason and retries slowly) and
`SourceConnectionError` (the caller reconnects with backoff).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from monitor.models import Channel, ChannelRef, Post


class Source(Protocol):
    async def start(self) -> None:
        """Connect (idempotent). Raises SourceConnectionError when it cannot."""
        ...

    async def close(self) -> None:
        """Disconnect (idempotent); a Telethon session file must be released here."""
        ...

    async def resolve(self, ref: ChannelRef, known: Channel | None = None) -> Channel:
        """Resolve a configured channel once.

        ``known`` is what the store already holds (id and access hash); a source
        must use it instead of re-resolving a username, which triggers flood waits.
        """
        ...

    def fetch(
        self,
        channel: Channel,
        *,
        after_id: int,
        limit: int | None = None,
        since: datetime | None = None,
    ) -> AsyncIterator[Post]:
        """Posts with message_id > after_id, oldest first.

        With after_id == 0 (first sight of a channel) the backfill depth applies:
        at most ``limit`` newest posts, and none older than ``since``; still yielded oldest first.
        """
        ...

    async def refresh(self, channel: Channel, message_ids: Sequence[int]) -> list[Post]:
        """Current state of already-stored posts (views, forwards, edits); deleted ones are left out."""
        ...
