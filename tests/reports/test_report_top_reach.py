"""Top lists and reach against counts computed from the inputs."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, timedelta
from itertools import combinations

from reports.reportdata import CHANNEL_BY_ID, HOSTILE, SAVED_AT, Dataset, language_of

from monitor.reports.reach import reach
from monitor.reports.spec import ReportSpec
from monitor.reports.top import top

SPEC = ReportSpec(since=date(2021, 1, 1), until=date(2021, 4, 30))


async def test_top_channels(dataset: Dataset) -> None:
    report = await top(dataset.store, SPEC, what="channels")
    counts = Counter(f"@{CHANNEL_BY_ID[t.post.channel_id].username}" for t in dataset.posts)
    assert {r["channel"]: r["posts"] for r in report.as_dicts()} == dict(counts)
    assert [r["posts"] for r in report.as_dicts()] == sorted(counts.values(), reverse=True)


async def test_top_groups_and_keywords(dataset: Dataset) -> None:
    groups = Counter(g for t in dataset.posts for g in t.tags.groups)
    report = await top(dataset.store, SPEC, what="groups", limit=3)
    assert [r["posts"] for r in report.as_dicts()] == sorted(groups.values(), reverse=True)[:3]
    assert all(groups[r["group"]] == r["posts"] for r in report.as_dicts())
    keywords = Counter(k for t in dataset.posts for k in t.tags.keywords)
    kw = await top(dataset.store, SPEC, what="keywords")
    assert {r["keyword"]: r["posts"] for r in kw.as_dicts()} == dict(keywords)


async def test_top_posts_by_views_and_forwards(dataset: Dataset) -> None:
    report = await top(dataset.store, SPEC, what="posts-by-views", limit=5)
    best = sorted((t for t in dataset.posts if t.post.views is not None), key=lambda t: -(t.post.views or 0))[:5]
    assert [r["views"] for r in report.as_dicts()] == [t.post.views for t in best]
    first = report.as_dicts()[0]
    assert (first["channel"], first["message_id"]) == ("@beta_tj", dataset.hostile_key[1])
    assert first["text"] == HOSTILE  # raw and whole here; output.py escapes it for its medium
    assert first["link"] == f"https://t.me/beta_tj/{dataset.hostile_key[1]}"
    fwd = await top(dataset.store, SPEC, what="posts-by-forwards", limit=5)
    assert [r["forwards"] for r in fwd.as_dicts()] == sorted(
        (t.post.forwards for t in dataset.posts if t.post.forwards is not None), reverse=True)[:5]


async def test_groups_that_appear_together(dataset: Dataset) -> None:
    pairs = Counter(p for t in dataset.posts for p in combinations(sorted(t.tags.groups), 2))
    report = await top(dataset.store, SPEC, what="pairs", limit=100)
    assert {(r["group_a"], r["group_b"]): r["posts"] for r in report.as_dicts()} == dict(pairs)


async def test_reach_medians_by_language(dataset: Dataset) -> None:
    ages = (1, 6, 24, 168)
    report = await reach(dataset.store, ReportSpec(since=date(2021, 1, 1), until=date(2021, 4, 30),
                                                   by=("language",)), ages=ages)
    sampled = {(s.channel_id, s.message_id) for s in dataset.samples}
    expected: dict[tuple[str, int], list[int]] = {}
    for t in dataset.posts:
        post = t.post
        if post.views is None:
            continue
        series = sorted([(s.sampled_at, s.views) for s in dataset.samples
                         if (s.channel_id, s.message_id) == post.key] + [(SAVED_AT, post.views)])
        for age in ages:
            limit = post.posted_at + timedelta(hours=age)
            before = [v for when, v in series if when <= limit]
            if before and series[-1][0] >= limit:
                expected.setdefault((language_of(t.tags), age), []).append(before[-1])
    got = {(r["language"], r["age_hours"]): r for r in report.as_dicts()}
    assert set(got) == set(expected)
    for key, values in expected.items():
        assert got[key]["posts"] == len(values)
        assert got[key]["median_views"] == statistics.median(values)
    assert sampled  # the data has re-sampled posts
    assert not any(age == 1 for _, age in got)  # the first sample is taken 1h05 after publication
