"""Content hash and SimHash: edits change the hash, small changes keep SimHash close."""

from __future__ import annotations

import hashlib

from monitor.fingerprint import content_hash, hamming, normalise, simhash64, to_signed64, to_unsigned64

BASE = (
    "Сегодня в Идлибе представители группировки провели встречу с местными старейшинами, "
    "сообщают источники в регионе; подробности встречи не раскрываются."
)


def _bitwise_simhash(text: str) -> int:
    """The textbook per-bit loop, to check the vectorised version against."""
    import re

    words = re.findall(r"\w+", normalise(text))
    grams = [" ".join(words)] if len(words) < 3 else [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    weights = [0] * 64
    for gram in grams:
        h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def test_simhash_matches_the_textbook_definition() -> None:
    for text in (BASE, "one two", "ИГИЛ", "a b c d e f g h"):
        assert simhash64(text) == _bitwise_simhash(text)


def test_near_duplicates_are_close_and_different_texts_are_far() -> None:
    repost = "Переслано: " + BASE + " https://t.me/example"
    other = "Uzbek tilidagi butunlay boshqa xabar: ob-havo ertaga quyoshli bo'ladi, deydi sinoptiklar."
    assert hamming(simhash64(BASE), simhash64(repost)) <= 12
    assert hamming(simhash64(BASE), simhash64(other)) >= 20


def test_hash_ignores_case_and_spacing_but_not_words() -> None:
    assert content_hash(BASE) == content_hash("  " + BASE.upper().replace(" ", "   "))
    assert content_hash(BASE) != content_hash(BASE.replace("встречу", "встречи"))
    assert simhash64("") == 0 and len(content_hash("")) == 32


def test_signed_round_trip_covers_the_top_bit() -> None:
    for value in (0, 1, 2**63 - 1, 2**63, 2**64 - 1):
        signed = to_signed64(value)
        assert -(2**63) <= signed < 2**63
        assert to_unsigned64(signed) == value
