"""[alerts] parsing: a good section becomes frozen records; every problem is reported with its key path."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from monitor.alerts.config import AlertRule, channel_key, parse_alerts, parse_duration
from monitor.errors import ConfigError

GOOD = """
[alerts]
digest = "1h"
max_post_age = "2d"

[[alerts.rules]]
name = "iskp-mentions"
kind = "match"
groups = ["iskp"]
people = ["faruq_shami"]
keywords = ["hijrat"]
channels = ["@Ozod_Sado", "https://t.me/khabar_tj", 1003]
languages = ["UZ", "ru"]
labels = { country = ["UZ", "TJ"], affiliation = "KTJ" }
cooldown = "30m"
sinks = ["log", "team-webhook"]

[[alerts.rules]]
name = "group-spike"
kind = "spike"
on = "group"
groups = ["IS"]
window = "2h"
baseline = "weekly"
baseline_periods = 6
min_history = 4
threshold = 3.5
min_count = 8

[[alerts.rules]]
name = "fresh-words"
kind = "new_term"
term_kinds = ["word", "hashtag"]
min_length = 5
min_count = 2
within = "3d"
warmup = "14d"

[[alerts.rules]]
name = "rising"
kind = "rising_term"
window = "1d"
history_days = 21
factor = 4
threshold = 5

[[alerts.rules]]
name = "new-sources"
kind = "new_channel"
via = ["forward"]
min_count = 3
ignore_bots = false
enabled = false

[[alerts.sinks]]
name = "team-webhook"
kind = "webhook"
url = "https://example.org/hook"
secret_env = "MONITOR_WEBHOOK_SECRET"
format = "json"
"""


def test_a_good_section_becomes_frozen_records() -> None:
    section = tomllib.loads(GOOD)["alerts"]
    cfg = parse_alerts(section, "monitor.toml")
    assert cfg.digest == "1h" and cfg.digest_seconds == 3600 and cfg.max_post_age == 2 * 86400
    match = cfg.rule("iskp-mentions")
    assert match is not None
    assert match.groups == ("ISKP",)  # group ids are canonical upper-case
    assert match.channels == ("ozod_sado", "khabar_tj", "id:1003")
    assert match.languages == ("uz", "ru")
    assert match.label_map == {"affiliation": ("KTJ",), "country": ("UZ", "TJ")}
    assert match.cooldown == 1800 and match.sinks == ("log", "team-webhook")
    spike = cfg.rule("group-spike")
    assert spike is not None and (spike.window, spike.baseline_periods, spike.min_history) == (7200, 6, 4)
    assert spike.effective_min_count == 8 and spike.sinks == ("log",)
    new_term = cfg.rule("fresh-words")
    assert (
        new_term is not None and new_term.term_kinds == ("word", "hashtag") and new_term.warmup == 14 * 86400
    )
    channel_rule = cfg.rule("new-sources")
    assert channel_rule is not None and not channel_rule.enabled and channel_rule.via == ("forward",)
    sink = cfg.sink("team-webhook")
    assert sink is not None and sink.kind == "webhook" and sink.options["url"] == "https://example.org/hook"
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.name = "other"  # type: ignore[misc]


def test_every_problem_is_reported_with_its_key_path() -> None:
    section = {
        "digest": "sometimes",
        "colour": "red",
        "rules": [
            {"name": "a", "kind": "match", "sinks": ["pager"], "treshold": 3},
            {"name": "b", "kind": "spike", "on": "weather", "window": "0s", "cooldown": "1q"},
            {"name": "a", "kind": "match", "groups": ["IS"]},
            {"name": "bad name!", "kind": "new_term"},
            {"name": "c", "kind": "telepathy"},
            {"name": "d", "kind": "new_term", "min_length": 0, "term_kinds": ["emoji"]},
            {
                "name": "e",
                "kind": "match",
                "groups": ["IS"],
                "channels": ["not a channel!"],
                "languages": ["russian"],
            },
        ],
        "sinks": [{"name": "hook", "kind": "carrier-pigeon"}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_alerts(section, "monitor.toml")
    where = {p.where for p in caught.value.problems}
    expected = {
        "monitor.toml: alerts.digest",
        "monitor.toml: alerts.colour",
        "monitor.toml: alerts.rules[0]",  # a match rule with nothing to match
        "monitor.toml: alerts.rules[0].sinks[0]",
        "monitor.toml: alerts.rules[0].treshold",
        "monitor.toml: alerts.rules[1].on",
        "monitor.toml: alerts.rules[1].window",
        "monitor.toml: alerts.rules[1].cooldown",
        "monitor.toml: alerts.rules[2].name",  # duplicate
        "monitor.toml: alerts.rules[3].name",
        "monitor.toml: alerts.rules[4].kind",
        "monitor.toml: alerts.rules[5].min_length",
        "monitor.toml: alerts.rules[5].term_kinds[0]",
        "monitor.toml: alerts.rules[6].channels[0]",
        "monitor.toml: alerts.rules[6].languages[0]",
        "monitor.toml: alerts.sinks[0].kind",
    }
    assert expected <= where, expected - where
    assert all(str(p).startswith("monitor.toml: alerts") for p in caught.value.problems)


def test_where_may_already_name_the_table() -> None:
    """settings.py passes "file: alerts"; the key path must not say alerts twice."""
    with pytest.raises(ConfigError) as caught:
        parse_alerts({"rules": [{"name": "x", "kind": "match"}]}, "cfg.toml: alerts")
    assert [p.where for p in caught.value.problems] == ["cfg.toml: alerts.rules[0]"]


def test_sink_options_are_checked_by_the_sink_registry() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_alerts({"sinks": [{"name": "hook", "kind": "webhook"}]}, "m.toml")
    assert any(p.where.startswith("m.toml: alerts.sinks[0].") for p in caught.value.problems)


def test_an_empty_or_missing_section_means_no_rules() -> None:
    assert parse_alerts(None, "m.toml").rules == ()
    assert parse_alerts({}, "m.toml").rules == ()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("1h", 3600), ("1d", 86400), ("2w", 1209600), (45, 45), ("0", 0)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-1h", True, "1y", None])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("@Durov", "durov"),
        ("https://t.me/durov", "durov"),
        ("t.me/s/durov", "durov"),
        ("durov", "durov"),
        (1234, "id:1234"),
        ("-1001234", "id:1234"),
        ("https://t.me/c/1234/5", "id:1234"),
        ("id:77", "id:77"),
        ("a b", None),
        ("@x", None),
    ],
)
def test_channel_filters_use_the_watch_key_form(written: object, key: str | None) -> None:
    assert channel_key(written) == key


def test_detection_hash_changes_with_what_is_detected_only() -> None:
    rule = AlertRule(name="r", kind="match", keywords=("hijrat",))
    assert (
        rule.detection_hash()
        == dataclasses.replace(rule, cooldown=60, sinks=("x",), enabled=False).detection_hash()
    )
    assert rule.detection_hash() != dataclasses.replace(rule, keywords=("hijrat", "muhojir")).detection_hash()
    assert rule.detection_hash() != dataclasses.replace(rule, languages=("uz",)).detection_hash()
