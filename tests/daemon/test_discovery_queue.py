"""The discovery queue: candidates with evidence and priority, successors of a channel taken down, and
`monitor discovery list/why/accept/reject` over a real config file and SQLite store."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storefill import build_database
from monitor.cli import main
from monitor.models import Channel, ChannelEvent, ChannelRef, ForwardOrigin, Post, TaggedPost, Tags
from monitor.reports.queue import build_queue, find

from .conftest import make_scenario, write_config

T0 = datetime(2024, 4, 1, 8, tzinfo=UTC)
MAIN = Channel(id=31, username="iskp_main", title="Iskp Main", access_hash=1)
FAN = Channel(id=32, username="fan_one", title="Fan", access_hash=2)


def _p(channel: Channel, mid: int, day: float, text: str = "", *, mentions: tuple[str, ...] = (),
       fwd: int | None = None, groups: tuple[str, ...] = ("ISKP",), lang: str = "uz") -> TaggedPost:
    post = Post(channel_id=channel.id, message_id=mid, posted_at=T0 + timedelta(days=day), text=text or f"post {mid}",
                mentions=mentions, forward=ForwardOrigin(channel_id=fwd, name="Manba 77" if fwd == 77 else None,
                                                         message_id=1) if fwd else None)
    return TaggedPost(post=post, tags=Tags(lang=lang, script="Latn", confidence=0.9, groups=groups),
                      tagger_version="t@1")


async def fill(store: Any) -> None:
    refs = [ChannelRef(key="iskp_main", username="iskp_main"), ChannelRef(key="fan_one", username="fan_one")]
    await store.sync_watchlist(refs, at=T0)
    await store.set_resolved("iskp_main", MAIN, at=T0)
    await store.set_resolved("fan_one", FAN, at=T0)
    await store.save_posts(MAIN.id, [
        _p(MAIN, 1, 0), _p(MAIN, 2, 3),
        _p(MAIN, 3, 5, "Zaxira kanal: t.me/iskp_zaxira obuna bo'ling", mentions=("iskp_zaxira",)),
    ], at=T0, store_text=True)
    await store.save_posts(FAN.id, [
        _p(FAN, 1, 1, fwd=MAIN.id), _p(FAN, 2, 1.5, fwd=77), _p(FAN, 3, 2, fwd=77, groups=(), lang="en"),
        _p(FAN, 4, 2.5, "qarang @iskp_main2", mentions=("iskp_main2",)),
        _p(FAN, 5, 8, "endi bu yerda @iskp_yangi", mentions=("iskp_yangi",)),
    ], at=T0, store_text=True)
    await store.add_channel_event(ChannelEvent(key="iskp_main", channel_id=MAIN.id, state="active", at=T0))
    await store.add_channel_event(ChannelEvent(key="iskp_main", channel_id=MAIN.id, state="banned",
                                               at=T0 + timedelta(days=6), reason="ChannelForbidden"))


async def test_successors_get_their_evidence_and_rank_above_plain_references(store_factory: Any) -> None:
    store = await store_factory()
    await fill(store)
    queue = await build_queue(store)
    refs = [c.ref for c in queue]
    assert set(refs) == {"@iskp_zaxira", "@iskp_yangi", "@iskp_main2", "id:77"}
    zaxira = find(queue, "t.me/iskp_zaxira")
    assert zaxira is not None and zaxira.successor_of == {"@iskp_main"}
    assert any("announced by @iskp_main in post 3 saying 'Zaxira'" in line for line in zaxira.evidence)
    yangi = find(queue, "@ISKP_YANGI")
    assert yangi is not None and any("a follower of @iskp_main" in line and "2.0 days after" in line
                                     for line in yangi.evidence)
    similar = find(queue, "iskp_main2")
    assert similar is not None and any("resembles @iskp_main" in line for line in similar.evidence)
    plain = find(queue, "id:77")
    assert plain is not None and not plain.successor_of and plain.forwards == 2 and plain.title == "Manba 77"
    assert plain.langs == {"uz": 1, "en": 1} and plain.groups == {"ISKP": 1}
    assert refs.index("id:77") > refs.index("@iskp_zaxira")  # a successor outranks one fan's forwards
    assert all(c.distance == 1 for c in queue)


async def test_announcements_are_read_from_the_lost_channels_own_last_posts(store_factory: Any) -> None:
    """The references carry no text: the wording of the lost channel's last two weeks is read apart. A
    kept text that cites a source is no announcement; a post whose text was not kept counts, marked so;
    a mention older than two weeks before the takedown is not looked at."""
    store = await store_factory()
    await store.sync_watchlist([ChannelRef(key="iskp_main", username="iskp_main")], at=T0)
    await store.set_resolved("iskp_main", MAIN, at=T0)
    await store.save_posts(MAIN.id, [
        _p(MAIN, 1, 0, "yangi kanal @iskp_old_ad", mentions=("iskp_old_ad",)),  # 20 days before it went
        _p(MAIN, 2, 15, "manba: @news_source", mentions=("news_source",)),
        _p(MAIN, 3, 16, "Zaxira kanal @iskp_zaxira", mentions=("iskp_zaxira",)),
    ], at=T0, store_text=True)
    await store.save_posts(MAIN.id, [_p(MAIN, 4, 17, "@iskp_backup", mentions=("iskp_backup",))], at=T0,
                           store_text=False)
    await store.add_channel_event(ChannelEvent(key="iskp_main", channel_id=MAIN.id, state="banned",
                                               at=T0 + timedelta(days=20), reason="ChannelForbidden"))
    queue = await build_queue(store)
    announced = {c.ref: [line for line in c.evidence if "announced by" in line] for c in queue}
    assert announced["@iskp_zaxira"] == [
        "2024-04-17 announced by @iskp_main in post 3 saying 'Zaxira', before it went"]
    assert announced["@iskp_backup"] == ["2024-04-18 announced by @iskp_main in post 4 (text not kept: the"
                                         " wording is not checked), before it went"]
    assert announced["@news_source"] == [] and announced["@iskp_old_ad"] == []


async def test_depth_limit_and_decisions(store_factory: Any) -> None:
    store = await store_factory()
    await fill(store)
    zax = Channel(id=40, username="iskp_zaxira", title="Zaxira", access_hash=4)
    await store.sync_watchlist([ChannelRef(key="iskp_main", username="iskp_main"),
                                ChannelRef(key="fan_one", username="fan_one"),
                                ChannelRef(key="iskp_zaxira", username="iskp_zaxira",
                                           labels={"discovery_depth": "1"})], at=T0)
    await store.set_resolved("iskp_zaxira", zax, at=T0)
    await store.save_posts(zax.id, [_p(zax, 1, 9, "t.me/deeper_one", mentions=("deeper_one",))], at=T0)
    assert find(await build_queue(store, depth_limit=2), "@deeper_one").distance == 2  # type: ignore[union-attr]
    assert find(await build_queue(store, depth_limit=1), "@deeper_one") is None
    await store.set_discovery_decision("id:77", "rejected", at=T0, note="a news agency")
    assert find(await build_queue(store), "id:77") is None
    kept = find(await build_queue(store, include_decided=True), "id:77")
    assert kept is not None and kept.decision == "rejected"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(make_scenario(channels=1, posts=3)), "utf-8")
    path = write_config(tmp_path, scenario, ["@iskp_main", "@fan_one"])
    path.write_text("# analysts' notes stay\n" + path.read_text("utf-8") + "# trailing comment stays\n", "utf-8")

    build_database(tmp_path / "monitor.db", fill)
    return path


def test_cli_list_why_accept_reject(config: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["discovery", "list", "-c", str(config), "--json"])
    assert listed.exit_code == 0, listed.output
    listing = json.loads(listed.output)
    assert [c["candidate"] for c in listing][-1] == "id:77"  # the three successor candidates come first
    assert {c["candidate"]: c["successor_of"] for c in listing}["@iskp_zaxira"] == ["@iskp_main"]
    why = runner.invoke(main, ["discovery", "why", "@iskp_zaxira", "-c", str(config)])
    assert why.exit_code == 0 and "announced by @iskp_main in post 3" in why.output and "t[.]me" not in why.output
    accepted = runner.invoke(main, ["discovery", "accept", "t.me/iskp_zaxira", "-c", str(config)])
    assert accepted.exit_code == 0, accepted.output
    text = config.read_text("utf-8")
    assert text.startswith("# analysts' notes stay\n") and "# trailing comment stays" in text
    entry = tomllib.loads(text)["channels"][-1]
    assert entry == {"handle": "@iskp_zaxira",
                     "labels": {"discovered": "successor of @iskp_main", "discovery_depth": "1"}}
    rejected = runner.invoke(main, ["discovery", "reject", "id:77", "--note", "news", "-c", str(config)])
    assert rejected.exit_code == 0, rejected.output
    left = [c["candidate"] for c in json.loads(runner.invoke(main, ["discovery", "list", "-c", str(config),
                                                                    "--json"]).output)]
    assert "@iskp_zaxira" not in left and "id:77" not in left and "@iskp_yangi" in left
    every = json.loads(runner.invoke(main, ["discovery", "list", "--all", "--json", "-c", str(config)]).output)
    assert {c["candidate"]: c["decision"] for c in every}["id:77"] == "rejected"
    missing = runner.invoke(main, ["discovery", "why", "@nobody_here", "-c", str(config)])
    assert missing.exit_code == 2 and missing.output.startswith("error: candidate:")


def test_cli_accept_ends_a_quarantine_and_reports_include_its_posts(tmp_path: Path) -> None:
    async def fill_held(store: Any) -> None:
        await fill(store)
        assert await store.add_quarantine("iskp_zaxira", "@iskp_zaxira", 9.0, at=T0)
        zax = Channel(id=40, username="iskp_zaxira", title="Zaxira", access_hash=4)
        await store.set_resolved("iskp_zaxira", zax, at=T0)
        await store.save_posts(zax.id, [_p(zax, 1, 9), _p(zax, 2, 9.5)], at=T0)

    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(make_scenario(channels=1, posts=3)), "utf-8")
    config = write_config(tmp_path, scenario, ["@iskp_main", "@fan_one"])
    build_database(tmp_path / "monitor.db", fill_held)
    runner = CliRunner()

    def posts(*extra: str) -> int:
        out = runner.invoke(main, ["report", "volume", "-c", str(config), "--format", "json", *extra])
        assert out.exit_code == 0, out.output
        return sum(int(r["posts"]) for r in json.loads(out.output)["rows"])

    assert (posts(), posts("--quarantined")) == (8, 10)
    listing = json.loads(runner.invoke(main, ["discovery", "list", "-c", str(config), "--json"]).output)
    assert {c["candidate"]: c["quarantined"] for c in listing}["@iskp_zaxira"] is True
    accepted = runner.invoke(main, ["discovery", "accept", "@iskp_zaxira", "-c", str(config)])
    assert accepted.exit_code == 0 and "collected in quarantine now count" in accepted.output, accepted.output
    assert posts() == 10
