"""The edges of the channel grammar, pinned one case per line: the largest id and one past it, the
19-digit limit, zero and one, the trailing punctuation of a pasted link, ``name.t.me`` hosts, reserved
paths, ``c/`` links with a message id, and what each lenient or strict entry point makes of them.

Written from the mutation run (docs/testing.md): each case here failed a mutant that the earlier
tests let through, such as ``>`` turned into ``>=`` or ``and`` into ``or``.
"""

from __future__ import annotations

import pytest

from monitor.identity import (
    bare_channel_id,
    channel_key,
    display_name,
    id_key,
    is_tme_host,
    looks_like_tme,
    normalize_tme,
    normalize_username,
    parse_channel,
    parse_id_key,
    parse_post_link,
    post_link,
    reference_key,
)

MAX = 2**63 - 1


@pytest.mark.parametrize(
    ("value", "key"),
    [(1, "id:1"), (-1, "id:1"), (MAX, f"id:{MAX}"), (-MAX, f"id:{MAX}"), (1234567, "id:1234567")],
)
def test_id_key(value: int, key: str) -> None:
    assert id_key(value) == key


@pytest.mark.parametrize(("value", "words"), [(0, "not a channel id"), (MAX + 1, "not a channel id"),
                                              (True, "integer, not bool"), ("5", "integer, not str")])
def test_id_key_refuses(value: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        id_key(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (f"id:{MAX}", MAX), (f"id:{MAX + 1}", None), ("id:" + "0" * 18 + "1", 1), ("id:" + "0" * 19 + "1", None),
        ("id:0", None), ("id:1", 1), ("id:", None), ("id:１２", None), ("id:-5", None), ("durov", None), (5, None),
    ],
)
def test_parse_id_key(key: object, value: int | None) -> None:
    assert parse_id_key(key) == value  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234567", 1234567), (" 1234567 ", 1234567), ("-1001234567", 1234567), ("-1234567", None), ("-100", None),
        ("0" * 18 + "7", 7), ("0" * 19 + "7", None), ("-100" + "0" * 18 + "7", 7), ("-100" + "0" * 19 + "7", None),
        (str(MAX), MAX), (str(MAX + 1), None), ("0", None), ("1", 1), ("１２３", None), ("12a", None),
    ],
)
def test_bare_channel_id(text: str, value: int | None) -> None:
    assert bare_channel_id(text) == value


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("@Durov", "durov"), ("durov", "durov"), ("t.me/Durov", "durov"), ("https://t.me/durov.", "durov"),
        ("https://t.me/durov)", "durov"), ("https://t.me/durov»", "durov"), ("durov.t.me", "durov"),
        ("channelname.t.me", "channelname"), ("https://ChannelName.t.me/", "channelname"),
        ("t.me/+AbC", None), ("t.me/c/123", None), ("a.b", None), ("ab", None), ("abc", "abc"), ("@@durov", None),
        ("example.com/durov", None),
    ],
)
def test_normalize_username(text: str, name: str | None) -> None:
    assert normalize_username(text) == name


@pytest.mark.parametrize(
    ("url", "reference"),
    [
        ("t.me/c/123/45", "c/123"), ("t.me/c/-100123", None), ("t.me/c/0", None), ("t.me/c", None),
        ("t.me/joinchat/AbC", "+AbC"), ("t.me/joinchat", None), ("t.me/+AbC", "+AbC"), ("t.me/+", None),
        ("t.me/s/durov", "durov"), ("t.me/s", None), ("t.me/share/url", None), ("t.me/Share", None),
        ("t.me/@durov", "durov"), ("t.me/", None), ("telegram.dog/Durov", "durov"), ("www.t.me/durov", "durov"),
        ("evil.example/durov", None), ("x.t.me.evil.example/durov", None), ("durov-x.t.me", None),
        ("t.me/+A", "+A"),
    ],
)
def test_normalize_tme(url: str, reference: str | None) -> None:
    assert normalize_tme(url) == reference


@pytest.mark.parametrize(
    ("reference", "key"),
    [("c/123", "id:123"), ("c/123/45", "id:123"), ("c/123/45/6", "id:123"), ("c/abc", None), ("c/", None), ("+AbC", None),
     ("Durov", "durov"), ("ab", None)],
)
def test_reference_key(reference: str, key: str | None) -> None:
    assert reference_key(reference) == key


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (1, "id:1"), (-1, "id:1"), (0, None), (MAX, f"id:{MAX}"), (MAX + 1, None), (True, None), (1.5, None),
        (None, None), ("-1234567", "id:1234567"), ("-1001234567", "id:1234567"), ("0", None), ("00", None),
        ("1", "id:1"), ("0" * 19 + "5", None), ("12345678901234567890", None), ("durov/123", "durov"),
        ("@Durov", "durov"), ("t.me/c/55/1", "id:55"), (" id:77 ", "id:77"), ("t.me/+AbC", None),
        ("not a channel", None), ("9999999999999999999", None), ("-9999999999999999999", None),
        ("-2000000000000000000", "id:2000000000000000000"), ("durov/12/34", "durov"), ("@durov/123", "durov"),
        ("-1", "id:1"), (f"-{MAX}", f"id:{MAX}"), (f"-{MAX + 1}", None),
    ],
)
def test_channel_key(value: object, key: str | None) -> None:
    assert channel_key(value) == key


@pytest.mark.parametrize(
    ("text", "key", "username", "channel_id"),
    [
        ("-1001234567", "id:1234567", None, 1234567), ("1234567", "id:1234567", None, 1234567),
        ("id:55", "id:55", None, 55), ("t.me/c/77", "id:77", None, 77), ("t.me/c/77/5", "id:77", None, 77),
        ("@Durov", "durov", "durov", None), ("https://t.me/Durov", "durov", "durov", None),
        ("durov.t.me", "durov", "durov", None), ("X123", "x123", "x123", None),
    ],
)
def test_parse_channel(text: str, key: str, username: str | None, channel_id: int | None) -> None:
    identity = parse_channel(text)
    assert (identity.key, identity.username, identity.channel_id) == (key, username, channel_id)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("-1234567", "group or user id"), ("id:0", "not a valid channel id"), ("0", "not a valid channel id"),
        ("t.me/+AbC", "invite link"), ("t.me/share", "not a t.me link"), ("ab", "not a valid Telegram username"),
        ("id:x", "not a valid channel id"), ("t.me", "not a t.me link"), ("a.b", "not a t.me link"),
    ],
)
def test_parse_channel_refuses(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_channel(text)


def test_display_name() -> None:
    assert display_name("durov", 5) == "@durov"
    assert display_name(None, 5) == "id:5"
    assert display_name(None, -1005) == "id:1005"
    assert display_name(None, None) == display_name("", 0) == ""


@pytest.mark.parametrize(
    ("message_id", "username", "channel_id", "link"),
    [
        (1, "durov", None, "https://t.me/durov/1"), (1, "durov", 7, "https://t.me/durov/1"),
        (5, None, 7, "https://t.me/c/7/5"), (5, "bad name", -1007, "https://t.me/c/1007/5"),
        (5, "ab", 7, "https://t.me/c/7/5"), (0, "durov", 7, None), (-1, "durov", None, None),
        (True, "durov", None, None), (5, None, None, None), (5, "", 0, None),
    ],
)
def test_post_link(message_id: int, username: str | None, channel_id: int | None, link: str | None) -> None:
    assert post_link(message_id, username=username, channel_id=channel_id) == link


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("https://t.me/durov/12", ("durov", 12)), ("t.me/Durov/12", ("durov", 12)), ("t.me/c/456/123", ("id:456", 123)),
        ("t.me/s/durov/12", ("durov", 12)), ("https://t.me/durov/12.", ("durov", 12)),
        ("t.me/durov/456/123", None), ("t.me/c/456", None), ("t.me/share/12", None), ("t.me/durov/0", None),
        ("t.me/durov/" + "1" * 20, None), ("t.me/durov/" + "0" * 18 + "9", ("durov", 9)), ("example.com/durov/12", None),
        ("t.me/c/-100456/1", None), ("t.me/c/0/1", None), ("t.me/durov/x", None), ("t.me/ab/12", None),
        ("t.me/durov", None), ("t.me/c/456/0", None), ("t.me/durov/1", ("durov", 1)),
    ],
)
def test_parse_post_link(url: str, parsed: tuple[str, int] | None) -> None:
    assert parse_post_link(url) == parsed


@pytest.mark.parametrize(
    ("target", "answer"),
    [
        ("http://t.me/durov", True), ("https://t.me/durov", True), ("t.me", True), ("durov.t.me/x", True),
        ("HTTP://Durov.T.me", True), ("telegram.dog/x", True), ("https://evil.example/t.me", False),
        ("t.me.evil.example", False), ("http://evil.example", False),
    ],
)
def test_looks_like_tme(target: str, answer: bool) -> None:
    assert looks_like_tme(target) is answer
    if "/" not in target.removeprefix("http://").removeprefix("https://").removeprefix("HTTP://"):
        assert is_tme_host(target.split("://")[-1]) is answer
