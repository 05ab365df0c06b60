"""Rendering, sink validation and each sink against a real server on loopback (HTTP, SMTP, fake Bot API)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from monitor.alerts import render
from monitor.alerts.sinks.email import EmailSink
from monitor.alerts.sinks.log import LogSink
from monitor.alerts.sinks.telegram import TelegramBotSink
from monitor.alerts.sinks.webhook import WebhookSink, verify_signature
from monitor.alerts.sinks import (
    DigestPeriod,
    PermanentDeliveryError,
    RetryAfter,
    Sink,
    build_sink,
    validate_sink,
)
from monitor.errors import ConfigError, DeliveryError
from monitor.models import Alert

from alerts.delivery_servers import Authenticator, LoopbackHTTP, Mailbox, Request, free_port, smtp_controller

FIRED = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
EVIL = (
    "\x1b[31mred\x1b[0m <script>alert(1)</script> [click](https://evil.example/x)"
    " <https://evil.example|bank> <!channel> \u202egnp.exe & t.me/fake"
)


def make_alert(id: int = 1, **kw: object) -> Alert:
    base: dict[str, object] = {
        "id": id,
        "rule": "iskp-mentions",
        "kind": "match",
        "fired_at": FIRED,
        "dedup_key": f"iskp-mentions:{id}",
        "summary": f"ISKP named in @ozod_sado post {id}: {EVIL}",
        "details": {
            "matches": [
                {"term": "ИГИЛ-Хуросон", "canonical": "ISKP", "context": f"... {EVIL} ...", "rule": "alias"}
            ],
            "count": 14,
            "baseline": 3.5,
            "threshold": 8,
        },
        "channel_id": 1234567,
        "message_id": 100 + id,
        "channel_username": "ozod_sado",
        "link": None,
    }
    base.update(kw)
    return Alert(**base)  # type: ignore[arg-type]


# -- render ---------------------------------------------------------------------------------
def test_clean_strips_terminal_controls_bidi_and_invisibles() -> None:
    text = render.clean("a\x1b[2Jb\x07c\u202ed\u200be\x9bf\r\ng\x00h")
    assert text == "abcde gh"  # the whole CSI sequences go (ESC [ 2 J, and C1 CSI "f"), not just ESC
    assert not any(ch in text for ch in "\x1b\x07\u202e\u200b\x9b\x00\r\n")


def test_plain_says_rule_why_counts_and_link() -> None:
    text = render.plain(make_alert())
    assert "rule: iskp-mentions (match)" in text
    assert "matched: ИГИЛ-Хуросон -> ISKP [alias]" in text
    assert "counts: count 14, baseline 3.5, threshold 8" in text
    assert "post: https://t.me/ozod_sado/101" in text
    assert "\x1b" not in text and "\u202e" not in text
    # links in the post text are defanged; ours is the only live one
    assert re.findall(r"https?://\S+", text) == ["https://t.me/ozod_sado/101"]
    assert "hxxps://evil[.]example" in text and "t[.]me/fake" in text


def test_post_link_is_rebuilt_when_the_given_one_is_not_a_post_link() -> None:
    assert render.post_link(make_alert(link="javascript:alert(1)")) == "https://t.me/ozod_sado/101"
    assert render.post_link(make_alert(channel_username=None)) == "https://t.me/c/1234567/101"
    assert render.post_link(make_alert(channel_username="bad name<")) == "https://t.me/c/1234567/101"
    assert render.post_link(make_alert(message_id=None)) is None


def test_html_escapes_everything_the_post_wrote() -> None:
    body = render.html_many([make_alert()])
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert '<a href="https://t.me/ozod_sado/101">' in body
    assert body.count("<a ") == 1


def test_slack_text_has_no_link_mention_or_markdown_link_from_the_post() -> None:
    payload = render.slack_payload([make_alert()])
    text = str(payload["text"])
    links = re.findall(r"<([^>]*)>", text)
    assert links == ["https://t.me/ozod_sado/101|open post"]  # our link is the only <...> in the text
    assert "<!channel>" not in text and "&lt;!\u2060channel&gt;" in text
    assert "](" not in text  # [label](url) broken by a zero-width space
    assert "\x1b" not in text
    assert payload["blocks"] and all(b["text"]["type"] == "mrkdwn" for b in payload["blocks"])  # type: ignore[index]


def test_telegram_messages_split_between_alerts_under_the_limit() -> None:
    alerts = [make_alert(i) for i in range(1, 31)]
    period = (datetime(2026, 3, 14, 9, tzinfo=UTC), datetime(2026, 3, 14, 10, tzinfo=UTC))
    messages = render.telegram_messages(alerts, period)
    assert len(messages) > 1
    assert all(len(m) <= render.TELEGRAM_LIMIT for m in messages)
    joined = "\n".join(messages)
    for i in range(1, 31):
        assert f"https://t.me/ozod_sado/{100 + i}" in joined
    # every message is balanced HTML (never cut inside a tag)
    for m in messages:
        assert m.count("<b>") == m.count("</b>") and m.count("<a ") == m.count("</a>")


# -- validation and construction --------------------------------------------------------------
def test_validate_sink_reports_every_problem_with_where() -> None:
    problems = validate_sink(
        "webhook",
        {"name": "h", "kind": "webhook", "url": "ftp://x", "format": "xml", "tiemout": 3},
        "alerts.sinks[1]",
    )
    wheres = {p.where for p in problems}
    assert wheres == {
        "alerts.sinks[1].url",
        "alerts.sinks[1].format",
        "alerts.sinks[1].tiemout",
        "alerts.sinks[1].secret_env",
    }
    assert validate_sink("pager", {}, "s")[0].where == "s.kind"
    email = validate_sink("email", {"host": "h", "from": "nobody", "to": ["a@b.c", "bad"]}, "e")
    assert {p.where for p in email} == {"e.from", "e.to[1]"}
    assert validate_sink("log", {"level": "warning"}, "l") == []


def test_telegram_sink_refuses_a_watched_channel_as_alert_chat() -> None:
    opts = {"token_env": "BOT", "chat_id": "@Ozod_Sado"}
    assert validate_sink("telegram", opts, "t", watched={"ozod_sado"})[0].where == "t.chat_id"
    assert validate_sink("telegram", {**opts, "chat_id": -1001234567}, "t", watched={"id:1234567"})
    assert validate_sink("telegram", {**opts, "chat_id": -100999}, "t", watched={"id:1234567"}) == []


def test_build_sink_needs_its_secrets_in_the_environment() -> None:
    with pytest.raises(ConfigError) as info:
        build_sink("hook", "webhook", {"url": "https://h.example/x", "secret_env": "HOOK_SECRET"}, {})
    assert "HOOK_SECRET" in str(info.value)
    sinks = [
        build_sink("hook", "webhook", {"url": "https://h.example/x", "secret_env": "S"}, {"S": "k"}),
        build_sink("mail", "email", {"host": "h", "from": "a@b.c", "to": ["d@e.f"]}, {}),
        build_sink("bot", "telegram", {"token_env": "T", "chat_id": -100}, {"T": "1:x"}),
        build_sink("log", "log", {}, {}),
    ]
    assert [s.name for s in sinks] == ["hook", "mail", "bot", "log"]
    assert all(isinstance(s, Sink) for s in sinks)


# -- webhook ----------------------------------------------------------------------------------
async def test_webhook_signs_the_exact_body_with_a_timestamp() -> None:
    async with LoopbackHTTP() as server:
        now = datetime.now(UTC)
        sink = WebhookSink("hook", url=server.url + "/in", secret="s3cret", now=lambda: now)
        await sink.send([make_alert(1)])
    [req] = server.requests
    assert req.method == "POST" and req.path == "/in"
    stamp = req.headers["x-monitor-timestamp"]
    assert stamp == str(int(now.timestamp()))
    expected = hmac.new(b"s3cret", stamp.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-monitor-signature"] == f"sha256={expected}"
    payload = req.json()
    assert payload["delivery_id"] == req.headers["x-monitor-delivery"]
    [item] = payload["alerts"]
    assert item["rule"] == "iskp-mentions" and item["link"] == "https://t.me/ozod_sado/101"
    assert item["details"]["count"] == 14
    assert "\x1b" not in item["text"]
    t = now.timestamp()
    assert verify_signature(
        "s3cret", timestamp=stamp, body=req.body, signature=req.headers["x-monitor-signature"], now=t
    )
    assert not verify_signature(
        "s3cret", timestamp=stamp, body=req.body + b" ", signature=req.headers["x-monitor-signature"], now=t
    )
    assert not verify_signature(
        "wrong", timestamp=stamp, body=req.body, signature=req.headers["x-monitor-signature"], now=t
    )
    assert not verify_signature(  # replayed ten minutes later
        "s3cret", timestamp=stamp, body=req.body, signature=req.headers["x-monitor-signature"], now=t + 600
    )


async def test_webhook_slack_format_is_escaped_mrkdwn() -> None:
    async with LoopbackHTTP() as server:
        sink = WebhookSink("slack", url=server.url, secret="k", format="slack")
        await sink.send([make_alert(1), make_alert(2)], period=DigestPeriod(FIRED, FIRED))
    payload = server.requests[0].json()
    assert set(payload) == {"text", "blocks"}
    assert "Digest" in payload["text"] and "2 alerts" in payload["text"]
    assert "<https://t.me/ozod_sado/102|open post>" in payload["text"]
    assert "<!channel>" not in payload["text"] and "<script>" not in payload["text"]


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (500, {}, DeliveryError),
        (404, {}, PermanentDeliveryError),
        (429, {"Retry-After": "120"}, RetryAfter),
        (408, {}, DeliveryError),
    ],
)
async def test_webhook_status_is_classified(
    status: int, headers: dict[str, str], error: type[Exception]
) -> None:
    async with LoopbackHTTP(lambda _: (status, headers, b"no")) as server:
        sink = WebhookSink("hook", url=server.url, secret="k")
        with pytest.raises(DeliveryError) as info:
            await sink.send([make_alert()])
    assert type(info.value) is error
    if error is RetryAfter:
        assert info.value.seconds == 120  # type: ignore[attr-defined]


async def test_webhook_that_never_answers_times_out() -> None:
    never = asyncio.Event()

    async def hang(_: Request) -> tuple[int, dict[str, str], bytes]:
        await never.wait()
        return 200, {}, b""

    async with LoopbackHTTP(hang) as server:
        sink = WebhookSink("hook", url=server.url, secret="k", timeout=0.2)
        with pytest.raises(DeliveryError, match="Timeout"):
            await sink.send([make_alert()])
        never.set()


async def test_webhook_to_a_closed_port_is_a_transient_error() -> None:
    async with LoopbackHTTP() as server:
        url = server.url
    sink = WebhookSink("hook", url=url, secret="k", timeout=1)
    with pytest.raises(DeliveryError) as info:
        await sink.send([make_alert()])
    assert not isinstance(info.value, PermanentDeliveryError)


# -- e-mail -----------------------------------------------------------------------------------
@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = smtp_controller(box)
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


async def test_email_arrives_with_subject_plain_and_escaped_html(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    sink = EmailSink(
        "mail",
        host="127.0.0.1",
        port=port,
        security="none",
        sender="monitor@example.org",
        recipients=["analyst@example.org", "lead@example.org"],
    )
    await sink.send([make_alert(7)])
    [(envelope, msg)] = box.messages
    assert envelope.mail_from == "monitor@example.org"
    assert sorted(envelope.rcpt_tos) == ["analyst@example.org", "lead@example.org"]
    assert msg["Subject"].startswith("[monitor] iskp-mentions: ISKP named in @ozod_sado post 7")
    assert "\x1b" not in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",)).get_content()
    assert "https://t.me/ozod_sado/107" in text and "matched: ИГИЛ-Хуросон -> ISKP" in text
    assert "<script>" not in html_part and "&lt;script&gt;" in html_part
    assert '<a href="https://t.me/ozod_sado/107">' in html_part
    assert msg["Message-ID"] == sink.message([make_alert(7)])["Message-ID"]  # stable across resends


async def test_email_digest_lists_every_alert(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    sink = EmailSink(
        "mail",
        host="127.0.0.1",
        port=port,
        security="none",
        sender="m@example.org",
        recipients=["a@example.org"],
    )
    period = DigestPeriod(datetime(2026, 3, 14, 9, tzinfo=UTC), datetime(2026, 3, 14, 10, tzinfo=UTC))
    await sink.send([make_alert(1), make_alert(2, rule="ja-mentions")], period=period)
    [(_, msg)] = box.messages
    assert msg["Subject"] == "[monitor] digest: 2 alerts (iskp-mentions x1, ja-mentions x1)"
    text = msg.get_body(("plain",)).get_content()
    assert "Digest 2026-03-14 09:00 - 2026-03-14 10:00 UTC: 2 alerts" in text
    assert "ozod_sado/101" in text and "ozod_sado/102" in text


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_email_login_and_refused_login() -> None:
    box = Mailbox()
    controller = smtp_controller(box, authenticator=Authenticator("alerts", "pw"))
    controller.start()
    try:
        common = {
            "host": "127.0.0.1",
            "port": controller.port,
            "security": "none",
            "sender": "m@example.org",
            "recipients": ["a@example.org"],
        }
        await EmailSink("mail", username="alerts", password="pw", **common).send([make_alert()])  # type: ignore[arg-type]
        assert len(box.messages) == 1
        with pytest.raises(PermanentDeliveryError, match="authentication"):
            await EmailSink("mail", username="alerts", password="nope", **common).send([make_alert()])  # type: ignore[arg-type]
        assert len(box.messages) == 1
    finally:
        controller.stop()


# -- Telegram Bot API -------------------------------------------------------------------------
def bot_api(token: str) -> LoopbackHTTP:
    def respond(req: Request) -> tuple[int, dict[str, str], bytes]:
        if req.path != f"/bot{token}/sendMessage":
            return 404, {}, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
        return 200, {}, json.dumps({"ok": True, "result": {"message_id": len(api.requests)}}).encode()

    api = LoopbackHTTP(respond)
    return api


async def test_telegram_sends_escaped_html_to_the_configured_chat_only() -> None:
    async with bot_api("123:ABC") as api:
        sink = TelegramBotSink("bot", token="123:ABC", chat_id=-1009876, base_url=api.url)
        await sink.send([make_alert(3, channel_id=555, channel_username="other_chan")])
    [req] = api.requests
    body = req.json()
    assert body["chat_id"] == -1009876  # not the alert's channel
    assert body["parse_mode"] == "HTML" and body["disable_web_page_preview"] is True
    text = body["text"]
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert '<a href="https://t.me/other_chan/103">' in text
    assert "\x1b" not in text and "\u202e" not in text


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests",
                "parameters": {"retry_after": 33},
            },
            RetryAfter,
        ),
        ({"ok": False, "error_code": 401, "description": "Unauthorized"}, PermanentDeliveryError),
        ({"ok": False, "error_code": 502, "description": "Bad Gateway"}, DeliveryError),
    ],
)
async def test_telegram_errors_are_classified_and_never_show_the_token(
    reply: dict[str, object], error: type[Exception]
) -> None:
    status = int(reply["error_code"])  # type: ignore[call-overload]
    async with LoopbackHTTP(lambda _: (status, {}, json.dumps(reply).encode())) as api:
        sink = TelegramBotSink("bot", token="999:SECRET", chat_id=-1, base_url=api.url)
        with pytest.raises(DeliveryError) as info:
            await sink.send([make_alert()])
    assert type(info.value) is error
    assert "SECRET" not in str(info.value)
    if error is RetryAfter:
        assert info.value.seconds == 33  # type: ignore[attr-defined]


async def test_telegram_unreachable_api_error_hides_the_token() -> None:
    async with LoopbackHTTP() as api:
        url = api.url
    sink = TelegramBotSink("bot", token="999:SECRET", chat_id=-1, base_url=url, timeout=1)
    with pytest.raises(DeliveryError) as info:
        await sink.send([make_alert()])
    assert "SECRET" not in str(info.value) and "SECRET" not in repr(info.value.__cause__)


# -- log --------------------------------------------------------------------------------------
async def test_log_sink_emits_one_clean_event_per_alert() -> None:
    events: list[tuple[str, dict[str, object]]] = []

    class Recorder:
        def warning(self, event: str, **kw: object) -> None:
            events.append((event, kw))

    await LogSink("log", logger=Recorder()).send([make_alert(1), make_alert(2)])
    assert [e for e, _ in events] == ["alert", "alert"]
    assert events[1][1]["link"] == "https://t.me/ozod_sado/102"
    assert all("\x1b" not in str(kw["text"]) for _, kw in events)


def test_engine_shaped_details_say_why_terms_and_counts() -> None:
    alert = make_alert(
        9,
        kind="spike",
        details={
            "rule": "ja-spike",
            "kind": "spike",
            "why": "12 posts of group JA in the last 1h against a weekly baseline: median 2, z 6.1 >= 4",
            "terms": [
                {
                    "kind": "group",
                    "canonical": "JA",
                    "as_written": "Жамоати <b>Ансоруллоҳ</b>",
                    "rule": "alias",
                    "context": "… Жамоати Ансоруллоҳ http://x.example …",
                }
            ],
            "counts": {"current": 12, "median": 2.0, "z": 6.1},
            "threshold": 4.0,
            "groups": ["JA"],
            "lang": "tg",
        },
    )
    text = render.plain(alert)
    assert "why: 12 posts of group JA in the last 1h" in text
    assert "matched: Жамоати <b>Ансоруллоҳ</b> -> JA [alias]" in text
    assert "hxxp://x[.]example" in text
    assert "counts: current 12, median 2, z 6.1, threshold 4" in text
    assert "lang: tg" in text and "groups:" not in text
    tg = render.telegram_one(alert)
    assert "&lt;b&gt;Ансоруллоҳ&lt;/b&gt;" in tg and "why: 12 posts" in tg
    assert "&lt;b&gt;Ансоруллоҳ&lt;/b&gt;" in render.html_one(alert)


def test_build_sinks_adds_the_builtin_log_sink_and_reports_all_missing_secrets() -> None:
    from monitor.alerts.sinks import build_sinks

    class Table:
        def __init__(self, name: str, kind: str, options: dict[str, object]) -> None:
            self.name, self.kind, self.options = name, kind, options

    tables = [
        Table("hook", "webhook", {"url": "https://h.example/x", "secret_env": "A"}),
        Table("bot", "telegram", {"token_env": "B", "chat_id": -100}),
    ]
    with pytest.raises(ConfigError) as info:
        build_sinks(tables, {})
    assert len(info.value.problems) == 2
    sinks = build_sinks(tables, {"A": "x", "B": "1:y"})
    assert sorted(sinks) == ["bot", "hook", "log"]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
async def test_email_over_tls_verifies_the_server(tls_files: tuple[str, str], security: str) -> None:
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    tls = (
        {"tls_context": context, "require_starttls": True}
        if security == "starttls"
        else {"ssl_context": context}
    )
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), **tls)
    controller.start()
    try:
        common = {
            "host": "127.0.0.1",
            "port": controller.port,
            "security": security,
            "sender": "m@example.org",
            "recipients": ["a@example.org"],
        }
        await EmailSink("mail", ca_file=cert, **common).send([make_alert()])  # type: ignore[arg-type]
        assert len(box.messages) == 1
        with pytest.raises(DeliveryError):  # without our CA the self-signed server is refused
            await EmailSink("mail", **common).send([make_alert()])  # type: ignore[arg-type]
        assert len(box.messages) == 1
    finally:
        controller.stop()


def test_slack_blocks_stay_under_the_section_limit_and_keep_the_link() -> None:
    many: dict[str, object] = {f"key{i}": "<" * 500 for i in range(8)}  # each '<' becomes '&lt;'
    many["counts"] = {f"c{i}": "<" * 100 for i in range(10)}
    alert = make_alert(4, details={**make_alert().details, **many})
    payload = render.slack_payload([alert])
    [block] = payload["blocks"]  # type: ignore[misc]
    text = block["text"]["text"]
    assert len(payload["text"]) > 3000 >= len(text)  # type: ignore[arg-type]
    assert text.endswith("<https://t.me/ozod_sado/104|open post>")


def test_an_oversized_alert_is_trimmed_by_whole_lines_for_telegram() -> None:
    many: dict[str, object] = {f"key{i}": "<" * 500 for i in range(8)}
    many["counts"] = {f"c{i}": "<" * 100 for i in range(10)}
    alert = make_alert(5, details={**make_alert().details, **many})
    assert len(render.telegram_one(alert)) > render.TELEGRAM_LIMIT
    [message] = render.telegram_messages([alert])
    assert len(message) <= render.TELEGRAM_LIMIT
    assert message.endswith('<a href="https://t.me/ozod_sado/105">https://t.me/ozod_sado/105</a>')
    assert message.count("<b>") == message.count("</b>")
