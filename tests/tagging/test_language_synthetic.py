"""The synthetic Slavic Cyrillic out-of-set pool: how it is made and that the shipped model is trained on it."""

from __future__ import annotations

import json
from pathlib import Path

from _language_shared import lid_dir_or_skip

from monitor.tagging.language.synthetic import SLAVIC_LATIN, SYNTHETIC_PREFIX, slavic_cyrillic, synthetic_lines
from monitor.tagging.language.training import synthetic_keys, synthetic_sources

DATA = Path(__file__).resolve().parents[2] / "src" / "monitor" / "tagging" / "language" / "data"


def test_digraphs_before_letters_and_case_kept() -> None:
    # written for this test: Polish, Czech, Slovene
    assert slavic_cyrillic("Szkoła czeka") == "Школа чека"
    assert slavic_cyrillic("Přítel žije v Praze") == "Пржител жийе в Празе"
    assert slavic_cyrillic("Ljubljana, 2024: novi zakon!") == "Льубльана, 2024: нови закон!"
    assert slavic_cyrillic("Dziś") == "Дзись"


def test_the_rendered_pool_is_cyrillic_but_for_rare_foreign_letters() -> None:
    train = lid_dir_or_skip() / "train"
    for path in synthetic_sources(train, "Cyrl"):
        letters = [ch for line in synthetic_lines(path) for ch in line if ch.isalpha()]
        latin = sum(1 for ch in letters if not ("\u0400" <= ch <= "\u04ff"))
        assert letters and latin / len(letters) < 0.002, (path.name, latin, len(letters))  # names such as Ǵorge


def test_only_the_cyrillic_model_gets_the_pool_and_croatian_stays_out() -> None:
    train = lid_dir_or_skip() / "train"
    assert synthetic_keys(train, "Latn") == [] and synthetic_keys(train, "Arab") == []
    keys = synthetic_keys(train, "Cyrl")
    assert keys == [SYNTHETIC_PREFIX + stem for stem in SLAVIC_LATIN]
    assert not any("hr-" in k for k in keys)  # Croatian in Cyrillic letters is Serbian, a labelled class
    prov = json.loads((DATA / "provenance.json").read_text(encoding="utf-8"))
    assert prov["calibration"]["synthetic_other"]["Cyrl"] == keys
    for stem in SLAVIC_LATIN:  # derived from files the provenance already pins by sha256
        assert f"other/{stem}.txt" in prov["inputs"]
