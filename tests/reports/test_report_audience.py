"""Views per subscriber: set against the profile sample nearest in time; empty, never zero, without one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from click.testing import CliRunner

from storefill import build_database
from monitor.cli.report import report
from monitor.models import Channel, ChannelRef, ChannelSnapshot, Post, TaggedPost, Tags
from monitor.reports.audience import CAUTION, with_subscribers
from monitor.reports.spec import ReportSpec, resolve
from monitor.reports.top import top

T0 = datetime(2024, 6, 3, 10, tzinfo=UTC)
A = Channel(id=51, username="sado_a", title="A", access_hash=1)
B = Channel(id=52, username="sado_b", title="B", access_hash=2)


def _p(channel: Channel, mid: int, day: int, views: int) -> TaggedPost:
    return TaggedPost(post=Post(channel_id=channel.id, message_id=mid, posted_at=T0 + timedelta(days=day),
                                text=f"p{mid}", views=views), tags=Tags(lang="ru"), tagger_version="t@1")


async def fill(store: Any) -> None:
    await store.sync_watchlist([ChannelRef(key=c.username or "", username=c.username) for c in (A, B)], at=T0)
    for c in (A, B):
        await store.set_resolved(c.username, c, at=T0)
    await store.save_posts(A.id, [_p(A, 1, 0, 300), _p(A, 2, 9, 900)], at=T0)
    await store.save_posts(B.id, [_p(B, 1, 1, 50)], at=T0)
    await store.add_channel_snapshot(ChannelSnapshot(channel_id=A.id, observed_at=T0, subscribers=1000))
    await store.add_channel_snapshot(ChannelSnapshot(channel_id=A.id, observed_at=T0 + timedelta(days=10),
                                                     subscribers=3000))
    await store.add_channel_snapshot(ChannelSnapshot(channel_id=B.id, observed_at=T0, subscribers=None))


async def test_views_per_subscriber_for_channels_and_posts(store_factory: Any) -> None:
    store = await store_factory()
    await fill(store)
    spec = ReportSpec(since=date(2024, 6, 3), until=date(2024, 6, 20))
    res = await resolve(store, spec)
    chans = {r["channel"]: r for r in (await with_subscribers(store, res, await top(store, spec))).as_dicts()}
    assert (chans["@sado_a"]["subscribers"], chans["@sado_a"]["views_per_subscriber"]) == (3000, 0.2)  # 600/3000
    assert (chans["@sado_b"]["subscribers"], chans["@sado_b"]["views_per_subscriber"]) == (None, None)
    posts = await with_subscribers(store, res, await top(store, spec, what="posts-by-views"))
    got = {(r["channel"], r["message_id"]): (r["subscribers"], r["views_per_subscriber"]) for r in posts.as_dicts()}
    assert got[("@sado_a", 1)] == (1000, 0.3) and got[("@sado_a", 2)] == (3000, 0.3)
    assert posts.meta["caution"] == CAUTION


def test_cli_per_subscriber_and_refusal(tmp_path: Any) -> None:


    path = tmp_path / "m.db"

    build_database(path, fill)
    ok = CliRunner().invoke(report, ["top", "--per-subscriber", "--db", str(path), "--format", "csv"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[0].endswith("subscribers,views_per_subscriber")
    bad = CliRunner().invoke(report, ["top", "--what", "groups", "--per-subscriber", "--db", str(path)])
    assert bad.exit_code == 2 and "--per-subscriber has no effect" in bad.output


async def test_top_posts_include_exclude_or_mark_deleted_posts(store_factory: Any) -> None:
    store = await store_factory()
    await fill(store)
    await store.mark_deleted(A.id, [2], at=T0 + timedelta(days=10), kind="deleted")
    spec = ReportSpec(since=date(2024, 6, 3), until=date(2024, 6, 20))
    every = await top(store, spec, what="posts-by-views")
    assert [(r["channel"], r["message_id"]) for r in every.as_dicts()] == [("@sado_a", 2), ("@sado_a", 1), ("@sado_b", 1)]
    assert "deleted" not in every.columns
    kept = await top(store, spec, what="posts-by-views", deleted="exclude")
    assert [(r["channel"], r["message_id"]) for r in kept.as_dicts()] == [("@sado_a", 1), ("@sado_b", 1)]
    marked = await top(store, spec, what="posts-by-views", deleted="mark")
    assert [r["deleted"] for r in marked.as_dicts()] == [True, False, False]
