"""The synthetic Slavic Cyrillic out-of-set pool: how it is made and that the shipped model is trained on it."""

from __future__ import annotations

import json
import math
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


def test_the_second_look_is_shipped_only_where_calibration_kept_it() -> None:
    from monitor.tagging.language.naive_bayes import load_model

    prov = json.loads((DATA / "provenance.json").read_text(encoding="utf-8"))
    for script, model in load_model().models.items():
        kept = prov["calibration"]["per_script"][script]["second_look"]
        assert bool(model.second) == kept, script
        if kept:
            assert len(model.second) == len(model.classes) - 1
            on = [c for c, t in zip(model.classes, model.second, strict=False) if not math.isinf(t)]
            assert on == prov["calibration"]["per_script"][script]["second_look_classes"]
            assert all(-2.5 < t <= 0.0 for t in model.second if not math.isinf(t))


def _curve(known: list[tuple[str, str, float, float]], unseen: list[tuple[str, float, float]],  # type: ignore[no-untyped-def]
           script: str = "Arab"):
    from monitor.tagging.language.calibrate import Curve

    return Curve(
        script=script,
        known=[(g, p, s, 0, w) for g, p, s, w in known],
        unseen=[("xx-Arab", p, s, 0, w) for p, s, w in unseen],
        unseen_texts=[],
        known_texts=[],
    )


def test_the_second_look_must_win_more_labelled_pieces_than_it_lets_foreign_ones_in() -> None:
    from monitor.tagging.language.calibrate import second_look

    reject = {c: (-0.5,) for c in ("fa", "ar", "ps", "ur", "ug")}
    # 200 clear fa pieces, 3 with a low 4-5-gram ratio but a high ratio on every feature
    known = [("fa", "fa", 1.0, 1.0)] * 200 + [("fa", "fa", -1.0, 0.5)] * 3
    few_foreign = [("fa", -1.0, -1.0)] * 50 + [("fa", -1.0, 0.9)]
    assert second_look(_curve(known, few_foreign), reject) is not None  # wins 3, lets 1 in
    many_foreign = [("fa", -1.0, -1.0)] * 50 + [("fa", -1.0, 0.9)] * 5
    assert second_look(_curve(known, many_foreign), reject) is None  # wins 3, lets 5 in
    from monitor.tagging.language.labels import CLASSES_BY_SCRIPT

    reject_cyrl = {c: (-0.5,) for c in CLASSES_BY_SCRIPT["Cyrl"]}
    known_ru = [("ru", "ru", 1.0, 1.0)] * 200 + [("ru", "ru", -1.0, 0.5)] * 3
    as_core = [("kk", -1.0, -1.0)] * 50 + [("ru", -1.0, 0.9)]
    assert second_look(_curve(known_ru, as_core, "Cyrl"), reject_cyrl) is None  # one more labelled ru: never
    as_kk = [("kk", -1.0, -1.0)] * 50 + [("kk", -1.0, 0.9)]
    assert second_look(_curve(known_ru, as_kk, "Cyrl"), reject_cyrl) is not None


def test_the_second_look_falls_back_to_the_must_have_classes_alone() -> None:
    from monitor.tagging.language.calibrate import second_look
    from monitor.tagging.language.labels import CLASSES_BY_SCRIPT, CORE_CLASSES

    reject = {c: (-0.5,) for c in CLASSES_BY_SCRIPT["Cyrl"]}
    # it would win 2 ru pieces and 1 kk piece, but let 4 foreign pieces in as kk: not for every class ...
    known = [("ru", "ru", 1.0, 1.0)] * 200 + [("ru", "ru", -1.0, 0.5)] * 2
    known += [("kk", "kk", 1.0, 1.0)] * 200 + [("kk", "kk", -1.0, 0.5)]
    unseen = [("kk", -1.0, -1.0)] * 50 + [("kk", -1.0, 0.9)] * 4
    got = second_look(_curve(known, unseen, "Cyrl"), reject)
    # ... but for ru, tg, uz alone it wins 2 and lets none in
    assert got is not None
    assert {c for c, t in got.items() if not math.isinf(t)} == {c for c in CORE_CLASSES if c in got}
    assert got["ru"] <= 0.5 and math.isinf(got["kk"])
