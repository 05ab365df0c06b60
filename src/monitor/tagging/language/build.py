"""Rebuild everything shipped in ``data/`` from ``shared/data/lid/train``: exact and reproducible.

Same training files in, byte-identical model files out (fixed hashes, sorted
keys, gzip with mtime 0). ``provenance.json`` records which files, their line
counts and sha256, the settings, the command and the date; the model
``version`` is a hash of the weight files only, so it changes exactly when the
model changes, never because of the date.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import platform
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version as dist_version
from pathlib import Path

import numpy as np

from .calibrate import (
    CORE_LOSS,
    KNOWN_LOSS,
    RECALL_FIRST,
    Curve,
    calibrate,
    calibration_config,
    second_look,
    thresholds,
)
from .features import OPEN_SET_MIN_N
from .langdetect_profiles import BUILT, PROFILE_DIR, build_profile
from .naive_bayes import MODEL_META, ScriptModel
from .training import (
    TrainConfig,
    count_all,
    read_training_lines,
    synthetic_keys,
    train_file_of,
    train_script_models,
)

__all__ = ["BUILD_COMMAND", "PROVENANCE", "build_all", "train_models"]

BUILD_COMMAND = "monitor lid build --train ../shared/data/lid/train"
PROVENANCE = "provenance.json"


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train_models(
    train_dir: Path, cfg: TrainConfig | None = None
) -> tuple[dict[str, ScriptModel], dict[str, int], dict[str, Curve]]:
    """Count once (with a held-out tenth), calibrate the rejection thresholds, train on every line."""
    cfg = cfg or TrainConfig()
    counts = count_all(train_dir, calibration_config(cfg))
    curves = calibrate(train_dir, counts, cfg)
    reject = thresholds(curves)
    second = {script: second_look(curve, reject[script]) for script, curve in curves.items()}
    models, used = train_script_models(train_dir, cfg, counts, reject, second)
    return models, used, curves


def build_all(train_dir: Path, out_dir: Path, cfg: TrainConfig | None = None) -> dict[str, object]:
    """Train and write the naive Bayes tables, the langdetect profiles and the provenance record."""
    cfg = cfg or TrainConfig()
    out_dir.mkdir(parents=True, exist_ok=True)
    models, used, curves = train_models(train_dir, cfg)
    meta_scripts: dict[str, object] = {}
    digest = hashlib.sha256()
    for script, model in sorted(models.items()):  # sorted: the version hash has one canonical order
        name = f"nb-{script}.bin.gz"
        payload = _gz(model.weights.tobytes())
        (out_dir / name).write_bytes(payload)
        digest.update(payload)
        spec: dict[str, object] = {
            "file": name,
            "bits": model.bits,
            "classes": list(model.classes),
            "scale": model.scale,
            "reject": {c: list(t) for c, t in zip(model.classes, model.reject, strict=False)},
        }
        if model.second:  # only scripts where the second look paid on held-out text (calibrate.second_look)
            # and only the classes that have one (a class without it, inf, is left out: JSON has no inf)
            spec["second"] = {c: t for c, t in zip(model.classes, model.second, strict=False) if not math.isinf(t)}
        meta_scripts[script] = spec
    digest.update(json.dumps(meta_scripts, sort_keys=True).encode("utf-8"))
    version = digest.hexdigest()[:12]
    meta = {"version": version, "scripts": meta_scripts, "train": asdict(cfg)}
    (out_dir / MODEL_META).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    prof_dir = out_dir / PROFILE_DIR
    prof_dir.mkdir(exist_ok=True)
    full = TrainConfig(holdout_every=0)
    for label in BUILT:
        lines = read_training_lines(train_dir / train_file_of(label), full)
        profile = build_profile(label, lines)
        text = json.dumps(profile, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        (prof_dir / f"{label}.json.gz").write_bytes(_gz(text.encode("utf-8")))

    inputs = {}
    for name in sorted(used):
        path = train_dir / name
        with path.open(encoding="utf-8") as fh:
            n_lines = sum(1 for _ in fh)
        inputs[name] = {"lines": n_lines, "lines_used": used[name], "sha256": _sha256(path)}
    calibration = {
        "known_loss": KNOWN_LOSS,
        "core_loss": CORE_LOSS,
        "core_loss_classes": list(RECALL_FIRST),
        "synthetic_other": {s: synthetic_keys(train_dir, s) for s in sorted(models)},
        "open_set_min_n": OPEN_SET_MIN_N,
        "per_script": {
            script: dict(
                zip(
                    ("labelled_pieces_right", "out_of_set_rejected", "out_of_set_as_ru_tg_uz"),
                    (
                        round(x, 4)
                        for x in curve.point(
                            dict(zip(models[script].classes, models[script].reject, strict=False)),
                            dict(zip(models[script].classes, models[script].second, strict=False)) or None,
                        )
                    ),
                    strict=True,
                ),
                second_look=bool(models[script].second),
                second_look_classes=[
                    c for c, t in zip(models[script].classes, models[script].second, strict=False) if not math.isinf(t)
                ],
                labelled_pieces=len(curve.known),
                out_of_set_pieces=len(curve.unseen),
            )
            for script, curve in sorted(curves.items())
        },
    }
    sources = train_dir.parent / "SOURCES.md"
    provenance: dict[str, object] = {
        "what": "derived figures only (hashed n-gram log-probabilities, langdetect n-gram counts); no text",
        "model_version": version,
        "inputs": inputs,
        "calibration": calibration,
        "sources_md_sha256": _sha256(sources) if sources.exists() else None,
        "command": BUILD_COMMAND,
        "built_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "langdetect": dist_version("langdetect"),
        "outputs": {
            p.relative_to(out_dir).as_posix(): _sha256(p)
            for p in sorted(out_dir.rglob("*"))
            if p.is_file() and p.name != PROVENANCE and p.suffix != ".py" and "__pycache__" not in p.parts
        },
    }
    (out_dir / PROVENANCE).write_text(json.dumps(provenance, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return provenance
