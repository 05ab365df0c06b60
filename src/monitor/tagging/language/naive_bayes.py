"""The project's own model: per-script multinomial naive Bayes over hashed char 1-5-grams and words.

Why naive Bayes: on a closed set of 17 classes with small training text it is
as accurate as a linear model, trains in seconds from counts (so
``monitor lid build`` is exact and reproducible), ships as one int8 table per
script, and scores a batch with one gather and one segmented sum.
The weights are log P(feature | class) centred per feature (argmax unchanged)
and quantised to int8 with one scale per script.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .features import Segment, buckets_of

__all__ = ["DATA_PACKAGE", "MODEL_META", "NaiveBayesModel", "ScriptModel", "data_root", "load_model"]

MODEL_META = "nb-model.json"
DATA_PACKAGE = "monitor.tagging.language.data"


@dataclass(frozen=True, slots=True)
class ScriptModel:
    """One script's classes and its quantised weight table: log-prob = weights * scale."""

    script: str
    classes: tuple[str, ...]
    bits: int
    weights: npt.NDArray[np.int8]  # (2**bits, n_classes); the last class is the rejection class OTHER
    scale: float
    # per labelled class: the per-feature log-likelihood ratio against OTHER below which the answer is "und"
    reject: tuple[tuple[float, ...], ...] = ()  # per class, per length band (see nb_engine.BANDS)
    # per labelled class: the second look's threshold on the ratio over every feature (empty: no second look;
    # inf: none for that class)
    second: tuple[float, ...] = ()

    def score(
        self, segments: list[Segment], n_docs: int, split: int | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Summed centred log-likelihoods per document and class, (n_docs, C), in units of ``scale``.

        Returns the sum over all segments and the sum over ``segments[split:]``
        only (the features the open-set ratio uses; all of them when ``split`` is None).
        """
        total = np.zeros((n_docs, len(self.classes)), dtype=np.int64)
        early = np.zeros((n_docs, len(self.classes)), dtype=np.int64)
        for k, (hashes, docs) in enumerate(segments):
            if len(hashes) == 0:
                continue
            target = early if split is not None and k < split else total
            if n_docs == 1:  # one text: a plain sum, without the segment bookkeeping
                target[0] += np.take(self.weights, buckets_of(hashes, self.bits), axis=0).sum(axis=0, dtype=np.int32)
                continue
            change = np.empty(len(docs), dtype=bool)  # np.r_ costs more than the comparison here
            change[0] = True
            np.not_equal(docs[1:], docs[:-1], out=change[1:])
            first = np.flatnonzero(change)
            rows = np.take(self.weights, buckets_of(hashes, self.bits), axis=0)  # int8: 4x less to move
            target[docs[first]] += np.add.reduceat(rows, first, axis=0, dtype=np.int32)
        return total + early, total


@dataclass(frozen=True, slots=True)
class NaiveBayesModel:
    models: dict[str, ScriptModel]
    version: str  # content hash of the shipped files: changes whenever the data changes


def data_root(source: str | Path) -> Traversable:
    """A package name (shipped data) or a directory (e.g. fresh output of ``monitor lid build``)."""
    return source if isinstance(source, Path) else resources.files(source)


def load_model(source: str | Path = DATA_PACKAGE) -> NaiveBayesModel:
    """Read the tables (the only I/O of the default engine, done once)."""
    root = data_root(source)
    meta = json.loads(root.joinpath(MODEL_META).read_text(encoding="utf-8"))
    models: dict[str, ScriptModel] = {}
    for script, spec in meta["scripts"].items():
        raw = gzip.decompress(root.joinpath(spec["file"]).read_bytes())
        classes = tuple(spec["classes"])
        weights = np.frombuffer(raw, dtype=np.int8).reshape(1 << spec["bits"], len(classes))
        models[script] = ScriptModel(
            script=script,
            classes=classes,
            bits=spec["bits"],
            weights=weights,
            scale=float(spec["scale"]),
            reject=tuple(tuple(float(t) for t in spec["reject"][c]) for c in classes[:-1]),
            # a class left out of "second" has no second look (inf: never passes)
            second=tuple(float(spec["second"].get(c, math.inf)) for c in classes[:-1]) if spec.get("second") else (),
        )
    return NaiveBayesModel(models=models, version=meta["version"])
