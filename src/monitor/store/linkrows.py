"""Out-link rows of a batch of posts, the same on every backend: (channel_id, message_id, url, domain,
day, preview_title, preview_site).

Why in the store layer and inside ``save_posts``: links are written in the transaction that writes
the post, so a crash cannot leave a stored post without its links (the next poll starts after the
checkpoint and would never see it again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from monitor.models import TaggedPost

MAX_URL = 2048  # characters kept of one link; a hostile post must not bloat the table
MAX_LINKS = 50  # links kept per post
MAX_PREVIEW = 300  # characters kept of a preview's title or site name


def domain_of(url: str) -> str:
    """Lower-case host without ``www.`` and port; "" when the link has none (a bare word, mailto:)."""
    text = url.strip()
    if "://" not in text[:12]:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:  # an invalid IPv6 literal and such: attacker text, not a reason to stop
        return ""
    host = host.rstrip(".").lower()
    try:
        host = host.encode("ascii").decode("idna") if host.startswith("xn--") or ".xn--" in host else host
    except UnicodeError:
        pass
    return host.removeprefix("www.")


def _clip(value: str | None, size: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:size] or None


def link_rows(channel_id: int, posts: Sequence[TaggedPost]) -> list[tuple[Any, ...]]:
    """One row per distinct out-link of each post (its preview's title and site when Telegram gave one)."""
    rows: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    for tagged in posts:
        post = tagged.post
        if post.message_id in seen:
            continue
        seen.add(post.message_id)
        day = int(post.posted_at.timestamp()) // 86400
        preview = post.preview
        urls = list(dict.fromkeys(u[:MAX_URL] for u in post.links if u.strip()))[:MAX_LINKS]
        if preview is not None and preview.url and preview.url[:MAX_URL] not in urls and not _telegram(preview.url):
            urls.append(preview.url[:MAX_URL])
        for url in urls:
            title = site = None
            if preview is not None and preview.url[:MAX_URL] == url:
                title, site = _clip(preview.title, MAX_PREVIEW), _clip(preview.site_name, MAX_PREVIEW)
            rows.append((channel_id, post.message_id, url, domain_of(url), day, title, site))
    return rows


def _telegram(url: str) -> bool:
    return domain_of(url) in ("t.me", "telegram.me", "telegram.dog")


__all__ = ["domain_of", "link_rows"]
