"""PostgreSQL only: the trigger-kept aggregates equal a recount, also with two collectors writing at once,
and two deliverers never claim one delivery.

``aggregate_drift`` (store/postgres/recount.py) compares each aggregate table with the GROUP BY over
posts and post_tags it stands for; these tests run it after every kind of write the store does.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from postgres_server import fresh_schema

from reports.reportdata import CHANNELS, SAVED_AT, START, _build_posts, fill  # noqa: E402

from monitor.models import Alert, Channel, ChannelRef, TaggedPost, Tags  # noqa: E402
from monitor.store import Store, open_store  # noqa: E402
from monitor.store.postgres.recount import RECOUNTS, aggregate_drift  # noqa: E402


async def drift(store: Any) -> list[str]:
    async with store.db.transaction() as conn:
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return await aggregate_drift(conn)


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with fresh_schema() as where:
        yield where


async def _open(url: str) -> Any:
    store = open_store(url)
    await store.open()
    return store


async def test_aggregates_equal_a_recount_after_saves_edits_retags_and_purges(url: str) -> None:
    store = await _open(url)
    try:
        data = await fill(store)
        assert await drift(store) == []
        async with store.db.connection() as conn:
            nonempty = [t for t in RECOUNTS if await conn.fetchval(f"SELECT count(*) FROM {t} WHERE posts > 0")]
        assert nonempty == list(RECOUNTS), "the data set feeds every aggregate"

        # edits: new text, views and forwards up, a view count lost (NULL), a forward header gained
        rng = random.Random(3)
        edited: dict[int, list[TaggedPost]] = {}
        for tagged in rng.sample(data.posts, 60):
            post = tagged.post
            views = None if rng.random() < 0.2 else (post.views or 0) + rng.randint(1, 500)
            changed = replace(post, text=post.text + " (upd)", views=views, forwards=post.forwards if views else None)
            edited.setdefault(post.channel_id, []).append(replace(tagged, post=changed))
        for cid, batch in sorted(edited.items()):
            result = await store.save_posts(cid, batch, at=SAVED_AT + timedelta(hours=1), store_text=True)
            assert result.updated == len(batch)
        assert await drift(store) == []

        # retags: other groups (pairs appear and vanish), another language and script, tags dropped
        groups = ("IS", "ISKP", "TALIBAN", "JA", "IMU")
        items = []
        for tagged in rng.sample(data.posts, 80):
            new = Tags(lang=rng.choice(("ru", "tg", "uz")), script=rng.choice(("Cyrl", "Latn", None)),
                       groups=tuple(sorted(rng.sample(groups, rng.choice((0, 1, 2, 3))))),
                       keywords=("hijra",) if rng.random() < 0.3 else ())
            items.append((tagged.post.key, new, "test@2"))
        await store.update_tags(items)
        assert await drift(store) == []

        # purges of kept text change nothing an aggregate reads
        assert await store.purge_text(before=START + timedelta(days=60)) > 0
        assert await drift(store) == []

        # and the check is not blind: a hand-made error in one table is reported for that table only
        async with store.db.transaction() as conn:
            await conn.execute(
                "UPDATE agg_tag_week SET posts = posts + 1 WHERE (kind, channel_id, week, value) ="
                " (SELECT kind, channel_id, week, value FROM agg_tag_week WHERE posts > 0 LIMIT 1)"
            )
        assert await drift(store) == ["agg_tag_week"]
    finally:
        await store.close()


def _split(posts: list[TaggedPost], size: int, seed: int) -> list[list[TaggedPost]]:
    """Per channel, the posts in batches of ``size`` in a shuffled order of batches."""
    batches = []
    for chan in CHANNELS:
        mine = sorted((p for p in posts if p.post.channel_id == chan.id), key=lambda t: t.post.message_id)
        batches += [mine[i : i + size] for i in range(0, len(mine), size)]
    random.Random(seed).shuffle(batches)
    return batches


async def _collect(store: Store, batches: list[list[TaggedPost]]) -> None:
    for batch in batches:
        await store.save_posts(batch[0].post.channel_id, batch, at=SAVED_AT, store_text=True,
                               checkpoint=max(t.post.message_id for t in batch))


async def test_two_collectors_saving_overlapping_batches_keep_the_aggregates_exact(url: str) -> None:
    one, two = await _open(url), await _open(url)
    try:
        refs = [ChannelRef(key=c.username, username=c.username, labels=c.labels) for c in CHANNELS]
        await one.sync_watchlist(refs, at=START)
        for c in CHANNELS:
            await one.set_resolved(c.username, Channel(id=c.id, username=c.username, title=c.title), at=START)
        posts, _, _ = _build_posts(random.Random(7))
        # the second collector sees every post too, some of them edited: inserts race, updates race
        rng = random.Random(11)
        later = [
            replace(t, post=replace(t.post, views=(t.post.views or 0) + 5, text=t.post.text + " !"))
            if rng.random() < 0.3 else t
            for t in posts
        ]
        await asyncio.gather(
            _collect(one, _split(posts, 25, seed=1)),
            _collect(two, _split(later, 40, seed=2)),
            _collect(one, _split(later, 15, seed=3)),
        )
        assert (await one.counts())["posts"] == len(posts)
        assert await drift(one) == []
        rows, _ = await two.report_volume(since_day=0, until_day=10**6, every="all", dims=())
        assert sum(int(r["posts"]) for r in rows) == len(posts)
        # and concurrent retags of overlapping posts
        keys = [t.post.key for t in posts]
        await asyncio.gather(
            one.update_tags([(k, Tags(lang="tg", script="Cyrl", groups=("IS", "JA")), "v2") for k in keys[:300]]),
            two.update_tags([(k, Tags(lang="uz", script="Latn", groups=("ISKP",)), "v3") for k in keys[150:450]]),
        )
        assert await drift(one) == []
    finally:
        await one.close()
        await two.close()


def _alert(n: int) -> Alert:
    return Alert(rule="r", kind="match", fired_at=START + timedelta(minutes=n), dedup_key=f"r:{n}",
                 summary=f"alert {n}", details={}, channel_id=1001, message_id=n)


async def test_two_deliverers_never_claim_one_delivery(url: str) -> None:
    one, two = await _open(url), await _open(url)
    try:
        async with one.alert_transaction() as tx:
            for n in range(1, 61):
                assert await tx.insert_alert(_alert(n), ["log", "hook"], now=START) is not None
        now, lease = START + timedelta(hours=1), START + timedelta(hours=2)
        claims: dict[str, list[int]] = {"one": [], "two": []}

        async def drain(name: str, store: Any) -> None:
            while True:
                got = await store.claim_deliveries("log", now=now, lease_until=lease, limit=7)
                if not got:
                    return
                claims[name] += [c.alert.id for c in got]
                await asyncio.sleep(0)

        await asyncio.gather(drain("one", one), drain("two", two), drain("one", one))
        everything = claims["one"] + claims["two"]
        assert sorted(everything) == sorted(set(everything)), "a delivery was claimed twice"
        assert len(everything) == 60
        assert (await one.delivery_counts())[("log", "sending")] == 60
        assert (await two.delivery_counts())[("hook", "pending")] == 60
        assert await one.list_alerts(rule="r", limit=1) != []
    finally:
        await one.close()
        await two.close()


async def _daemon(store: Store, posts: list[TaggedPost], seed: int) -> list[str]:
    """A collector with its alert engine: random-sized time-ordered batches, evaluated inside each save."""
    from monitor.alerts.engine import AlertEngine
    from monitor.alerts.hooks import AlertHooks
    from monitor.clock import FrozenClock
    from monitor.pipeline import save_batch
    from test_backends_agree import alerts_config

    clock = FrozenClock(START)
    hooks = AlertHooks(engine=AlertEngine(alerts_config(), store, clock), deliverer=None)
    channels = {c.id: Channel(id=c.id, username=c.username, title=c.title) for c in CHANNELS}
    rng = random.Random(seed)
    ordered = sorted(posts, key=lambda t: (t.post.posted_at, t.post.channel_id, t.post.message_id))
    errors: list[str] = []
    i = 0
    while i < len(ordered):
        chunk = ordered[i : i + rng.randint(10, 40)]
        i += len(chunk)
        clock.advance(max(timedelta(0), chunk[-1].post.posted_at + timedelta(minutes=5) - clock.now()))
        for cid in sorted({t.post.channel_id for t in chunk}, reverse=seed % 2 == 1):
            batch = [t for t in chunk if t.post.channel_id == cid]
            result = await save_batch(store, channels[cid], batch, alerts=hooks, at=clock.now(), checkpoint=None,
                                      store_text=True, source="telegram")
            if result.evaluation_error is not None:
                errors.append(result.evaluation_error)
    return errors


async def test_two_daemons_evaluating_inside_their_saves_count_every_post_once(url: str, tmp_path: Path) -> None:
    """Term totals do not depend on who saved what: two concurrent PostgreSQL collectors end with the
    totals one SQLite collector reaches alone, and no evaluation failed on a write conflict."""
    one, two = await _open(url), await _open(url)
    lite = open_store(tmp_path / "alone.db")
    await lite.open()
    try:
        refs = [ChannelRef(key=c.username, username=c.username, labels=c.labels) for c in CHANNELS]
        for store in (one, lite):
            await store.sync_watchlist(refs, at=START)
            for c in CHANNELS:
                await store.set_resolved(c.username, Channel(id=c.id, username=c.username, title=c.title), at=START)
        posts, _, _ = _build_posts(random.Random(7))
        errors = await asyncio.gather(_daemon(one, posts, 1), _daemon(two, posts, 2))
        assert errors == [[], []]
        assert await _daemon(lite, posts, 3) == []
        assert await drift(one) == []
        async with one.db.connection() as conn:
            pg_terms = {r["term"]: int(r["total"]) for r in await conn.fetch("SELECT term, total FROM terms")}
        lite_terms = {r["term"]: int(r["total"]) for r in await lite.query("SELECT term, total FROM terms")}  # type: ignore[attr-defined]
        assert len(lite_terms) > 50 and pg_terms == lite_terms
        assert len(await one.list_alerts(limit=100_000)) > 10
    finally:
        await one.close()
        await two.close()
        await lite.close()
