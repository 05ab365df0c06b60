"""The bundled demo scenario: deterministic, shaped as monitor-scenario/1, and carrying the
signals (languages, scripts, obfuscation, forwards, trends) that the reports are shown on."""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from dataclasses import fields
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import pytest

from monitor.demo import (
    DEMO_CHANNELS,
    DEMO_END,
    DEMO_START,
    UNWATCHED_CHANNELS,
    build_scenario,
    demo_config_toml,
)
from monitor.demo.compose import TEXT_POOLS

MEDIA = {None, "photo", "video", "document", "poll"}
MESSAGE_KEYS = {
    "id",
    "date",
    "text",
    "media",
    "views",
    "forwards",
    "replies",
    "reactions",
    "fwd_from",
    "reply_to",
    "grouped_id",
    "post_author",
    "edits",
    "deleted_at",
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def ts(value: str) -> datetime:
    assert ISO.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    return build_scenario()


@pytest.fixture(scope="module")
def messages(scenario: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(ch, m) for ch in scenario["channels"] for m in ch["messages"]]


def test_same_seed_same_scenario_other_seed_differs() -> None:
    first = json.dumps(build_scenario(7), ensure_ascii=False, sort_keys=True)
    again = json.dumps(build_scenario(7), ensure_ascii=False, sort_keys=True)
    other = json.dumps(build_scenario(8), ensure_ascii=False, sort_keys=True)
    assert first == again
    assert first != other


def test_top_level_shape(scenario: dict[str, Any]) -> None:
    assert scenario["format"] == "monitor-scenario/1"
    assert scenario["faults"] == []
    assert 6 <= len(scenario["channels"]) <= 8
    ids = [ch["id"] for ch in scenario["channels"]]
    assert len(set(ids)) == len(ids)
    assert [ch["username"] for ch in scenario["channels"]] == [c.username for c in DEMO_CHANNELS]
    for ch in scenario["channels"]:
        assert {"id", "username", "title", "access_hash", "status", "messages", "subscribers", "about"} <= set(ch)
        assert set(ch) <= {"id", "username", "title", "access_hash", "status", "messages", "subscribers", "about",
                           "changes"}  # the takedown story (docs/lifecycle.md)
        assert ch["status"] == "ok" and isinstance(ch["access_hash"], int) and ch["title"]


def test_at_least_600_posts_and_under_a_megabyte(scenario: dict[str, Any], messages: list) -> None:
    assert len(messages) >= 600
    assert len(json.dumps(scenario, ensure_ascii=False).encode()) < 1_000_000
    texts = resources.files("monitor.demo") / "texts"
    assert sum(len(p.read_bytes()) for p in texts.iterdir() if p.name.endswith(".toml")) < 1_000_000


def test_message_fields(messages: list) -> None:
    for _ch, m in messages:
        assert set(m) - {"preview"} == MESSAGE_KEYS, m["id"]  # preview: Telegram's link preview, when it has one
        assert isinstance(m["id"], int) and m["id"] > 0
        assert isinstance(m["text"], str)
        assert m["media"] in MEDIA
        assert m["text"] or m["media"], "a post has text or media"
        assert m["replies"] is None or m["replies"] >= 0
        assert all(isinstance(k, str) and isinstance(v, int) and v > 0 for k, v in m["reactions"].items())
        ts(m["date"])


def test_ids_ascend_with_date(scenario: dict[str, Any]) -> None:
    for ch in scenario["channels"]:
        msgs = ch["messages"]
        assert [m["id"] for m in msgs] == sorted({m["id"] for m in msgs})
        dates = [ts(m["date"]) for m in msgs]
        assert dates == sorted(dates)


def test_view_and_forward_series_never_decrease(messages: list) -> None:
    for _ch, m in messages:
        for series in (m["views"], m["forwards"]):
            assert series and series[0][0] == 0
            hours = [h for h, _ in series]
            values = [v for _, v in series]
            assert hours == sorted(set(hours))
            assert values == sorted(values) and values[0] >= 0
        assert m["views"][-1][1] > m["views"][0][1], "views grow after publication"


def test_forwards_point_to_existing_earlier_posts_or_unwatched_channels(
    scenario: dict[str, Any], messages: list
) -> None:
    by_key = {(ch["id"], m["id"]): (ch, m) for ch, m in messages}
    unwatched = {u.id for u in UNWATCHED_CHANNELS}
    kinds: Counter[str] = Counter()
    for ch, m in messages:
        fwd = m["fwd_from"]
        if fwd is None:
            continue
        if "channel_id" not in fwd:
            assert set(fwd) == {"name"} and fwd["name"]
            kinds["hidden"] += 1
            continue
        assert ts(fwd["date"]) < ts(m["date"])
        if fwd["channel_id"] in unwatched:
            kinds["unwatched"] += 1
            assert fwd["name"] and fwd["message_id"] > 0
            continue
        src_ch, src = by_key[(fwd["channel_id"], fwd["message_id"])]
        assert src_ch["id"] != ch["id"]
        assert fwd["date"] == src["date"] and fwd["name"] == src_ch["title"]
        assert m["text"] == src["text"]
        kinds["watched"] += 1
    assert kinds["watched"] >= 50 and kinds["unwatched"] >= 15 and kinds["hidden"] >= 1


def test_replies_albums_edits_deletions(scenario: dict[str, Any]) -> None:
    counts: Counter[str] = Counter()
    for ch in scenario["channels"]:
        by_id = {m["id"]: m for m in ch["messages"]}
        albums: dict[int, list[dict[str, Any]]] = {}
        for m in ch["messages"]:
            if m["reply_to"] is not None:
                parent = by_id[m["reply_to"]]
                assert ts(parent["date"]) < ts(m["date"])
                counts["reply"] += 1
            if m["grouped_id"] is not None:
                albums.setdefault(m["grouped_id"], []).append(m)
            last = ts(m["date"])
            for edit in m["edits"]:
                at = ts(edit["at"])
                assert at > last
                last = at
                assert isinstance(edit["hide"], bool)
                if edit["hide"]:
                    counts["hidden_edit"] += 1
                else:
                    assert edit["text"] != m["text"]
                    counts["edit"] += 1
            if m["deleted_at"] is not None:
                assert ts(m["deleted_at"]) > ts(m["date"])
                counts["deleted"] += 1
        for parts in albums.values():
            assert len(parts) >= 2 and sum(1 for p in parts if p["text"]) == 1
            assert all(p["media"] == "photo" for p in parts)
        counts["album"] += len(albums)
    assert counts["reply"] >= 10 and counts["album"] >= 20 and counts["edit"] >= 30
    assert counts["hidden_edit"] >= 1 and counts["deleted"] >= 1


def _language_of(text: str) -> str | None:
    """A crude independent guess, enough to see that each language is there."""
    if re.search(r"[ҷӣӯ]", text):
        return "tg"
    if re.search(r"[ўЎ]", text):
        return "uz-Cyrl"
    if re.search(r"[ыэЭ]", text):
        return "ru"
    if re.search(r"\b(va|bilan|uchun|haqida|yilga)\b", text):
        return "uz-Latn"
    if re.search(r"\b(the|and|of)\b", text):
        return "en"
    return None


def test_every_language_and_script_is_present(messages: list) -> None:
    langs = Counter(_language_of(m["text"]) for _ch, m in messages if m["text"])
    assert langs["ru"] >= 150 and langs["tg"] >= 60 and langs["uz-Latn"] >= 60
    assert langs["uz-Cyrl"] >= 40 and langs["en"] >= 10


def test_uzbek_apostrophe_variants_and_obfuscation(messages: list) -> None:
    text = "\n".join(m["text"] for _ch, m in messages)
    for variant in ("o'", "o\u02bb", "o\u2018", "o`"):
        assert variant in text, variant
    assert "\u200b" in text, "a zero-width character hides inside a name"
    assert re.search(r"[А-Яа-яҲҳ][a-z][а-я]", text), "a Latin look-alike letter inside a Cyrillic word"
    for form in ("Исламского государства", "талибами", "Толибон-ро", "Tolibonning", "IShIDga", "И.Г.И.Л."):
        assert form in text, form
    for negative in ("Имама аль-Бухари", "Тахрир в Каире", "Ансар Аллах", "Хорасан-Разави", "tahrir qilindi"):
        assert negative in text, negative


ISKP_MARK = re.compile(
    r"ISKP|ISIS-K|IS-Khorasan|ИГ-К|ИГИЛ-Хорасан|И\u200bГИЛ-Хорасан|Хорасанск|хорасанск|"
    r"государств\w* Хорасан|ДИИШ-Х|ДИИШ-и Хуросон|Вилоят\w* Хуросон|IS\u200b?hID-X|"
    r"IShID\w*-Xuroson|Xuroson viloyati»|Xuroson bo|ИШИД\w*-Х|Хуросон бўлим|Хуросон вилояти»"
)


def test_iskp_mentions_spike_in_march(messages: list) -> None:
    per_month = Counter(ts(m["date"]).month for _ch, m in messages if ISKP_MARK.search(m["text"]))
    others = [per_month[month] for month in (1, 2, 4, 5, 6)]
    assert per_month[3] >= 1.8 * max(others), per_month


def test_hizb_ut_tahrir_rises_in_may(messages: list) -> None:
    mark = re.compile(
        r"Хизб ут-Тахрир|Хизбут|Ҳизб-ут-Таҳрир|Ҳизбуттаҳрир|Hizb ut-Tahrir|Hizbut-tahrir|"
        r"Ҳ.зб ут-Таҳрир|Ҳизбут-таҳрир"
    )
    per_month = Counter(ts(m["date"]).month for _ch, m in messages if mark.search(m["text"]))
    assert per_month[5] >= 1.5 * max(per_month[k] for k in (1, 2, 3, 6)), per_month


def test_one_channel_appears_in_april(scenario: dict[str, Any]) -> None:
    firsts = {ch["username"]: ts(ch["messages"][0]["date"]) for ch in scenario["channels"]}
    assert firsts.pop("xuroson_sharh") >= datetime(2024, 4, 1, tzinfo=UTC)
    assert all(first.month == 1 for first in firsts.values())


def test_unwatched_channels_are_cited_with_idlib_xronika_first(messages: list) -> None:
    watched = {c.username for c in DEMO_CHANNELS}
    names = {u.id: u.username for u in UNWATCHED_CHANNELS}
    cited: Counter[str] = Counter()
    for _ch, m in messages:
        fwd = m["fwd_from"] or {}
        if fwd.get("channel_id") in names:
            cited[names[fwd["channel_id"]]] += 1
        for name in re.findall(r"(?:@|t\.me/)(\w+)", m["text"]):
            if name not in watched:
                cited[name] += 1
    from monitor.demo.compose import SUCCESSOR

    assert set(cited) == set(names.values()) | {SUCCESSOR}  # and the backup channel of the takedown story
    assert cited.most_common(1)[0][0] == "idlib_xronika"


def test_a_takedown_a_successor_and_previews_for_the_lifecycle_reports(scenario: dict[str, Any]) -> None:
    from monitor.demo.compose import SUCCESSOR, TAKEDOWN_ID

    gone = next(c for c in scenario["channels"] if c["id"] == TAKEDOWN_ID)
    assert [c["status"] for c in gone["changes"]] == ["banned", "ok"]
    texts = [m["text"] for c in scenario["channels"] for m in c["messages"]]
    assert sum(f"t.me/{SUCCESSOR}" in t for t in texts) == 1 and sum(f"@{SUCCESSOR}" in t for t in texts) == 1
    previews = [m["preview"] for c in scenario["channels"] for m in c["messages"] if "preview" in m]
    assert previews and {p["site_name"] for p in previews} == {"UN monitoring", None}
    assert any(c["subscribers"] is None for c in scenario["channels"])


def test_demo_config_lists_every_channel_with_labels(tmp_path) -> None:
    db = tmp_path / 'we"ird\\demo.db'
    config = tomllib.loads(demo_config_toml(str(db)))
    assert config["monitor"]["database"] == str(db)
    handles = [c["handle"] for c in config["channels"]]
    assert handles == ["@" + c.username for c in DEMO_CHANNELS]
    for entry, ch in zip(config["channels"], DEMO_CHANNELS, strict=True):
        assert entry["labels"] == {"country": ch.country, "affiliation": ch.affiliation}
        assert entry["poll_interval"] == 60


def test_channel_records_hold_the_declared_types() -> None:
    """channels.toml is data that mypy does not see: every value must still be what the dataclass says."""
    simple = {"int": int, "str": str, "float": float, "date": date, "bool": bool}
    for ch in (*DEMO_CHANNELS, *UNWATCHED_CHANNELS):
        for f in fields(ch):
            value = getattr(ch, f.name)
            if f.type in simple:
                assert type(value) is simple[str(f.type)], (ch.username, f.name, value)
            elif f.type == "dict[str, float]":
                assert all(type(k) is str and type(v) is float for k, v in value.items()), (ch.username, f.name)
            else:
                assert f.type == "tuple[str, ...]" and type(value) is tuple, (ch.username, f.name)
                assert all(type(v) is str for v in value), (ch.username, f.name)
    for ch in DEMO_CHANNELS:
        assert set(ch.langs) <= set(TEXT_POOLS) and DEMO_START <= ch.start < DEMO_END, ch.username
    assert DEMO_CHANNELS[5].start == date(2024, 4, 3) and DEMO_CHANNELS[1].apostrophe == "\u02bb"
    assert len({c.id for c in (*DEMO_CHANNELS, *UNWATCHED_CHANNELS)}) == len(DEMO_CHANNELS) + len(UNWATCHED_CHANNELS)


def _plain_apostrophes(text: str) -> str:
    return text.translate(str.maketrans({"\u02bb": "'", "\u2018": "'", "`": "'", "\u02bc": "'"}))


def test_every_hand_written_item_is_posted(messages: list) -> None:
    versions = [m["text"] for _ch, m in messages] + [e["text"] for _ch, m in messages for e in m["edits"]]
    posted = _plain_apostrophes("\n".join(versions))
    base = resources.files("monitor.demo") / "texts"
    missing = []
    for path in base.iterdir():
        if not path.name.endswith(".toml"):
            continue
        for item in tomllib.loads(path.read_text(encoding="utf-8"))["items"]:
            fragment = max(re.split(r"{\w+}", item["text"]), key=len)
            if _plain_apostrophes(fragment) not in posted:
                missing.append((path.name, item["text"][:60]))
    assert not missing
