"""The project's engine: strip noise, pick the script by letter counts, score with that script's model.

``identify_many`` does a batch in a handful of numpy calls per chunk, which is
where the speed comes from; ``__call__`` has its own leaner path for one text.
Both give bit-identical answers (tested on every dev row).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np

from .features import (
    MAX_N,
    MAX_RAW,
    OPEN_SET_SEGMENT,
    buckets_of,
    encode,
    encode_one,
    feature_hashes,
    open_set_mask,
    single_feature_hashes,
)
from .guess import MIN_LETTERS, UNDETERMINED, LanguageGuess
from .labels import split_class
from .naive_bayes import NaiveBayesModel, ScriptModel
from .noise import content_letters, strip_for_model
from .orthography import not_uzbek_latin
from .script import SCRIPTS

__all__ = ["BANDS", "CONFIDENCE_TEMPERATURE", "NaiveBayesIdentifier", "length_band", "open_set_scores"]

# Naive Bayes sums are over-confident: the softmax is taken over scores / sqrt(#features) times
# this factor, chosen on a held-out tenth of train/ cut to 1, 2 and 4 words (expected calibration
# error 0.007 at 0.6, 0.010 at 0.7, 0.028 at 1.0), so a confidence of 0.8 is right about 80% of the time.
CONFIDENCE_TEMPERATURE = 0.65
# Texts per vectorised pass: big enough to amortise numpy call overhead, small enough that the
# gathered weight rows (~6 per character) stay in cache.
CHUNK = 128
# Length bands of the rejection thresholds, in 4-5-gram and word features. None: one threshold per
# class. Bands at (70, 130) (about 30 and 60 characters) were tried: they tightened long texts to the
# clean held-out train lines and rejected 1% of long dev rows (social media, UDHR), so they are off.
BANDS: tuple[int, ...] = ()


class NaiveBayesIdentifier:
    """Engine ``nb``: the per-script naive Bayes model shipped in ``data/``."""

    name = "nb"

    def __init__(self, model: NaiveBayesModel) -> None:
        self._model = model
        self.version = model.version
        # The one-text path sums gathered int8 rows as float32 with a BLAS vector-matrix product:
        # 3x faster than numpy's int8 reduction, and exact (integer partial sums stay below 2**24).
        self._ones = np.ones((MAX_RAW + 2) * (MAX_N + 1), dtype=np.float32)

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
        rows = np.take(model.weights, buckets_of(hashes, model.bits), axis=0).astype(np.float32)
        total = (self._ones[: len(hashes)] @ rows).astype(np.int64).tolist()
        mask = open_set_mask(len(codes), len(hashes) - _n_grams(len(codes)))
        late = (mask @ rows).astype(np.int64).tolist()
        return _spelling_check(_decide_one(total, late, int(mask.sum()), model, len(hashes)), stripped)

    def identify_many(self, texts: Sequence[str]) -> list[LanguageGuess]:
        """Guesses for many texts; same answers as one by one, several times faster."""
        out: list[LanguageGuess] = []
        for i in range(0, len(texts), CHUNK):
            out += self._identify_chunk(texts[i : i + CHUNK])
        return out

    def _identify_chunk(self, texts: Sequence[str]) -> list[LanguageGuess]:
        stripped = [strip_for_model(t) for t in texts]
        return self._identify_stripped(stripped, [content_letters(t) < MIN_LETTERS for t in stripped])

    def _identify_stripped(self, texts: list[str], names_only: list[bool]) -> list[LanguageGuess]:
        out: list[LanguageGuess] = [UNDETERMINED] * len(texts)
        if not texts:
            return out
        batch = encode(texts)
        segments = feature_hashes(batch)
        n_docs = len(texts)
        names = np.array(names_only, dtype=bool)
        # features per document, counted once: filtering segments by script keeps all of a document's own
        n_feats = np.zeros(n_docs, dtype=np.int64)
        n_late = np.zeros(n_docs, dtype=np.int64)
        for k, (_, d) in enumerate(segments):
            counted = np.bincount(d, minlength=n_docs)
            n_feats += counted
            if k >= OPEN_SET_SEGMENT:
                n_late += counted
        feats_of, late_of = n_feats.tolist(), n_late.tolist()
        for sid, script in enumerate(SCRIPTS):
            model = self._model.models.get(script)
            in_script = (batch.script == sid) & (batch.letters > batch.foreign)
            decide = in_script & (batch.letters >= MIN_LETTERS) & (batch.foreign <= batch.letters) & ~names
            idx = np.flatnonzero(decide)
            for i in np.flatnonzero(in_script & ~decide).tolist():
                out[i] = LanguageGuess("und", script, 0.0)
            if len(idx) == 0 or model is None:
                continue
            if not in_script.all():
                segments_here = []
                for h, d in segments:
                    keep = in_script[d]
                    segments_here.append((h[keep], d[keep]))
            else:
                segments_here = segments
            totals, lates = model.score(segments_here, n_docs, OPEN_SET_SEGMENT)
            total_rows, late_rows = totals[idx].tolist(), lates[idx].tolist()  # one conversion, not one per row
            for j, i in enumerate(idx.tolist()):
                out[i] = _spelling_check(_decide_one(total_rows[j], late_rows[j], late_of[i], model, feats_of[i]), texts[i])
        return out


def _decide_one(total: list[int], late: list[int], n_late: int, model: ScriptModel, n_feats: int) -> LanguageGuess:
    """The answer for one text's class scores (the last is OTHER), in plain Python for both paths.

    ``total`` sums every feature and picks the class; ``late`` sums the 4-5-grams
    and words only, over ``n_late`` features. On those, the best labelled class must
    beat the rejection class by its threshold in ``model.reject`` (nats per
    feature, one threshold per length band: a long text must be clearer than a
    short one), or, where the script has a second look (``model.second``), beat it
    by that threshold over all ``n_feats`` features; otherwise the text is not
    confidently one of ours: ``und``.
    """
    known = total[:-1]
    best = known.index(max(known))  # first maximum, as numpy's argmax
    llr = (late[best] - late[-1]) * model.scale / max(n_late, 1)
    if llr < model.reject[best][length_band(n_late)] and not (
        # the second look: over every feature (1-3-grams too) the text is still clearly this class
        model.second and (known[best] - total[-1]) * model.scale / max(n_feats, 1) >= model.second[best]
    ):
        return LanguageGuess("und", model.script, 0.0)
    lang, scr = split_class(model.classes[best])
    return LanguageGuess(lang, scr, _confidence_one(known, model.scale, n_feats))


def _spelling_check(guess: LanguageGuess, stripped: str) -> LanguageGuess:
    """Uzbek in Latin letters whose words Uzbek Latin cannot spell is ``und`` (``orthography.py``)."""
    if guess.lang == "uz" and guess.script == "Latn" and not_uzbek_latin(stripped):
        return LanguageGuess("und", "Latn", 0.0)
    return guess


def _confidence_one(total: list[int], scale: float, n_feats: int) -> float:
    """Softmax probability of the best class on a per-feature scale, in plain Python.

    Plain Python so one text and a batch give bit-identical confidences (and
    numpy costs more than it saves on ten numbers).
    """
    factor = scale / math.sqrt(max(n_feats, 1)) * CONFIDENCE_TEMPERATURE
    scaled = [v * factor for v in total]
    top = max(scaled)
    return round(1.0 / sum([math.exp(v - top) for v in scaled]), 4)  # a list: same order, faster than a generator


def length_band(n_late: int) -> int:
    """The length band of a text by its 4-5-gram and word features (always 0 while BANDS is empty)."""
    return bisect.bisect_right(BANDS, n_late)


def open_set_scores(model: ScriptModel, texts: Sequence[str]) -> list[tuple[str | None, float, int, float]]:
    """(best labelled class, its per-feature log-likelihood ratio against OTHER, length band, the same ratio
    over every feature) of each text.

    For calibration: the same sums as ``_decide_one``. Texts whose dominant
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
        n_late = np.zeros(n_docs, dtype=np.int64)
        n_all = np.zeros(n_docs, dtype=np.int64)
        for k, (_, d) in enumerate(kept):
            counted = np.bincount(d, minlength=n_docs)
            n_all += counted
            if k >= OPEN_SET_SEGMENT:
                n_late += counted
        for j in range(n_docs):
            if not ok[j]:
                out.append((None, float("nan"), 0, float("nan")))
                continue
            total = totals[j].tolist()
            known = total[:-1]
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
