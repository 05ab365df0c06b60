"""Hostile text in every attacker-reachable field, through every output.

One set of payloads (``PAYLOADS``) and one strategy (``hostile_text``) feed post text,
matched terms and their context, channel titles and usernames, forwarded-from names,
link titles, the alert's "why" and every detail into every renderer: terminal table,
CSV, TSV, JSON, NL, Parquet, alert e-mail (plain and HTML), webhook (JSON and Slack),
Telegram bot HTML, the CLI's status/alerts printing, chart labels and graph files.

What each medium must guarantee:

- terminal (table, CSV/TSV on a terminal, status, alerts list): no escape sequence and no
  unsafe character (control, bidi, format, separator) reaches the screen;
- data files (CSV, TSV, JSON, NL, Parquet into a file or pipe): the stored text comes back
  exactly; with ``--excel-safe`` no CSV cell is a formula, even behind escapes or whitespace;
- alert media: no unsafe character, no clickable link but the post link we built, no markup
  from the post, no team mention (Slack/Mattermost), HTML that parses to our tags only.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.alerts import render
from monitor.alerts.sinks.email import EmailSink
from monitor.alerts.sinks.webhook import WebhookSink
from monitor.identity import USERNAME
from monitor.escape import BIDI, INVISIBLE, formula_like, is_unsafe, json_dumps, one_line, terminal
from monitor.models import Alert
from monitor.reports.output import to_csv, to_json, to_nl, to_parquet, to_table, to_tsv, write
from monitor.reports.table import Report

# -- the payloads ------------------------------------------------------------------------------
ESCAPES = [
    "\x1b[31mRED\x1b[0m", "\x1b[2J\x1b[H", "\x1b]0;owned title\x07", "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    "\x9b31m\x9b2J", "\x1bP+q544e\x1b\\", "\x1bc", "\x1b(0lqk\x1b(B", "\x1b[6n", "\x1b]52;c;ZXZpbA==\x07",
]
BIDI_PAYLOADS = [f"invoice{ch}fdp.exe" for ch in sorted(BIDI)] + ["\u2067evil\u2069 \u2066x\u2069 \u2068y\u2069"]
CONTROLS = ["".join(chr(c) for c in range(0, 32)), "".join(chr(c) for c in range(127, 160)), "a\x00b", "\x00"]
FORMULAS = [
    '=HYPERLINK("http://evil.example","click")', "+1+1", "-1+1", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", " =1+1",
    "\x1b[0m=1+1", "\u200b=1+1", "\u202e=1+1", "\n=1+1", "＝1+1", "=cmd|' /C calc'!A0", " \x1b[31m \u2066@x",
]
HTML = [
    "<script>alert(1)</script>", "<b>bold</b>", '"><img src=x onerror=alert(1)>', "&amp;&lt;&gt;&quot;",
    "</p></body></html><a href='https://evil.example'>x</a>", "<!--", "]]>", "' onmouseover='x",
]
MARKDOWN = [
    "*bold* _it_ ~s~ `code` ```block```", "[click me](http://evil.example)", "[x]( https://evil.example )",
    "<http://evil.example|bank>", "<!channel> <!here> <!everyone> <@U123> <#C123>", "@channel @here @all @everyone",
    "> quote\n# heading", "|table|", "![img](http://evil.example/p.png)",
]
TELEGRAM = ["&lt;b&gt;x&lt;/b&gt;", '<a href="tg://user?id=1">x</a>', "<tg-spoiler>s</tg-spoiler>", "<pre>p</pre>"]
LINKS = ["evil-login.example.com/reset", "www.evil.example", "t.me/fake_channel", "кремль.рф/путь",
         "1.2.3.4:8080", "tg://resolve?domain=x", "javascript:alert(1)", "hxxp://already[.]defanged"]
LONG = ["A" * 100_000, "ИГИЛ " * 20_000, "\x1b[31m" * 5_000]
SPLIT = ["И\u200bГ\u200bИ\u200bЛ", "e\u200bvil.exa\u200cmple.com", "evil\u2060.example\ufeff.com", "\u00adsoft\u00ad"]
PAYLOADS = [*ESCAPES, *BIDI_PAYLOADS, *CONTROLS, *FORMULAS, *HTML, *MARKDOWN, *TELEGRAM, *LINKS, *LONG, *SPLIT]

_SPECIALS = sorted(
    set("".join(ESCAPES + CONTROLS + FORMULAS + HTML + MARKDOWN))
    | BIDI | INVISIBLE | {"\u2028", "\u2029", chr(0xD800), chr(0xDFFF), "\U000e0041", "\u0085", "\uff1d"}
)
hostile_text = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(st.one_of(st.sampled_from(_SPECIALS), st.characters()), max_size=60),
    st.lists(st.sampled_from([p for p in PAYLOADS if len(p) < 1000]), min_size=1, max_size=4).map("".join),
)
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# a post link as monitor builds one: the username grammar is identity's (3-32 characters), not a copy
POST_LINK = re.compile(rf"^https://t\.me/(?:c/\d+|{USERNAME.pattern})/\d+$")
ZERO_WIDTH_WE_ADD = {"\u200b", "\u2060"}  # Slack escaping breaks Markdown and mentions with these


def _terminal_safe(text: str, *, allow: frozenset[str] = frozenset("\n\t")) -> None:  # neither drives a terminal
    bad = sorted({f"U+{ord(ch):04X}" for ch in text if ch not in allow and is_unsafe(ch)})
    assert not bad, f"unsafe characters reach the output: {bad}"
    assert "\x1b" not in text and "\x9b" not in text


# -- reports --------------------------------------------------------------------------------
def _report(value: str) -> Report:
    """``value`` in every string-bearing column a report has: text, channel, titles, terms, members."""
    return Report(
        name="hostile",
        columns=("rank", "channel", "title", "text", "groups", "forwarded_from", "link", "views"),
        rows=[(1, value, value, value, [value, "IS"], value, "https://t.me/ozod_sado/1", 5),
              (2, "@ok", "ok", "ok", [], "", "https://t.me/ok_chan/2", None)],
        meta={"note": value, "filters": {"channel": [value]}},
    )


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _check_report_outputs(value: str, tmp: Path) -> None:
    report = _report(value)
    # terminal: the table, and CSV/TSV when standard output is a terminal
    for width in (60, 200):
        _terminal_safe(to_table(report, width=width))
    for fmt in ("csv", "tsv", "json", "nl", "table"):
        out = _Tty()
        write(report, fmt, None, stdout=out)  # type: ignore[arg-type]
        _terminal_safe(out.getvalue())
    # data: exactly the stored text comes back
    buffer = io.StringIO()
    to_csv(report, buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert rows[1][1] == value and rows[1][3] == value and rows[1][4] == f"{value}; IS"
    buffer = io.StringIO()
    to_csv(report, buffer, excel_safe=True)
    for row in csv.reader(io.StringIO(buffer.getvalue(), newline="")):
        for cell in row:
            assert not formula_like(cell) or cell.startswith("'"), cell
    buffer = io.StringIO()
    to_tsv(report, buffer)
    lines = buffer.getvalue().split("\n")
    assert len(lines) == 4  # header, two records, the final newline: no cell breaks a record
    unescape = {"\\t": "\t", "\\n": "\n", "\\r": "\r", "\\\\": "\\"}
    cells = [re.sub(r"\\[tnr\\]", lambda m: unescape[m.group(0)], c) for c in lines[1].split("\t")]
    assert cells[3] == value
    payload = to_json(report)
    _terminal_safe(payload)
    assert json.loads(payload)["rows"][0]["text"] == value
    nl = io.StringIO()
    to_nl(report, nl)
    _terminal_safe(nl.getvalue())
    assert json.loads(nl.getvalue().splitlines()[0])["title"] == value
    stored = re.sub("[\ud800-\udfff]", "\ufffd", value)  # UTF-8 files cannot hold a lone surrogate
    to_parquet(report, tmp / "h.parquet")
    table = pq.read_table(tmp / "h.parquet")
    assert table.column("text").to_pylist()[0] == stored
    assert table.column("groups").to_pylist()[0] == [stored, "IS"]
    for fmt in ("csv", "tsv", "json", "nl", "table"):
        write(report, fmt, tmp / f"h.{fmt}")  # type: ignore[arg-type]  # a UTF-8 file, whatever the text


@pytest.mark.parametrize("value", PAYLOADS, ids=range(len(PAYLOADS)))
def test_fixed_payloads_through_every_report_output(value: str, tmp_path: Path) -> None:
    _check_report_outputs(value, tmp_path)


@PROPERTY
@given(value=hostile_text)
def test_any_text_through_every_report_output(value: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    _check_report_outputs(value, tmp_path_factory.mktemp("p"))


# -- alerts ---------------------------------------------------------------------------------
FIRED = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def _alert(value: str, n: int = 1) -> Alert:
    """``value`` in every attacker-reachable field of an alert."""
    return Alert(
        id=n, rule="iskp-mentions", kind="match", fired_at=FIRED, dedup_key=f"iskp:{value[:50]}",
        summary=f"post names ISKP: {value}",
        details={
            "why": f"matched {value}",
            "matches": [{"as_written": value, "canonical": value, "context": f"… {value} …", "rule": value}],
            "terms": [value],
            "counts": {value: 3},
            "forwarded_from": value,
            "channel_title": value,
            "link_title": value,
            value[:40] or "k": value,
            "nested": {"list": [value, {"deep": value}]},
            "count": 4,
        },
        channel_id=1234567, message_id=101, channel_username="ozod_sado", link=None,
    )


def _hostile_username_alert(value: str) -> Alert:
    return Alert(id=2, rule="r", kind="match", fired_at=FIRED, dedup_key="k", summary=value,
                 details={}, channel_id=99, message_id=5, channel_username=value, link=value)


_LIVE_URL = re.compile(r"(?i)\b(?:https?|ftp|tg|javascript|data)://?[^\s\"'<>]+")
_BARE_HOST = re.compile(r"(?<![\w.\[\]])(?:[^\W_][\w-]*\.)+[^\W\d_]{2,63}(?![\w\[])")
_MENTION = re.compile(r"(?i)[@!](?:channel|here|all|everyone)\b")


def _no_links_but_ours(text: str, ours: set[str]) -> None:
    for url in _LIVE_URL.findall(text):
        assert url in ours, f"a live link from the post: {url!r}"
    stripped = text
    for url in ours:
        stripped = stripped.replace(url, "")
    hosts = [h for h in _BARE_HOST.findall(stripped) if not h.lower().startswith("hxxp")]
    assert not hosts, f"a bare domain a client would link: {hosts}"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check_html(markup: str, allowed: set[str], ours: set[str]) -> None:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in allowed, f"markup from the post: <{tag}>"
        for name, val in attrs:
            if tag == "a":
                assert name == "href" and val in ours, (name, val)
            elif tag != "meta":
                raise AssertionError(f"attribute from the post: {name}={val!r}")
    text = "".join(parser.text)
    _terminal_safe(text)
    _no_links_but_ours(text, ours)


def _check_alert_media(value: str) -> None:
    alerts = [_alert(value), _hostile_username_alert(value)]
    ours = {"https://t.me/ozod_sado/101", "https://t.me/c/99/5"}
    if POST_LINK.match(f"https://t.me/{value}/5"):  # a valid username builds a valid post link
        ours.add(f"https://t.me/{value}/5")
    for one in ([alerts[0]], [alerts[1]], alerts):
        period = (FIRED, FIRED) if len(one) > 1 else None
        # plain text: log, e-mail text part, the JSON webhook's "text"
        plain = render.plain_many(one, period)
        _terminal_safe(plain)
        _no_links_but_ours(plain, ours)
        # e-mail
        sink = EmailSink("mail", host="127.0.0.1", port=25, sender="m@example.org", recipients=["a@example.org"])
        msg = sink.message(one)
        subject = str(msg["Subject"])
        _terminal_safe(subject, allow=frozenset())
        body = msg.get_body(("plain",))
        assert body is not None
        _terminal_safe(body.get_content())
        html_part = msg.get_body(("html",))
        assert html_part is not None
        _check_html(html_part.get_content(),
                    {"html", "head", "meta", "body", "h2", "h3", "p", "b", "i", "ul", "li", "br", "hr", "a"}, ours)
        # Telegram bot, parse_mode=HTML
        for message in render.telegram_messages(one, period):
            assert len(message) <= render.TELEGRAM_LIMIT
            _check_html(message, {"b", "i", "a"}, ours)
        # Slack / Mattermost
        slack = render.slack_payload(one, period)
        texts = [str(slack["text"])] + [b["text"]["text"] for b in slack["blocks"]]  # type: ignore[index, union-attr]
        for text in texts:
            _terminal_safe(text, allow=frozenset({"\n"} | ZERO_WIDTH_WE_ADD))
            for link in re.findall(r"<([^>]*)>", text):
                assert link.split("|")[0] in ours, link
            assert not _MENTION.search(text), "a team mention from the post"
            assert "](" not in text.replace("\u200b", "")  # no Markdown link survives
        # the JSON webhook: machine fields clean, every string free of unsafe characters
        body_bytes = WebhookSink("hook", url="http://127.0.0.1:9/", secret="s").body(one)
        decoded = json.loads(body_bytes)

        def strings(node: object) -> list[str]:
            if isinstance(node, str):
                return [node]
            if isinstance(node, dict):
                return [s for k, v in node.items() for s in strings(k) + strings(v)]
            if isinstance(node, list):
                return [s for v in node for s in strings(v)]
            return []

        for s in strings(decoded):
            _terminal_safe(s)
        _no_links_but_ours(decoded["text"], ours)
        for item in decoded["alerts"]:
            assert item["link"] in ours | {None}


@pytest.mark.parametrize("value", PAYLOADS, ids=range(len(PAYLOADS)))
def test_fixed_payloads_through_every_alert_medium(value: str) -> None:
    _check_alert_media(value)


@PROPERTY
@given(value=hostile_text)
def test_any_text_through_every_alert_medium(value: str) -> None:
    _check_alert_media(value)


# -- the CLI's own printing, chart labels, graph files --------------------------------------
@PROPERTY
@given(value=hostile_text)
def test_cli_status_alerts_and_tag_printing(value: str) -> None:
    from monitor.cli.alerts import _dump
    from monitor.escape import one_line as terminal_text
    from monitor.cli.collect import _clean
    from monitor.reports.charts import _label
    from monitor.reports.spread import _xml_safe

    for text in (_clean(value), terminal_text(value), _label(value), _xml_safe(value), one_line(value),
                 terminal(value)):
        _terminal_safe(text)
    dumped = _dump({"title": value, "details": {value: [value]}})
    _terminal_safe(dumped)
    assert json.loads(dumped)["title"] == value
    dumped = json_dumps({"title": value})
    assert json.loads(dumped)["title"] == value


def test_status_json_and_table_escape_a_right_to_left_title(tmp_path: Path) -> None:
    """`monitor status` over a real database whose channel title carries U+202E and an escape sequence."""
    import asyncio

    from click.testing import CliRunner

    from monitor.cli import main
    from monitor.models import Channel, ChannelRef
    from monitor.store.sqlite import SQLiteStore

    title = "Новости \u202eexe.txt\u202c \x1b]0;owned\x07\x1b[31m \u2067x\u2069"

    async def build() -> None:
        store = SQLiteStore(tmp_path / "monitor.db")
        await store.open()
        try:
            now = datetime.now(UTC)
            await store.add_watch(ChannelRef(key="ozod_sado", username="ozod_sado"), at=now)
            await store.set_resolved("ozod_sado", Channel(id=1234, username="ozod_sado", title=title), at=now)
        finally:
            await store.close()

    asyncio.run(build())
    config = tmp_path / "monitor.toml"
    config.write_text('[monitor]\ndatabase = "monitor.db"\n[[channels]]\nhandle = "@ozod_sado"\n', "utf-8")
    env = {"MONITOR_API_ID": "12345", "MONITOR_API_HASH": "0123456789abcdef0123456789abcdef"}
    result = CliRunner().invoke(main, ["status", "--config", str(config), "--json"], env=env)
    assert result.exit_code in (0, 1), result.output  # 1: no heartbeat, as a health check should say
    out = result.stdout
    _terminal_safe(out)
    assert json.loads(out)["channels"][0]["title"] == title  # escaped, yet the exact title
    result = CliRunner().invoke(main, ["status", "--config", str(config)], env=env)
    _terminal_safe(result.stdout)
