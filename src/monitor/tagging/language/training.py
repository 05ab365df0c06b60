"""Count-based training of the naive Bayes tables from ``shared/data/lid/train``.

Everything here is deterministic: files are read in a fixed class order, lines in file
order, the hold-out split is by line number, and the features use fixed hashes,
so the same training text always gives byte-identical tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .augment import augment
from .features import buckets_of, encode, feature_hashes
from .labels import CLASSES_BY_SCRIPT
from .naive_bayes import ScriptModel
from .noise import strip_for_model
from .script import SCRIPTS

__all__ = ["TrainConfig", "quantise", "read_training_lines", "train_file_of", "train_script_models"]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    bits: dict[str, int] = field(default_factory=lambda: {"Cyrl": 18, "Latn": 17, "Arab": 16})
    alpha: float = 0.01  # additive smoothing per bucket (0.01 beat 0.1 and 0.5 on a train split and on dev)
    holdout_every: int = 0  # >0: skip every k-th line (for a train-split cross-check)
    holdout_phase: int = 0
    augment: bool = True
    chunk: int = 4000


def train_file_of(label: str) -> str:
    """Class label -> training file name (``uz-Latn`` -> ``uz-Latn.txt``, ``ru`` -> ``ru-Cyrl.txt``)."""
    if "-" in label:
        return f"{label}.txt"
    script = next(s for s, cs in CLASSES_BY_SCRIPT.items() if label in cs)
    return f"{label}-{script}.txt"


def read_training_lines(path: Path, cfg: TrainConfig, *, heldout: bool = False) -> Iterator[str]:
    """Non-empty raw lines of one file, the training part or (``heldout``) the held-out part."""
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            line = line.strip()
            if not line:
                continue
            is_out = cfg.holdout_every > 0 and i % cfg.holdout_every == cfg.holdout_phase
            if is_out == heldout:
                yield line


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    buf: list[str] = []
    for it in items:
        buf.append(it)
        if len(buf) == size:
            yield buf
            buf = []
    if buf:
        yield buf


def count_buckets(lines: Iterable[str], script: str, bits: int, chunk: int) -> npt.NDArray[np.float64]:
    """Feature counts per bucket over normalised lines (only the given script's letters count)."""
    counts = np.zeros(1 << bits, dtype=np.float64)
    sid = SCRIPTS.index(script)
    for part in _chunks(lines, chunk):
        batch = encode(part)
        # a line mostly in another script (a quotation, a name list) teaches this model nothing
        mine_doc = (batch.script == sid) & (batch.letters > 0)
        for hashes, docs in feature_hashes(batch):
            mine = mine_doc[docs]
            counts += np.bincount(buckets_of(hashes[mine], bits), minlength=1 << bits)
    return counts


def quantise(weights: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int8], float]:
    """int8 table and its scale; the rare extreme weights beyond 127 steps are clipped."""
    bound = float(np.quantile(np.abs(weights), 0.99995))
    scale = float(
        f"{bound / 127.0:.6g}"
    )  # rounded: a last-bit difference in log() on another CPU changes nothing
    q = np.clip(np.rint(weights / scale), -127, 127).astype(np.int8)
    return q, scale


def train_script_models(train_dir: Path, cfg: TrainConfig) -> tuple[dict[str, ScriptModel], dict[str, int]]:
    """Quantised tables per script, and the number of training lines used per class."""
    models: dict[str, ScriptModel] = {}
    used: dict[str, int] = {}
    for script, classes in CLASSES_BY_SCRIPT.items():
        bits = cfg.bits[script]
        cols = []
        for label in classes:
            raw = list(read_training_lines(train_dir / train_file_of(label), cfg))
            used[label] = len(raw)
            lines = [strip_for_model(r) for r in raw]
            if cfg.augment:
                lines += list(augment(label, lines))
            cols.append(count_buckets(lines, script, bits, cfg.chunk))
        counts = np.stack(cols, axis=1)
        logp = np.log(counts + cfg.alpha) - np.log(
            counts.sum(axis=0, keepdims=True) + cfg.alpha * (1 << bits)
        )
        logp -= logp.mean(axis=1, keepdims=True)  # centring: same argmax, smaller range to quantise
        q, scale = quantise(logp)
        models[script] = ScriptModel(script=script, classes=classes, bits=bits, weights=q, scale=scale)
    return models, used
