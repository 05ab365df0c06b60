"""`save_batch`, the one save path of polls and imports, with an alert step: the step sees the channel
and the batch before the save, evaluates inside the save transaction (a failure there is reported and
the posts still commit), and hears the result after; store_text and source reach the stored rows.

Written from the mutation run (docs/testing.md): the pipeline tests never gave save_batch an alert
step, so mutants that dropped or emptied its arguments survived.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.models import Channel, Post, RuleNote, SaveResult, TaggedPost
from monitor.pipeline import save_batch
from monitor.store import open_store
from monitor.tagging import Tagger

CHANNEL = Channel(id=4242, username="ozod_sado", title="Ozod sado", access_hash=1)
AT = datetime(2024, 3, 1, 12, tzinfo=UTC)


class RecordingStep:
    """An alert step that writes down what it is given; its evaluation writes in the save transaction."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail = fail
        self.rule = "failing-probe" if fail else "probe"

    async def before_save(self, channel: Channel, tagged: Sequence[TaggedPost]) -> None:
        self.calls.append(("before", channel.id, [t.post.message_id for t in tagged]))

    def evaluator(self, channel: Channel, tagged: Sequence[TaggedPost]) -> Any:
        async def evaluate(history: Any, result: SaveResult) -> None:
            self.calls.append(("evaluate", channel.id, [t.post.message_id for t in tagged],
                               sorted(k.message_id for k in result.inserted_keys)))
            await history.note_rule(RuleNote(self.rule, "match", AT, detection_hash="h", seeded=True))
            if self.fail:
                raise RuntimeError("rule blew up")

        return evaluate

    async def after_save(self, channel: Channel, tagged: Sequence[TaggedPost], result: SaveResult) -> None:
        self.calls.append(("after", channel.id, [t.post.message_id for t in tagged], result.inserted,
                           result.evaluation_error is not None))


def posts(tagger: Tagger, *ids: int) -> list[TaggedPost]:
    return tagger.tag_posts([Post(channel_id=CHANNEL.id, message_id=i, posted_at=AT, text=f"пост {i} ИГИЛ", views=5)
                             for i in ids])


async def test_the_alert_step_sees_the_batch_evaluates_inside_the_save_and_hears_the_result(
    tmp_path: Path, tagger: Tagger
) -> None:
    store = open_store(tmp_path / "m.db")
    await store.open()
    try:
        step = RecordingStep()
        result = await save_batch(store, CHANNEL, posts(tagger, 1, 2), alerts=step, at=AT, checkpoint=2,
                                  store_text=True, source="import")
        assert result.inserted == 2 and result.evaluation_error is None
        assert step.calls == [("before", CHANNEL.id, [1, 2]), ("evaluate", CHANNEL.id, [1, 2], [1, 2]),
                              ("after", CHANNEL.id, [1, 2], 2, False)]
        again = await save_batch(store, CHANNEL, posts(tagger, 2, 3), alerts=step, at=AT, checkpoint=3,
                                 store_text=False, source="telegram")
        assert again.inserted == 1 and step.calls[-2] == ("evaluate", CHANNEL.id, [2, 3], [3])

        failing = RecordingStep(fail=True)
        kept = await save_batch(store, CHANNEL, posts(tagger, 4), alerts=failing, at=AT, checkpoint=4,
                                store_text=True, source="telegram")
        assert kept.inserted == 1 and "rule blew up" in (kept.evaluation_error or "")
        assert failing.calls[-1] == ("after", CHANNEL.id, [4], 1, True)
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "m.db") as db:
        rows = db.execute("SELECT message_id, text IS NOT NULL, source FROM posts ORDER BY message_id").fetchall()
        assert rows == [(1, 1, "import"), (2, 1, "import"), (3, 0, "telegram"), (4, 1, "telegram")]
        # the evaluation's write committed with the posts; the failed one was rolled back to its savepoint
        assert [r[0] for r in db.execute("SELECT name FROM alert_rules")] == ["probe"]


async def test_without_an_alert_step_the_posts_are_saved_as_asked(tmp_path: Path, tagger: Tagger) -> None:
    store = open_store(tmp_path / "m.db")
    await store.open()
    try:
        result = await save_batch(store, CHANNEL, posts(tagger, 7), alerts=None, at=AT, checkpoint=None,
                                  store_text=False, source="scenario")
        assert result.inserted == 1 and result.evaluation_error is None
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert db.execute("SELECT text, source FROM posts").fetchall() == [(None, "scenario")]
