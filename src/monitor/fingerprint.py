"""Content hash and near-duplicate fingerprint of a post's text.

The hash spots edits and exact reposts; the 64-bit SimHash over word shingles spots
the same item re-posted with small changes (a different header, an added link),
which is how one piece of propaganda spreads through several channels.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_MASK64 = (1 << 64) - 1


def normalise(text: str) -> str:
    """NFKC, lower-case, whitespace folded: the form both fingerprints are taken of."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def content_hash(text: str) -> str:
    """32 hex characters (128 bits of SHA-256) of the normalised text."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()[:32]


def simhash64(text: str, shingle: int = 3) -> int:
    """Unsigned 64-bit SimHash over word shingles; 0 for text with no words.

    The per-bit vote runs in numpy over all shingles at once: the pure-Python
    64-step loop per shingle was the slowest part of ingest.
    """
    import numpy as np  # here, not at the top: `monitor tag` and `--help` never pay for numpy

    words = _WORD.findall(normalise(text))
    if not words:
        return 0
    if len(words) < shingle:
        grams = [" ".join(words)]
    else:
        grams = [" ".join(words[i : i + shingle]) for i in range(len(words) - shingle + 1)]
    digests = b"".join(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest() for g in grams)
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(len(grams), 8), axis=1)
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - len(grams)  # >0: more shingles have the bit set
    return int.from_bytes(np.packbits(votes > 0).tobytes(), "big")


def to_signed64(value: int) -> int:
    """Unsigned 64-bit -> signed, for databases whose INTEGER is signed."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned64(value: int) -> int:
    return value & _MASK64


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & _MASK64).bit_count()
