"""A demo-like database for the web tests, built in a second through the store port.

Why not ``monitor demo``: it replays months through the daemon (about 100 s here); these tests need
the same shapes (the demo's channels and labels, several languages and groups, a spike, forwards,
alerts, text with matches) and one hostile post, fast and deterministic.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from monitor.demo import DEMO_CHANNELS
from monitor.models import (
    Alert,
    AuditEntry,
    Channel,
    ChannelRef,
    ForwardOrigin,
    Match,
    Post,
    TaggedPost,
    Tags,
    WebUser,
)
from monitor.store import Store, open_store
from monitor.web.auth import hash_password

START = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
DAYS = 182
PASSWORDS = {"ana": "editor-password-1", "vic": "viewer-password-1"}
ROLES = {"ana": "editor", "vic": "viewer"}
CANARY = "__pwned"
# Everything a post's author could try: script tags, event handlers, javascript: URLs, bidi overrides,
# CSS injection, a fake closing tag, template syntax, an SVG with script.
HOSTILE = (
    'ИГИЛ <script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    '<a href="javascript:window.__pwned=3">click</a> \u202etxt.exe\u202c <style>body{display:none}</style>'
    '</mark></div><svg onload="window.__pwned=4"></svg> {{ 7*7 }} <iframe src="javascript:parent.__pwned=5"></iframe>'
)
HOSTILE_LINKS = ("javascript:window.__pwned=6", "https://evil.example/x?<b>", "data:text/html,<script>1</script>")
HOSTILE_ID = (DEMO_CHANNELS[0].id, 999_999)
SPREAD = ("Заявление: ИГИЛ берёт на себя ответственность за нападение, о котором сообщили сегодня утром"
          " местные источники; подробности будут позже.")
TEXTS = {
    ("ru", "Cyrl"): ["Сообщение про ИГИЛ номер {n}", "Новости дня {n}", "Талибан заявил {n}"],
    ("tg", "Cyrl"): ["Хабари рӯз {n} ИГИЛ", "Хабар {n}"],
    ("uz", "Latn"): ["Yangiliklar {n} ISKP haqida", "Xabar {n}"],
    ("uz", "Cyrl"): ["Янгиликлар {n}", "ИШИД ҳақида {n}"],
    ("en", "Latn"): ["Report {n} on ISKP recruiting", "News {n}"],
}
TERMS = {"ИГИЛ": "IS", "ISKP": "ISKP", "Талибан": "TALIBAN", "ИШИД": "IS"}


def _tags(text: str, lang: str, script: str) -> Tags:
    matches = []
    for term, group in TERMS.items():
        at = text.find(term)
        if at >= 0:
            matches.append(Match(kind="group", canonical=group, term=term, start=at, end=at + len(term), rule="alias",
                                 group=group))
    matches.sort(key=lambda m: m.start)
    groups = tuple(sorted({m.canonical for m in matches}))
    return Tags(lang=lang, script=script, confidence=0.9, groups=groups, matches=tuple(matches))


def posts_for(channel_index: int, rng: random.Random, days: int = DAYS) -> list[TaggedPost]:
    ch = DEMO_CHANNELS[channel_index]
    langs = list(TEXTS)
    out: list[TaggedPost] = []
    mid = ch.first_id
    for day in range(days):
        count = rng.randint(0, 3)
        if channel_index == 1 and 120 <= day < 127:  # a burst: the trend report flags it
            count += 12
        for _ in range(count):
            mid += 1
            lang, script = langs[(channel_index + rng.randint(0, 2)) % len(langs)]
            text = rng.choice(TEXTS[(lang, script)]).format(n=mid)
            when = START + timedelta(days=day, minutes=rng.randint(0, 600))
            forward = None
            if channel_index == 2 and rng.random() < 0.2:
                forward = ForwardOrigin(channel_id=DEMO_CHANNELS[0].id, name=DEMO_CHANNELS[0].title, message_id=5,
                                        date=when)
            post = Post(channel_id=ch.id, message_id=mid, posted_at=when, text=text, views=rng.randint(50, 5000),
                        forwards=rng.randint(0, 40), forward=forward,
                        links=("https://example.org/a",) if rng.random() < 0.1 else ())
            out.append(TaggedPost(post=post, tags=_tags(text, lang, script), tagger_version="web-test@1"))
    return out


async def build(url: str, *, channels: int = 4, days: int = DAYS, seed: int = 7) -> None:
    """Fill the (new) database at ``url``: channels with labels, posts, a hostile post, alerts, two users."""
    rng = random.Random(seed)
    store: Store = open_store(url)
    await store.open()
    try:
        chosen = DEMO_CHANNELS[:channels]
        refs = [ChannelRef(key=c.username, username=c.username, labels={"country": c.country}) for c in chosen]
        await store.sync_watchlist(refs, at=START)
        for ref, c in zip(refs, chosen, strict=True):
            await store.set_resolved(ref.key, Channel(id=c.id, username=c.username, title=c.title,
                                                      access_hash=c.access_hash), at=START)
        for i in range(len(chosen)):
            batch = posts_for(i, rng, days)
            for k in range(0, len(batch), 500):
                await store.save_posts(chosen[i].id, batch[k:k + 500], at=START, store_text=True)
        hostile = Post(channel_id=HOSTILE_ID[0], message_id=HOSTILE_ID[1], posted_at=START + timedelta(days=40, hours=3),
                       text=HOSTILE, views=7, forwards=0, links=HOSTILE_LINKS)
        await store.save_posts(HOSTILE_ID[0], [TaggedPost(post=hostile, tags=_tags(HOSTILE, "ru", "Cyrl"),
                                                          tagger_version="web-test@1")], at=START, store_text=True)
        # one item posted in three channels on one day: a spread cluster
        for k, c in enumerate(chosen[:3]):
            when = START + timedelta(days=DAYS - 5, hours=2 + k)
            item = Post(channel_id=c.id, message_id=900_000 + k, posted_at=when, text=SPREAD, views=100, forwards=3)
            await store.save_posts(c.id, [TaggedPost(post=item, tags=_tags(SPREAD, "ru", "Cyrl"),
                                                     tagger_version="web-test@1")], at=START, store_text=True)
        async with store.alert_transaction() as tx:
            for n in range(3):
                await tx.insert_alert(Alert(
                    rule="iskp-spike" if n else "hostile", kind="match", fired_at=START + timedelta(days=120 + n),
                    dedup_key=f"web:{n}", summary=f'alert {n} <img src=x onerror="window.__pwned=7">',
                    details={"terms": ["ISKP"], "count": 12 + n},
                    channel_id=DEMO_CHANNELS[1].id, message_id=100 + n, channel_username=DEMO_CHANNELS[1].username,
                    link=f"https://t.me/{DEMO_CHANNELS[1].username}/{100 + n}"), ["log"], now=START)
        for name, password in PASSWORDS.items():
            await store.save_web_user(
                WebUser(name=name, password_hash=hash_password(password), role=ROLES[name],  # type: ignore[arg-type]
                        created_at=START, updated_at=START),
                audit=AuditEntry(actor="test", action="user.add", target=name, at=START))
    finally:
        await store.close()
