"""Records the contract suite feeds every backend: one resolved channel and tagged posts around T0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.models import Alert, Channel, ChannelRef, ForwardOrigin, Match, Post, TaggedPost, Tags
from monitor.store import Store

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
DAY0 = int(T0.timestamp()) // 86400
CHANNEL = Channel(id=1001, username="ozod_sado", title="Ozod sado", access_hash=77)
OTHER = Channel(id=2002, username="manba", title="Manba")


def tagged(
    message_id: int,
    text: str = "",
    *,
    channel: Channel = CHANNEL,
    views: int | None = 10,
    groups: tuple[str, ...] = (),
    lang: str = "ru",
    hours: int | None = None,
    forward_from: int | None = None,
    mentions: tuple[str, ...] = (),
    version: str = "test@1",
) -> TaggedPost:
    body = text or f"post number {message_id}"
    post = Post(
        channel_id=channel.id,
        message_id=message_id,
        posted_at=T0 + timedelta(hours=message_id if hours is None else hours),
        text=body,
        views=views,
        forwards=1,
        forward=ForwardOrigin(channel_id=forward_from, name="Src", message_id=5, date=T0) if forward_from else None,
        mentions=mentions,
    )
    matches = tuple(
        Match(kind="group", canonical=g, term=g, start=0, end=len(g), rule="alias", group=g) for g in groups
    )
    tags = Tags(lang=lang, script="Cyrl", confidence=0.9, groups=groups, matches=matches)
    return TaggedPost(post=post, tags=tags, tagger_version=version)


async def watch(store: Store, *channels: Channel, labels: dict[str, str] | None = None) -> None:
    """Watch and resolve channels (CHANNEL by default) as a first poll would."""
    chosen = channels or (CHANNEL,)
    refs = [ChannelRef(key=c.username or f"id:{c.id}", username=c.username, labels=labels or {}) for c in chosen]
    await store.sync_watchlist(refs, at=T0)
    for ref, channel in zip(refs, chosen, strict=True):
        await store.set_resolved(ref.key, channel, at=T0)


def alert(n: int, *, rule: str = "r1", at: datetime = T0) -> Alert:
    return Alert(
        rule=rule,
        kind="match",
        fired_at=at,
        dedup_key=f"{rule}:{n}",
        summary=f"alert {n} <b>",
        details={"terms": ["ИГИЛ"], "n": n},
        channel_id=CHANNEL.id,
        message_id=n,
        channel_username=CHANNEL.username,
        link=f"https://t.me/{CHANNEL.username}/{n}",
    )
