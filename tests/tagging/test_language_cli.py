"""`monitor lid build` and `monitor lid eval` end to end, on small inputs written here."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner
from test_language_behaviour import SHORT_POSTS

from monitor.cli.lid import lid
from monitor.tagging.language.labels import ALL_CLASSES, class_of
from monitor.tagging.language.langdetect_profiles import LangdetectIdentifier
from monitor.tagging.language.naive_bayes import load_model
from monitor.tagging.language.nb_engine import NaiveBayesIdentifier
from monitor.tagging.language.training import train_file_of


def _tiny_train(tmp_path: Path) -> Path:
    train = tmp_path / "train"
    train.mkdir()
    for label in ALL_CLASSES:
        lines = [t for t, lang, script in SHORT_POSTS if class_of(lang, script) == label]
        (train / train_file_of(label)).write_text("\n".join(lines * 3) + "\n", encoding="utf-8")
    return train


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "provenance.json"
    }


def test_build_is_reproducible_and_records_provenance(tmp_path: Path) -> None:
    train = _tiny_train(tmp_path)
    runner = CliRunner()
    first = runner.invoke(lid, ["build", "--train", str(train), "--out", str(tmp_path / "a")])
    second = runner.invoke(lid, ["build", "--train", str(train), "--out", str(tmp_path / "b")])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    prov = json.loads((tmp_path / "a" / "provenance.json").read_text(encoding="utf-8"))
    ru = prov["inputs"]["ru-Cyrl.txt"]
    assert ru["lines"] == ru["lines_used"] == 3 * sum(1 for _, lang, _ in SHORT_POSTS if lang == "ru")
    assert ru["sha256"] == hashlib.sha256((train / "ru-Cyrl.txt").read_bytes()).hexdigest()
    assert prov["model_version"] in first.output
    # what was built loads and answers: each class recognises its own training sentences
    engine = NaiveBayesIdentifier(load_model(tmp_path / "a"))
    for text, lang, script in SHORT_POSTS:
        assert engine(text)[:2] == (lang, script)
    assert LangdetectIdentifier(tmp_path / "a")("Ин видеоро ҳатман тамошо кунед").lang == "tg"


def test_build_refuses_a_missing_training_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(lid, ["build", "--train", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert "training directory not found" in result.output
    assert not (tmp_path / "o").exists()


def test_eval_prints_the_metrics(tmp_path: Path) -> None:
    tsv = tmp_path / "mini.tsv"
    rows = ["lang\tscript\tsource\ttext"] + [f"{lang}\t{script}\ttest\t{text}" for text, lang, script in SHORT_POSTS]
    tsv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(lid, ["eval", str(tsv), "--engine", "nb", "--engine", "pycld2"])
    assert result.exit_code == 0, result.output
    nb_line = next(line for line in result.output.splitlines() if line.startswith("| nb@"))
    assert nb_line.split("|")[2].strip() == "1.0000"  # core macro-F1 on posts it gets all right
    assert "pycld2@" in result.output
    assert "| uz-Cyrl |" in result.output


def test_eval_rejects_a_tsv_without_the_header(tmp_path: Path) -> None:
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("ru\tCyrl\tx\tПривет\n", encoding="utf-8")
    result = CliRunner().invoke(lid, ["eval", str(tsv)])
    assert result.exit_code != 0
    assert "expected header" in result.output
