"""channels add/list/remove, import and retag through the click commands (in-process, real files)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import collect, main
from monitor.store import open_store

from daemon.conftest import REPO, make_scenario, small_tagger, write_config

SHARED = Path(os.environ.get("MONITOR_SHARED", REPO.parent / "shared"))
EXPORT = SHARED / "fixtures" / "telegram-export" / "real_public_channel_TRFactsDeals_slice.json"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(make_scenario(channels=1, posts=3)), "utf-8")
    path = write_config(tmp_path, scenario, ["@chan_0000"])
    path.write_text(path.read_text("utf-8") + "# trailing comment stays\n", "utf-8")
    return path


@pytest.fixture(autouse=True)
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.compose

    monkeypatch.setattr(monitor.compose, "build_tagger", lambda settings: small_tagger())


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_channels_add_list_remove_edit_config_and_store(config: Path, tmp_path: Path) -> None:
    r = invoke(
        "channels",
        "add",
        "https://t.me/New_Channel",
        "--label",
        "country=TJ",
        "--interval",
        "90",
        "-c",
        str(config),
    )
    assert r.exit_code == 0, r.output
    data = tomllib.loads(config.read_text("utf-8"))
    assert data["channels"][-1] == {
        "handle": "https://t.me/New_Channel",
        "labels": {"country": "TJ"},
        "poll_interval": 90.0,
    }
    assert data["polling"]["batch_size"] == 50 and "# trailing comment stays" in config.read_text("utf-8")
    listed = invoke("channels", "list", "-c", str(config))
    assert "new_channel\t90.0\tFalse\tcountry=TJ" in listed.output
    dup = invoke("channels", "add", "@new_channel", "-c", str(config))
    assert dup.exit_code == 2 and "already watched" in dup.output
    bad = invoke("channels", "add", "@x", "-c", str(config))
    assert bad.exit_code == 2 and "not a valid Telegram username" in bad.output
    with sqlite3.connect(tmp_path / "monitor.db") as conn:
        assert conn.execute("SELECT watched FROM watch WHERE key = 'new_channel'").fetchone() == (1,)
    gone = invoke("channels", "remove", "@new_channel", "-c", str(config))
    assert gone.exit_code == 0
    assert [c["handle"] for c in tomllib.loads(config.read_text("utf-8"))["channels"]] == ["@chan_0000"]
    with sqlite3.connect(tmp_path / "monitor.db") as conn:
        assert conn.execute("SELECT watched FROM watch WHERE key = 'new_channel'").fetchone() == (0,)
    again = invoke("channels", "remove", "@new_channel", "-c", str(config))
    assert again.exit_code == 2 and "not in the watch list" in again.output


@pytest.mark.skipif(not EXPORT.is_file(), reason=f"shared export fixture not found at {EXPORT}")
def test_import_of_a_real_export_then_retag(config: Path, tmp_path: Path) -> None:
    text = config.read_text("utf-8").replace(
        'database = "monitor.db"', 'database = "monitor.db"\nstore_text = true'
    )
    config.write_text(text, "utf-8")
    r = invoke("import", "-c", str(config), str(EXPORT))
    assert r.exit_code == 0, r.output
    expected = sum(1 for m in json.loads(EXPORT.read_text("utf-8"))["messages"] if m.get("type") == "message")
    with sqlite3.connect(tmp_path / "monitor.db") as conn:
        n, sources = conn.execute("SELECT count(*), group_concat(DISTINCT source) FROM posts").fetchone()
        assert n == expected and sources == "export"
        conn.execute("UPDATE posts SET tagger_version = 'old', lang = 'xx'")
    again = invoke("import", "-c", str(config), str(EXPORT))  # idempotent: nothing stored twice
    assert again.exit_code == 0 and "0 new" in again.output
    retag = invoke("retag", "-c", str(config))
    assert retag.exit_code == 0, retag.output
    with sqlite3.connect(tmp_path / "monitor.db") as conn:
        rows = conn.execute("SELECT DISTINCT tagger_version FROM posts WHERE text IS NOT NULL").fetchall()
        assert rows == [(small_tagger().version,)]
        assert conn.execute(
            "SELECT count(*) FROM posts WHERE lang = 'xx' AND text IS NOT NULL"
        ).fetchone() == (0,)


def test_retag_all_resumes_from_its_checkpoint(config: Path, tmp_path: Path) -> None:
    settings = collect.load(config)

    async def seed() -> None:
        store = open_store(tmp_path / "monitor.db")
        await store.open()
        from datetime import UTC, datetime

        from monitor.models import Channel, Post

        await store.set_resolved(
            "chan_0000",
            Channel(id=5001, username="chan_0000", title="c", access_hash=1),
            at=datetime.now(UTC),
        )
        tagger = small_tagger()
        posts = [
            tagger.tag_post(
                Post(
                    channel_id=5001,
                    message_id=i,
                    posted_at=datetime(2024, 1, 1, tzinfo=UTC),
                    text=f"ISIS {i}",
                )
            )
            for i in range(1, 31)
        ]
        await store.save_posts(5001, posts, at=datetime.now(UTC), store_text=True)
        await store.close()

    asyncio.run(seed())
    seen: list[int] = []

    class Interrupt(Exception):
        pass

    def stop_after_two(n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        asyncio.run(collect.retag(settings, everything=True, batch=10, progress=stop_after_two))
    marker = tmp_path / "monitor.db.retag.json"
    assert json.loads(marker.read_text("utf-8"))["after"] == [5001, 20]
    seen.clear()
    totals: list[int] = []
    result = asyncio.run(
        collect.retag(settings, everything=True, batch=10, progress=seen.append, total=totals.append)
    )
    assert result == {"retagged": 10, "without_text": 0} and not marker.exists()
    assert totals == [10] and sum(seen) == 10  # the progress bar's total is what is left to do


def test_login_refuses_a_source_that_is_not_telegram(config: Path) -> None:
    result = CliRunner().invoke(main, ["login", "--config", str(config)])
    assert result.exit_code == 2
    assert "only a telegram source logs in" in result.output
