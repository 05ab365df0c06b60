"""Sources turn Telegram (or an export, or a scenario replay) into plain `Post` records.

A source knows nothing of storage or tagging. It raises only `monitor.errors`
types: `FloodWait` (the caller parks the channel or the account and moves on),
`ChannelUnavailable` (the caller records the reason and retries slowly) and
`SourceConnectionError` (the caller reconnects with backoff).

Implementations: `telegram.TelethonSource` (live, over Telethon or over
`telegram_fake.FakeTelegramClient`, which replays a scenario file: see
`scenario`); `export.read_export` reads Telegram Desktop exports into the same
`Post` records, and `links` holds the link/mention rules they share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from monitor.models import Channel, ChannelRef, ChannelSnapshot, Post


class Source(Protocol):
    async def start(self) -> None:
        """Connect (idempotent); also the way to reconnect after SourceConnectionError.

        Raises SourceConnectionError when it cannot, ConfigError when the session
        is not logged in (a source never signs in by itself).
        """
        ...

    async def close(self) -> None:
        """Disconnect (idempotent); a Telethon session file must be released here."""
        ...

    async def resolve(self, ref: ChannelRef, known: Channel | None = None) -> Channel:
        """Resolve a configured channel once.

        ``known`` is what the store already holds (id and access hash); a source
        must use it instead of re-resolving a username, which triggers flood waits.
        With ``known`` lacking an access hash, a username that now belongs to
        another id raises ChannelUnavailable("renamed"): the way to re-check a
        stored channel on the slow retry schedule is to pass ``known`` with
        ``access_hash=None``.
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
        With after_id > 0, ``limit`` caps the batch (the oldest ``limit`` new posts).

        Errors can arrive after some posts were yielded; those came in ascending
        id order, so checkpointing the last one stored and polling again from it
        loses nothing. Service messages are never yielded.
        """
        ...

    async def refresh(self, channel: Channel, message_ids: Sequence[int]) -> list[Post]:
        """Current state of already-stored posts (views, forwards, edits); deleted ones are left out.

        Asked in chunks of at most 100 ids (one request each), in the order given.
        """
        ...

    async def channel_info(self, channel: Channel) -> ChannelSnapshot:
        """The channel's profile now (title, username, description, subscribers, restriction, auto-delete
        timer): one request. Raises like ``refresh``; fields the source cannot tell are None."""
        ...
