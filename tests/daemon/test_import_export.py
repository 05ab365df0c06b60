"""Importing exports: streamed, checked whole before the store is touched, resumable, bounded values."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import ImportFormatError
from monitor.settings import load
from monitor.sources.export import ExportFile, read_export
from monitor.tagging import Tagger

from daemon.conftest import ScriptLanguage, WordGroups, write_config

T0 = 1709269200  # 2024-03-01 05:00 UTC


def _message(mid: int, text: str = "ISIS claimed it", when: int | None = None, **extra: Any) -> dict[str, Any]:
    when = T0 + mid * 60 if when is None else when
    return {"id": mid, "type": "message", "date": "2024-03-01T10:00:00", "date_unixtime": str(when),
            "text": text, "text_entities": [{"type": "plain", "text": text}], **extra}


def _chat(cid: int, n: int, name: str = "chan", **bad: Any) -> dict[str, Any]:
    messages = [_message(i) for i in range(1, n + 1)]
    for index, fields in bad.items():
        messages[int(index.removeprefix("m"))].update(fields)
    return {"name": name, "type": "public_channel", "id": cid, "messages": messages}


def _account(*chats: dict[str, Any]) -> dict[str, Any]:
    return {"about": "account export", "chats": {"about": "chats", "list": list(chats)}}


def _write(folder: Path, data: Any) -> Path:
    path = folder / "result.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"format": "monitor-scenario/1", "channels": []}), "utf-8")
    return write_config(tmp_path, scenario, [], polling={"batch_size": 7})


def _tagger() -> Tagger:
    return Tagger(language=ScriptLanguage(), groups=WordGroups())  # type: ignore[arg-type]


def _import(settings_path: Path, export: Path, **kwargs: Any) -> Any:
    from monitor.cli.collect import import_export

    return asyncio.run(import_export(load(settings_path), export, tagger=_tagger(), **kwargs))


def _rows(settings_path: Path) -> tuple[list[tuple[int, int]], list[int]]:
    db = settings_path.parent / "monitor.db"
    if not db.exists():
        return [], []
    with sqlite3.connect(db) as conn:
        posts = conn.execute("SELECT channel_id, message_id FROM posts ORDER BY 1, 2").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        channels = [r[0] for r in conn.execute("SELECT id FROM channels ORDER BY 1")] if "channels" in tables else []
    return posts, channels


def test_an_account_export_whose_second_chat_is_bad_stores_nothing(settings_path: Path, tmp_path: Path) -> None:
    path = _write(tmp_path, _account(_chat(111, 30), _chat(222, 30, m17={"date_unixtime": "1000000000"})))
    with pytest.raises(ImportFormatError, match=r"chats\.list\[1\]\.messages\[17\]\.date_unixtime: message 18: "
                                                r"2001-09-09 is before Telegram existed"):
        _import(settings_path, path)
    assert _rows(settings_path) == ([], [])  # no posts of the first chat, no channel rows


def test_a_good_account_export_is_imported_in_batches_once(settings_path: Path, tmp_path: Path) -> None:
    path = _write(tmp_path, _account(_chat(111, 30), _chat(222, 12, name="two")))
    seen: list[tuple[int, int]] = []
    result = _import(settings_path, tmp_path, saved=lambda n, total: seen.append((n, total)))  # the folder
    assert (result.channels, result.posts, result.inserted) == (2, 42, 42)
    assert [n for n, _ in seen] == [7, 7, 7, 7, 2, 7, 5] and {t for _, t in seen} == {42}
    posts, channels = _rows(settings_path)
    assert len(posts) == 42 and channels == [111, 222]
    assert path.parent == tmp_path


def test_an_interrupted_import_is_resumed_by_running_it_again(settings_path: Path, tmp_path: Path) -> None:
    path = _write(tmp_path, _account(_chat(111, 30), _chat(222, 12)))

    def killed(n: int, total: int) -> None:
        raise KeyboardInterrupt  # as if the process were stopped after the first batch

    with pytest.raises(KeyboardInterrupt):
        _import(settings_path, path, saved=killed)
    assert len(_rows(settings_path)[0]) == 7
    result = _import(settings_path, path)
    assert (result.inserted, result.updated) == (35, 0)  # the first 7 are not stored twice
    posts, channels = _rows(settings_path)
    assert len(posts) == len(set(posts)) == 42 and channels == [111, 222]


@pytest.mark.parametrize(
    ("fields", "pattern"),
    [
        ({"date_unixtime": "0"}, r"messages\[4\]\.date_unixtime: message 5: 1970-01-01 is before Telegram"),
        ({"date_unixtime": "253402300799"}, r"message 5: 9999-12-31 23:59 UTC is in the future"),
        ({"date_unixtime": None, "date": "1999-01-01T00:00:00"}, r"messages\[4\]\.date: message 5: 1999-01-01"),
        ({"edited_unixtime": "99999999999"}, r"messages\[4\]\.edited_unixtime: message 5: .* in the future"),
        ({"id": 1 << 70}, r"an integer beyond 64 bits at line 1, column \d+"),
        ({"reply_to_message_id": 1 << 64}, r"an integer beyond 64 bits"),
        ({"reactions": [{"type": "emoji", "count": (1 << 62)}, {"type": "emoji", "count": 1 << 62}]},
         r"messages\[4\]\.reactions\.count: message 5: integer \d+ does not fit in 64 bits"),
    ],
)
def test_out_of_range_values_are_refused_with_the_message_id(tmp_path: Path, fields: dict[str, Any],
                                                             pattern: str) -> None:
    chat = _chat(111, 8)
    chat["messages"][4].update(fields)
    chat["messages"][4] = {k: v for k, v in chat["messages"][4].items() if v is not None}
    with pytest.raises(ImportFormatError, match=pattern):
        ExportFile(_write(tmp_path, chat))


def test_a_chat_id_beyond_64_bits_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="beyond 64 bits"):
        ExportFile(_write(tmp_path, _chat(1 << 64, 2)))


def test_chat_fields_after_the_messages_and_a_bom(tmp_path: Path) -> None:
    chat = _chat(-1001234, 3, name="late")
    late = {"messages": chat.pop("messages"), **chat}  # id, type, name written after the messages
    path = tmp_path / "result.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(late).encode())
    export = ExportFile(path)
    [info] = export.chats
    assert (info.channel.id, info.channel.title, info.posts) == (1001234, "late", 3)
    assert [(c.id, p.message_id) for c, p in read_export(path)] == [(1001234, 1), (1001234, 2), (1001234, 3)]


def test_a_folder_without_result_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="without result.json"):
        ExportFile(tmp_path)


def test_the_cli_reports_a_bad_export_in_one_line(settings_path: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import main

    _write(tmp_path, _account(_chat(111, 5), _chat(222, 5, m2={"id": 1 << 65})))
    result = CliRunner().invoke(main, ["import", "-c", str(settings_path), str(tmp_path)])
    assert result.exit_code != 0
    assert "beyond 64 bits" in result.output and "Traceback" not in result.output
    assert _rows(settings_path) == ([], [])
