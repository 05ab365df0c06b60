"""Discovery and quarantine in team mode: two real daemons in one process, each with its own account and
fake client serving real Telethon objects, on the real PostgreSQL server.

One collector asks Telegram for the team's similar channels and hashtag searches (once per
``search_every``, whoever holds the ``discovery`` round), one fills the quarantine, and the quarantined
candidate is leased and polled like a watched channel, by one collector at a time. When the round's
holder stops, the other takes the round over and does not run it again before it is due.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from daemon.conftest import write_config

from monitor.collectors.tasks import DISCOVERY, QUARANTINE
from monitor.collectors.team import POLL_LOG_ENV
from monitor.compose import build_parts
from monitor.daemon import Daemon
from monitor.settings import load
from monitor.store import Store

from .test_jobs_follow_leases import eventually

START = datetime(2024, 3, 1, tzinfo=UTC)


def _msg(mid: int, hours: float, text: str) -> dict[str, Any]:
    return {"id": mid, "date": (START + timedelta(hours=hours)).isoformat(), "text": text, "views": [[0, 10]]}


def scenario() -> dict[str, Any]:
    return {"format": "monitor-scenario/1", "channels": [
        {"id": 501, "username": "fan_one", "title": "Fan", "similar": [503],
         "messages": [_msg(i, i, f"Zaxira kanal t.me/iskp_zaxira obuna bo'ling {i}") for i in range(1, 5)]},
        {"id": 502, "username": "iskp_zaxira", "title": "Zaxira",
         "messages": [_msg(i, i, f"yangi xabar {i}") for i in range(1, 4)]},
        {"id": 503, "username": "hijrat_news", "title": "Hijrat", "messages": [_msg(1, 1, "#hijrat bugun")]},
        {"id": 504, "username": "fan_two", "title": "Fan 2", "messages": [_msg(1, 2, "salom")]},
    ]}


def settings_for(folder: Path, url: str, account: str) -> Path:
    folder.mkdir()
    (folder / "s.json").write_text(json.dumps(scenario()), "utf-8")
    return write_config(
        folder, folder / "s.json", ["@fan_one", "@fan_two"],
        monitor={"database": url}, telegram={"account_name": account},
        collectors={"lease_expiry": 6, "lease_renew_interval": 0.5},
        discovery={"recommendations": True, "hashtags": ["hijrat"], "search_every": 3600,
                   "quarantine_above": 5.0},
    )


def calls(d: Daemon, method: str) -> int:
    return int(d.source.client.calls[method])  # type: ignore[attr-defined]


async def test_one_collector_asks_for_the_team_and_quarantine_is_leased(
    pg_store: Store, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "polls.jsonl"
    monkeypatch.setenv(POLL_LOG_ENV, str(log))
    a, b = [
        Daemon(s, await build_parts(s))
        for s in (load(settings_for(tmp_path / acc, pg_url, acc)) for acc in ("acc0", "acc1"))
    ]
    daemons = (a, b)

    def polls(key: str) -> list[dict[str, Any]]:
        lines = log.read_text().splitlines() if log.exists() else []
        return [p for p in map(json.loads, lines) if p["key"] == key and p["outcome"] == "done"]

    state: dict[str, Any] = {}

    async def refresh() -> None:
        state["tasks"] = {t.name: t for t in await pg_store.tasks()}
        state["leads"] = {(x.ref, x.via) for x in await pg_store.discovery_leads()}
        state["quarantined"] = [q.key for q in await pg_store.quarantined()]
        state["posts"] = (await pg_store.counts())["posts"]
        state["asked"] = await pg_store.recommendations_asked(["fan_one", "fan_two"])

    def report() -> str:
        return (f"tasks {state.get('tasks')}, leads {state.get('leads')}, quarantined {state.get('quarantined')},"
                f" posts {state.get('posts')}, zaxira polls {len(polls('iskp_zaxira'))}")

    def total(method: str) -> int:
        return sum(calls(d, method) for d in daemons)

    runs = [asyncio.create_task(d.run()) for d in daemons]
    try:
        async def settled() -> None:
            loop = asyncio.get_running_loop()
            end = loop.time() + 60
            while True:
                await refresh()
                tasks = state["tasks"]
                if (
                    {DISCOVERY, QUARANTINE} <= set(tasks) and all(t.finished_at for t in tasks.values())
                    and {("@hijrat_news", "recommended"), ("@hijrat_news", "hashtag")} <= state["leads"]
                    and state["quarantined"] == ["iskp_zaxira"] and state["posts"] == 4 + 1 + 3
                    and len(polls("iskp_zaxira")) >= 2 and set(state["asked"]) == {"fan_one", "fan_two"}
                ):
                    return
                if loop.time() > end:
                    pytest.fail(f"timed out waiting: {report()}")
                await asyncio.sleep(0.2)

        await settled()
        # the team asked Telegram once: the hashtag search through the round's holder (one quota check, one
        # search; the other collector searched nothing), and the similar channels of each watched channel
        # once, each by a collector that leased and polled it (an access hash is the account's own)
        discovery = state["tasks"][DISCOVERY]
        holder = next(d for d in daemons if d.team is not None and d.team.id == discovery.collector_id)
        other = b if holder is a else a
        assert holder.team is not None and discovery.ran_by == holder.team.id
        assert (calls(holder, "check_search_posts_flood"), calls(holder, "search_posts")) == (1, 1), report()
        assert (calls(other, "check_search_posts_flood"), calls(other, "search_posts")) == (0, 0), report()
        assert total("get_channel_recommendations") == 2, report()
        ids = {"fan_one": 501, "fan_two": 504}
        for d in daemons:
            assert d.team is not None
            polled = {ids[p["key"]] for key in ids for p in polls(key) if p["collector"] == d.team.id}
            asked_for = {r.channel_id for r in d.source.client.requests  # type: ignore[attr-defined]
                         if r.method == "get_channel_recommendations"}
            assert asked_for <= polled, (d.team.id, asked_for, polled)
        asked = ("get_channel_recommendations", "check_search_posts_flood", "search_posts")
        before = {m: total(m) for m in asked}
        # the quarantined candidate is polled by one collector at a time, never by both at once
        zaxira = sorted((p["start"], p["end"], p["collector"]) for p in polls("iskp_zaxira"))
        for (_s, end, _c), (start, _e, _c2) in pairwise(zaxira):
            assert end <= start, zaxira
        # the round's holder stops: the other takes the rounds over, and asks Telegram nothing more
        # (the day's round ran); the candidate is still polled, now by the one left
        holder.request_stop()
        await runs[daemons.index(holder)]
        assert other.team is not None
        await eventually(lambda: other.team is not None and set(other.team.tasks.held()) == {DISCOVERY, QUARANTINE},
                         report)
        seen = len(polls("iskp_zaxira"))
        await eventually(lambda: len(polls("iskp_zaxira")) >= seen + 2, report)
        assert {p["collector"] for p in polls("iskp_zaxira")[seen:]} == {other.team.id}
        await asyncio.sleep(1.5)  # several lease rounds of the new holder
        assert {m: total(m) for m in asked} == before, report()
        await refresh()
        assert state["tasks"][DISCOVERY].ran_by == holder.team.id
        # reports still leave the quarantined channel out (counted apart), as in single mode
        assert await pg_store.quarantined() and (await pg_store.counts())["watched"] == 2
    finally:
        for d in daemons:
            d.request_stop()
        await asyncio.gather(*runs, return_exceptions=True)
