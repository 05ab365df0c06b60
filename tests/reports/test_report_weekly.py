"""Weekly tag series per channel (agg_tag_week, migration 0005) return the numbers of a plain GROUP BY
over posts and post_tags, for whole weeks, partial edge weeks and channel filters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from reports.reportdata import Dataset, all_periods, expected_volume

from monitor.reports.periods import to_day
from monitor.reports.spec import ReportSpec
from monitor.reports.volume import volume

PLAIN = (
    "SELECT p.day - ((p.day + 3) % 7) AS bucket, {dims} t.value AS value, count(*) AS posts,"
    " coalesce(sum(p.views), 0) AS views, coalesce(sum(p.forwards), 0) AS forwards"
    " FROM posts p JOIN post_tags t ON t.channel_id = p.channel_id AND t.message_id = p.message_id"
    " WHERE t.kind = ? AND p.day BETWEEN ? AND ? {channels} GROUP BY 1, {keys}"
)


@pytest.mark.parametrize(
    ("kind", "by_channel", "channel_ids", "since", "until"),
    [
        ("group", True, None, date(2021, 1, 4), date(2021, 5, 2)),  # Monday .. Sunday: whole weeks only
        ("group", True, None, date(2021, 1, 6), date(2021, 4, 22)),  # Wednesday .. Thursday: edges from days
        ("group", False, [1001], date(2020, 12, 30), date(2021, 6, 30)),  # a label filter: --label country=UZ
        ("keyword", True, [1001, 1003], date(2021, 1, 1), date(2021, 3, 31)),
        ("group", True, [1002], date(2021, 2, 2), date(2021, 2, 6)),  # no whole week: the daily table
    ],
)
async def test_weekly_tag_rows_equal_a_group_by_over_posts(
    dataset: Dataset, kind: str, by_channel: bool, channel_ids: list[int] | None, since: date, until: date
) -> None:
    store = dataset.store
    lo, hi = to_day(since), to_day(until)
    dims = (kind, "channel") if by_channel else (kind,)
    rows, table = await store.report_volume(since_day=lo, until_day=hi, every="week", dims=dims,
                                            channel_ids=channel_ids)
    assert table == ("daily tag aggregates per channel" if until - since < timedelta(days=7)
                     else "weekly tag aggregates per channel")
    got: dict[tuple[int, int | None, str], list[int]] = {}
    for r in rows:  # edge weeks come from two tables: add them up as the report does
        key = (int(r["bucket"]), r.get("channel_id"), r[f"tag_{kind}"])
        cell = got.setdefault(key, [0, 0, 0])
        for i, metric in enumerate(("posts", "views", "forwards")):
            cell[i] += int(r[metric])
    params: list[object] = [kind, lo, hi]
    channels = ""
    if channel_ids is not None:
        channels = f"AND p.channel_id IN ({', '.join('?' * len(channel_ids))})"
        params += channel_ids
    sql = PLAIN.format(dims="p.channel_id AS channel_id," if by_channel else "", channels=channels,
                       keys="2, 3" if by_channel else "2")
    want = {(int(r["bucket"]), r.get("channel_id"), r["value"]): [r["posts"], r["views"], r["forwards"]]
            for r in await store.query(sql, params)}
    assert want, "the test data holds no such tags"
    assert got == want


async def test_weekly_report_by_label_and_group_matches_python_counts(dataset: Dataset) -> None:
    since, until = date(2021, 1, 6), date(2021, 6, 30)
    spec = ReportSpec(since=since, until=until, every="week", by=("group", "channel"))
    report = await volume(dataset.store, spec)
    assert report.meta["source"] == "weekly tag aggregates per channel"
    expected = expected_volume(dataset.posts, since=since, until=until, every="week", by=("group", "channel"))
    got = {(r["period"], (r["group"], r["channel"])): [r["posts"], r["views"], r["forwards"]]
           for r in report.as_dicts()}
    assert expected
    for key, cell in expected.items():
        assert got.get(key) == cell, key
    assert sum(r["posts"] for r in report.as_dicts()) == sum(c[0] for c in expected.values())
    assert {p for p, _ in got} == set(all_periods(since, until, "week"))
