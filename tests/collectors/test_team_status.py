"""`monitor status` in team mode, on the real PostgreSQL server: collectors, accounts, who polls which
channel, and the health check failing on a stalled channel (unpolled for three intervals)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main
from monitor.models import AccountState, Channel, ChannelRef, CollectorInfo
from monitor.store import Store


def now() -> datetime:
    """The status command reads the real clock: the fixtures are dated when each test runs, not at import."""
    return datetime.now(UTC).replace(microsecond=0)


def config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'[monitor]\ndatabase = "{url}"\n[polling]\ninterval = 60\n[collectors]\nlease_expiry = 30\n'
        '[[channels]]\nhandle = "@alpha"\n[[channels]]\nhandle = "@beta"\n',
        "utf-8",
    )
    return path


async def team(store: Store, *, beta_polled: timedelta) -> None:
    NOW = now()  # noqa: N806 - the moment the rows describe
    await store.sync_watchlist([ChannelRef(key="alpha", username="alpha"), ChannelRef(key="beta", username="beta")], at=NOW)
    await store.set_resolved("alpha", Channel(id=11, username="alpha", title="Alpha <b>", access_hash=1), at=NOW)
    await store.register_collector(CollectorInfo(id="c-live", host="box1", pid=41, version="0.1.0",
                                                 started_at=NOW - timedelta(hours=1), heartbeat_at=NOW))
    await store.register_collector(CollectorInfo(id="c-dead", host="box2", pid=42, version="0.1.0",
                                                 started_at=NOW - timedelta(hours=1),
                                                 heartbeat_at=NOW - timedelta(minutes=10)))
    assert await store.claim_leases("c-live", ["alpha"], at=NOW, expiry=30, limit=5) == ["alpha"]
    await store.set_lease_accounts("c-live", {"alpha": "acc1"})
    await store.set_account_state(AccountState(name="acc1", state="ok", since=NOW))
    await store.set_account_state(AccountState(name="acc2", state="flood_wait", reason="flood wait of 3600s (account)",
                                               since=NOW, until=NOW + timedelta(hours=1)))
    assert await store.hold_account("acc1", "c-live", at=NOW, expiry=30, requests_hour=120) is None
    await store.park("account", NOW + timedelta(hours=1), "acc2's flood wait, as the pipeline writes it")
    await store.record_poll("alpha", at=NOW - timedelta(seconds=30))
    await store.record_poll("beta", at=NOW - beta_polled)


async def status(cfg: Path, *args: str) -> tuple[int, str]:
    """The CLI as a user runs it (in a thread: it runs its own event loop)."""
    return await asyncio.to_thread(_status, cfg, *args)


def _status(cfg: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["status", "-c", str(cfg), *args], catch_exceptions=False)
    return r.exit_code, r.output


async def test_status_shows_collectors_accounts_and_each_channels_holder(pg_store: Store, pg_url: str, tmp_path: Path) -> None:
    await team(pg_store, beta_polled=timedelta(seconds=100))  # within three intervals of 60 s
    cfg = config(tmp_path, pg_url)
    code, out = await status(cfg, "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert data["heartbeat"]["healthy"] and data["heartbeat"]["summary"] == "collectors: 1 running: ok"
    assert [(c["host"], c["pid"], c["state"], c["leases"]) for c in data["collectors"]] == [
        ("box1", 41, "running", 1), ("box2", 42, "dead", 0)
    ]
    acc = {a["name"]: a for a in data["accounts"]}
    assert (acc["acc1"]["state"], acc["acc1"]["holder"], acc["acc1"]["requests_last_hour"], acc["acc1"]["channels"]) == (
        "ok", "c-live", 120, 1)
    assert acc["acc2"]["state"] == "flood_wait" and acc["acc2"]["parked_until"] is not None
    rows = {r["channel"]: r for r in data["channels"]}
    assert (rows["alpha"]["collector"], rows["alpha"]["account"], rows["alpha"]["stalled"]) == ("c-live", "acc1", False)
    assert (rows["beta"]["collector"], rows["beta"]["stalled"]) == (None, False)
    assert rows["alpha"]["parked_until"] is None  # one account's flood wait does not park the team's channels
    code, out = await status(cfg)  # the table: both team tables, escaped titles
    assert code == 0 and "collectors" in out and "accounts" in out and "box1" in out and "acc2" in out


async def test_a_channel_unpolled_for_three_intervals_fails_the_health_check(pg_store: Store, pg_url: str, tmp_path: Path) -> None:
    await team(pg_store, beta_polled=timedelta(seconds=200))  # > 3 x 60 s: nobody polls it
    cfg = config(tmp_path, pg_url)
    code, out = await status(cfg, "--json")
    assert code == 1
    data = json.loads(out)
    assert not data["heartbeat"]["healthy"] and "STALLED: 1 channel(s)" in data["heartbeat"]["summary"]
    assert "beta" in data["heartbeat"]["summary"]
    assert [r["channel"] for r in data["channels"] if r["stalled"]] == ["beta"]
    assert await status(cfg, "--quiet") == (1, "")
