"""The rule that posts, tags, samples and the checkpoint commit together, checked fast and in-process.

The failure is injected INSIDE the store's transaction, by SQLite itself: a trigger aborts the
checkpoint update, which `save_posts` runs last, after it has written the batch's posts, tags and
samples. If anything before it were committed on its own, it would show up below.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.clock import FrozenClock
from monitor.errors import StoreError
from monitor.pipeline import PollOptions, poll_channel
from monitor.sources.links import parse_channel_ref
from monitor.sources.telegram import TelethonSource
from monitor.sources.telegram_fake import FakeTelegramClient
from monitor.store.sqlite import SQLiteStore

from daemon.conftest import make_scenario, small_tagger

START = datetime(2024, 1, 1, tzinfo=UTC)
OPTIONS = PollOptions(batch_size=5, backfill_posts=None, backfill_days=None, resample_days=0, tag_in_thread=False)


def counts(db: Path) -> tuple[int, int, int, int]:
    with sqlite3.connect(db) as conn:
        return (
            conn.execute("SELECT count(*) FROM posts").fetchone()[0],
            conn.execute("SELECT count(*) FROM post_tags").fetchone()[0],
            conn.execute("SELECT count(*) FROM metric_samples").fetchone()[0],
            conn.execute("SELECT coalesce(max(checkpoint), 0) FROM channels").fetchone()[0],
        )


def fail_checkpoints_above(db: Path, limit: int) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TRIGGER injected_failure BEFORE UPDATE OF checkpoint ON channels"
            f" WHEN NEW.checkpoint > {int(limit)}"
            " BEGIN SELECT RAISE(ABORT, 'injected failure after the batch was written'); END"
        )


async def test_a_failure_inside_the_save_transaction_rolls_back_the_whole_batch(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    clock = FrozenClock(START + timedelta(days=30))
    scenario = make_scenario(channels=1, posts=12, start=START)  # every 5th post names ISIS: group tags
    source = TelethonSource(FakeTelegramClient.from_scenario(scenario, clock), clock=clock)
    await source.start()
    store = SQLiteStore(db)  # closed by the conftest fixture whatever happens
    await store.open()
    ref = parse_channel_ref("@chan_0000")
    fail_checkpoints_above(db, 5)  # batch 1 (posts 1-5) commits; batch 2 (6-10) fails at its checkpoint

    with pytest.raises((StoreError, sqlite3.Error)):
        await poll_channel(ref, source=source, store=store, tagger=small_tagger(), clock=clock, options=OPTIONS)
    posts, tags, samples, checkpoint = counts(db)
    assert (posts, checkpoint) == (5, 5)  # nothing of batch 2: not its posts...
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT max(message_id) FROM post_tags").fetchone()[0] <= 5  # ...nor its tags...
        assert conn.execute("SELECT count(*) FROM metric_samples WHERE message_id > 5").fetchone()[0] == 0
        assert samples == conn.execute("SELECT count(*) FROM metric_samples").fetchone()[0] > 0  # ...nor samples
        assert tags == conn.execute("SELECT count(*) FROM post_tags WHERE message_id <= 5").fetchone()[0] > 0
        conn.execute("DROP TRIGGER injected_failure")

    outcome = await poll_channel(ref, source=source, store=store, tagger=small_tagger(), clock=clock, options=OPTIONS)
    assert outcome.outcome == "ok" and outcome.inserted == 7  # the rolled-back batch comes again, once
    posts, _tags, _samples, checkpoint = counts(db)
    assert (posts, checkpoint) == (12, 12)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(DISTINCT message_id) FROM posts").fetchone()[0] == 12
        group_tags = conn.execute("SELECT message_id FROM post_tags WHERE kind = 'group' ORDER BY 1").fetchall()
    assert [m for (m,) in group_tags] == [1, 6, 11]  # posts 0, 5, 10 of the scenario (ids 1, 6, 11), once each
