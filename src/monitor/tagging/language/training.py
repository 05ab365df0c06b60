"""Count-based training of the naive Bayes tables from ``shared/data/lid/train``.

Everything here is deterministic: files are read in a fixed class order, lines in file
order, the hold-out split is by line number, and the features use fixed hashes,
so the same training text always gives byte-identical tables.

Counts are kept per training file and per part (training lines, held-out lines),
so the calibration (``calibrate.py``) can assemble a model without some languages,
or without the held-out tenth, by adding counts instead of recounting text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .augment import augment_line
from .features import buckets_of, encode, feature_hashes
from .labels import CLASSES_BY_SCRIPT, OTHER
from .naive_bayes import ScriptModel
from .noise import strip_for_model
from .script import SCRIPTS
from .synthetic import SLAVIC_LATIN, SYNTHETIC_PREFIX, slavic_cyrillic

__all__ = [
    "OTHER_DIR",
    "Counts",
    "TrainConfig",
    "assemble",
    "count_all",
    "other_files",
    "quantise",
    "read_training_lines",
    "synthetic_keys",
    "train_file_of",
    "train_script_models",
]

N_BANDS = 1  # length bands of the rejection thresholds (len(nb_engine.BANDS) + 1)
OTHER_DIR = "other"  # train/other/<code>-<Script>.txt: languages that are not labels


@dataclass(frozen=True, slots=True)
class TrainConfig:
    bits: dict[str, int] = field(default_factory=lambda: {"Cyrl": 18, "Latn": 17, "Arab": 17})
    alpha: float = 0.01  # additive smoothing per bucket (0.01 beat 0.1 and 0.5 on a train split and on dev)
    holdout_every: int = 0  # >0: skip every k-th line (for a train-split cross-check)
    holdout_phase: int = 0
    augment: bool = True
    chunk: int = 4000
    # share of the rejection class made of the labelled languages' own text (a background model)
    background: float = 0.5
    # share of the rejection class spread evenly over all buckets: n-grams no training text has
    # (an unseen language's) then count for "none of my languages" rather than for the nearest label
    flat: float = 0.2


def train_file_of(label: str) -> str:
    """Class label -> training file name (``uz-Latn`` -> ``uz-Latn.txt``, ``ru`` -> ``ru-Cyrl.txt``)."""
    if "-" in label:
        return f"{label}.txt"
    script = next(s for s, cs in CLASSES_BY_SCRIPT.items() if label in cs)
    return f"{label}-{script}.txt"


def other_files(train_dir: Path, script: str) -> list[Path]:
    """The out-of-set files of one script, sorted by name (none when the pool is absent)."""
    pool = train_dir / OTHER_DIR
    return sorted(pool.glob(f"*-{script}.txt")) if pool.is_dir() else []


def synthetic_sources(train_dir: Path, script: str) -> list[Path]:
    """Out-of-set files of another script rendered into this one (``synthetic.py``): Cyrillic only."""
    if script != "Cyrl":
        return []
    pool = train_dir / OTHER_DIR
    return [pool / f"{stem}.txt" for stem in SLAVIC_LATIN if (pool / f"{stem}.txt").is_file()]


def synthetic_keys(train_dir: Path, script: str) -> list[str]:
    """Count keys of the synthetic out-of-set files of a script (always part of the rejection class)."""
    return [SYNTHETIC_PREFIX + p.stem for p in synthetic_sources(train_dir, script)]


def read_training_lines(path: Path, cfg: TrainConfig, *, heldout: bool = False) -> Iterator[str]:
    """Non-empty raw lines of one file, the training part or (``heldout``) the held-out part."""
    for i, line in _numbered_lines(path):
        is_out = cfg.holdout_every > 0 and i % cfg.holdout_every == cfg.holdout_phase
        if is_out == heldout:
            yield line


def _numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            line = line.strip()
            if line:
                yield i, line


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


@dataclass(frozen=True, slots=True)
class Counts:
    """Bucket counts of one training file: its training lines and its held-out lines, apart."""

    train: npt.NDArray[np.float64]
    held: npt.NDArray[np.float64]
    lines: int  # lines read in all
    lines_train: int

    @property
    def full(self) -> npt.NDArray[np.float64]:
        return self.train + self.held


def _count_file(
    path: Path, label: str, script: str, cfg: TrainConfig, *, augment: bool, render: bool = False
) -> Counts:
    parts: dict[bool, list[str]] = {False: [], True: []}
    n = 0
    for i, raw in _numbered_lines(path):
        if render:
            raw = slavic_cyrillic(raw)
        n += 1
        is_out = cfg.holdout_every > 0 and i % cfg.holdout_every == cfg.holdout_phase
        line = strip_for_model(raw)
        parts[is_out].append(line)
        if augment:
            variant = augment_line(label, line, i)
            if variant is not None:
                parts[is_out].append(variant)
    bits = cfg.bits[script]
    return Counts(
        train=count_buckets(parts[False], script, bits, cfg.chunk),
        held=count_buckets(parts[True], script, bits, cfg.chunk),
        lines=n,
        lines_train=sum(1 for _ in read_training_lines(path, cfg)) if cfg.holdout_every else n,
    )


def count_all(train_dir: Path, cfg: TrainConfig) -> dict[str, dict[str, Counts]]:
    """Counts per script: labelled classes by label, out-of-set files by file stem (``de-Latn``)."""
    out: dict[str, dict[str, Counts]] = {}
    for script, classes in CLASSES_BY_SCRIPT.items():
        mine: dict[str, Counts] = {}
        for label in classes:
            mine[label] = _count_file(train_dir / train_file_of(label), label, script, cfg, augment=cfg.augment)
        for path in other_files(train_dir, script):
            mine[path.stem] = _count_file(path, OTHER, script, cfg, augment=False)
        for path in synthetic_sources(train_dir, script):
            mine[SYNTHETIC_PREFIX + path.stem] = _count_file(path, OTHER, script, cfg, augment=False, render=True)
        out[script] = mine
    return out


def _distribution(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts)


def assemble(
    script: str,
    classes: Sequence[str],
    known: Mapping[str, npt.NDArray[np.float64]],
    others: Sequence[npt.NDArray[np.float64]],
    cfg: TrainConfig,
    reject: Mapping[str, Sequence[float]] | None = None,
) -> ScriptModel:
    """A quantised table for ``classes`` plus the rejection class, from bucket counts.

    The rejection class is a mixture in which every out-of-set language weighs
    the same (whatever its size) and the labelled languages together weigh
    ``cfg.background`` of it: a broad "any text of this script" model that an
    unseen language fits better than it fits any one labelled language.
    """
    bits = cfg.bits[script]
    cols = [known[c] for c in classes]
    mix = np.zeros(1 << bits, dtype=np.float64)
    if others:
        mix += sum(_distribution(o) for o in others) / len(others) * (1.0 - cfg.background)
    weight_known = cfg.background if others else 1.0
    mix += sum(_distribution(k) for k in cols) / len(cols) * weight_known
    mix = mix * (1.0 - cfg.flat) + cfg.flat / (1 << bits)
    mean_total = float(np.mean([k.sum() for k in cols]))
    counts = np.stack([*cols, mix * mean_total], axis=1)
    logp = np.log(counts + cfg.alpha) - np.log(counts.sum(axis=0, keepdims=True) + cfg.alpha * (1 << bits))
    logp -= logp.mean(axis=1, keepdims=True)  # centring: same argmax, smaller range to quantise
    q, scale = quantise(logp)
    thresholds = tuple(tuple((reject or {}).get(c, (0.0,) * N_BANDS)) for c in classes)
    return ScriptModel(script=script, classes=(*classes, OTHER), bits=bits, weights=q, scale=scale, reject=thresholds)


def quantise(weights: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int8], float]:
    """int8 table and its scale; the rare extreme weights beyond 127 steps are clipped."""
    bound = float(np.quantile(np.abs(weights), 0.99995))
    scale = float(f"{bound / 127.0:.6g}")  # rounded: a last-bit difference in log() on another CPU changes nothing
    q = np.clip(np.rint(weights / scale), -127, 127).astype(np.int8)
    return q, scale


def train_script_models(
    train_dir: Path,
    cfg: TrainConfig,
    counts: Mapping[str, Mapping[str, Counts]] | None = None,
    reject: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
    second: Mapping[str, Mapping[str, float] | None] | None = None,
) -> tuple[dict[str, ScriptModel], dict[str, int]]:
    """Quantised tables per script from all lines of every labelled and out-of-set file, and lines used per file.

    ``counts`` may have been taken with a hold-out split (for calibration): the
    parts are added back, so the shipped model is trained on every line.
    """
    counts = counts if counts is not None else count_all(train_dir, cfg)
    models: dict[str, ScriptModel] = {}
    used: dict[str, int] = {}
    for script, classes in CLASSES_BY_SCRIPT.items():
        mine = counts[script]
        known = {c: mine[c].full for c in classes}
        others = [mine[p.stem].full for p in other_files(train_dir, script)]
        others += [mine[k].full for k in synthetic_keys(train_dir, script)]
        models[script] = assemble(script, classes, known, others, cfg, (reject or {}).get(script))
        look = (second or {}).get(script)
        if look:
            models[script] = replace(models[script], second=tuple(look[c] for c in classes))
        for c in classes:
            used[train_file_of(c)] = mine[c].lines
        for p in other_files(train_dir, script):
            used[f"{OTHER_DIR}/{p.name}"] = mine[p.stem].lines
    return models, used
