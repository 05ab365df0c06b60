"""monitor.identity: the one grammar of channel keys, handles, t.me links and post links."""

from __future__ import annotations

import pytest

from monitor.identity import (
    RESERVED_TME_PATHS,
    ChannelIdentity,
    bare_channel_id,
    channel_key,
    display_name,
    id_key,
    is_id_key,
    key_display,
    keys_of,
    normalize_tme,
    parse_channel,
    parse_id_key,
    parse_post_link,
    post_link,
    reference_key,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@Ozod_Sado", ChannelIdentity("ozod_sado", username="ozod_sado")),
        ("ozod_sado", ChannelIdentity("ozod_sado", username="ozod_sado")),
        ("https://t.me/Ozod_Sado", ChannelIdentity("ozod_sado", username="ozod_sado")),
        ("t.me/s/ozod_sado/123", ChannelIdentity("ozod_sado", username="ozod_sado")),
        ("telegram.me/ozod_sado", ChannelIdentity("ozod_sado", username="ozod_sado")),
        ("ozod_sado.t.me", ChannelIdentity("ozod_sado", username="ozod_sado")),
        ("1234567", ChannelIdentity("id:1234567", channel_id=1234567)),
        ("-1001234567", ChannelIdentity("id:1234567", channel_id=1234567)),
        ("https://t.me/c/1234567/89", ChannelIdentity("id:1234567", channel_id=1234567)),
        ("id:1234567", ChannelIdentity("id:1234567", channel_id=1234567)),
    ],
)
def test_parse_channel_normal_forms(text: str, expected: ChannelIdentity) -> None:
    assert parse_channel(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("-12345", "group or user id"),
        ("0", "not a valid channel id"),
        ("-100", "not a valid channel id"),
        ("9" * 40, "not a valid channel id"),
        ("id:0", "not a valid channel id"),
        ("id:-5", "not a valid channel id"),
        ("id:١٢٣", "not a valid"),  # Arabic-Indic digits are digits to str.isdigit, not to us
        ("https://t.me/+AbCdEf", "invite link"),
        ("https://t.me/joinchat/AbCdEf", "invite link"),
        ("https://t.me/share/url?url=x", "not a t.me link"),
        ("https://t.me/proxy?server=x", "not a t.me link"),
        ("https://evil.example/ozod_sado", "not a t.me link"),
        ("https://t.me.evil.example/ozod_sado", "not a t.me link"),
        ("http://[::1", "not a t.me link"),
        ("@ab", "not a valid Telegram username"),
        ("@ozod sado", "not a valid Telegram username"),
        ("@ozod\u202esado", "not a valid Telegram username"),
        ("@" + "a" * 40, "not a valid Telegram username"),
        ("", "not a valid Telegram username"),
    ],
)
def test_parse_channel_refuses_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_channel(text)


def test_id_keys_round_trip_and_refuse_nonsense() -> None:
    assert id_key(1234567) == "id:1234567" and id_key(-1234567) == "id:1234567"
    assert parse_id_key("id:1234567") == 1234567 and is_id_key("id:1")
    for bad in ("id:", "id:0", "id:+5", "id: 5", "id:5 ", "ID:5", "id:1e3", "name", "id:" + "9" * 30, "id:²"):
        assert parse_id_key(bad) is None, bad
    for bad_id in (0, True, 2**63):
        with pytest.raises(ValueError):
            id_key(bad_id)


def test_bare_channel_id_knows_the_bot_api_mark() -> None:
    assert bare_channel_id("-1001234567") == 1234567
    assert bare_channel_id("1234567") == 1234567
    assert bare_channel_id("-1234567") is None
    assert bare_channel_id("12a") is None


def test_one_reserved_path_list_covers_both_old_lists() -> None:
    for path in ("joinchat", "addstickers", "share", "proxy", "socks", "login", "iv", "addlist", "s", "c", "boost"):
        assert path in RESERVED_TME_PATHS
        assert normalize_tme(f"https://t.me/{path}") is None


def test_references_and_keys() -> None:
    assert normalize_tme("t.me/c/123/45") == "c/123"
    assert reference_key("c/123") == "id:123"
    assert reference_key("durov") == "durov"
    assert reference_key("+AbC") is None
    assert keys_of(123, "Durov") == frozenset({"id:123", "durov"})
    assert display_name("durov", 123) == "@durov" and display_name(None, 123) == "id:123"
    assert key_display("id:5") == "id:5" and key_display("durov") == "@durov"


def test_channel_key_is_lenient_for_filters() -> None:
    assert channel_key("-12345") == "id:12345"
    assert channel_key("-1001234567") == "id:1234567"
    assert channel_key(1003) == "id:1003"
    assert channel_key("@Ozod_Sado") == "ozod_sado"
    assert channel_key("ozod_sado/12") == "ozod_sado"
    assert channel_key(True) is None and channel_key(0) is None and channel_key("!!") is None


def test_post_links_are_built_only_from_checked_parts() -> None:
    assert post_link(89, username="ozod_sado") == "https://t.me/ozod_sado/89"
    assert post_link(89, channel_id=-1234567) == "https://t.me/c/1234567/89"
    assert post_link(89, username="evil/../x", channel_id=5) == "https://t.me/c/5/89"
    assert post_link(89, username="a b\nc") is None
    assert post_link(0, username="ozod_sado") is None
    assert parse_post_link("https://t.me/ozod_sado/89") == ("ozod_sado", 89)
    assert parse_post_link("t.me/s/ozod_sado/89") == ("ozod_sado", 89)
    assert parse_post_link("https://t.me/c/1234567/89") == ("id:1234567", 89)
    for bad in ("https://t.me/share/89", "https://t.me/ozod_sado", "https://t.me/ozod_sado/0",
                "https://evil.example/ozod_sado/89", "https://t.me/ozod_sado/8x9", "https://t.me/c/x/89"):
        assert parse_post_link(bad) is None, bad
