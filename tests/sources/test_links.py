"""links.py: what counts as an outgoing link, a mention, and a configured channel."""

from __future__ import annotations

import pytest

from monitor.sources.links import (
    Span,
    extract,
    normalize_tme,
    normalize_username,
    parse_channel_ref,
    utf16_slice,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://t.me/Durov_Chan", "durov_chan"),
        ("t.me/s/Durov_Chan", "durov_chan"),
        ("http://telegram.me/durov_chan/123?single", "durov_chan"),
        ("https://t.me/+AbCdEf123", "+AbCdEf123"),
        ("https://t.me/joinchat/AbCdEf123", "+AbCdEf123"),
        ("https://t.me/c/1234567890/55", "c/1234567890"),
        ("durov_chan.t.me", "durov_chan"),
        ("https://t.me/share/url?url=x", None),
        ("https://example.com/durov", None),
        ("https://t.me/", None),
    ],
)
def test_normalize_tme(raw: str, expected: str | None) -> None:
    assert normalize_tme(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@Ozod_Sado", "ozod_sado"),
        ("ozod_sado", "ozod_sado"),
        ("https://t.me/Ozod_Sado", "ozod_sado"),
        ("@1999", None),
        ("a b", None),
        ("t.me/+hash", None),
    ],
)
def test_normalize_username(raw: str, expected: str | None) -> None:
    assert normalize_username(raw) == expected


def test_extract_with_entities_trusts_only_the_entities() -> None:
    text = "Narx @116 — batafsil: kun.uz/x, @Kanal_Bir va t.me/kanal_ikki/5."
    spans = [
        Span("url", "kun.uz/x"),
        Span("mention", "@Kanal_Bir"),
        Span("url", "t.me/kanal_ikki/5."),
        Span("text_url", "bu yerda", "https://t.me/+Invite"),
        Span("url", "https://t.me/share/url?x"),
        Span("text_url", "pochta", "mailto:a@b.c"),
        Span("url", "kun.uz/x"),
    ]
    links, mentions = extract(text, spans)
    assert links == ("http://kun.uz/x",)
    assert mentions == ("kanal_bir", "kanal_ikki", "+Invite")


def test_extract_without_entities_scans_the_text() -> None:
    links, mentions = extract("Читайте https://example.org/a?b=1). Источник: @Manba_Kanal, t.me/boshqa", None)
    assert links == ("https://example.org/a?b=1",)
    assert mentions == ("manba_kanal", "boshqa")


def test_utf16_offsets_after_emoji() -> None:
    text = "🔥🔥 https://a.example"
    assert utf16_slice(text, 5, 17) == "https://a.example"


@pytest.mark.parametrize(
    ("raw", "key", "username", "cid"),
    [
        ("@Ozod_Sado", "ozod_sado", "ozod_sado", None),
        ("https://t.me/s/Ozod_Sado", "ozod_sado", "ozod_sado", None),
        ("-1001234567890", "id:1234567890", None, 1234567890),
        ("1234567890", "id:1234567890", None, 1234567890),
        ("https://t.me/c/1234567890/4", "id:1234567890", None, 1234567890),
    ],
)
def test_parse_channel_ref(raw: str, key: str, username: str | None, cid: int | None) -> None:
    ref = parse_channel_ref(raw, labels={"country": "UZ"}, poll_interval=300)
    assert (ref.key, ref.username, ref.channel_id) == (key, username, cid)
    assert ref.labels == {"country": "UZ"} and ref.poll_interval == 300


@pytest.mark.parametrize("raw", ["", "@1bad", "https://t.me/+invite", "-12345", "https://example.com/x"])
def test_parse_channel_ref_rejects_with_a_reason(raw: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_channel_ref(raw)
