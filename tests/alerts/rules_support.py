"""Shared helpers for the alert-rule tests: a real SQLite store with the alert mixin, posts and tags by hand.

The tagger may not exist yet, so Tags are built by hand here, with spans that point
at the real text (so context windows are checked against what the post says).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.alerts.config import AlertsConfig, parse_alerts
from monitor.models import Channel, ChannelRef, ForwardOrigin, Match, Post, TaggedPost, Tags
from monitor.store import Store, open_store as store_at

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, noon UTC


AlertStore = Store  # the alert tests also read SQLite's tables via query()


CHANNELS = {
    "ozod": Channel(id=1001, username="ozod_sado", title="Ozod Sado"),
    "khabar": Channel(id=1002, username="khabar_tj", title="Khabar TJ"),
    "hidden": Channel(id=1003, username=None, title="No Name"),
}
LABELS = {"ozod": {"country": "UZ"}, "khabar": {"country": "TJ"}, "hidden": {"country": "KG"}}


async def open_store(
    path: Path, *, at: datetime = T0 - timedelta(days=400)
) -> AlertStore:
    """A fresh store in ``path`` with the three test channels watched and resolved."""
    store = store_at(path / "monitor.db")
    await store.open()
    refs = []
    for name, ch in CHANNELS.items():
        key = ch.username or f"id:{ch.id}"
        refs.append(ChannelRef(key=key, username=ch.username, channel_id=ch.id, labels=LABELS[name]))
    await store.sync_watchlist(refs, at=at)
    for ref, ch in zip(refs, CHANNELS.values(), strict=True):
        await store.set_resolved(ref.key, ch, at=at)
    return store


def tags_for(
    text: str,
    *,
    lang: str = "ru",
    groups: Sequence[tuple[str, str]] = (),
    people: Sequence[tuple[str, str, str]] = (),
    keywords: Sequence[str] = (),
) -> Tags:
    """Tags whose matches point at the first occurrence of each written term in ``text``.

    groups: (canonical, as written); people: (person id, as written, group);
    keywords: as written (= canonical).
    """
    matches = []
    for canonical, written in groups:
        start = text.index(written)
        matches.append(
            Match(
                kind="group",
                canonical=canonical,
                term=written,
                start=start,
                end=start + len(written),
                rule="alias",
            )
        )
    for person, written, group in people:
        start = text.index(written)
        matches.append(
            Match(
                kind="person",
                canonical=person,
                term=written,
                start=start,
                end=start + len(written),
                rule="alias",
                group=group,
            )
        )
    for kw in keywords:
        start = text.lower().index(kw.lower())
        matches.append(
            Match(
                kind="keyword",
                canonical=kw,
                term=text[start : start + len(kw)],
                start=start,
                end=start + len(kw),
                rule="keyword",
            )
        )
    return Tags(
        lang=lang,
        script="Cyrl" if any("а" <= c.lower() <= "я" for c in text) else "Latn",
        confidence=0.9,
        groups=tuple(sorted({g for g, _ in groups})),
        people=tuple(sorted({p for p, _, _ in people})),
        keywords=tuple(sorted(set(keywords))),
        matches=tuple(matches),
    )


def tagged(
    channel: Channel,
    message_id: int,
    at: datetime,
    text: str = "",
    tags: Tags | None = None,
    *,
    forward: ForwardOrigin | None = None,
    mentions: Sequence[str] = (),
) -> TaggedPost:
    post = Post(
        channel_id=channel.id,
        message_id=message_id,
        posted_at=at,
        text=text,
        forward=forward,
        mentions=tuple(mentions),
        views=10,
    )
    return TaggedPost(post=post, tags=tags or Tags(lang="ru"), tagger_version="test@1")


async def save(
    store: AlertStore, channel: Channel, posts: Sequence[TaggedPost], *, at: datetime, store_text: bool = True
) -> Any:
    return await store.save_posts(channel.id, posts, at=at, store_text=store_text)


def config(*rules: dict[str, Any], **top: Any) -> AlertsConfig:
    return parse_alerts({"rules": list(rules), **top}, "test.toml")


async def alert_rows(store: AlertStore) -> list[dict[str, Any]]:
    return await store.query("SELECT * FROM alerts ORDER BY id")


async def delivery_rows(store: AlertStore) -> list[dict[str, Any]]:
    return await store.query("SELECT * FROM deliveries ORDER BY alert_id, sink")
