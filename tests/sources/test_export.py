"""Telegram Desktop export reader: the real samples in ../shared, hand-written variants, and broken files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ImportFormatError
from monitor.models import ForwardOrigin
from monitor.sources.export import CHANNEL_TYPES, ExportFile, read_export

FIXTURES = "fixtures/telegram-export"


def _samples(shared_dir: Path) -> list[Path]:
    folder = shared_dir / FIXTURES
    if not folder.is_dir():
        pytest.skip(f"shared Telegram export samples not found at {folder} (set MONITOR_SHARED)")
    return sorted(folder.glob("*.json"))


def _raw_messages(root: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    chats = [root] if "messages" in root else root["chats"]["list"]
    return [(abs(c["id"]), m) for c in chats for m in c["messages"]]


def test_every_shared_sample_parses_with_unixtime_as_utc_truth(shared_dir: Path) -> None:
    samples = _samples(shared_dir)
    assert samples, "the fixture folder holds no JSON"
    for path in samples:
        root = json.loads(path.read_text(encoding="utf-8"))
        raw = {(cid, m["id"]): m for cid, m in _raw_messages(root)}
        records = list(read_export(path))
        wanted = {k for k, m in raw.items() if m.get("type", "message") == "message"}
        assert {(p.channel_id, p.message_id) for _, p in records} == wanted, path.name
        for chan, post in records:
            m = raw[(post.channel_id, post.message_id)]
            assert chan.id == post.channel_id
            assert post.posted_at.tzinfo is not None and post.posted_at.utcoffset() == timedelta(0)
            if "date_unixtime" in m:
                assert post.posted_at.timestamp() == int(m["date_unixtime"]), (path.name, post.message_id)
            text = (
                m["text"]
                if isinstance(m["text"], str)
                else "".join(p if isinstance(p, str) else p["text"] for p in m["text"])
            )
            assert post.text == text


def test_real_channel_sample_details(shared_dir: Path) -> None:
    path = shared_dir / FIXTURES / "real_public_channel_TRFactsDeals_slice.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    export = ExportFile(path)
    [chat] = export.chats
    assert (chat.channel.id, chat.chat_type) == (1487851422, "public_channel")
    posts = {p.message_id: p for _, p in export.records()}
    first = posts[46544]
    # "date" says 12:18:49 (the exporter's local time, +05:30); the Unix time is the truth
    assert first.posted_at == datetime(2023, 1, 7, 6, 48, 49, tzinfo=UTC)
    assert (first.media_kind, first.author) == ("photo", ".")
    assert first.links == ("https://amzn.to/3vMu0oi",)
    assert posts[46545].mentions == ()  # "@1999" is a price, not a username
    raw = json.loads(path.read_text(encoding="utf-8"))["messages"]
    edited = {m["id"] for m in raw if "edited_unixtime" in m}
    assert edited and {i for i, p in posts.items() if p.edited_at is not None} == edited
    assert all(not p.edit_hidden for p in posts.values())


def test_date_only_messages_use_the_assumed_zone(shared_dir: Path) -> None:
    path = shared_dir / FIXTURES / "chat-analytics_DM_2A_7M.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    utc = {p.message_id: p.posted_at for _, p in read_export(path)}
    tashkent = {
        p.message_id: p.posted_at for _, p in read_export(path, assume_tz=timezone(timedelta(hours=5)))
    }
    assert utc[3644] == datetime(2019, 7, 12, 16, 55, 32, tzinfo=UTC)  # only "date": read as UTC
    assert tashkent[3644] == utc[3644] - timedelta(hours=5)
    assert tashkent[3662] == utc[3662]  # has date_unixtime: the zone does not matter
    assert 2675 not in utc and 3674 not in utc  # service messages


def test_whole_account_root_and_chat_type_filter(shared_dir: Path) -> None:
    path = shared_dir / FIXTURES / "chat-analytics_MultiChat_2C_6M.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    export = ExportFile(path)
    assert [c.channel.title for c in export.chats] == ["Chat One", "Chat Two"]
    assert export.post_count == 5
    assert list(read_export(path, chat_types=CHANNEL_TYPES)) == []


def _write(tmp_path: Path, data: Any, name: str = "result.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


CHANNEL_EXPORT = {
    "name": "Xabarlar kanali",
    "type": "public_channel",
    "id": 1234567890,
    "messages": [
        {
            "id": 1,
            "type": "service",
            "date": "2024-03-01T10:00:00",
            "date_unixtime": "1709269200",
            "actor": "Xabarlar kanali",
            "actor_id": "channel1234567890",
            "action": "create_channel",
            "title": "Xabarlar kanali",
            "text": "",
            "text_entities": [],
        },
        {
            "id": 2,
            "type": "message",
            "date": "2024-03-01T15:00:00",
            "date_unixtime": "1709287200",
            "edited": "2024-03-01T15:30:00",
            "edited_unixtime": "1709289000",
            "from": "Xabarlar kanali",
            "from_id": "channel1234567890",
            "forwarded_from": "Манба канали",
            "forwarded_from_id": "channel1111111111",
            "reply_to_message_id": 1,
            "text": [
                "Подробнее: ",
                {"type": "text_link", "text": "здесь", "href": "https://example.org/r?id=1"},
                " и ",
                {"type": "mention", "text": "@Manba_Kanal"},
                " ",
                {"type": "link", "text": "t.me/s/boshqa_kanal"},
            ],
            "text_entities": [
                {"type": "plain", "text": "Подробнее: "},
                {"type": "text_link", "text": "здесь", "href": "https://example.org/r?id=1"},
                {"type": "plain", "text": " и "},
                {"type": "mention", "text": "@Manba_Kanal"},
                {"type": "plain", "text": " "},
                {"type": "link", "text": "t.me/s/boshqa_kanal"},
            ],
            "reactions": [
                {"type": "emoji", "count": 12, "emoji": "👍"},
                {"type": "paid", "count": 3},
                {"type": "custom_emoji", "count": 1, "document_id": "5368324170671202286"},
            ],
        },
        {
            "id": 3,
            "type": "message",
            "date_unixtime": "1709290800",
            "forwarded_from": "Hidden User",
            "media_type": "voice_message",
            "file": "(File not included. Change data exporting settings to download.)",
            "duration_seconds": 7,
            "text": "",
            "text_entities": [],
        },
        {
            "id": 4,
            "type": "message",
            "date_unixtime": "1709294400",
            "text": "Savol",
            "poll": {"question": "Savol", "closed": False, "total_voters": 3, "answers": []},
        },
        {"id": 5, "type": "unsupported"},
        {
            "id": 6,
            "type": "message",
            "date_unixtime": "1709298000",
            "author": "Muharrir",
            "file": "(File not included. Change data exporting settings to download.)",
            "mime_type": "application/pdf",
            "text": "Hujjat",
        },
    ],
}


def test_hand_written_channel_export_maps_every_field(tmp_path: Path) -> None:
    posts = {p.message_id: p for _, p in read_export(_write(tmp_path, CHANNEL_EXPORT))}
    assert sorted(posts) == [2, 3, 4, 6]
    p = posts[2]
    assert p.text == "Подробнее: здесь и @Manba_Kanal t.me/s/boshqa_kanal"
    assert p.posted_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert p.edited_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert p.forward == ForwardOrigin(channel_id=1111111111, name="Манба канали")
    assert (p.reply_to_id, p.reactions) == (1, 16)
    assert p.links == ("https://example.org/r?id=1",)
    assert p.mentions == ("manba_kanal", "boshqa_kanal")
    assert posts[3].forward == ForwardOrigin(channel_id=None, name="Hidden User")
    assert posts[3].media_kind == "voice"
    assert posts[4].media_kind == "poll"
    assert (posts[6].media_kind, posts[6].author) == ("document", "Muharrir")


def _broken_variants(good: str) -> dict[str, str]:
    wrong_message = json.loads(good)
    wrong_message["messages"][2] = {"id": 3, "type": "message", "text": "no date"}
    bad_time = json.loads(good)
    bad_time["messages"][3]["date_unixtime"] = "yesterday"
    bad_reactions = json.loads(good)
    bad_reactions["messages"][1]["reactions"] = [{"type": "emoji", "count": "many"}]
    bad_text = json.loads(good)
    bad_text["messages"][1]["text"] = [1, 2]
    return {
        "truncated": good[: len(good) * 2 // 3],
        "not json": "this is not JSON at all",
        "empty": "",
        "array root": "[1, 2, 3]",
        "scenario file": json.dumps({"format": "monitor-scenario/1", "channels": []}),
        "messages not array": json.dumps({"name": "x", "type": "public_channel", "id": 1, "messages": {}}),
        "chat without id": json.dumps({"name": "x", "type": "public_channel", "messages": []}),
        "chats without list": json.dumps({"chats": {"about": "x"}}),
        "message without date": json.dumps(wrong_message),
        "bad unixtime": json.dumps(bad_time),
        "bad reactions": json.dumps(bad_reactions),
        "bad text": json.dumps(bad_text),
    }


@pytest.mark.parametrize("case", list(_broken_variants(json.dumps(CHANNEL_EXPORT, indent=1))))
def test_broken_files_fail_before_any_record_with_a_clear_message(tmp_path: Path, case: str) -> None:
    path = tmp_path / "result.json"
    path.write_text(_broken_variants(json.dumps(CHANNEL_EXPORT, indent=1))[case], encoding="utf-8")
    with pytest.raises(ImportFormatError) as info:
        ExportFile(path)  # raised while opening: nothing was handed out
    message = str(info.value)
    assert str(path) in message and len(message) > len(str(path)) + 10


def test_truncated_real_sample_says_where(shared_dir: Path, tmp_path: Path) -> None:
    src = shared_dir / FIXTURES / "real_public_channel_TRFactsDeals_slice.json"
    if not src.is_file():
        pytest.skip(f"{src} not found")
    data = src.read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportFormatError, match=r"line \d+, column \d+.*truncated"):
        list(read_export(cut))


def test_binary_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)))
    with pytest.raises(ImportFormatError, match="not UTF-8"):
        ExportFile(binary)
    with pytest.raises(ImportFormatError, match="cannot read"):
        ExportFile(tmp_path / "absent.json")


def test_message_errors_name_the_json_path(tmp_path: Path) -> None:
    data = json.loads(json.dumps(CHANNEL_EXPORT))
    data["messages"][3]["date_unixtime"] = "soon"
    with pytest.raises(ImportFormatError, match=r"messages\[3\]\.date_unixtime: 'soon' is not a Unix time"):
        ExportFile(_write(tmp_path, data))
