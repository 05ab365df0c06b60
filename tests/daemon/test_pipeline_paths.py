"""poll_channel's every ending, pinned field by field against a real SQLite store.

Written from the mutation run of monitor/pipeline.py (docs/testing.md): the fake-Telegram tests in
test_pipeline.py show that each path is taken, not what it records. Here a scripted source (a real
implementation of the Source port that raises exactly the error a test names, where the fake client
can only produce a few) drives each path once, and the test reads back what the store kept: which
status, reason, retry time and error text, which park, which lifecycle event, which checkpoint.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.clock import FrozenClock
from monitor.errors import (
    ChannelUnavailable,
    FloodWait,
    PollStopped,
    SourceConnectionError,
    SourceError,
    SourceUnauthorized,
)
from monitor.models import Channel, ChannelRef, ChannelSnapshot, Post, PostKey, SaveResult, TaggedPost, WatchState
from monitor.pipeline import REFRESH_CHUNK, PollOptions, PollOutcome, park_scope, poll_channel
from monitor.sources.links import parse_channel_ref
from monitor.store import Store, open_store
from monitor.store.ports import Evaluate

from daemon.conftest import small_tagger

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
CHANNEL = Channel(id=7001, username="kanal", title="Kanal", access_hash=99)
NO_RESAMPLE = PollOptions(batch_size=3, backfill_posts=None, backfill_days=None, resample_days=0, profile_every=0)


def post(mid: int, *, text: str = "", at: datetime | None = None, views: int | None = None) -> Post:
    return Post(
        channel_id=CHANNEL.id,
        message_id=mid,
        posted_at=at or NOW - timedelta(hours=mid),
        text=text or f"post {mid}",
        views=views,
    )


@dataclass
class ScriptedSource:
    """The Source port over a list of posts, raising the errors a test scripts.

    ``fetch_error`` is raised after ``fetch_error_after`` posts were yielded; ``ignore_after_id``
    plays a source that returns old posts too (the pipeline must skip them).
    """

    posts: list[Post] = field(default_factory=list)
    channel: Channel = CHANNEL
    resolve_errors: list[Exception] = field(default_factory=list)  # raised by successive resolve calls
    fetch_error: Exception | None = None
    fetch_error_after: int = 0
    refresh_error: Exception | None = None
    info_error: Exception | None = None
    ignore_after_id: bool = False
    refreshed: dict[int, Post] = field(default_factory=dict)  # what refresh returns, by id
    resolved: list[tuple[str, Channel | None]] = field(default_factory=list)
    fetched: list[dict[str, Any]] = field(default_factory=list)
    refresh_calls: list[list[int]] = field(default_factory=list)
    info_calls: int = 0
    closed_iterators: int = 0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def resolve(self, ref: ChannelRef, known: Channel | None = None) -> Channel:
        self.resolved.append((ref.key, known))
        if self.resolve_errors:
            raise self.resolve_errors.pop(0)
        return self.channel

    def fetch(
        self, channel: Channel, *, after_id: int, limit: int | None = None, since: datetime | None = None
    ) -> AsyncIterator[Post]:
        self.fetched.append({"channel": channel.id, "after_id": after_id, "limit": limit, "since": since})
        return self._fetch(after_id)

    async def _fetch(self, after_id: int) -> AsyncIterator[Post]:
        try:
            given = 0
            for p in sorted(self.posts, key=lambda p: p.message_id):
                if p.message_id <= after_id and not self.ignore_after_id:
                    continue
                if self.fetch_error is not None and given == self.fetch_error_after:
                    raise self.fetch_error
                yield p
                given += 1
            if self.fetch_error is not None and given == self.fetch_error_after:
                raise self.fetch_error
        finally:
            self.closed_iterators += 1

    async def refresh(self, channel: Channel, message_ids: Sequence[int]) -> list[Post]:
        self.refresh_calls.append(list(message_ids))
        if self.refresh_error is not None:
            raise self.refresh_error
        return [self.refreshed[i] for i in message_ids if i in self.refreshed]

    async def channel_info(self, channel: Channel) -> ChannelSnapshot:
        self.info_calls += 1
        if self.info_error is not None:
            raise self.info_error
        return ChannelSnapshot(channel_id=channel.id, observed_at=NOW, title=channel.title, username=channel.username)


REF = parse_channel_ref("@kanal")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(tmp_path / "m.db")
    await s.open()
    yield s
    await s.close()


async def state(store: Store, key: str = REF.key) -> WatchState:
    return next(s for s in await store.watch_states() if s.key == key)


async def poll(
    store: Store,
    source: ScriptedSource,
    clock: FrozenClock | None = None,
    *,
    options: PollOptions = NO_RESAMPLE,
    ref: ChannelRef = REF,
    **kw: Any,
) -> PollOutcome:
    return await poll_channel(
        ref, source=source, store=store, tagger=small_tagger(), clock=clock or FrozenClock(NOW), options=options, **kw
    )


async def known(store: Store, channel: Channel = CHANNEL, ref: ChannelRef = REF) -> None:
    await store.sync_watchlist([ref], at=NOW - timedelta(days=1))
    await store.set_resolved(ref.key, channel, at=NOW - timedelta(days=1))


# ---- the normal path --------------------------------------------------------------------------


async def test_an_unlisted_channel_is_added_to_the_watchlist_and_resolved_once(store: Store) -> None:
    source = ScriptedSource(posts=[post(i) for i in (1, 2, 3, 4)])
    out = await poll(store, source)  # no sync_watchlist first, no state given
    assert out.outcome == "ok"
    st = await state(store)
    assert st.channel is not None and (st.channel.id, st.channel.access_hash) == (7001, 99)
    assert st.checkpoint == 4 and st.status == "active" and st.last_success_at == NOW
    assert source.resolved == [("kanal", None)]
    assert (out.key, out.channel_id, out.channel) == ("kanal", 7001, CHANNEL)
    assert (out.fetched, out.inserted, out.batches, out.checkpoint) == (4, 4, 2, 4)
    assert out.saved == (1, 2, 3, 4) and 0 < out.duration < 600  # seconds of wall time, generously bounded
    # resolved: the next poll asks nothing of the source but posts after the checkpoint
    source.posts.append(post(5))
    again = await poll(store, source, state=await state(store))
    assert (again.inserted, again.checkpoint, again.saved) == (1, 5, (5,))
    assert len(source.resolved) == 1
    assert [f["after_id"] for f in source.fetched] == [0, 4]
    assert source.closed_iterators == 2


async def test_a_known_channel_without_an_access_hash_is_resolved_with_what_the_store_knows(store: Store) -> None:
    bare = Channel(id=7001, username="kanal", title="Kanal", access_hash=None)
    await known(store, bare)
    source = ScriptedSource(posts=[post(1)])
    out = await poll(store, source)
    assert out.outcome == "ok"
    assert source.resolved == [("kanal", bare)]
    assert (await state(store)).channel.access_hash == 99  # type: ignore[union-attr]


async def test_first_sight_asks_for_the_backfill_depth_later_polls_do_not(store: Store) -> None:
    clock = FrozenClock(NOW)
    source = ScriptedSource(posts=[post(i) for i in range(1, 6)])
    opts = PollOptions(batch_size=10, backfill_posts=2, backfill_days=3, resample_days=0, profile_every=0)
    await poll(store, source, clock, options=opts)
    assert source.fetched[0] == {"channel": 7001, "after_id": 0, "limit": 2, "since": NOW - timedelta(days=3)}
    await poll(store, source, clock, options=opts)
    assert source.fetched[1] == {"channel": 7001, "after_id": 5, "limit": None, "since": None}
    nodays = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=0, profile_every=0)
    other = ScriptedSource(channel=Channel(id=7002, username="other", title="O", access_hash=1))
    await poll(store, other, clock, options=nodays, ref=parse_channel_ref("@other"))
    assert other.fetched[0] == {"channel": 7002, "after_id": 0, "limit": None, "since": None}


async def test_a_backfill_depth_of_zero_stores_nothing_and_only_moves_on(store: Store) -> None:
    source = ScriptedSource(posts=[post(i) for i in range(1, 6)])
    opts = PollOptions(batch_size=10, backfill_posts=0, backfill_days=None, resample_days=0, profile_every=0)
    out = await poll(store, source, options=opts)
    assert (out.outcome, out.fetched, out.inserted) == ("ok", 0, 0)
    assert source.fetched == []
    assert await store.all_post_keys() == []


async def test_posts_at_or_below_the_checkpoint_are_skipped_when_the_source_returns_them(store: Store) -> None:
    await known(store)
    source = ScriptedSource(posts=[post(i) for i in range(1, 4)])
    await poll(store, source)
    source.posts += [post(4), post(5)]
    source.ignore_after_id = True  # a source that ignores after_id hands 1..5 back
    out = await poll(store, source, state=await state(store))
    assert (out.fetched, out.inserted, out.saved) == (2, 2, (4, 5))
    assert (await state(store)).checkpoint == 5


async def test_batches_are_of_batch_size_and_the_checkpoint_is_the_newest_committed(store: Store) -> None:
    await known(store)
    seen: list[tuple[int, list[int], int]] = []

    async def on_saved(channel: Channel, tagged: Sequence[Any], result: Any) -> None:
        seen.append((channel.id, [t.post.message_id for t in tagged], result.inserted))

    source = ScriptedSource(posts=[post(i) for i in range(1, 8)])
    out = await poll(store, source, on_saved=on_saved)
    assert seen == [(7001, [1, 2, 3], 3), (7001, [4, 5, 6], 3), (7001, [7], 1)]
    assert (out.batches, out.inserted, out.checkpoint) == (3, 7, 7)
    rows = await store.query("SELECT DISTINCT source FROM posts")
    assert [r["source"] for r in rows] == ["telegram"]


async def test_the_tagger_runs_in_or_out_of_a_thread_with_the_same_result(store: Store) -> None:
    await known(store)
    source = ScriptedSource(posts=[post(1, text="ISIS named here"), post(2, text="Новость")])
    opts = PollOptions(
        batch_size=10,
        backfill_posts=None,
        backfill_days=None,
        resample_days=0,
        tag_in_thread=False,
        profile_every=0,
        store_text=True,
        source_name="import",
    )
    await poll(store, source, options=opts)
    one = await store.get_post(PostKey(7001, 1))
    two = await store.get_post(PostKey(7001, 2))
    assert one is not None and one.groups == ("IS",) and one.lang == "en" and one.text == "ISIS named here"
    assert two is not None and two.lang == "ru"
    rows = await store.query("SELECT DISTINCT source FROM posts")
    assert [r["source"] for r in rows] == ["import"]


@pytest.mark.parametrize("at_batch", [1, 2])
async def test_should_stop_ends_after_the_batch_in_hand_and_records_the_poll(store: Store, at_batch: int) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    saved: list[int] = []

    async def on_saved(channel: Channel, tagged: Sequence[Any], result: Any) -> None:
        saved.append(result.inserted)
        clock.advance(timedelta(seconds=10))

    source = ScriptedSource(posts=[post(i) for i in range(1, 8)])
    out = await poll(store, source, clock, on_saved=on_saved, should_stop=lambda: len(saved) >= at_batch)
    assert out.outcome == "stopped" and out.inserted == 3 * at_batch
    st = await state(store)
    assert st.checkpoint == 3 * at_batch
    assert st.last_poll_at == NOW + timedelta(seconds=10 * at_batch)  # recorded at the stop, not before
    assert source.closed_iterators == 1


async def test_should_stop_after_the_last_batch_skips_the_resample(store: Store) -> None:
    await known(store)
    source = ScriptedSource(posts=[post(1)])
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=7, profile_every=0)
    out = await poll(store, source, options=opts, should_stop=lambda: True)
    assert out.outcome == "stopped" and out.inserted == 1
    assert source.refresh_calls == []


async def test_a_stop_from_the_source_keeps_what_was_committed(store: Store) -> None:
    await known(store)
    source = ScriptedSource(posts=[post(i) for i in range(1, 8)], fetch_error=PollStopped(), fetch_error_after=4)
    out = await poll(store, source)
    assert (out.outcome, out.inserted, out.checkpoint, out.error) == ("stopped", 3, 3, None)
    assert (await state(store)).checkpoint == 3
    assert source.closed_iterators == 1


# ---- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["account", "channel"])
async def test_a_flood_wait_parks_its_scope_and_records_why(store: Store, scope: Any) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    wait = FloodWait(600, scope, method="GetHistoryRequest")
    source = ScriptedSource(posts=[post(i) for i in range(1, 8)], fetch_error=wait, fetch_error_after=4)
    out = await poll(store, source, clock)
    until = NOW + timedelta(seconds=600)
    expected_scope = "account" if scope == "account" else "channel:kanal"
    assert park_scope("kanal", wait) == expected_scope
    assert (out.outcome, out.park_scope, out.retry_at, out.method) == (
        "parked",
        expected_scope,
        until,
        "GetHistoryRequest",
    )
    assert out.error == f"flood wait of 600s ({scope})" and out.inserted == 3 and out.checkpoint == 3
    assert await store.parks(now=NOW) == {expected_scope: until}
    st = await state(store)
    assert (st.status, st.status_reason, st.retry_at, st.last_error) == (
        "parked",
        f"flood wait 600s ({scope})",
        until,
        f"flood wait of 600s ({scope})",
    )
    assert st.checkpoint == 3


STATUSES = [
    ("private", "private"),
    ("not_found", "not_found"),
    ("deleted", "not_found"),
    ("banned", "banned"),
    ("renamed", "renamed"),
    ("invalid", "invalid"),
]


@pytest.mark.parametrize(("reason", "status"), STATUSES)
async def test_an_unavailable_channel_gets_its_status_a_slow_retry_and_a_lifecycle_event(
    store: Store, reason: Any, status: str
) -> None:
    await store.sync_watchlist([REF], at=NOW)
    source = ScriptedSource(resolve_errors=[ChannelUnavailable(reason, f"because {reason}")])
    opts = PollOptions(
        batch_size=3, backfill_posts=None, backfill_days=None, resample_days=0, unavailable_retry=1234, profile_every=0
    )
    out = await poll(store, source, options=opts)
    retry = NOW + timedelta(seconds=1234)
    assert (out.outcome, out.retry_at, out.error) == (
        "unavailable",
        retry,
        str(ChannelUnavailable(reason, f"because {reason}")),
    )
    st = await state(store)
    assert (st.status, st.status_reason, st.retry_at) == (status, f"because {reason}", retry)
    assert st.last_error == out.error and st.last_poll_at == NOW
    events = await store.channel_events(keys=["kanal"])
    assert events and events[-1].at == NOW and events[-1].reason == f"because {reason}"


async def test_an_unavailable_reason_without_detail_is_its_own_reason(store: Store) -> None:
    await store.sync_watchlist([REF], at=NOW)
    out = await poll(store, ScriptedSource(resolve_errors=[ChannelUnavailable("private")]))
    st = await state(store)
    assert out.outcome == "unavailable" and (st.status, st.status_reason) == ("private", "private")


async def test_an_unavailable_reason_the_pipeline_does_not_know_is_an_error_status(store: Store) -> None:
    await store.sync_watchlist([REF], at=NOW)
    odd = ChannelUnavailable("gone_fishing", "who knows")  # type: ignore[arg-type]
    out = await poll(store, ScriptedSource(resolve_errors=[odd]))
    assert out.outcome == "unavailable" and (await state(store)).status == "error"


async def test_a_known_channel_that_becomes_private_records_the_channel_id(store: Store) -> None:
    await known(store)
    source = ScriptedSource(fetch_error=ChannelUnavailable("private", "CHANNEL_PRIVATE"))
    out = await poll(store, source)
    assert out.outcome == "unavailable" and source.resolved == []
    events = await store.channel_events(keys=["kanal"])
    assert [(e.state, e.channel_id, e.reason) for e in events][-1] == ("private", 7001, "CHANNEL_PRIVATE")


async def test_a_refused_hash_resolved_again_is_an_error_poll_with_the_new_hash_stored(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    fresh = Channel(id=7001, username="kanal", title="Kanal", access_hash=1000)
    source = ScriptedSource(channel=fresh, fetch_error=ChannelUnavailable("invalid", "CHANNEL_INVALID"))
    out = await poll(store, source, clock)
    note = "the stored access hash was refused; the channel was resolved again"
    assert (out.outcome, out.error) == ("error", note)
    assert source.resolved == [("kanal", Channel(id=7001, username="kanal", title="Kanal", access_hash=None))]
    st = await state(store)
    assert st.channel == fresh and st.last_error == note and st.last_poll_at == NOW
    assert st.status != "invalid" and st.retry_at is None


async def test_a_refused_hash_and_a_username_now_elsewhere_is_renamed(store: Store) -> None:
    await known(store)
    source = ScriptedSource(
        fetch_error=ChannelUnavailable("invalid", "CHANNEL_INVALID"),
        resolve_errors=[ChannelUnavailable("renamed", "@kanal names another channel")],
    )
    out = await poll(store, source)
    st = await state(store)
    assert out.outcome == "unavailable" and st.status == "renamed"
    assert st.status_reason == "@kanal names another channel" and st.channel == CHANNEL
    assert "@kanal names another channel" in (out.error or "")


async def test_a_refused_hash_and_a_failed_second_resolve_is_invalid_with_both_reasons(store: Store) -> None:
    await known(store)
    source = ScriptedSource(
        fetch_error=ChannelUnavailable("invalid", "CHANNEL_INVALID"), resolve_errors=[SourceError("RPC_CALL_FAIL")]
    )
    out = await poll(store, source)
    st = await state(store)
    assert out.outcome == "unavailable" and st.status == "invalid"
    assert st.status_reason == "the stored access hash was refused; resolving again failed: RPC_CALL_FAIL"


async def test_a_refused_hash_without_a_username_is_invalid_without_asking_again(store: Store) -> None:
    by_id = ChannelRef(key="id:7001", username=None, channel_id=7001)
    await known(store, ref=by_id)
    source = ScriptedSource(fetch_error=ChannelUnavailable("invalid", "CHANNEL_INVALID"))
    out = await poll(store, source, ref=by_id)
    st = await state(store, "id:7001")
    assert out.outcome == "unavailable" and source.resolved == []
    assert (st.status, st.status_reason) == ("invalid", "the stored access hash was refused and there is no username")


async def test_invalid_on_first_resolve_is_not_resolved_twice(store: Store) -> None:
    await store.sync_watchlist([REF], at=NOW)
    source = ScriptedSource(resolve_errors=[ChannelUnavailable("invalid", "not a channel")])
    out = await poll(store, source)
    assert out.outcome == "unavailable" and len(source.resolved) == 1
    assert (await state(store)).status_reason == "not a channel"


async def test_a_lost_connection_records_the_error_and_keeps_the_committed_batches(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    source = ScriptedSource(
        posts=[post(i) for i in range(1, 8)], fetch_error=SourceConnectionError("connection reset"), fetch_error_after=3
    )
    out = await poll(store, source, clock)
    assert (out.outcome, out.error, out.inserted, out.retry_at, out.park_scope) == (
        "disconnected",
        "connection reset",
        3,
        None,
        None,
    )
    st = await state(store)
    assert (st.last_error, st.last_poll_at, st.checkpoint, st.status) == ("connection reset", NOW, 3, "active")
    assert await store.parks(now=NOW) == {}


async def test_an_unauthorized_session_is_left_for_the_caller_to_record(store: Store) -> None:
    await known(store)
    source = ScriptedSource(posts=[post(1)], fetch_error=SourceUnauthorized("revoked", "AUTH_KEY_UNREGISTERED"))
    before = await state(store)
    out = await poll(store, source)
    assert out.outcome == "unauthorized" and out.error == str(SourceUnauthorized("revoked", "AUTH_KEY_UNREGISTERED"))
    after = await state(store)
    assert (after.last_poll_at, after.last_error, after.status) == (before.last_poll_at, None, before.status)


async def test_an_unknown_source_error_is_noted_and_retried_next_time(store: Store) -> None:
    await known(store)
    source = ScriptedSource(
        posts=[post(i) for i in range(1, 6)], fetch_error=SourceError("CHAT_WRITE_FORBIDDEN"), fetch_error_after=4
    )
    out = await poll(store, source)
    # the full batch (1-3) is committed; post 4, in a batch not yet full, is fetched again next time
    assert (out.outcome, out.error, out.fetched, out.inserted, out.checkpoint) == (
        "error",
        "CHAT_WRITE_FORBIDDEN",
        4,
        3,
        3,
    )
    st = await state(store)
    assert (st.last_error, st.last_poll_at, st.status, st.retry_at) == ("CHAT_WRITE_FORBIDDEN", NOW, "active", None)
    assert st.checkpoint == 3


# ---- re-sampling ------------------------------------------------------------------------------


async def test_a_resample_reads_back_recent_posts_except_those_just_saved(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    source = ScriptedSource(posts=[post(1, views=5), post(2, views=5)])
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=1, profile_every=0)
    first = await poll(store, source, clock, options=opts)
    assert first.resampled == 0 and source.refresh_calls == []  # both were saved by this very poll
    source.posts.append(post(3, views=1))
    source.refreshed = {1: post(1, views=50), 2: post(2, views=60)}
    updates: list[int] = []

    async def on_saved(channel: Channel, tagged: Sequence[Any], result: Any) -> None:
        updates.append(result.updated)

    second = await poll(store, source, clock, options=opts, state=await state(store), on_saved=on_saved)
    assert source.refresh_calls == [[1, 2]]
    assert (second.resampled, second.updated, second.inserted, second.deleted) == (2, 2, 1, 0)
    assert updates == [0, 2]  # the new post's batch, then the re-sample that changed something
    rows = await store.query("SELECT message_id, views FROM metric_samples WHERE message_id = 1 ORDER BY views")
    assert [r["views"] for r in rows][-1] == 50
    # nothing changed since: the re-sample reads and saves, on_saved is not called for it
    updates.clear()
    source.refreshed[3] = post(3, views=1)
    third = await poll(store, source, clock, options=opts, state=await state(store), on_saved=on_saved)
    assert (third.resampled, third.updated) == (3, 0) and updates == []


async def test_only_posts_within_the_resample_window_are_read_back(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    source = ScriptedSource(posts=[post(1, at=NOW - timedelta(days=3)), post(2, at=NOW - timedelta(hours=1))])
    await poll(store, source, clock)
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=2, profile_every=0)
    source.refreshed = {2: post(2, at=NOW - timedelta(hours=1))}
    out = await poll(store, source, clock, options=opts, state=await state(store))
    assert source.refresh_calls == [[2]] and out.resampled == 1


async def test_a_resample_asks_in_chunks_and_marks_posts_not_given_back_deleted(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    n = REFRESH_CHUNK + 5
    source = ScriptedSource(posts=[post(i, at=NOW - timedelta(minutes=i)) for i in range(1, n + 1)])
    await poll(
        store,
        source,
        clock,
        options=PollOptions(batch_size=500, backfill_posts=None, backfill_days=None, resample_days=0, profile_every=0),
    )
    gone = {3, REFRESH_CHUNK + 2}
    source.refreshed = {p.message_id: p for p in source.posts if p.message_id not in gone}
    opts = PollOptions(batch_size=500, backfill_posts=None, backfill_days=None, resample_days=7, profile_every=0)
    out = await poll(store, source, clock, options=opts, state=await state(store))
    assert [len(c) for c in source.refresh_calls] == [REFRESH_CHUNK, 5]
    assert sorted(i for c in source.refresh_calls for i in c) == list(range(1, n + 1))
    assert (out.resampled, out.deleted) == (n - 2, 2)
    rows = await store.query("SELECT message_id FROM posts WHERE deleted_at IS NOT NULL ORDER BY message_id")
    assert [r["message_id"] for r in rows] == sorted(gone)


async def test_a_chunk_given_back_empty_is_all_deleted_and_nothing_is_saved(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    source = ScriptedSource(posts=[post(1), post(2)])
    await poll(store, source, clock)
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=7, profile_every=0)
    out = await poll(store, source, clock, options=opts, state=await state(store))
    assert (out.outcome, out.resampled, out.deleted, out.updated) == ("ok", 0, 2, 0)


async def test_a_resample_that_fails_ends_the_poll_like_any_request(store: Store) -> None:
    await known(store)
    source = ScriptedSource(posts=[post(1)])
    await poll(store, source)
    source.refresh_error = FloodWait(30, "channel")
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=7, profile_every=0)
    out = await poll(store, source, options=opts, state=await state(store))
    assert out.outcome == "parked" and out.park_scope == "channel:kanal"


async def test_the_profile_is_sampled_on_success_at_its_cadence(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    source = ScriptedSource(posts=[post(1)])
    opts = PollOptions(batch_size=10, backfill_posts=None, backfill_days=None, resample_days=0, profile_every=3600)
    await poll(store, source, clock, options=opts)
    await poll(store, source, clock, options=opts)
    assert source.info_calls == 1
    assert [s.title for s in await store.channel_snapshots(7001)] == ["Kanal"]


# ---- written from the second mutation run: what the first set left unpinned -----------------


class AlertProbe:
    """An alert step that writes down which batches it sees, before, inside and after each save."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, list[int]]] = []

    async def before_save(self, channel: Channel, tagged: Sequence[TaggedPost]) -> None:
        self.calls.append(("before", channel.id, [t.post.message_id for t in tagged]))

    def evaluator(self, channel: Channel, tagged: Sequence[TaggedPost]) -> Evaluate:
        async def evaluate(history: Any, result: SaveResult) -> None:
            self.calls.append(("evaluate", channel.id, [t.post.message_id for t in tagged]))

        return evaluate

    async def after_save(self, channel: Channel, tagged: Sequence[TaggedPost], result: SaveResult) -> None:
        self.calls.append(("after", channel.id, [t.post.message_id for t in tagged]))


async def test_the_alert_step_sees_every_batch_of_the_poll_and_of_the_resample(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    source = ScriptedSource(posts=[post(1), post(2)])
    await poll(store, source, clock)
    source.posts += [post(3), post(4), post(5), post(6)]
    source.refreshed = {1: post(1, views=9), 2: post(2, views=9)}
    probe = AlertProbe()
    opts = PollOptions(batch_size=3, backfill_posts=None, backfill_days=None, resample_days=7, profile_every=0)
    await poll(store, source, clock, options=opts, state=await state(store), alerts=probe)
    steps = [(step, ids) for step, channel_id, ids in probe.calls if channel_id == 7001]
    saves = [(s, ids) for ids in ([3, 4, 5], [6]) for s in ("before", "evaluate", "after")]
    # the re-sample inserts nothing, so the store has nothing to evaluate
    assert steps == [*saves, ("before", [1, 2]), ("after", [1, 2])]


async def test_a_poll_adds_up_updates_over_its_batches(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    source = ScriptedSource(posts=[post(i, views=1) for i in range(1, 6)])
    await poll(store, source, clock)
    # posts stored past the checkpoint (an import does this): the poll fetches them again, changed
    source.posts = [post(i, views=2) for i in range(1, 6)]
    rewound = replace(await state(store), checkpoint=0)
    out = await poll(store, source, clock, state=rewound)
    assert (out.inserted, out.updated, out.batches) == (0, 5, 2)


async def test_a_resample_adds_up_updates_over_its_chunks(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    n = REFRESH_CHUNK + 4
    source = ScriptedSource(posts=[post(i, at=NOW - timedelta(minutes=i)) for i in range(1, n + 1)])
    await poll(
        store,
        source,
        clock,
        options=PollOptions(batch_size=500, backfill_posts=None, backfill_days=None, resample_days=0, profile_every=0),
    )
    source.refreshed = {i: post(i, at=NOW - timedelta(minutes=i), views=100 + i) for i in range(1, n + 1)}
    opts = PollOptions(batch_size=500, backfill_posts=None, backfill_days=None, resample_days=7, profile_every=0)
    out = await poll(store, source, clock, options=opts, state=await state(store))
    assert (out.resampled, out.updated) == (n, n)


async def test_a_resample_keeps_an_edit_s_text_when_text_is_kept(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    keep = PollOptions(
        batch_size=10, backfill_posts=None, backfill_days=None, resample_days=7, profile_every=0, store_text=True
    )
    source = ScriptedSource(posts=[post(1, text="first words")])
    await poll(store, source, clock, options=keep)
    source.refreshed = {
        1: Post(channel_id=7001, message_id=1, posted_at=post(1).posted_at, text="edited: ISIS", edited_at=NOW)
    }
    seen: list[tuple[int, list[int], int]] = []

    async def on_saved(channel: Channel, tagged: Sequence[TaggedPost], result: SaveResult) -> None:
        seen.append((channel.id, [t.post.message_id for t in tagged], result.updated))

    out = await poll(store, source, clock, options=keep, state=await state(store), on_saved=on_saved)
    assert out.updated == 1 and seen == [(7001, [1], 1)]
    stored = await store.get_post(PostKey(7001, 1))
    assert stored is not None and stored.text == "edited: ISIS" and stored.groups == ("IS",)


async def test_a_first_chunk_wholly_gone_does_not_stop_the_next_chunk(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    n = REFRESH_CHUNK + 5
    source = ScriptedSource(posts=[post(i, at=NOW - timedelta(minutes=n - i)) for i in range(1, n + 1)])
    await poll(
        store,
        source,
        clock,
        options=PollOptions(batch_size=500, backfill_posts=None, backfill_days=None, resample_days=0, profile_every=0),
    )
    source.refreshed = {p.message_id: p for p in source.posts if p.message_id > REFRESH_CHUNK}
    opts = PollOptions(batch_size=500, backfill_posts=None, backfill_days=None, resample_days=7, profile_every=0)
    out = await poll(store, source, clock, options=opts, state=await state(store))
    assert len(source.refresh_calls) == 2
    assert (out.resampled, out.deleted) == (5, REFRESH_CHUNK)


async def test_no_resample_window_reads_nothing_back_even_a_post_of_this_very_moment(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW)
    source = ScriptedSource(posts=[post(1, at=NOW)])
    await poll(store, source, clock)
    source.refreshed = {1: post(1, at=NOW)}
    out = await poll(store, source, clock, state=await state(store))  # resample_days=0
    assert source.refresh_calls == [] and out.resampled == 0


@pytest.mark.parametrize("in_thread", [True, False])
async def test_tagging_runs_off_the_event_loop_when_asked(store: Store, in_thread: bool) -> None:
    await known(store)
    loop_thread = threading.get_ident()
    threads: list[int] = []
    inner = small_tagger()

    class ThreadNoting:
        version = inner.version

        def tag_posts(self, posts: Sequence[Post]) -> list[TaggedPost]:
            threads.append(threading.get_ident())
            return inner.tag_posts(posts)

    clock = FrozenClock(NOW)
    source = ScriptedSource(posts=[post(1), post(2)])
    await poll(store, source, clock)
    source.posts.append(post(3))
    source.refreshed = {1: post(1, views=4)}
    opts = PollOptions(
        batch_size=10,
        backfill_posts=None,
        backfill_days=None,
        resample_days=7,
        profile_every=0,
        tag_in_thread=in_thread,
    )
    await poll_channel(REF, source=source, store=store, tagger=ThreadNoting(), clock=clock, options=opts)
    assert len(threads) == 2  # the new post, then the re-sample
    assert all((t != loop_thread) == in_thread for t in threads)


async def test_the_fetch_is_closed_before_the_poll_goes_on(store: Store) -> None:
    """A stopped poll closes the source's iterator itself (Telethon's holds a request open), not the GC later."""
    await known(store)
    source = ScriptedSource(posts=[post(i) for i in range(1, 8)])
    closed_when_asked: list[int] = []

    def stop() -> bool:
        closed_when_asked.append(source.closed_iterators)
        return True

    out = await poll(store, source, should_stop=stop)
    assert out.outcome == "stopped"
    assert closed_when_asked == [0, 1]  # open after the first batch, closed when the poll asks again


async def test_a_park_keeps_its_reason_and_the_status_its_moment(store: Store) -> None:
    await known(store)
    clock = FrozenClock(NOW + timedelta(minutes=5))
    source = ScriptedSource(fetch_error=FloodWait(60, "channel"))
    await poll(store, source, clock)
    rows = await store.query("SELECT scope, reason FROM parks")
    assert [(r["scope"], r["reason"]) for r in rows] == [("channel:kanal", "flood wait of 60s (channel)")]
    assert (await state(store)).last_poll_at == NOW + timedelta(minutes=5)


async def test_a_channel_in_error_resolved_again_is_active(store: Store) -> None:
    await known(store)
    await store.set_watch_status(REF.key, "error", reason="earlier", at=NOW)
    source = ScriptedSource(fetch_error=ChannelUnavailable("invalid", "CHANNEL_INVALID"))
    out = await poll(store, source)
    assert out.outcome == "error" and (await state(store)).status == "active"
