"""Volume numbers against counts computed in Python from the same inputs; zero rows; filters; shares."""

from __future__ import annotations

from datetime import date

import pytest
from reports.reportdata import CHANNELS, Dataset, all_periods, expected_volume, selected

from monitor.errors import ConfigError
from monitor.reports.spec import ReportSpec, parse_by
from monitor.reports.volume import volume
from monitor.store.common.reports import PostFilter

SINCE, UNTIL = date(2021, 1, 1), date(2021, 6, 30)  # May and June hold no posts


def _check(report_rows: list[dict], expected: dict, periods: list[str], by: tuple[str, ...]) -> None:
    got = {(r["period"], tuple(r[b] for b in by)): [r["posts"], r["views"], r["forwards"]] for r in report_rows}
    assert len(got) == len(report_rows), "a (period, combination) appears twice"
    for key, cell in expected.items():
        assert got.get(key) == cell, key
    for key, cell in got.items():
        if key not in expected:
            assert cell == [0, 0, 0], key
    combos = {combo for _, combo in expected}
    for period in periods:  # every period, for every combination: zero rows, never gaps
        for combo in combos:
            assert (period, combo) in got, (period, combo)


@pytest.mark.parametrize(
    ("every", "by", "since", "until"),
    [
        ("month", ("group", "language"), SINCE, UNTIL),
        ("week", (), SINCE, UNTIL),
        ("day", ("channel",), SINCE, UNTIL),
        ("month", ("label:country", "script"), SINCE, UNTIL),
        ("week", ("keyword", "group"), SINCE, UNTIL),  # two tag kinds at once: the posts path
        ("month", ("group", "channel"), SINCE, UNTIL),  # whole months: agg_tag_month
        ("month", ("channel", "group"), date(2021, 1, 17), date(2021, 4, 9)),  # partial edge months: both
        ("month", ("label:kind", "keyword"), date(2021, 2, 1), date(2021, 2, 27)),  # no whole month
    ],
)
async def test_volume_matches_python_counts(
    dataset: Dataset, every: str, by: tuple[str, ...], since: date, until: date
) -> None:
    spec = ReportSpec(since=since, until=until, every=every, by=by)  # type: ignore[arg-type]
    report = await volume(dataset.store, spec)
    assert report.columns[: 1 + len(by)] == ("period", *by)
    expected = expected_volume(dataset.posts, since=since, until=until, every=every, by=by)
    _check(report.as_dicts(), expected, all_periods(since, until, every), by)
    assert sum(r["posts"] for r in report.as_dicts()) == sum(c[0] for c in expected.values())
    if "group" in by and "channel" in by:
        assert report.meta["source"] == "monthly tag aggregates per channel"


async def test_empty_periods_are_zero_rows(dataset: Dataset) -> None:
    report = await volume(dataset.store, ReportSpec(since=SINCE, until=UNTIL, every="week"))
    rows = {r["period"]: r for r in report.as_dicts()}
    assert rows["2021-W10"]["posts"] == 0  # the planted gap, 8-14 March
    assert rows["2021-W10"]["posts_share"] == 0.0
    assert rows["2021-W22"]["posts"] == 0  # after the last post
    monthly = await volume(dataset.store, ReportSpec(since=SINCE, until=UNTIL, every="month", by=("group",)))
    groups = {r["group"] for r in monthly.as_dicts()}
    for month in ("2021-05", "2021-06"):
        assert {r["group"] for r in monthly.as_dicts() if r["period"] == month} == groups
        assert all(r["posts"] == 0 for r in monthly.as_dicts() if r["period"] == month)


@pytest.mark.parametrize(
    ("spec_filters", "py_filters"),
    [
        ({"groups": ("IS",)}, {"groups": ("IS",)}),  # one value: the aggregate path
        ({"groups": ("IS", "JA")}, {"groups": ("IS", "JA")}),  # two values, not grouped: posts counted once
        ({"langs": ("uz-Latn",)}, {"langs": ("uz-Latn",)}),
        ({"langs": ("uz",)}, {"langs": ("uz",)}),
        ({"keywords": ("hijra",), "groups": ("ISKP",)}, {"keywords": ("hijra",), "groups": ("ISKP",)}),
        ({"channels": ("@beta_tj",)}, {"channel_ids": {1002}}),
        ({"labels": ("kind=media",)}, {"channel_ids": {1001, 1002}}),
    ],
)
async def test_filters(dataset: Dataset, spec_filters: dict, py_filters: dict) -> None:
    by = ("language",)
    report = await volume(dataset.store, ReportSpec(since=SINCE, until=UNTIL, every="month", by=by, **spec_filters))
    expected = expected_volume(dataset.posts, since=SINCE, until=UNTIL, every="month", by=by, **py_filters)
    _check(report.as_dicts(), expected, all_periods(SINCE, UNTIL, "month"), by)


async def test_share_is_of_the_same_channels(dataset: Dataset) -> None:
    spec = ReportSpec(since=SINCE, until=UNTIL, every="month", by=("channel", "group"), groups=("IS",))
    report = await volume(dataset.store, spec)
    for row in report.as_dicts():
        if row["posts"] == 0:
            continue
        cid = next(c.id for c in CHANNELS if f"@{c.username}" == row["channel"])
        of_channel = [t for t in dataset.posts if t.post.channel_id == cid
                      and t.post.posted_at.strftime("%Y-%m") == row["period"]]
        assert row["posts_share"] == pytest.approx(row["posts"] / len(of_channel), abs=1e-6)
        views = sum(t.post.views or 0 for t in of_channel)
        assert row["views_share"] == pytest.approx(row["views"] / views, abs=1e-6)
    # without a channel dimension the denominator is every channel in scope
    total = await volume(dataset.store, ReportSpec(since=SINCE, until=UNTIL, every="month", groups=("IS",)))
    for row in total.as_dicts():
        month = [t for t in dataset.posts if t.post.posted_at.strftime("%Y-%m") == row["period"]]
        tagged = [t for t in month if selected(t, since=SINCE, until=UNTIL, groups=("IS",))]
        assert row["posts"] == len(tagged)
        want = len(tagged) / len(month) if month else 0.0
        assert row["posts_share"] == pytest.approx(want, abs=1e-6)


async def test_aggregate_and_posts_paths_agree(dataset: Dataset) -> None:
    store = dataset.store
    kwargs = {"since_day": 18628, "until_day": 18748, "every": "week"}
    via_agg, table = await store.report_volume(dims=("group", "lang"), **kwargs)
    via_posts, source = await store._volume_posts(  # the general path, forced
        PostFilter(since_day=18628, until_day=18748), "week", ("group", "lang")
    )
    assert table == "daily tag aggregates" and source == "posts"
    def key(r: dict[str, object]) -> tuple[object, ...]:
        return (r["bucket"], r["tag_group"], r["lang"], r["script"])

    assert sorted(via_agg, key=key) == sorted(via_posts, key=key)


@pytest.mark.parametrize("bad", ["group;DROP TABLE posts", "label:x'--", "views", "label:", "channel_id"])
def test_by_whitelist_refuses(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_by(bad)


def test_by_aliases_and_labels() -> None:
    assert parse_by("groups, lang ,label:country,group") == ("group", "language", "label:country")


async def test_hostile_filter_values_are_data(dataset: Dataset) -> None:
    """Refused as unknown values (shown quoted), never run as SQL; nothing stored changes."""
    for filters in ({"groups": ("IS') OR 1=1 --",)}, {"keywords": ("x\"; --",)}):
        spec = ReportSpec(since=SINCE, until=UNTIL, every="month", **filters)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="no such"):
            await volume(dataset.store, spec)
    counts = await dataset.store.counts()
    assert counts["posts"] == len(dataset.posts)


@pytest.mark.parametrize(
    ("spec_filters", "py_filters"),
    [
        ({"labels": ("country=TJ",)}, {"channel_ids": {1002}}),  # channel scope: agg_tag_month + edges
        ({"channels": ("alpha_news", "1003")}, {"channel_ids": {1001, 1003}}),
        ({"langs": ("ru",)}, {"langs": ("ru",)}),  # a language filter: the daily table
    ],
)
async def test_group_series_with_filters(dataset: Dataset, spec_filters: dict, py_filters: dict) -> None:
    since, until = date(2021, 1, 10), date(2021, 4, 20)
    spec = ReportSpec(since=since, until=until, every="month", by=("group",), **spec_filters)
    report = await volume(dataset.store, spec)
    expected = expected_volume(dataset.posts, since=since, until=until, every="month", by=("group",), **py_filters)
    _check(report.as_dicts(), expected, all_periods(since, until, "month"), ("group",))
