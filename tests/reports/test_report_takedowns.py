"""`monitor report takedowns` and `--takedowns` on volume/trend: counted from lifecycle events a real store
holds (SQLite; the port itself is checked on both backends by the contract suite), and through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from storefill import build_database
from monitor.cli.report import report
from monitor.models import Channel, ChannelEvent, ChannelRef, Match, Post, TaggedPost, Tags
from monitor.reports.spec import ReportSpec
from monitor.reports.takedowns import takedowns, with_takedowns
from monitor.reports.volume import volume

T0 = datetime(2024, 3, 4, 12, tzinfo=UTC)  # a Monday
A = Channel(id=11, username="iskp_a", title="A", access_hash=1)
B = Channel(id=12, username="iskp_b", title="B", access_hash=2)
C = Channel(id=13, username="ttp_c", title="C", access_hash=3)


def _post(channel: Channel, mid: int, days: int, group: str) -> TaggedPost:
    post = Post(channel_id=channel.id, message_id=mid, posted_at=T0 + timedelta(days=days), text=f"{group} {mid}")
    tags = Tags(lang="ru", script="Cyrl", confidence=0.9, groups=(group,),
                matches=(Match(kind="group", canonical=group, term=group, start=0, end=len(group), rule="alias"),))
    return TaggedPost(post=post, tags=tags, tagger_version="t@1")


async def fill(store: Any) -> None:
    refs = [ChannelRef(key=c.username or "", username=c.username, labels={"country": "AF" if c is not C else "PK"})
            for c in (A, B, C)]
    await store.sync_watchlist(refs, at=T0)
    for ref, channel in zip(refs, (A, B, C), strict=True):
        await store.set_resolved(ref.key, channel, at=T0)
    for channel, group in ((A, "ISKP"), (B, "ISKP"), (C, "TTP")):
        await store.save_posts(channel.id, [_post(channel, i, i, group) for i in range(1, 15)], at=T0)
    def ev(channel: Channel, state: str, days: float, reason: str | None = None) -> ChannelEvent:
        return ChannelEvent(key=channel.username or "", channel_id=channel.id, state=state,
                            at=T0 + timedelta(days=days), reason=reason)
    for event in (
        ev(A, "active", 0), ev(B, "active", 0), ev(C, "active", 0),
        ev(A, "banned", 8, "ChannelForbidden"),  # week 2: A taken down
        ev(B, "username_changed", 9, "@iskp_b -> @iskp_b2"),
        ev(A, "active", 10),  # and back in week 2
        ev(B, "restricted", 15, "all:terrorism: blocked"),  # week 3
        ev(A, "banned", 15, "CHANNEL_BANNED"),  # week 3 again
    ):
        await store.add_channel_event(event)
    await store.mark_deleted(C.id, [3, 4], at=T0 + timedelta(days=5), kind="deleted")
    await store.mark_deleted(C.id, [5], at=T0 + timedelta(days=6), kind="expired")


SPEC = ReportSpec(since=date(2024, 3, 4), until=date(2024, 3, 24), every="week")


async def test_takedowns_and_returns_by_group_per_week(store_factory: Any) -> None:
    store = await store_factory()
    await fill(store)
    rep = await takedowns(store, ReportSpec(since=SPEC.since, until=SPEC.until, every="week", by=("group",)))
    rows = {(r["period"], r["group"]): r for r in rep.as_dicts()}
    assert rep.columns[-6:] == ("takedowns", "returns", "renames", "posts_deleted", "posts_expired", "taken_down")
    week2, week3 = rows[("2024-W11", "ISKP")], rows[("2024-W12", "ISKP")]
    assert (week2["takedowns"], week2["returns"], week2["renames"], week2["taken_down"]) == (1, 1, 1, "@iskp_a")
    assert (week3["takedowns"], week3["returns"], week3["taken_down"]) == (2, 0, "@iskp_a, @iskp_b")
    assert rows[("2024-W10", "TTP")]["posts_deleted"] == 2 and rows[("2024-W10", "TTP")]["posts_expired"] == 1
    assert sum(r["takedowns"] for r in rep.as_dicts() if r["group"] == "TTP") == 0


async def test_takedowns_filtered_by_label_and_listed_as_events(store_factory: Any) -> None:
    store = await store_factory()
    await fill(store)
    rep = await takedowns(store, ReportSpec(since=SPEC.since, until=SPEC.until, labels=("country=PK",), every="week"))
    assert sum(r["takedowns"] for r in rep.as_dicts()) == 0
    listing = await takedowns(store, ReportSpec(since=SPEC.since, until=SPEC.until, channels=("@iskp_a",)),
                              list_events=True)
    assert [(r["kind"], r["state"], r["before"]) for r in listing.as_dicts()] == [
        ("other", "active", ""), ("takedown", "banned", "active"), ("return", "active", "banned"),
        ("takedown", "banned", "active"),
    ]
    assert listing.as_dicts()[1]["reason"] == "ChannelForbidden"


async def test_volume_shows_how_many_of_the_series_channels_were_taken_down(store_factory: Any) -> None:
    store = await store_factory()
    await fill(store)
    spec = ReportSpec(since=SPEC.since, until=SPEC.until, every="week", by=("group",))
    rep = await with_takedowns(store, spec, await volume(store, spec))
    got = {(r["period"], r["group"]): r["channels_taken_down"] for r in rep.as_dicts()}
    assert got[("2024-W11", "ISKP")] == 1 and got[("2024-W12", "ISKP")] == 2 and got[("2024-W12", "TTP")] == 0


def test_cli_takedowns_json_and_volume_option(tmp_path: Path) -> None:
    path = tmp_path / "m.db"

    build_database(path, fill)
    runner = CliRunner()
    out = runner.invoke(report, ["takedowns", "--db", str(path), "--every", "week", "--by", "group",
                                 "--since", "2024-03-04", "--until", "2024-03-24", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)["rows"] if out.output.lstrip().startswith("{") else json.loads(out.output)
    assert sum(r["takedowns"] for r in rows) == 3
    vol = runner.invoke(report, ["volume", "--db", str(path), "--every", "week", "--takedowns",
                                 "--since", "2024-03-04", "--until", "2024-03-24", "--format", "csv"])
    assert vol.exit_code == 0, vol.output
    assert vol.output.splitlines()[0].endswith("channels_taken_down")
    bad = runner.invoke(report, ["takedowns", "--db", str(path), "--by", "language"])
    assert bad.exit_code == 2 and "takedowns are counted by group, channel or label" in bad.output
