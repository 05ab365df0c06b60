"""monitor.escape, function by function: the exact output of each policy on the edges.

Written from the mutation run of monitor/escape.py (docs/testing.md): the hostile-output tests check
that nothing unsafe gets through every renderer, which leaves many changes to *how* text is kept
unobserved (a tab kept or shown, an astral character's escape, where the cap cuts, a dict key
cleaned). Each test here states one rule of the module docstring's policy with exact values.
"""

from __future__ import annotations

import json

import pytest

from monitor.escape import (
    clean_data,
    defang,
    excel_safe,
    formula_like,
    is_unsafe,
    json_dumps,
    json_text,
    one_line,
    strip_escapes,
    terminal,
)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("plain", "plain"),
        ("a\x1b[31mred\x1b[0mb", "aredb"),  # CSI
        ("a\x9b2Jb", "ab"),  # one-byte CSI
        ("a\x1b]0;title\x07b", "ab"),  # OSC to BEL
        ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # OSC 8 hyperlink to ST
        ("a\x9d0;t\x9cb", "ab"),  # one-byte OSC to one-byte ST
        ("a\x1bPq#0\x1b\\b", "ab"),  # DCS
        ("a\x1b(Bb", "ab"),  # nF
        ("a\x1bcb", "ab"),  # two-byte (reset)
        ("a\x1b", "a"),  # a lone ESC at the end
        ("a\x1b]0;never ends", "a"),  # an OSC without terminator eats to the end
    ],
)
def test_strip_escapes_removes_every_sequence_and_keeps_the_rest(text: str, kept: str) -> None:
    assert strip_escapes(text) == kept


@pytest.mark.parametrize(
    "ch",
    [
        "\x00",
        "\x07",
        "\x85",
        "\u202e",
        "\u2066",
        "\u200b",
        "\u00ad",
        "\ufeff",
        "\u2028",
        "\u2029",
        "\ud800",
        "\u3164",
        "\u061c",
    ],
)
def test_unsafe_characters(ch: str) -> None:
    assert is_unsafe(ch)


@pytest.mark.parametrize("ch", ["a", "я", " ", "!", "🔥", "\u0301", "٣"])
def test_safe_characters(ch: str) -> None:
    assert not is_unsafe(ch)


def test_terminal_shows_unsafe_characters_as_escapes_and_keeps_letters() -> None:
    assert terminal("ok") == "ok"
    assert terminal(42) == "42"
    assert terminal("a\u202eb") == "a\\u202eb"
    assert terminal("a\x00b\x85c") == "a\\u0000b\\u0085c"
    assert terminal("x\U000e0041y") == "x\\U000e0041y"  # an astral format character (tag letter A)
    assert terminal("a\x1b[2Jb\u200bc") == "ab\\u200bc"  # the escape removed, the invisible shown


def test_terminal_newlines_and_tabs() -> None:
    assert terminal("a\nb") == "a\\nb"
    assert terminal("a\nb", keep_newlines=True) == "a\nb"
    assert terminal("a\tb") == "a\tb"
    assert terminal("a\tb", keep_tabs=False) == "a\\u0009b"
    assert terminal("a\rb\u2028c", keep_newlines=True) == "a\\u000db\\u2028c"
    assert terminal("я 🔥 ‹x›") == "я 🔥 ‹x›"
    assert terminal("я\u200b🔥 é") == "я\\u200b🔥 é"  # the slow path keeps what the fast path keeps


def test_one_line_drops_unsafe_folds_whitespace_and_caps() -> None:
    assert one_line(None) == ""
    assert one_line(7) == "7"
    assert one_line("  a \t b\n\nc  ") == "a b c"
    assert one_line("a\u2028b\u2029c\x0bd\x0ce\rf") == "a b c d e f"
    assert one_line("a\u202eb\u200bc\x00d") == "abcd"
    assert one_line("a\x1b[31m b") == "a b"
    assert one_line("x\u200b  ‹y›  🔥") == "x ‹y› 🔥"  # slow path: symbols kept, runs folded


@pytest.mark.parametrize(
    ("text", "limit", "out"),
    [
        ("abcdef", 6, "abcdef"),
        ("abcdefg", 6, "abcde…"),
        ("abc de", 4, "abc…"),  # the cut does not end in a space
        ("abcdef", 1, "…"),
        ("abcdef", 0, "…"),
        ("a\u200bbcdefg", 6, "abcde…"),  # counted after dropping
        ("abcdef", None, "abcdef"),
    ],
)
def test_one_line_cap(text: str, limit: int | None, out: str) -> None:
    assert one_line(text, limit) == out


def test_one_line_on_a_huge_text_reads_a_bounded_prefix_and_says_it_cut() -> None:
    limit = 10
    bound = limit * 8 + 1024
    # spaces fold away, so what is kept is short; the ellipsis still says text was left out
    huge = " " * (bound + 5) + "tail"
    assert one_line(huge, limit) == "…"
    exact = " " * (bound - 4) + "tail"  # within the bound: read whole
    assert one_line(exact, limit) == "tail"
    assert one_line("\u200b" * (bound + 1) + "z", limit) == "…"


def test_json_text_escapes_unsafe_characters_and_stays_json() -> None:
    assert json_text('{"a": "b"}') == '{"a": "b"}'
    assert json_text('"a\u202eb"') == '"a\\u202eb"'
    assert json_text('"x\U000e0041"') == '"x\\udb40\\udc41"'  # astral: a surrogate pair
    assert json_text('"a\x85"\n') == '"a\\u0085"\n'  # the newline between records is kept
    assert json_text('[\n"\u2028"\n]') == '[\n"\\u2028"\n]'
    for value in ["a\u202eb\x00", "\U000e0041 \U0001f525", "я\u2066"]:
        dumped = json_dumps(value)
        assert json.loads(dumped) == value
        assert not any(is_unsafe(c) for c in dumped)


def test_json_dumps_is_utf8_and_passes_options() -> None:
    assert json_dumps({"k": "я"}) == '{"k": "я"}'
    assert json_dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'
    assert json_dumps("я", ensure_ascii=True) == '"\\u044f"'


def test_clean_data_cleans_strings_keys_and_nested_values() -> None:
    value = {"k\u202e": ["a\x00b", ("c\n d",), {"x": "y\u200b"}], 3: 4.5, "n": None}
    assert clean_data(value) == {"k": ["ab", ["c d"], {"x": "y"}], 3: 4.5, "n": None}
    long = "w " * 500
    assert clean_data(long) == long.strip()  # cleaned, not shortened


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\uff1dcmd",
        "\uff0b1",
        "\uff0d1",
        "\uff20x",
        "\t=1",
        "\tx",
        "\rx",
        "\nx",
        " =1",
        "\u200b=1",
        "\x1b[31m=1",
        "\u202e=1",
        "\x00 =1",
    ],
)
def test_formula_like_looks_past_what_a_spreadsheet_skips(cell: str) -> None:
    assert formula_like(cell)
    assert excel_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "text", "1=1", " x=", "\u200b", "\x1b[31m", "a-b", "'=1"])
def test_formula_like_leaves_text(cell: str) -> None:
    assert not formula_like(cell)
    assert excel_safe(cell) == cell


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("see https://evil.example.com/x", "see hxxps://evil[.]example[.]com/x"),
        ("HTTP://a.io", "HxxP://a[.]io"),
        ("t.me/kanal", "t[.]me/kanal"),
        (
            "tg://resolve?domain=x javascript:alert(1) mailto:a@b.org",
            "tg[:]//resolve?domain=x javascript[:]alert(1) mailto[:]a@b[.]org",
        ),
        ("at 10.0.0.1 now", "at 10[.]0[.]0[.]1 now"),
        ("кремль.рф", "кремль[.]рф"),
        ("[click](https://x.io)", "[click] (hxxps://x[.]io)"),
        ("v1.2 and a.b1", "v1.2 and a.b1"),  # a digit TLD is no host
        ("end. Next", "end. Next"),
    ],
)
def test_defang(text: str, out: str) -> None:
    assert defang(text) == out


def test_the_escape_of_a_character_at_the_edge_of_the_basic_plane() -> None:
    """U+FFFF is the last character a four-digit escape can write, U+10000 the first that needs more
    (no unsafe character sits at either today, so the public functions cannot show the edge)."""
    from monitor.escape import _json_escape, _visible

    assert _visible("\uffff") == "\\uffff"
    assert _visible("\U00010000") == "\\U00010000"
    assert _json_escape("\uffff") == "\\uffff"
    assert _json_escape("\U00010000") == "\\ud800\\udc00"
    assert json.loads('"' + _json_escape("\U0010ffff") + '"') == "\U0010ffff"


def test_one_line_reads_exactly_its_bound_of_a_huge_text() -> None:
    limit = 10
    bound = limit * 8 + 1024
    one_past = " " * (bound - 3) + "tail"  # one character past the bound: the last one is not read
    assert one_line(one_past, limit) == "tai…"
    assert one_line("ab cd", 4) == "ab…"  # the cut drops the space before the ellipsis, not the text
