"""`monitor tag` as analysts use it: a real subprocess, text in on stdin, JSON lines out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

MONITOR = [sys.executable, "-m", "monitor"]


def run_tag(stdin: str, *args: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [*MONITOR, "tag", *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_one_json_object_per_input_line_with_the_stable_keys() -> None:
    lines = [
        "ИГИЛ взял на себя ответственность за нападение",
        "Tolibonning vakillari Doha shahrida muzokara o'tkazdi",
        "",
        "Ҳизб-ут-Таҳрир дар Тоҷикистон мамнӯъ аст",
    ]
    out = run_tag("\n".join(lines) + "\n")
    assert len(out) == len(lines)
    for record in out:
        assert set(record) >= {"lang", "script", "confidence", "groups", "people", "keywords", "matches"}
    assert (out[0]["lang"], out[0]["script"], out[0]["groups"]) == ("ru", "Cyrl", ["IS"])
    assert (out[1]["lang"], out[1]["script"], out[1]["groups"]) == ("uz", "Latn", ["TALIBAN"])
    assert (out[2]["lang"], out[2]["groups"]) == ("und", [])
    assert (out[3]["lang"], out[3]["groups"]) == ("tg", ["HT"])
    assert out[0]["keywords"] == []  # a group alias is a match, not an analyst keyword
    [match] = out[0]["matches"]  # type: ignore[misc]
    start, end = match["span"]
    assert lines[0][start:end] == match["term"] == "ИГИЛ"
    assert match["group"] == "IS" and match["rule"]


def test_analyst_keywords_are_kept_apart_from_all_matches_as_in_the_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``keywords`` holds the analyst keywords found (the posts.keywords column), ``matches`` every match."""
    config = tmp_path / "monitor.toml"
    config.write_text(
        '[monitor]\ndatabase = "x.db"\n\n[[channels]]\nhandle = "@somechan"\n\n'
        '[[keywords]]\nterm = "hijrat"\ngroup = "KTJ"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "MONITOR_API_ID": "1", "MONITOR_API_HASH": "0123456789abcdef0123456789abcdef"}
    result = subprocess.run(
        [*MONITOR, "tag", "--config", str(config)], input="Они призывают к hijrat, пишет ИГИЛ\n",
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )
    assert result.returncode == 0, result.stderr
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["keywords"] == ["hijrat"]
    assert record["groups"] == ["IS"]
    assert sorted(m["kind"] for m in record["matches"]) == ["group", "keyword"]


def test_jsonl_input_keeps_ids_and_reports_bad_lines_in_place() -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": "a1", "text": "Бойцы Исламского государства Хорасан"}),
            "{not json",
            json.dumps({"id": 7, "text": "Weather in Dushanbe is sunny today"}),
        ]
    )
    out = run_tag(stdin + "\n", "--jsonl")
    assert [r.get("id") for r in out] == ["a1", None, 7]
    assert "ISKP" in out[0]["groups"]  # type: ignore[operator]
    assert out[1]["line"] == 2 and "invalid JSON" in str(out[1]["error"])
    assert out[2]["lang"] == "en"


def test_output_streams_before_input_ends() -> None:
    """A million-line pipe must not be held in memory: answers come while stdin is still open."""
    proc = subprocess.Popen(
        [*MONITOR, "tag"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("Талибы заявили о контроле над районом\n" * 600)
        proc.stdin.flush()
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=90)
        assert got and json.loads(got[0])["groups"] == ["TALIBAN"]
    finally:
        try:
            proc.communicate(timeout=60)  # closes stdin, drains stdout (or the child blocks writing the rest)
        except subprocess.TimeoutExpired:
            proc.kill()  # a hung child fails the test instead of hanging the suite
            proc.communicate(timeout=10)
