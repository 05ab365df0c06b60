"""Hashed character 1-5-grams and word unigrams of a batch of texts, vectorised with numpy.

The same function feeds training and scoring, so the model sees at run time
exactly the features it was counted on. Hashing is a polynomial hash over code
points in wrapping uint64 arithmetic (fixed constants, no per-process seed), so
the features and therefore the answers are identical on every run and machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .script import APOS, DROP, OTHER, SEP, SPACE, char_tables

__all__ = [
    "MAX_N",
    "MAX_RAW",
    "OPEN_SET_MIN_N",
    "OPEN_SET_SEGMENT",
    "Batch",
    "Segment",
    "buckets_of",
    "decode_first",
    "encode",
    "encode_one",
    "open_set_mask",
    "feature_hashes",
    "flat_feature_hashes",
    "single_feature_hashes",
]

MAX_N = 5
MAX_RAW = 1000  # features come from the first MAX_RAW characters of a post: enough to decide
# The open-set ratio is summed over char n-grams of this order and up, and words (segments 3.. of
# ``feature_hashes``): 1-3-grams are shared by whole language families and say little about
# whether a text is one of ours (chosen on held-out languages of train/other, see calibrate.py).
OPEN_SET_MIN_N = 4
OPEN_SET_SEGMENT = OPEN_SET_MIN_N - 1
_P = np.uint64(0x100000001B3)  # FNV prime: odd, so invertible mod 2**64
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier
_WORD_SALT = np.uint64(0xD6E8FEB86659FD93)
_SEP = 0  # code point between documents


@dataclass(frozen=True, slots=True)
class Batch:
    """Normalised texts as one array of code points, with each document's span and script.

    Each document is `` letters and spaces `` (lower-case, one space between
    words, only its dominant script's letters), documents separated by code 0.
    """

    codes: npt.NDArray[np.uint64]
    starts: npt.NDArray[np.int64]  # index of each document's leading space
    ends: npt.NDArray[np.int64]  # index one past each document's trailing space
    script: npt.NDArray[np.int64]  # per document: index into SCRIPTS (0 when it has no letters)
    letters: npt.NDArray[np.int64]  # per document: letters of its script left after stripping
    foreign: npt.NDArray[np.int64]  # per document: letters of scripts without a model (Greek, Hebrew, CJK...)


def encode(texts: Sequence[str]) -> Batch:
    """Lower-case, keep letters and in-word apostrophes, pick each text's script, squeeze spaces.

    All in a few vectorised passes over the whole batch; ``texts`` should have
    been through ``noise.strip_for_model`` already.
    """
    cls_table, lower_table = char_tables()
    joined = "\0".join(" " + t[:MAX_RAW].replace("\0", " ") + " " for t in texts)
    raw = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    bmp = raw < 0x10000
    safe = np.where(bmp, raw, 0x20)
    cls = cls_table[safe]
    codes = lower_table[safe]
    keep = cls != DROP
    capital = _in_capitalised_word(cls[keep], safe[keep], codes[keep])
    cls, codes = cls[keep], codes[keep]
    # per-document letter counts per script -> dominant script
    doc = np.cumsum(cls == SEP)
    n_docs = len(texts)
    is_letter = cls < OTHER
    bins = doc[is_letter] * 3 + cls[is_letter]
    counts = np.bincount(bins, minlength=n_docs * 3).reshape(n_docs, 3)
    # letters of capitalised words count half (_script_weights), in integers: twice the weighted count
    halved = np.bincount(bins[capital[is_letter]], minlength=n_docs * 3).reshape(n_docs, 3)
    script = (2 * counts - halved).argmax(axis=1)
    letters = counts[np.arange(n_docs), script]
    foreign = np.bincount(doc[cls == OTHER], minlength=n_docs)[:n_docs]
    # letters of other scripts, and apostrophes not between two letters, become spaces
    letter = cls <= OTHER
    letter &= cls == script[doc]
    apos = cls == APOS
    apos[1:-1] &= letter[:-2] & letter[2:]
    word = letter | apos
    cls = np.where(word, cls, np.where(cls == SEP, SEP, SPACE)).astype(np.uint8)
    space = cls == SPACE
    keep = np.ones(len(cls), dtype=bool)
    keep[1:] = ~(space[1:] & space[:-1])
    codes = np.where(space, 0x20, codes)[keep].astype(np.uint64)
    cls = cls[keep]
    seps = np.flatnonzero(cls == SEP)
    starts = np.concatenate(([0], seps + 1)).astype(np.int64)
    ends = np.concatenate((seps, [len(cls)])).astype(np.int64)
    return Batch(
        codes=codes,
        starts=starts,
        ends=ends,
        script=script.astype(np.int64),
        letters=letters,
        foreign=foreign.astype(np.int64),
    )


def _script_weights(
    cls: npt.NDArray[np.uint8], raw: npt.NDArray[np.uint32], lower: npt.NDArray[np.uint32]
) -> npt.NDArray[np.float64]:
    """How much each letter counts when choosing the script: half in a capitalised word.

    Names and brands in another script (Emirates, Qatar Airways, Commerzbank in
    a Russian or Tajik sentence) are capitalised; the language's own words
    mostly are not. An all-capitals post halves every word alike, so nothing changes there.
    """
    return np.where(_in_capitalised_word(cls, raw, lower), 0.5, 1.0)


def _in_capitalised_word(
    cls: npt.NDArray[np.uint8], raw: npt.NDArray[np.uint32], lower: npt.NDArray[np.uint32]
) -> npt.NDArray[np.bool_]:
    """Per code point: is it in (or after, up to the next word) a word whose first letter is a capital."""
    letter = cls <= OTHER
    start = letter.copy()
    start[1:] &= ~letter[:-1]
    word_of = np.cumsum(start)
    capitalised = np.concatenate(([False], (raw != lower)[start]))
    return capitalised[word_of]


def decode_first(batch: Batch) -> str:
    """The first document of a batch as text, without its padding spaces."""
    span = batch.codes[batch.starts[0] : batch.ends[0]].astype(np.uint32)
    return span.tobytes().decode("utf-32-le").strip()


def _doc_index(batch: Batch) -> npt.NDArray[np.int64]:
    """Document number of each code point (a separator belongs to the document after it)."""
    marks = np.zeros(len(batch.codes), dtype=np.int64)
    marks[batch.starts[1:]] = 1
    return np.cumsum(marks)


Segment = tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]


def feature_hashes(batch: Batch) -> list[Segment]:
    """64-bit hashes of every char n-gram (n = 1..MAX_N) and word, with the document of each.

    One segment per kind (1-grams, ..., 5-grams, words), each already in
    document order, so no sort is needed. A model with 2**bits buckets takes the
    top ``bits`` bits (Fibonacci hashing), so one pass serves every script's model.
    """
    hashes, docs, sizes = flat_feature_hashes(batch)
    bounds = np.cumsum([0, *sizes]).tolist()
    return [(hashes[lo:hi], docs[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def flat_feature_hashes(
    batch: Batch,
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], list[int]]:
    """``feature_hashes`` as two arrays, the kinds one after another, and the size of each kind.

    Written straight into one pair of arrays: the batch path gathers and sums every
    kind at once, and copying six segments together cost as much as the sums' set-up.
    """
    codes = batch.codes.copy()
    doc = _doc_index(batch)
    codes[codes == _SEP] = 32
    n_pos = len(codes)
    end_of = batch.ends[doc]
    left = end_of - np.arange(n_pos, dtype=np.int64)  # code points from each position to its document's end
    is_sp = codes == 32
    begin = np.flatnonzero(~is_sp[1:] & is_sp[:-1]) + 1
    finish = np.flatnonzero(~is_sp[:-1] & is_sp[1:]) + 1
    room = MAX_N * n_pos + len(begin)
    out_h = np.empty(room, dtype=np.uint64)
    out_d = np.empty(room, dtype=np.int64)
    sizes: list[int] = []
    at = 0
    h = np.zeros(n_pos, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for n in range(1, MAX_N + 1):
            if n > n_pos:  # a batch shorter than n: no n-grams, but the kind keeps its place
                sizes.append(0)
                continue
            # h[i] = hash of codes[i:i+n]
            h[: n_pos - n + 1] *= _P
            h[: n_pos - n + 1] += codes[n - 1 :]
            idx = np.flatnonzero(left[: n_pos - n + 1] >= n)
            k = len(idx)
            mine = out_h[at : at + k]
            np.take(h, idx, out=mine)
            mine += np.uint64(n * 0x51ED27)
            mine *= _MIX
            np.take(doc, idx, out=out_d[at : at + k])
            sizes.append(k)
            at += k
        # words: maximal runs of non-space code points
        if len(begin):
            # prefix hash: H[i] = sum_{j<i} c_j * P^(i-1-j), via powers of P and of its inverse
            pw = np.cumprod(np.full(n_pos + 1, _P, dtype=np.uint64))
            pw = np.concatenate(([np.uint64(1)], pw[:-1]))
            inv = _inverse(_P)
            ipw = np.cumprod(np.full(n_pos + 1, inv, dtype=np.uint64))
            ipw = np.concatenate(([np.uint64(1)], ipw[:-1]))
            pref = np.concatenate(([np.uint64(0)], np.cumsum(codes * ipw[:n_pos], dtype=np.uint64)))
            # sum_{a<=j<b} c_j P^(b-1-j) = P^(b-1) * (pref[b] - pref[a])
            k = len(begin)
            mine = out_h[at : at + k]
            np.multiply(pw[finish - 1], pref[finish] - pref[begin], out=mine)
            mine ^= _WORD_SALT
            mine *= _MIX
            np.take(doc, begin, out=out_d[at : at + k])
            at += k
        sizes.append(len(begin))
    return out_h[:at], out_d[:at], sizes


def buckets_of(hashes: npt.NDArray[np.uint64], bits: int) -> npt.NDArray[np.intp]:
    """Bucket ids (< 2**bits) of feature hashes."""
    return (hashes >> np.uint64(64 - bits)).astype(np.intp)


def _inverse(a: np.uint64) -> np.uint64:
    """Multiplicative inverse of an odd number mod 2**64 (Newton iteration)."""
    x = int(a)
    inv = x
    for _ in range(6):
        inv = (inv * (2 - x * inv)) % (1 << 64)
    assert (inv * x) % (1 << 64) == 1
    return np.uint64(inv)


_POWERS: tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None = None
_SPANS: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.uint64]] | None = None
_SPAN_COUNT: npt.NDArray[np.intp] | None = None
_SPAN_LONG: npt.NDArray[np.float32] | None = None


def _powers() -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """P**k, P**k * MIX and P**-k mod 2**64 for every k a capped document can need."""
    global _POWERS
    if _POWERS is None:
        n = MAX_RAW + 4
        with np.errstate(over="ignore"):
            pw = np.concatenate(([np.uint64(1)], np.cumprod(np.full(n, _P, dtype=np.uint64))))
            ipw = np.concatenate(([np.uint64(1)], np.cumprod(np.full(n, _inverse(_P), dtype=np.uint64))))
            _POWERS = (pw, pw * _MIX, ipw)
    return _POWERS


def _spans(
    length: int,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.uint64]]:
    """(start, end, end - 1, salt * MIX) of every n-gram of a text of ``length`` code points.

    Built once for the longest possible text, ordered by end position, so the
    spans of any shorter text are a prefix: views, no copies, ~160 KB in all.
    """
    global _SPANS, _SPAN_COUNT, _SPAN_LONG
    if _SPANS is None or _SPAN_COUNT is None:
        longest = MAX_RAW + 2
        ends = np.repeat(np.arange(1, longest + 1), [min(e, MAX_N) for e in range(1, longest + 1)])
        ns = np.concatenate([np.arange(1, min(e, MAX_N) + 1) for e in range(1, longest + 1)])
        with np.errstate(over="ignore"):
            salt = (ns * 0x51ED27).astype(np.uint64) * _MIX
        _SPANS = ((ends - ns).astype(np.intp), ends.astype(np.intp), (ends - 1).astype(np.intp), salt)
        _SPAN_COUNT = np.concatenate(([0], np.cumsum([min(e, MAX_N) for e in range(1, longest + 1)])))
        _SPAN_LONG = (ns >= OPEN_SET_MIN_N).astype(np.float32)
    k = int(_SPAN_COUNT[length])
    start, end, end1, salt = _SPANS
    return start[:k], end[:k], end1[:k], salt[:k]


def open_set_mask(length: int, n_words: int) -> npt.NDArray[np.float32]:
    """1.0 for each feature of ``single_feature_hashes`` that counts for the open-set ratio, else 0.0."""
    _spans(length)
    assert _SPAN_COUNT is not None and _SPAN_LONG is not None
    grams = _SPAN_LONG[: int(_SPAN_COUNT[length])]
    return np.concatenate((grams, np.ones(n_words, dtype=np.float32)))


def single_feature_hashes(codes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The same hashes as ``feature_hashes`` for one document's codes (from ``encode_one``).

    Uses prefix hashes: hash(codes[a:b]) = P**(b-1) * (pref[b] - pref[a]) with
    pref[i] = sum_{j<i} codes[j] * P**-j, all mod 2**64; one broadcast covers
    every n and every position, and (h + salt) * MIX is expanded to use
    precomputed P**k * MIX. The order of features differs (a sum does not care).
    Needs a single-spaced text that starts and ends with a space, as encode_one makes.
    """
    length = len(codes)
    pw, pw_mix, ipw = _powers()
    with np.errstate(over="ignore"):
        pref = np.zeros(length + 1, dtype=np.uint64)
        np.cumsum(codes * ipw[:length], out=pref[1:])
        start, end, end1, salt = _spans(length)
        grams = pw_mix[end1] * (pref[end] - pref[start]) + salt
        spaces = np.flatnonzero(codes == 32)
        begin, finish = spaces[:-1] + 1, spaces[1:]
        words = ((pw[finish - 1] * (pref[finish] - pref[begin])) ^ _WORD_SALT) * _MIX
    return np.concatenate((grams, words))


def encode_one(text: str) -> tuple[npt.NDArray[np.uint64], int, int, int]:
    """``encode([text])`` for one text in fewer numpy calls: (codes, script index, letters, foreign letters).

    Same rules, same result (a test compares them on every dev row); it exists
    because a single call is dominated by per-call numpy overhead.
    """
    cls_table, lower_table = char_tables()
    raw = np.frombuffer((" " + text[:MAX_RAW] + " ").encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if raw.max() >= 0x10000:
        raw = np.where(raw < 0x10000, raw, 0x20)
    cls = cls_table[raw]
    counts = np.bincount(cls, minlength=8)
    if counts[DROP]:
        keep = cls != DROP
        cls, raw = cls[keep], raw[keep]
    lower = lower_table[raw]
    is_letter = cls < OTHER
    weighted = np.bincount(cls[is_letter], weights=_script_weights(cls, raw, lower)[is_letter], minlength=3)
    script = int(weighted.argmax())
    letters = int(counts[script])
    word = cls == script
    if counts[APOS]:
        apos = cls == APOS
        apos[1:-1] &= word[:-2] & word[2:]
        word |= apos
    keep = np.empty(len(cls), dtype=bool)
    keep[0] = True
    np.logical_or(word[1:], word[:-1], out=keep[1:])  # drop a space that follows a space
    codes = np.where(word, lower, 0x20)[keep].astype(np.uint64)
    return codes, script, letters, int(counts[OTHER])
