"""Scenario loader: the shared JSON format, its defaults, and errors that name the JSON path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ImportFormatError
from monitor.sources.scenario import Series, load_scenario

from sources.builders import channel, messages, scenario


def test_full_message_round_trip(tmp_path: Path) -> None:
    msg = {
        "id": 1,
        "date": "2024-01-03T08:15:00Z",
        "text": "Salom",
        "media": "photo",
        "views": [[24, 300], [0, 10], [168, 800]],
        "forwards": 4,
        "replies": 2,
        "reactions": {"👍": 5},
        "fwd_from": {"channel_id": 1002, "message_id": 5, "date": "2024-01-01T00:00:00+03:00", "name": "X"},
        "reply_to": 3,
        "grouped_id": 77,
        "post_author": "A",
        "edits": [
            {"at": "2024-01-03T10:00:00Z", "hide": True},
            {"at": "2024-01-03T09:00:00Z", "text": "Salom!"},
        ],
        "deleted_at": "2024-02-01T00:00:00Z",
    }
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            scenario(
                channel(msgs=[msg]),
                faults=[{"method": "get_entity", "channel": "@Ozod_Sado", "nth": 2, "error": "disconnect"}],
            )
        ),
        encoding="utf-8",
    )
    sc = load_scenario(path)
    [chan] = sc.channels
    [m] = chan.messages
    assert m.date == datetime(2024, 1, 3, 8, 15, tzinfo=UTC)
    assert m.fwd_from is not None and m.fwd_from.date == datetime(2023, 12, 31, 21, 0, tzinfo=UTC)
    assert m.views is not None and m.views.points == ((0.0, 10), (24.0, 300), (168.0, 800))  # sorted
    assert m.forwards == Series(((0.0, 4),))
    assert [e.at.hour for e in m.edits] == [9, 10]
    assert m.state_at(datetime(2024, 1, 3, 9, 30, tzinfo=UTC))[0] == "Salom!"
    text, last = m.state_at(datetime(2024, 1, 3, 11, tzinfo=UTC))
    assert text == "Salom!" and last is not None and last.hide
    assert m.visible_at(datetime(2024, 1, 31, tzinfo=UTC)) and not m.visible_at(
        datetime(2024, 2, 1, tzinfo=UTC)
    )
    assert sc.faults[0].channel == "ozod_sado" and sc.faults[0].nth == 2


def test_series_interpolates_and_clamps() -> None:
    s = Series(((0.0, 10), (24.0, 300), (168.0, 800)))
    assert [s.at(h) for h in (-1, 0, 12, 24, 96, 168, 1000)] == [10, 10, 155, 300, 550, 800, 800]


def test_defaults() -> None:
    sc = load_scenario(scenario({"id": 5, "username": "@kanal_besh"}))
    [c] = sc.channels
    assert (c.username, c.title, c.status, c.messages) == ("kanal_besh", "kanal_besh", "ok", ())
    assert c.access_hash != 0


def _broken() -> dict[str, Any]:
    base = scenario(channel(msgs=messages(2)))
    cases: dict[str, Any] = {}

    def variant(name: str, fn: Any) -> None:
        data = json.loads(json.dumps(base))
        fn(data)
        cases[name] = data

    variant("format", lambda d: d.update(format="other/9"))
    variant("channels[0].id", lambda d: d["channels"][0].update(id="x"))
    variant("channels[0].status", lambda d: d["channels"][0].update(status="gone"))
    variant("channels[0].messages[1].date", lambda d: d["channels"][0]["messages"][1].update(date="tomorrow"))
    variant("channels[0].messages[0].views[0]", lambda d: d["channels"][0]["messages"][0].update(views=[[1]]))
    variant(
        "channels[0].messages[0].media", lambda d: d["channels"][0]["messages"][0].update(media="hologram")
    )
    variant(
        "channels[0].messages: duplicate",
        lambda d: d["channels"][0]["messages"].append(d["channels"][0]["messages"][0]),
    )
    variant("faults[0].error", lambda d: d.update(faults=[{"method": "get_entity", "error": "meteor"}]))
    variant("channels[0].messages[0].fwd_from", lambda d: d["channels"][0]["messages"][0].update(fwd_from={}))
    return cases


@pytest.mark.parametrize(("where", "data"), list(_broken().items()))
def test_errors_name_the_path(where: str, data: dict[str, Any]) -> None:
    with pytest.raises(ImportFormatError, match=where.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(data)


def test_unreadable_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="not a JSON scenario"):
        load_scenario(bad)
    with pytest.raises(ImportFormatError, match="cannot read"):
        load_scenario(tmp_path / "missing.json")


def test_hours_since() -> None:
    sc = load_scenario(scenario(channel(msgs=messages(1))))
    m = sc.channels[0].messages[0]
    assert m.hours_since(m.date + timedelta(hours=36)) == 36


def test_lazy_loading_gives_the_same_scenario(tmp_path: Path) -> None:
    """`load_scenario(path, lazy=True)` (the daemon's scenario source) keeps each channel's messages as
    JSON text: what it serves equals the plain reading, message by message, also once parsed again."""
    from monitor.demo import build_scenario
    from monitor.sources.scenario import LazyMessages, _parse_messages

    path = tmp_path / "demo.json"
    path.write_text(json.dumps(build_scenario(), ensure_ascii=False), encoding="utf-8")
    plain, lazy = load_scenario(path), load_scenario(path, lazy=True)
    assert all(isinstance(c.messages, LazyMessages) for c in lazy.channels)
    assert lazy == plain and lazy.faults == plain.faults
    for a, b in zip(plain.channels, lazy.channels, strict=True):
        assert tuple(b.messages) == a.messages and len(b.messages) == len(a.messages)
        assert b.messages[-1] == a.messages[-1]
    _parse_messages.cache_clear()  # parsed again from the text: equal objects
    assert [tuple(c.messages) for c in lazy.channels] == [c.messages for c in plain.channels]


@pytest.mark.parametrize(("where", "data"), list(_broken().items()))
def test_lazy_loading_reports_errors_the_same_way(tmp_path: Path, where: str, data: dict[str, Any]) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=where.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(path, lazy=True)


def test_lazy_loading_falls_back_on_what_the_stream_reader_refuses(tmp_path: Path) -> None:
    """A lone surrogate escape or NaN is JSON that Python's reader takes and ijson does not: read plainly."""
    path = tmp_path / "s.json"
    path.write_text(
        '{"format": "monitor-scenario/1", "channels": [{"id": 5, "messages": [{"id": 1,'
        ' "date": "2024-01-03T08:15:00Z", "text": "a\\ud800b", "views": [[NaN, 1]]}]}]}',
        encoding="utf-8",
    )
    [chan] = load_scenario(path, lazy=True).channels
    assert chan.messages[0].text == "a\ud800b"
