"""`monitor label` and `monitor report precision|misses`: analysts' verdicts on group matches, end to end.

A real SQLite store with posts tagged by the real tagger; the commands run in-process through click
on real files. Post texts were written for these tests.
"""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.labels import COLUMNS, read_labels
from monitor.models import Channel, Post
from monitor.store import open_store
from monitor.tagging import build_tagger

POSTS = {
    1: "Боевики ИГИЛ напали на блокпост, сообщает источник.",
    2: "Талибы заявили о новом наступлении; ИГИЛ молчит.",
    3: "Хайят Тахрир аш-Шам объявила о перемирии в Идлибе.",
    4: "Студенты университета провели встречу с ректором.",
}


@pytest.fixture(scope="module")
def tagger():  # type: ignore[no-untyped-def]
    return build_tagger()


@pytest.fixture
def db(tmp_path: Path, tagger) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "monitor.db"

    async def seed() -> None:
        store = open_store(path)
        await store.open()
        try:
            await store.set_resolved("newsroom", Channel(id=777, username="newsroom", title="n", access_hash=1),
                                     at=datetime.now(UTC))
            posts = [Post(channel_id=777, message_id=i, posted_at=datetime(2026, 1, i, tzinfo=UTC), text=t)
                     for i, t in POSTS.items()]
            await store.save_posts(777, tagger.tag_posts(posts), at=datetime.now(UTC), store_text=True)
        finally:
            await store.close()

    asyncio.run(seed())
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_label_right_and_wrong_then_precision_per_group_and_alias(db: Path, tmp_path: Path, tagger) -> None:  # type: ignore[no-untyped-def]
    labels = tmp_path / "labels.csv"
    isis = next(m for m in tagger.tag(POSTS[1]).matches if m.kind == "group")
    r = run("label", "777/1", isis.canonical, "right", "--db", str(db), "--labels", str(labels), "--who", "ana")
    assert r.exit_code == 0, r.output
    assert "1 label(s) added" in r.output
    # the same alias by its term as written, in another post, marked wrong; a link names the post too
    r = run("label", "https://t.me/newsroom/2", isis.term, "wrong", "--db", str(db), "--labels", str(labels),
            "--who", "bo", "--note", "a quote")
    assert r.exit_code == 0, r.output
    rows = read_labels(labels)
    assert [(x.who, x.verdict, x.canonical, x.post.message_id) for x in rows] == [
        ("ana", "right", isis.canonical, 1), ("bo", "wrong", isis.canonical, 2)]
    lexicon = tagger.version.rsplit("lex=", 1)[-1]
    assert all(x.lexicon == lexicon and x.rule and x.at.tzinfo is not None for x in rows)
    with labels.open(encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == list(COLUMNS)

    r = run("report", "precision", "--labels", str(labels), "--format", "json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    rows_out = got["rows"] if isinstance(got, dict) else got
    by_alias = {(x["group"], x["alias"]): x for x in rows_out}
    assert by_alias[(isis.canonical, "*")]["right"] == 1
    assert by_alias[(isis.canonical, "*")]["wrong"] == 1
    assert by_alias[(isis.canonical, "*")]["precision"] == 0.5
    assert by_alias[(isis.canonical, isis.term.casefold())]["lexicon"] == lexicon

    # a later label of the same match wins: precision goes back to 1.0
    r = run("label", "777/2", isis.canonical, "right", "--db", str(db), "--labels", str(labels))
    assert r.exit_code == 0, r.output
    r = run("report", "precision", "--labels", str(labels), "--format", "csv")
    line = next(row for row in csv.DictReader(r.output.splitlines()) if row["alias"] == "*")
    assert (line["right"], line["wrong"], line["precision"]) == ("2", "0", "1.0")
    assert len(read_labels(labels)) == 3  # history is kept: the file is only appended to


def test_missed_mention_with_span_is_listed_for_the_lexicon_keepers(db: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    text = POSTS[4]
    start = text.index("Студенты")
    span = f"{start}:{start + len('Студенты')}"
    r = run("label", "777/4", "taliban", "missed", "--span", span, "--db", str(db), "--labels", str(labels),
            "--who", "ana", "--note", "test of a miss")
    assert r.exit_code == 0, r.output
    r = run("report", "misses", "--labels", str(labels), "--format", "csv")
    assert r.exit_code == 0, r.output
    (row,) = list(csv.DictReader(r.output.splitlines()))
    assert (row["group"], row["text"], row["post"], row["span"], row["who"]) == (
        "taliban", "Студенты", "777/4", span, "ana")
    # missed mentions do not count in precision
    r = run("report", "precision", "--labels", str(labels), "--format", "csv")
    assert list(csv.DictReader(r.output.splitlines())) == []


def test_bulk_labels_from_csv_all_or_nothing(db: Path, tmp_path: Path, tagger) -> None:  # type: ignore[no-untyped-def]
    labels = tmp_path / "labels.csv"
    hts = next(m for m in tagger.tag(POSTS[3]).matches if m.kind == "group")
    isis = next(m for m in tagger.tag(POSTS[1]).matches if m.kind == "group")
    good = tmp_path / "good.csv"
    good.write_text(f"post,match,verdict,note\n777/3,{hts.canonical},right,\n777/1,{isis.canonical},wrong,x\n",
                    encoding="utf-8")
    r = run("label", "--from-csv", str(good), "--db", str(db), "--labels", str(labels), "--who", "team")
    assert r.exit_code == 0, r.output
    assert [(x.canonical, x.verdict, x.who) for x in read_labels(labels)] == [
        (hts.canonical, "right", "team"), (isis.canonical, "wrong", "team")]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"post,match,verdict\n777/3,{hts.canonical},wrong\n777/4,{hts.canonical},right\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["label", "--from-csv", str(bad), "--db", str(db), "--labels", str(labels)])
    assert r.exit_code == 1
    assert f"{bad}:3" in r.output and "has no match" in r.output
    assert "Traceback" not in r.output
    assert len(read_labels(labels)) == 2  # the good first row of the bad file was not written either


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["777/9", "isis", "right"], "no stored post 777/9"),
        (["777/4", "isis", "right"], "has no match 'isis'"),
        (["777/4", "taliban", "missed"], "needs --span"),
        (["777/4", "taliban", "missed", "--span", "5:2"], "END must be greater"),
        (["777/4", "taliban", "missed", "--span", "0:9999"], "past the end"),
        (["seven/1", "isis", "right"], "expected CHANNEL_ID/MESSAGE_ID"),
        (["https://t.me/unknownchan/1", "isis", "right"], "no stored channel @unknownchan"),
    ],
)
def test_bad_labels_are_one_line_errors_and_write_nothing(db: Path, tmp_path: Path, args: list[str],
                                                          message: str) -> None:
    labels = tmp_path / "labels.csv"
    r = CliRunner().invoke(main, ["label", *args, "--db", str(db), "--labels", str(labels)])
    assert r.exit_code != 0
    assert message in r.output, r.output
    assert "Traceback" not in r.output
    assert not labels.exists()


def test_a_damaged_labels_file_is_named_in_one_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("at,who\n1,2\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["report", "precision", "--labels", str(labels)])
    assert r.exit_code == 1
    assert "not a labels file" in r.output and "Traceback" not in r.output


def test_labels_file_defaults_to_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.cli.label import labels_path

    monkeypatch.delenv("MONITOR_LABELS", raising=False)
    config = tmp_path / "team" / "monitor.toml"
    config.parent.mkdir()
    config.write_text("", encoding="utf-8")
    assert labels_path(None, config) == config.resolve().parent / "labels.csv"
    monkeypatch.setenv("MONITOR_LABELS", str(tmp_path / "x.csv"))
    assert labels_path(None, config) == tmp_path / "x.csv"
    assert labels_path(tmp_path / "y.csv", config) == tmp_path / "y.csv"


def test_an_alias_marked_wrong_can_be_suppressed_in_the_config(tmp_path: Path, tagger) -> None:  # type: ignore[no-untyped-def]
    text = POSTS[2]
    before = tagger.tag(text)
    isis = next(m for m in before.matches if m.kind == "group")
    others = [m for m in before.matches if m.term.casefold() != isis.term.casefold()]
    config = tmp_path / "monitor.toml"
    config.write_text(f'[monitor]\ndatabase = "monitor.db"\n[lexicon]\nsuppress = ["{isis.term.upper()}"]\n',
                      encoding="utf-8")
    r = CliRunner().invoke(main, ["tag", "--config", str(config)], input=text + "\n", catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.splitlines()[0])
    assert [m["term"] for m in out["matches"]] == [m.term for m in others]
    assert out["groups"] == sorted({m.canonical for m in others if m.kind == "group"})
    assert isis.canonical not in out["groups"] or any(m.canonical == isis.canonical for m in others)
    # the tagger version names the list, so `monitor retag` sees every post as stale after a change
    from monitor.tagging import build_tagger as build

    assert build(suppress=[isis.term]).version.startswith(tagger.version + ";sup=")
    assert build(suppress=[]).version == tagger.version
