"""The project's own model: per-script multinomial naive Bayes over hashed char 1-5-grams and words.

Why naive Bayes: on a closed set of 17 classes with small training text it is
as accurate as a linear model, trains in seconds from counts (so
``monitor lid build`` is exact and reproducible), ships as one int8 table per
script, and scores a batch with one gather and one segmented sum.
The weights are log P(feature | class) centred per feature (argmax unchanged)
and quantised to int8 with one scale per script.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .alphabet import exclusion_table
from .features import Segment, buckets_of
from .guess import LanguageGuess
from .labels import split_class

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
    # ``weights`` with zero columns up to a power-of-two width (16 bytes for 14 classes): numpy's take
    # copies rows of 1, 2, 4, 8, 16 or 32 bytes with a fixed-size copy and any other width byte by byte,
    # 2-30x slower on a random gather. Scores are sliced back to the classes. ``load_model`` passes
    # a slice of the one table all scripts share as ``shared_rows`` (``weights`` is then a view of it,
    # from column ``column`` on: two scripts of 6 classes share 16-byte rows); without it the rows are
    # padded here.
    shared_rows: npt.NDArray[np.int8] | None = field(default=None, repr=False, compare=False)
    column: int = 0
    rows: npt.NDArray[np.int8] = field(init=False, repr=False, compare=False)
    reject_table: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)
    second_table: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)
    answers: tuple[tuple[str, str | None], ...] = field(init=False, repr=False, compare=False)
    undetermined: LanguageGuess = field(init=False, repr=False, compare=False)
    # (marker letters, labelled classes): True where the letter rules the class out (alphabet.py); None: never
    excluded: npt.NDArray[np.bool_] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n_classes = self.weights.shape[1]
        padded = self.shared_rows
        if padded is None:
            padded = np.zeros((self.weights.shape[0], _width(n_classes)), dtype=np.int8)
            padded[:, :n_classes] = self.weights
        object.__setattr__(self, "rows", padded)
        # the decision's look-up tables (nb_engine._decide): thresholds by class and band, answers by class
        object.__setattr__(self, "reject_table", np.array(self.reject or [[-math.inf]] * (n_classes - 1), dtype=np.float64))
        object.__setattr__(self, "second_table", np.array(self.second or [math.inf] * (n_classes - 1), dtype=np.float64))
        object.__setattr__(self, "answers", tuple(split_class(c) for c in self.classes[:-1]))
        object.__setattr__(self, "undetermined", LanguageGuess("und", self.script, 0.0))
        object.__setattr__(self, "excluded", exclusion_table(self.classes[:-1]))

    def score(
        self, segments: list[Segment], n_docs: int, split: int | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Summed centred log-likelihoods per document and class, (n_docs, C), in units of ``scale``.

        Returns the sum over all segments and the sum over ``segments[split:]``
        only (the features the open-set ratio uses; all of them when ``split`` is None).
        """
        width = self.rows.shape[1]
        total = np.zeros((n_docs, width), dtype=np.int64)
        early = np.zeros((n_docs, width), dtype=np.int64)
        for k, (hashes, docs) in enumerate(segments):
            if len(hashes) == 0:
                continue
            target = early if split is not None and k < split else total
            if n_docs == 1:  # one text: a plain sum, without the segment bookkeeping
                target[0] += np.take(self.rows, buckets_of(hashes, self.bits), axis=0).sum(axis=0, dtype=np.int32)
                continue
            change = np.empty(len(docs), dtype=bool)  # np.r_ costs more than the comparison here
            change[0] = True
            np.not_equal(docs[1:], docs[:-1], out=change[1:])
            first = np.flatnonzero(change)
            rows = np.take(self.rows, buckets_of(hashes, self.bits), axis=0)  # int8: 4x less to move
            target[docs[first]] += np.add.reduceat(rows, first, axis=0, dtype=np.int32)
        mine = slice(self.column, self.column + len(self.classes))
        return (total + early)[:, mine], total[:, mine]


@dataclass(frozen=True, slots=True)
class NaiveBayesModel:
    """Every script's model, their rows stacked in one table so that a batch of mixed scripts is
    scored with one gather per feature kind (``nb_engine``), not one per script after a filter."""

    models: dict[str, ScriptModel]
    version: str  # content hash of the shipped files: changes whenever the data changes
    table: npt.NDArray[np.int8]  # each script's ``rows`` is a slice of it (``ScriptModel.column`` on)
    offsets: dict[str, int]  # first row of each script's slice


def _read_rows(path: Traversable, into: npt.NDArray[np.int8]) -> None:
    """Decompress a gzipped (rows, classes) int8 table straight into ``into``, 64 KiB at a time.

    Not ``gzip.decompress`` of the whole file: a freed 3.7 MB buffer raises glibc's
    mmap threshold and stays in the heap, ~2 MiB of resident memory for nothing.
    """
    width = into.shape[1]
    inflate = zlib.decompressobj(wbits=31)  # 31: gzip container
    pending = b""
    row = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(1 << 16)
            data = pending + (inflate.decompress(chunk) if chunk else inflate.flush())
            whole = len(data) // width
            if whole:
                into[row : row + whole] = np.frombuffer(data, dtype=np.int8, count=whole * width).reshape(whole, width)
                row += whole
            pending = data[whole * width :]
            if not chunk:
                break
    if row != len(into) or pending:
        raise ValueError(f"{path.name}: {row} rows of {width} classes, expected {len(into)}")


def _width(n_classes: int) -> int:
    """The power-of-two row width numpy's take copies fast: 8 for 6 classes, 16 for 14."""
    return 1 << max(n_classes - 1, 0).bit_length()


def data_root(source: str | Path) -> Traversable:
    """A package name (shipped data) or a directory (e.g. fresh output of ``monitor lid build``)."""
    return source if isinstance(source, Path) else resources.files(source)


def load_model(source: str | Path = DATA_PACKAGE) -> NaiveBayesModel:
    """Read the tables (the only I/O of the default engine, done once)."""
    root = data_root(source)
    meta = json.loads(root.joinpath(MODEL_META).read_text(encoding="utf-8"))
    specs = meta["scripts"]
    width = max(_width(len(spec["classes"])) for spec in specs.values())
    # each script's place in the shared table: (first row, first column); scripts with as many rows
    # and narrower rows share rows side by side (Latin and Arabic: 8 + 8 bytes), so padding costs
    # 0.8 MiB instead of 2.8
    place: dict[str, tuple[int, int]] = {}
    blocks: list[list[int]] = []  # [first row, rows, columns used]
    for script, spec in specs.items():
        n, w = 1 << spec["bits"], _width(len(spec["classes"]))
        block = next((b for b in blocks if b[1] == n and b[2] + w <= width), None)
        if block is None:
            block = [sum(b[1] for b in blocks), n, 0]
            blocks.append(block)
        place[script] = (block[0], block[2])
        block[2] += w
    table = np.zeros((sum(b[1] for b in blocks), width), dtype=np.int8)
    models: dict[str, ScriptModel] = {}
    for script, spec in specs.items():
        classes = tuple(spec["classes"])
        first, column = place[script]
        rows = table[first : first + (1 << spec["bits"])]
        mine = slice(column, column + len(classes))
        _read_rows(root.joinpath(spec["file"]), rows[:, mine])
        models[script] = ScriptModel(
            script=script,
            classes=classes,
            bits=spec["bits"],
            weights=rows[:, mine],
            scale=float(spec["scale"]),
            reject=tuple(tuple(float(t) for t in spec["reject"][c]) for c in classes[:-1]),
            # a class left out of "second" has no second look (inf: never passes)
            second=tuple(float(spec["second"].get(c, math.inf)) for c in classes[:-1]) if spec.get("second") else (),
            shared_rows=rows,
            column=column,
        )
    return NaiveBayesModel(models=models, version=meta["version"], table=table, offsets={s: p[0] for s, p in place.items()})
