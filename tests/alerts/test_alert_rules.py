"""Pure rule evaluation: what fires, what does not, and what each alert says about why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.alerts.config import AlertRule
from monitor.alerts.rules import (
    ChannelContext,
    channel_references,
    evaluate_match,
    in_cooldown,
    new_term_fires,
    passes_filters,
    post_link,
    rising_verdict,
    robust_z,
    spike_series,
    spike_verdict,
    spike_windows,
)
from monitor.models import ForwardOrigin, Post, Tags

from alerts.rules_support import T0, tags_for  # noqa: E402

OZOD = ChannelContext(id=1001, username="ozod_sado", title="Ozod Sado", labels={"country": "UZ"})
HIDDEN = ChannelContext(id=1003, username=None, title="No Name", labels={"country": "KG"})
TEXT = "Сегодня боевики ИГИЛ-Хорасан и Фаррух Файзиматов заявили о хиджрате в провинции Кунар"
TAGS = tags_for(
    TEXT,
    groups=[("ISKP", "ИГИЛ-Хорасан")],
    people=[("faruq_shami", "Фаррух Файзиматов", "HTS")],
    keywords=["хиджрат"],
)


def post(channel: ChannelContext = OZOD, message_id: int = 7, text: str = TEXT, **kw: object) -> Post:
    return Post(channel_id=channel.id, message_id=message_id, posted_at=T0, text=text, **kw)  # type: ignore[arg-type]


def test_match_fires_on_a_group_and_says_why_with_context_and_link() -> None:
    rule = AlertRule(name="iskp", kind="match", groups=("ISKP",))
    alert = evaluate_match(rule, OZOD, post(), TAGS, at=T0)
    assert alert is not None
    assert alert.link == "https://t.me/ozod_sado/7"
    assert alert.dedup_key == "iskp:post:1001:7"
    assert "ISKP" in alert.summary and "@ozod_sado" in alert.summary
    term = alert.details["terms"][0]  # type: ignore[index]
    assert term["as_written"] == "ИГИЛ-Хорасан" and term["canonical"] == "ISKP"
    assert "ИГИЛ-Хорасан" in term["context"] and len(term["context"]) < len(TEXT) + 2
    assert alert.details["why"] == "the post names ISKP"


@pytest.mark.parametrize(
    ("rule", "fires"),
    [
        (AlertRule(name="r", kind="match", people=("faruq_shami",)), True),
        (AlertRule(name="r", kind="match", keywords=("хиджрат",)), True),
        (AlertRule(name="r", kind="match", groups=("HTS",)), False),  # a person does not name their group
        (AlertRule(name="r", kind="match", groups=("IS",)), False),
        (AlertRule(name="r", kind="match", groups=("ISKP",), languages=("uz",)), False),
        (AlertRule(name="r", kind="match", groups=("ISKP",), languages=("ru", "uz")), True),
        (AlertRule(name="r", kind="match", groups=("ISKP",), channels=("khabar_tj",)), False),
        (AlertRule(name="r", kind="match", groups=("ISKP",), channels=("id:1001",)), True),
        (AlertRule(name="r", kind="match", groups=("ISKP",), channels=("ozod_sado",)), True),
        (AlertRule(name="r", kind="match", groups=("ISKP",), labels=(("country", ("TJ", "KG")),)), False),
        (AlertRule(name="r", kind="match", groups=("ISKP",), labels=(("country", ("UZ",)),)), True),
        (AlertRule(name="r", kind="match", groups=("ISKP",), labels=(("affiliation", ("KTJ",)),)), False),
    ],
)
def test_match_filters(rule: AlertRule, fires: bool) -> None:
    assert (evaluate_match(rule, OZOD, post(), TAGS, at=T0) is not None) is fires


def test_a_channel_without_username_gets_a_private_style_link() -> None:
    assert post_link(1003, None, 42) == "https://t.me/c/1003/42"
    alert = evaluate_match(
        AlertRule(name="r", kind="match", groups=("ISKP",)), HIDDEN, post(HIDDEN), TAGS, at=T0
    )
    assert alert is not None and alert.link == "https://t.me/c/1003/7" and alert.channel_username is None


def test_match_without_spans_still_names_what_matched() -> None:
    tags = Tags(lang="ru", groups=("ISKP",))
    alert = evaluate_match(
        AlertRule(name="r", kind="match", groups=("ISKP",)), OZOD, post(text=""), tags, at=T0
    )
    assert alert is not None
    assert alert.details["terms"] == [
        {"kind": "group", "canonical": "ISKP", "as_written": "ISKP", "rule": "tag", "context": ""}
    ]


def test_cooldown_window() -> None:
    rule = AlertRule(name="r", kind="match", groups=("IS",), cooldown=3600)
    assert in_cooldown(rule, T0, T0 + timedelta(minutes=59))
    assert not in_cooldown(rule, T0, T0 + timedelta(minutes=60))
    assert not in_cooldown(rule, None, T0)
    assert not in_cooldown(AlertRule(name="r", kind="match", groups=("IS",)), T0, T0)


def test_robust_z_ignores_one_outlier_in_the_history() -> None:
    calm = robust_z(30, [5, 6, 5, 4, 6, 5, 5, 6])
    with_outlier = robust_z(30, [5, 6, 5, 4, 60, 5, 5, 6])  # one earlier burst does not hide this one
    assert calm.median == with_outlier.median == 5
    assert calm.z > 8 and with_outlier.z > 8


def test_a_flat_history_needs_a_real_jump_poisson_floor() -> None:
    assert robust_z(11, [10] * 8).z < 1  # MAD 0, but the scale is at least sqrt(median)
    assert robust_z(30, [10] * 8).z > 6


def test_spike_verdict_needs_enough_history_and_counts() -> None:
    rule = AlertRule(name="s", kind="spike", threshold=4, min_history=3, baseline_periods=4)
    assert spike_verdict(rule, 30, [2, 3, 2, 3], 4).fired
    assert not spike_verdict(rule, 30, [2, 3, 2, 3], 2).fired  # only 2 windows after the data starts
    assert not spike_verdict(rule, 4, [0, 0, 0, 0], 4).fired  # below min_count 5
    assert not spike_verdict(rule, 5, [4, 5, 6, 5], 4).fired  # ordinary


def test_spike_windows_look_back_same_hour_each_week_or_day() -> None:
    end = int(T0.timestamp())
    current, weekly = spike_windows(AlertRule(name="s", kind="spike", window=3600, baseline_periods=3), end)
    assert current == (end - 3600, end)
    assert weekly == [(end - k * 7 * 86400 - 3600, end - k * 7 * 86400) for k in (1, 2, 3)]
    _, daily = spike_windows(AlertRule(name="s", kind="spike", baseline="daily", baseline_periods=2), end)
    assert daily[1] == (end - 2 * 86400 - 3600, end - 2 * 86400)


def test_spike_series_per_kind() -> None:
    tags = Tags(lang="uz", groups=("IMU", "IS"))
    assert spike_series(AlertRule(name="s", kind="spike", on="group"), OZOD, tags) == [
        ("group", "IMU"),
        ("group", "IS"),
    ]
    assert spike_series(AlertRule(name="s", kind="spike", on="group", groups=("IS",)), OZOD, tags) == [
        ("group", "IS")
    ]
    assert spike_series(AlertRule(name="s", kind="spike", on="language"), OZOD, tags) == [("language", "uz")]
    assert (
        spike_series(AlertRule(name="s", kind="spike", on="language"), OZOD, Tags()) == []
    )  # und is no series
    assert spike_series(AlertRule(name="s", kind="spike", on="channel"), OZOD, tags) == [("channel", "1001")]
    assert spike_series(AlertRule(name="s", kind="spike", on="channel", languages=("ru",)), OZOD, tags) == []


def test_new_term_fires_once_when_crossing_min_count_after_warmup() -> None:
    rule = AlertRule(name="n", kind="new_term", warmup=86400, within=3 * 86400, min_count=2)
    at = int(T0.timestamp())
    start = at - 10 * 86400
    assert not new_term_fires(
        rule, prior_total=0, new_total=1, first_seen_at=None, at=at, history_start=start
    )
    assert new_term_fires(
        rule, prior_total=1, new_total=2, first_seen_at=at - 3600, at=at, history_start=start
    )
    assert not new_term_fires(
        rule, prior_total=2, new_total=3, first_seen_at=at - 3600, at=at, history_start=start
    )
    assert not new_term_fires(
        rule, prior_total=1, new_total=2, first_seen_at=at - 4 * 86400, at=at, history_start=start
    )  # first seen too long ago: not new any more
    assert not new_term_fires(
        rule, prior_total=0, new_total=5, first_seen_at=None, at=at, history_start=at - 3600
    )  # still warming up


def test_rising_needs_factor_threshold_and_count() -> None:
    rule = AlertRule(name="r", kind="rising_term", factor=3, threshold=4, min_count=5)
    assert rising_verdict(rule, 20, [1, 2, 1, 0, 2, 1, 1]).fired
    assert not rising_verdict(rule, 4, [0, 0, 0, 0]).fired  # below min_count
    assert not rising_verdict(rule, 25, [10, 11, 9, 10, 12]).fired  # busy term, only 2.5x
    strict = AlertRule(name="r", kind="rising_term", factor=3, threshold=5, min_count=5)
    # median 3, MAD 0, scale sqrt(3): 10 is 3.3x with z 4.04; 12 is 4x with z 5.2
    assert rising_verdict(rule, 10, [3, 4, 3, 4, 3]).fired
    assert not rising_verdict(strict, 10, [3, 4, 3, 4, 3]).fired
    assert rising_verdict(strict, 12, [3, 4, 3, 4, 3]).fired


def test_channel_references_from_forwards_and_links() -> None:
    rule = AlertRule(name="c", kind="new_channel")
    p = post(
        forward=ForwardOrigin(channel_id=555, name="Source Chan"),
        mentions=("new_chan", "ozod_sado", "+InviteHash", "c/777", "helper_bot"),
    )
    refs = {(r.ref, r.via) for r in channel_references(rule, OZOD, p)}
    assert refs == {
        ("id:555", "forward"),
        ("new_chan", "link"),
        ("id:777", "link"),
    }  # own, invite, bot left out
    only_fwd = AlertRule(name="c", kind="new_channel", via=("forward",))
    assert [r.ref for r in channel_references(only_fwd, OZOD, p)] == ["id:555"]
    with_bots = AlertRule(name="c", kind="new_channel", ignore_bots=False)
    assert "helper_bot" in {r.ref for r in channel_references(with_bots, OZOD, p)}


def test_filters_are_shared_by_every_kind() -> None:
    rule = AlertRule(name="x", kind="new_term", languages=("tg",))
    assert not passes_filters(rule, OZOD, Tags(lang="ru"))
    assert passes_filters(rule, OZOD, Tags(lang="tg"))
