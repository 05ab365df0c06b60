"""Shipped model data: sizes, provenance, versions, and an exact rebuild from the training text."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
from _language_shared import lid_dir_or_skip

from monitor.tagging.language import get_identifier
from monitor.tagging.language.build import train_models
from monitor.tagging.language.labels import ALL_CLASSES
from monitor.tagging.language.nb_engine import RULES_REVISION
from monitor.tagging.language.langdetect_profiles import BUILT, build_profile
from monitor.tagging.language.naive_bayes import MODEL_META, load_model
from monitor.tagging.language.training import (
    OTHER_DIR,
    TrainConfig,
    other_files,
    read_training_lines,
    train_file_of,
)

DATA = Path(__file__).resolve().parents[2] / "src" / "monitor" / "tagging" / "language" / "data"


def test_sizes_are_within_budget() -> None:
    files = [p for p in DATA.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert all(p.stat().st_size < 3_000_000 for p in files), [(p.name, p.stat().st_size) for p in files]
    assert sum(p.stat().st_size for p in files) < 10_000_000  # the budget for model files in the wheel


def test_provenance_matches_the_files() -> None:
    prov = json.loads((DATA / "provenance.json").read_text(encoding="utf-8"))
    meta = json.loads((DATA / MODEL_META).read_text(encoding="utf-8"))
    assert prov["model_version"] == meta["version"]
    assert prov["command"].startswith("monitor lid build")
    labelled = {train_file_of(c) for c in ALL_CLASSES}
    assert labelled | {train_file_of(c) for c in BUILT} == {n for n in prov["inputs"] if "/" not in n}
    assert all(n.startswith(f"{OTHER_DIR}/") for n in prov["inputs"] if "/" in n)
    assert any(n.startswith(f"{OTHER_DIR}/") for n in prov["inputs"])  # the rejection class is trained
    for script, spec in meta["scripts"].items():
        assert set(spec["reject"]) == set(spec["classes"][:-1]), script
    assert prov["calibration"]["per_script"].keys() == meta["scripts"].keys()
    for rel, digest in prov["outputs"].items():
        assert hashlib.sha256((DATA / rel).read_bytes()).hexdigest() == digest, rel
    # the version hashes the weight files, scales and classes: it moves exactly when the model does
    h = hashlib.sha256()
    for script in sorted(meta["scripts"]):
        h.update((DATA / meta["scripts"][script]["file"]).read_bytes())
    h.update(json.dumps(meta["scripts"], sort_keys=True).encode("utf-8"))
    assert h.hexdigest()[:12] == meta["version"]
    # the engine's version adds the revision of the rules applied after the tables
    assert get_identifier("nb").version == f"{meta['version']}+r{RULES_REVISION}"


def test_rebuild_from_training_text_is_byte_identical() -> None:
    train = lid_dir_or_skip() / "train"
    prov = json.loads((DATA / "provenance.json").read_text(encoding="utf-8"))
    for name, rec in prov["inputs"].items():
        assert hashlib.sha256((train / name).read_bytes()).hexdigest() == rec["sha256"], f"{name} changed"
    assert {f"{OTHER_DIR}/{p.name}" for s in ("Cyrl", "Latn", "Arab") for p in other_files(train, s)} == {
        n for n in prov["inputs"] if "/" in n
    }
    shipped = load_model()
    models, _, _ = train_models(train)
    for script, model in models.items():
        assert np.array_equal(model.weights, shipped.models[script].weights), script
        assert model.scale == shipped.models[script].scale
        assert model.reject == shipped.models[script].reject, script  # the calibration is reproduced too
    tg = build_profile("tg", read_training_lines(train / train_file_of("tg"), TrainConfig()))
    assert json.loads(gzip.decompress((DATA / "langdetect" / "tg.json.gz").read_bytes())) == tg
