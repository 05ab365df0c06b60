"""The project's engine: strip noise, pick the script by letter counts, score with that script's model.

``identify_many`` does a batch in a handful of numpy calls per chunk, which is
where the speed comes from; ``__call__`` has its own leaner path for one text.
Both give bit-identical answers (tested on every dev row).
"""

from __future__ import annotations

import bisect
import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .alphabet import MARKERS, markers_present
from .features import (
    MAX_N,
    MAX_RAW,
    OPEN_SET_SEGMENT,
    Segment,
    buckets_of,
    encode,
    encode_one,
    feature_hashes,
    flat_feature_hashes,
    open_set_mask,
    single_feature_hashes,
)
from .guess import MIN_LETTERS, UNDETERMINED, LanguageGuess
from .naive_bayes import NaiveBayesModel, ScriptModel
from .noise import content_letters, strip_for_model
from .orthography import not_uzbek_latin
from .script import SCRIPTS

__all__ = ["BANDS", "CONFIDENCE_TEMPERATURE", "NaiveBayesIdentifier", "length_band", "open_set_scores"]

# Naive Bayes sums are over-confident: the softmax is taken over scores / sqrt(#features) times
# this factor, chosen on a held-out tenth of train/ cut to 1, 2 and 4 words (expected calibration
# error 0.007 at 0.6, 0.010 at 0.7, 0.028 at 1.0), so a confidence of 0.8 is right about 80% of the time.
CONFIDENCE_TEMPERATURE = 0.65
# Texts per vectorised pass, and characters read (up to MAX_RAW a text): big enough to amortise the
# few hundred numpy calls of a pass (dev, 123 characters a text: 128 texts a pass -> about 260, 1.1x the
# rate), small enough that the work arrays (about 5 features of 8 + 8 + 8 + 8 + 16 bytes per character,
# 8 MB at 2**15 characters) stay small next to the daemon.
CHUNK = 512
CHUNK_CHARS = 1 << 15
# Length bands of the rejection thresholds, in 4-5-gram and word features. None: one threshold per
# class. Bands at (70, 130) (about 30 and 60 characters) were tried: they tightened long texts to the
# clean held-out train lines and rejected 1% of long dev rows (social media, UDHR), so they are off.
BANDS: tuple[int, ...] = ()
# the score of a class the text's alphabet rules out: below any real sum, and exp() of it is 0
_NO_CANDIDATE = -(1 << 40)
_FIRST = np.zeros(1, dtype=np.intp)
_MARKER_SET = frozenset(MARKERS)
# The answer is the model's tables and the rules applied after them (the alphabet rule, the Uzbek
# spelling check, the abbreviation and open-set tests). The version stored with every post carries
# both, so `monitor retag` finds posts whose language a rule change moves: bump when a rule changes
# an answer (2: ғ rules Tatar out).
RULES_REVISION = 2


class NaiveBayesIdentifier:
    """Engine ``nb``: the per-script naive Bayes model shipped in ``data/``."""

    name = "nb"

    def __init__(self, model: NaiveBayesModel) -> None:
        self._model = model
        self.version = f"{model.version}+r{RULES_REVISION}"
        # The one-text path sums gathered int8 rows as float32 with a BLAS vector-matrix product:
        # 3x faster than numpy's int8 reduction, and exact (integer partial sums stay below 2**24).
        self._ones = np.ones((MAX_RAW + 2) * (MAX_N + 1), dtype=np.float32)
        # per script index: the hash shift to its bucket count, and its first row in the shared table
        # (a script without a model reads the first script's rows; its documents are never decided)
        self._shift = np.array(
            [64 - model.models[s].bits if s in model.models else 63 for s in SCRIPTS], dtype=np.uint64
        )
        self._offset = np.array([model.offsets.get(s, 0) for s in SCRIPTS], dtype=np.intp)

    def __call__(self, text: str) -> LanguageGuess:
        stripped = strip_for_model(text)
        return self._identify_one(stripped, content_letters(stripped) < MIN_LETTERS)

    def _identify_one(self, stripped: str, names_only: bool) -> LanguageGuess:
        """One text without the batch bookkeeping: same answer as ``identify_many``, 3x faster alone."""
        codes, sid, letters, foreign = encode_one(stripped)
        script = SCRIPTS[sid]
        if letters < MIN_LETTERS or foreign >= letters:
            # too little text, or at least half in a script we have no model for: "und" (with the script,
            # if ours is the majority), as identify_many decides
            return LanguageGuess("und", script if letters > foreign else None, 0.0)
        if names_only:
            return LanguageGuess("und", script, 0.0)
        model = self._model.models.get(script)
        if model is None:
            return LanguageGuess("und", script, 0.0)
        hashes = single_feature_hashes(codes)
        rows = np.take(model.rows, buckets_of(hashes, model.bits), axis=0).astype(np.float32)
        mine = slice(model.column, model.column + len(model.classes))
        total = (self._ones[: len(hashes)] @ rows).astype(np.int64)[mine].tolist()
        mask = open_set_mask(len(codes), len(hashes) - _n_grams(len(codes)))
        late = (mask @ rows).astype(np.int64)[mine].tolist()
        ruled_out = None
        if model.excluded is not None and not _MARKER_SET.isdisjoint(stripped[:MAX_RAW].lower()):
            ruled = _ruled_out(model, codes, _FIRST, 1, _FIRST)  # the letters of the text the model reads
            ruled_out = None if ruled is None else ruled[0].tolist()
        guess = _decide_one(total, late, int(mask.sum()), len(hashes), model, ruled_out)
        return _spelling_check(guess, stripped)

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]:
        """Guesses for many texts; same answers as one by one, several times faster."""
        out: list[LanguageGuess] = []
        scratch = _Scratch()
        for lo, hi in _chunks(texts):
            out += self._identify_chunk(texts[lo:hi], scratch)
        return out

    def _identify_chunk(self, texts: Sequence[str], scratch: _Scratch) -> list[LanguageGuess]:
        stripped = [strip_for_model(t) for t in texts]
        return self._identify_stripped(stripped, [content_letters(t) < MIN_LETTERS for t in stripped], scratch)

    def _identify_stripped(self, texts: list[str], names_only: list[bool], scratch: _Scratch) -> list[LanguageGuess]:
        out: list[LanguageGuess] = [UNDETERMINED] * len(texts)
        if not texts:
            return out
        batch = encode(texts)
        hashes, docs, sizes = flat_feature_hashes(batch)
        n_docs = len(texts)
        names = np.array(names_only, dtype=bool)
        # features per document, all and from the open-set kinds on
        late_from = sum(sizes[:OPEN_SET_SEGMENT])
        n_feats = np.bincount(docs, minlength=n_docs)
        n_late = np.bincount(docs[late_from:], minlength=n_docs)
        totals, lates = self._score(hashes, docs, sizes, batch.script, n_docs, scratch)
        for sid, script in enumerate(SCRIPTS):
            model = self._model.models.get(script)
            in_script = (batch.script == sid) & (batch.letters > batch.foreign)
            decide = in_script & (batch.letters >= MIN_LETTERS) & (batch.foreign <= batch.letters) & ~names
            idx = np.flatnonzero(decide)
            for i in np.flatnonzero(in_script & ~decide).tolist():
                out[i] = LanguageGuess("und", script, 0.0)
            if len(idx) == 0 or model is None:
                continue
            mine = slice(model.column, model.column + len(model.classes))
            ruled_out = _ruled_out(model, batch.codes, batch.starts, n_docs, idx)
            guesses = _decide(totals[idx, mine], lates[idx, mine], n_late[idx], n_feats[idx], model, ruled_out)
            for i, guess in zip(idx.tolist(), guesses, strict=True):
                out[i] = _spelling_check(guess, texts[i])
        return out

    def _score(
        self,
        hashes: npt.NDArray[np.uint64],
        docs: npt.NDArray[np.int64],
        sizes: Sequence[int],
        script: npt.NDArray[np.int64],
        n_docs: int,
        scratch: _Scratch,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Summed weights per document over all features and over the open-set ones, (n_docs, width).

        ``hashes`` and ``docs`` hold every feature kind one after another (``sizes``,
        each kind in document order: a document's run within one kind is a segment),
        as ``flat_feature_hashes`` makes them; ``hashes`` is overwritten. Each feature
        is looked up in its document's script's slice of the shared table, so a batch
        of mixed scripts needs one gather and one segmented sum in all. The columns
        past a script's classes are zero.
        """
        table = self._model.table
        total = np.zeros((n_docs, table.shape[1]), dtype=np.int64)
        late = np.zeros((n_docs, table.shape[1]), dtype=np.int64)
        n = len(hashes)
        if n == 0:
            return total, late
        kind_starts = np.cumsum([0, *sizes[:-1]])
        change = scratch.get("change", (n,), np.bool_)
        change[0] = True
        np.not_equal(docs[1:], docs[:-1], out=change[1:])
        change[kind_starts[kind_starts < n]] = True  # one document's runs in two kinds are two segments
        first = np.flatnonzero(change)
        per_doc = scratch.get("per_doc", (n,), np.uint64)
        np.take(self._shift[script], docs, out=per_doc, mode="clip")
        np.right_shift(hashes, per_doc, out=hashes)
        bucket = hashes.view(np.intp)  # below 2**46 after the shift: the same value as a signed index
        bucket += np.take(self._offset[script], docs, out=per_doc.view(np.intp), mode="clip")
        rows = np.take(table, bucket, axis=0, out=scratch.get("rows", (n, table.shape[1]), np.int8), mode="clip")
        sums = _segment_sums(rows, first, scratch)
        owner = docs[first]
        # within one kind, each segment is a different document: a plain fancy-index add per kind
        at = np.searchsorted(first, kind_starts).tolist() + [len(first)]
        for k in range(len(sizes)):
            lo, hi = at[k], at[k + 1]
            if lo < hi:
                target = late if k >= OPEN_SET_SEGMENT else total
                target[owner[lo:hi]] += sums[lo:hi]
        total += late
        return total, late


def _chunks(texts: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of consecutive runs of at most CHUNK texts and CHUNK_CHARS characters read (at least one)."""
    out = []
    lo = chars = 0
    for i, text in enumerate(texts):
        size = min(len(text), MAX_RAW)
        if i > lo and (i - lo == CHUNK or chars + size > CHUNK_CHARS):
            out.append((lo, i))
            lo, chars = i, 0
        chars += size
    if lo < len(texts):
        out.append((lo, len(texts)))
    return out


class _Scratch:
    """Work arrays reused across the chunks of one batch.

    A fresh array of a megabyte or more is new memory from the system, one page
    fault per 4 KiB on first write: that cost as much as the gather itself.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, npt.NDArray[Any]] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type[np.generic]) -> npt.NDArray[Any]:
        """An uninitialised array of ``shape`` (a view of a buffer that grows when a chunk needs more)."""
        buf = self._arrays.get(name)
        if buf is None or len(buf) < shape[0]:
            buf = np.empty((max(shape[0], 2 * len(buf) if buf is not None else 0), *shape[1:]), dtype=dtype)
            self._arrays[name] = buf
        return buf[: shape[0]]


# Segment sums of gathered int8 rows, eight bytes to a uint64 (``_segment_sums``): each byte biased by
# 128 (0..255), even and odd bytes apart in 16-bit lanes, so a lane holds the sum of up to 257 rows.
_LITTLE = sys.byteorder == "little"
_BIAS = np.uint64(0x8080808080808080)
_EVEN = np.uint64(0x00FF00FF00FF00FF)
_EIGHT = np.uint64(8)
_LANE_ROWS = 256


def _segment_sums(
    rows: npt.NDArray[np.int8], first: npt.NDArray[np.intp], scratch: _Scratch | None = None
) -> npt.NDArray[np.int64]:
    """Column sums of ``rows`` (n, width) over the segments starting at ``first``, exact, as int64.

    ``np.add.reduceat`` of int8 rows into int32 casts row by row; on the rows seen as
    uint64 words it adds eight bytes at a time, several times faster. Each byte is
    biased to 0..255 and the even and odd bytes are summed in separate 16-bit lanes,
    segments longer than a lane can hold being summed in pieces; the bias is taken
    off at the end, so the sums are the same integers. ``rows`` is overwritten.
    """
    n, width = rows.shape
    if not _LITTLE or width % 8 or n == 0:
        return np.add.reduceat(rows, first, axis=0, dtype=np.int64)
    words = rows.view(np.uint64)  # (n, width / 8)
    words ^= _BIAS
    lengths = np.empty(len(first), dtype=np.int64)
    np.subtract(first[1:], first[:-1], out=lengths[:-1])
    lengths[-1] = n - first[-1]
    starts = first
    pieces = None
    if int(lengths.max()) > _LANE_ROWS:
        pieces = (lengths + _LANE_ROWS - 1) // _LANE_ROWS
        begin = np.cumsum(pieces) - pieces
        k = np.arange(int(pieces.sum())) - np.repeat(begin, pieces)
        starts = np.repeat(first, pieces) + k * _LANE_ROWS
        lengths = np.minimum(np.repeat(first + lengths, pieces) - starts, _LANE_ROWS)
    even = scratch.get("even", words.shape, np.uint64) if scratch is not None else np.empty_like(words)
    np.bitwise_and(words, _EVEN, out=even)
    even_sums = np.add.reduceat(even, starts, axis=0)
    words >>= _EIGHT
    words &= _EVEN
    odd_sums = np.add.reduceat(words, starts, axis=0)
    out = np.empty((len(starts), width), dtype=np.int64)
    out[:, 0::2] = even_sums.view(np.uint16)
    out[:, 1::2] = odd_sums.view(np.uint16)
    out -= 128 * lengths[:, None]
    if pieces is not None:
        out = np.add.reduceat(out, begin, axis=0)
    return out


def _feature_counts(segments: Sequence[Segment], n_docs: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Features per document, all and from the open-set segments on (``OPEN_SET_SEGMENT``); each
    segment is (hashes, document index per hash)."""
    n_all = np.zeros(n_docs, dtype=np.int64)
    n_late = np.zeros(n_docs, dtype=np.int64)
    for k, (_, d) in enumerate(segments):
        counted = np.bincount(d, minlength=n_docs)
        n_all += counted
        if k >= OPEN_SET_SEGMENT:
            n_late += counted
    return n_all, n_late


def _decide(
    total: npt.NDArray[np.int64],
    late: npt.NDArray[np.int64],
    n_late: npt.NDArray[np.int64],
    n_feats: npt.NDArray[np.int64],
    model: ScriptModel,
    ruled_out: npt.NDArray[np.bool_] | None = None,
) -> list[LanguageGuess]:
    """The answers for rows of class scores (the last class is OTHER), vectorised, for both paths.

    ``total`` sums every feature and picks the class; ``late`` sums the 4-5-grams
    and words only, over ``n_late`` features. On those, the best labelled class must
    beat the rejection class by its threshold in ``model.reject`` (nats per
    feature, one threshold per length band: a long text must be clearer than a
    short one), or, where the script has a second look (``model.second``), beat it
    by that threshold over all ``n_feats`` features; otherwise the text is not
    confidently one of ours: ``und``. A class its alphabet rules out (``ruled_out``,
    see ``alphabet.py``) is no candidate. One text goes through the same numpy calls
    as a batch (one row), so both paths give bit-identical answers.
    """
    known = total[:, :-1]
    if ruled_out is not None:
        known = np.where(ruled_out, _NO_CANDIDATE, known)
    best = known.argmax(axis=1)  # the first maximum, as before
    rows = np.arange(len(best))
    llr = (late[rows, best] - late[:, -1]) * model.scale / np.maximum(n_late, 1)
    bands = np.searchsorted(np.asarray(BANDS, dtype=np.int64), n_late, side="right")
    accept = llr >= model.reject_table[best, bands]
    if model.second:
        # the second look: over every feature (1-3-grams too) the text is still clearly this class
        whole = (known[rows, best] - total[:, -1]) * model.scale / np.maximum(n_feats, 1)
        accept |= whole >= model.second_table[best]
    confidence = _confidence(known, model.scale, n_feats).tolist()
    answers = model.answers
    return [
        LanguageGuess(answers[b][0], answers[b][1], c) if ok else model.undetermined
        for b, ok, c in zip(best.tolist(), accept.tolist(), confidence, strict=True)
    ]


def _decide_one(
    total: list[int], late: list[int], n_late: int, n_feats: int, model: ScriptModel, ruled_out: list[bool] | None
) -> LanguageGuess:
    """``_decide`` for one text in plain Python: the same IEEE operations in the same order, so the same
    answer bit for bit (the exponentials are numpy's, as in a batch), without a dozen numpy calls on
    arrays of one row."""
    known = total[:-1]
    if ruled_out is not None:
        known = [_NO_CANDIDATE if gone else v for v, gone in zip(known, ruled_out, strict=True)]
    best = known.index(max(known))  # the first maximum, as numpy's argmax
    llr = (late[best] - late[-1]) * model.scale / max(n_late, 1)
    accept = llr >= float(model.reject_table[best, length_band(n_late)])
    if model.second and not accept:
        accept = (known[best] - total[-1]) * model.scale / max(n_feats, 1) >= float(model.second_table[best])
    if not accept:
        return model.undetermined
    factor = model.scale / math.sqrt(max(n_feats, 1)) * CONFIDENCE_TEMPERATURE
    scaled = [v * factor for v in known]
    top = max(scaled)
    norm = 0.0
    for v in np.exp(np.array(scaled) - top).tolist():  # column order, as _confidence sums
        norm += v
    lang, scr = model.answers[best]
    return LanguageGuess(lang, scr, float(np.round(np.float64(1.0 / norm), 4)))


def _ruled_out(
    model: ScriptModel,
    codes: npt.NDArray[np.uint64],
    starts: npt.NDArray[np.int64],
    n_docs: int,
    idx: npt.NDArray[np.intp],
) -> npt.NDArray[np.bool_] | None:
    """(len(idx), labelled classes): classes that letters of documents ``idx`` rule out; None: none can be."""
    if model.excluded is None:
        return None
    present = markers_present(codes, starts, n_docs)[idx]
    if not present.any():
        return None
    return (present.astype(np.int64) @ model.excluded.astype(np.int64)) > 0


def _spelling_check(guess: LanguageGuess, stripped: str) -> LanguageGuess:
    """Uzbek in Latin letters whose words Uzbek Latin cannot spell is ``und`` (``orthography.py``)."""
    if guess.lang == "uz" and guess.script == "Latn" and not_uzbek_latin(stripped):
        return LanguageGuess("und", "Latn", 0.0)
    return guess


def _confidence(known: npt.NDArray[np.int64], scale: float, n_feats: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Softmax probability of the best class on a per-feature scale, per row.

    The exponentials are summed column by column (a fixed order, whatever the
    number of rows), so one text and a batch get bit-identical confidences.
    """
    factor = scale / np.sqrt(np.maximum(n_feats, 1)) * CONFIDENCE_TEMPERATURE
    scaled = known * factor[:, None]
    spread = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    norm = spread[:, 0].copy()
    for col in range(1, spread.shape[1]):
        norm += spread[:, col]
    return np.round(1.0 / norm, 4)


def length_band(n_late: int) -> int:
    """The length band of a text by its 4-5-gram and word features (always 0 while BANDS is empty)."""
    return bisect.bisect_right(BANDS, n_late)


def open_set_scores(model: ScriptModel, texts: Sequence[str]) -> list[tuple[str | None, float, int, float]]:
    """(best labelled class, its per-feature log-likelihood ratio against OTHER, length band, the same ratio
    over every feature) of each text.

    For calibration: the same sums as ``_decide``. Texts whose dominant
    script is another one, or with too few letters, get (None, nan). Texts are
    raw posts (noise is stripped here).
    """
    out: list[tuple[str | None, float, int, float]] = []
    sid = SCRIPTS.index(model.script)
    for i in range(0, len(texts), CHUNK):
        part = [strip_for_model(t) for t in texts[i : i + CHUNK]]
        batch = encode(part)
        n_docs = len(part)
        ok = (batch.script == sid) & (batch.letters >= MIN_LETTERS)
        kept = [(h[ok[d]], d[ok[d]]) for h, d in feature_hashes(batch)]
        totals, lates = model.score(kept, n_docs, OPEN_SET_SEGMENT)
        n_all, n_late = _feature_counts(kept, n_docs)
        ruled_out = _ruled_out(model, batch.codes, batch.starts, n_docs, np.arange(n_docs))
        for j in range(n_docs):
            if not ok[j]:
                out.append((None, float("nan"), 0, float("nan")))
                continue
            total = totals[j].tolist()
            known = total[:-1]
            if ruled_out is not None:  # as _decide: a class the alphabet rules out is no candidate
                known = [_NO_CANDIDATE if gone else v for v, gone in zip(known, ruled_out[j].tolist(), strict=True)]
            best = max(range(len(known)), key=known.__getitem__)
            late = lates[j].tolist()
            n = int(n_late[j])
            if model.classes[best] == "uz-Latn" and not_uzbek_latin(part[j]):  # as _spelling_check: "und"
                out.append((None, float("nan"), 0, float("nan")))
                continue
            whole = (total[best] - total[-1]) * model.scale / max(int(n_all[j]), 1)
            out.append((model.classes[best], (late[best] - late[-1]) * model.scale / max(n, 1), length_band(n), whole))
    return out


def _n_grams(length: int) -> int:
    """Char n-grams (n = 1..MAX_N) of a text of ``length`` code points, as ``single_feature_hashes`` makes."""
    return sum(max(length - n + 1, 0) for n in range(1, MAX_N + 1))
