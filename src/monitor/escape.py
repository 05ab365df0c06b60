"""Attacker-controlled text made safe to show: the one escaping module (stdlib only, core layer).

Post text, channel titles, usernames, forwarded-from names and link titles are written
by the people we monitor. Three dangers follow them into every output:

- terminal escape sequences (CSI, OSC, DCS/APC/PM/SOS, two-byte ESC, and their one-byte
  C1 forms) that recolour, retitle, hyperlink or rewrite what the analyst sees;
- invisible characters: every bidirectional control and isolate ("Trojan Source":
  U+202E makes ``exe.txt`` read ``txt.exe``), zero-width and other format characters
  (category Cf), C0/C1 controls and NUL, line/paragraph separators, lone surrogates;
- spreadsheet formulas (``=HYPERLINK(...)``) in a cell that Excel evaluates.

The policy per output (docs/cli.md, "What exports keep") is:

``terminal``    escape sequences removed, every other unsafe character shown as a visible
                ``\\uXXXX`` (nothing is silently hidden, nothing can drive the terminal);
``one_line``    the same characters dropped and whitespace folded: for alert messages,
                mail subjects and log fields, where a reader wants prose, not escapes;
``json_dumps``  lossless: the unsafe characters become JSON ``\\uXXXX`` escapes, which
                decode back to the exact stored text, so JSON is always safe to print;
``excel_safe``  a leading apostrophe on any cell a spreadsheet would take for a formula,
                even when the ``=`` hides behind whitespace, controls or escape sequences.

Media with markup (HTML, Slack mrkdwn, Telegram HTML) apply ``one_line`` first and then
their own escaper (monitor.alerts.render).
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

# CSI (ESC [ or C1 0x9b) parameters, intermediates, final byte; OSC (ESC ] or 0x9d) and the
# string commands DCS/SOS/PM/APC (ESC P X ^ _ or 0x90 0x98 0x9e 0x9f) up to BEL or ST
# (ESC \ or 0x9c) or the end of the text; nF sequences (ESC, intermediates, final: ESC ( B);
# and the two-byte Fe/Fp/Fs escapes (ESC 7, ESC c, ESC M ...).
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x2f]+[\x30-\x7e]?"
    r"|\x1b[\x30-\x7e]?"
)

#: Every bidirectional control: marks, embeddings, overrides, isolates (Unicode TR9).
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Characters that render as nothing (or as blank) but split or disguise words.
INVISIBLE = frozenset(
    "\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064"
    "\u3164\ufeff\uffa0"
)
_INVISIBLE_RE = re.compile("[" + "".join(sorted(INVISIBLE)) + "]")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SPACES = re.compile(r"\s{2,}|[^\S ]")  # runs, and any whitespace but the plain space
_ESCAPE_START = re.compile("[\x1b\x90-\x9f]")
_FORMULA = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def strip_escapes(text: str) -> str:
    """``text`` without terminal escape sequences (the characters around them are kept)."""
    if not _ESCAPE_START.search(text):
        return text
    return _ESCAPES.sub("", text)


def is_unsafe(ch: str) -> bool:
    """A character that must not reach a terminal or a reader raw (controls, format, separators)."""
    return ch in BIDI or ch in INVISIBLE or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def terminal(value: object, *, keep_newlines: bool = False, keep_tabs: bool = True) -> str:
    """One cell or line for a terminal: escape sequences removed, every other unsafe character
    shown as a visible ``\\uXXXX`` (a newline as ``\\n`` unless ``keep_newlines``)."""
    text = strip_escapes(value if isinstance(value, str) else str(value))
    if _plainly_safe(text):
        return text
    out: list[str] = []
    for ch in text:
        if ch == "\n":
            out.append("\n" if keep_newlines else "\\n")
        elif ch == "\t" and keep_tabs:
            out.append(ch)
        elif ch == " " or ch.isalnum() or not is_unsafe(ch):
            out.append(ch)
        else:
            out.append(_visible(ch))
    return "".join(out)


def one_line(value: object, limit: int | None = None) -> str:
    """Untrusted text as one printable line: escape sequences and unsafe characters dropped,
    whitespace folded, capped at ``limit`` characters (with an ellipsis); None is the empty line."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    cut = limit is not None and len(text) > limit * 8 + 1024
    if cut and limit is not None:  # what is dropped or folded cannot shrink 8x what a reader sees; keeps this linear in limit
        text = text[: limit * 8 + 1024]
    text = strip_escapes(text)
    if _plainly_safe(text):
        out = _SPACES.sub(" ", text).strip()
        return _cap(out, limit, cut)
    kept: list[str] = []
    for ch in text:
        if ch.isalnum() or ch == " ":
            kept.append(ch)
        elif ch in "\t\n\r\x0b\x0c" or unicodedata.category(ch) in ("Zl", "Zp"):
            kept.append(" ")
        elif not is_unsafe(ch):
            kept.append(ch)
    return _cap(_SPACES.sub(" ", "".join(kept)).strip(), limit, cut)


def _cap(out: str, limit: int | None, cut: bool) -> str:
    if limit is not None and (len(out) > limit or cut):
        out = out[: max(limit - 1, 0)].rstrip() + "…"
    return out


def _plainly_safe(text: str) -> bool:
    """The fast path (C speed): printable text (no Cc, Cf, Cs, Zl, Zp, no separators but the space)
    holding none of the invisible letters and marks."""
    return text.isprintable() and not _INVISIBLE_RE.search(text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(dumped: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with every unsafe character
    written as a JSON escape: still valid JSON that decodes to the same values, UTF-8 readable
    (Cyrillic stays Cyrillic), and unable to drive a terminal."""
    if _plainly_safe(dumped.replace("\n", " ")):
        return dumped
    return "".join(_json_escape(ch) if ch not in "\n" and is_unsafe(ch) else ch for ch in dumped)


def json_dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` as UTF-8 text with unsafe characters escaped (see ``json_text``)."""
    kwargs.setdefault("ensure_ascii", False)
    return json_text(json.dumps(value, **kwargs))


def clean_data(value: Any) -> Any:
    """Strings anywhere in a JSON-like value made ``one_line``-clean but not shortened (for
    machine payloads such as the webhook's summary and details: no control characters)."""
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, dict):
        return {one_line(k) if isinstance(k, str) else k: clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_data(v) for v in value]
    return value


def formula_like(text: str) -> bool:
    """Would a spreadsheet read this cell as a formula? Looks past leading whitespace, controls,
    invisible characters and escape sequences, which spreadsheets skip or users cannot see."""
    if text[:1] in ("\t", "\r", "\n"):
        return True
    rest = strip_escapes(text)
    for ch in rest:
        if ch.isspace() or is_unsafe(ch):
            continue
        return ch in _FORMULA
    return False


def excel_safe(text: str) -> str:
    """A cell Excel and LibreOffice show as text: a leading apostrophe when ``formula_like``."""
    return "'" + text if formula_like(text) else text




# -- links in untrusted text (alerts, the links report) ------------------------------------------------
_SCHEME = re.compile(r"(?i)\b(h)tt(ps?)(:)")
_OTHER_SCHEME = re.compile(r"(?i)\b(ftp|tg|file|javascript|data|mailto|tel)(:)")
# a dot between two labels of a host name ending in a 2-63 letter TLD (Latin or IDN: кремль.рф),
# and the dots of an IPv4 address: a client that links bare domains links these
_HOST_DOT = re.compile(r"(?<=[^\W_])\.(?=(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W\d_]{2,63}(?!\w))")
_IPV4 = re.compile(r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b")
_MD_LINK = re.compile(r"\]\s*\(")


def defang(text: str) -> str:
    """Make links in untrusted text unclickable in every client: ``hxxps://``, ``evil[.]example[.]com``,
    ``t[.]me``, ``1[.]2[.]3[.]4``, ``tg[:]``, and a Markdown link ``[x](url)`` broken into ``[x] (url)``."""
    text = _SCHEME.sub(lambda m: f"{m.group(1)}xx{m.group(2)}{m.group(3)}", text)
    text = _OTHER_SCHEME.sub(lambda m: f"{m.group(1)}[:]", text)
    text = _IPV4.sub(lambda m: "[.]".join(m.groups()), text)
    text = _HOST_DOT.sub("[.]", text)
    return _MD_LINK.sub("] (", text)


__all__ = [
    "BIDI",
    "INVISIBLE",
    "clean_data",
    "defang",
    "excel_safe",
    "formula_like",
    "is_unsafe",
    "json_dumps",
    "json_text",
    "one_line",
    "strip_escapes",
    "terminal",
]
