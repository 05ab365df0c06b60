"""Secrets never reach a log line or an output: real deliveries through every sink to loopback
servers (webhook JSON and Slack-format, SMTP with a password via aiosmtpd, a Telegram Bot API
fake), with the process's logging set up as the daemon sets it up (DEBUG, JSON and console),
then every captured line and every recorded error searched for every secret."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from monitor import logs, redact
from monitor.alerts.config import SinkConfig
from monitor.alerts.delivery import Deliverer
from monitor.alerts.sinks import build_sinks, validate_sink
from monitor.clock import FrozenClock
from monitor.settings import load
from monitor.store.sqlite import SQLiteStore

from alerts.delivery_servers import Authenticator, LoopbackHTTP, Mailbox, Request, free_port, smtp_controller

T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
TOKEN = "7012345678:AAHfakeTokenForTestsOnly_abcdefghijklmno"
HMAC_SECRET = "hmac-shared-secret-value"
SMTP_PASSWORD = "smtp-pass-Xy7!q"
MATTERMOST_PATH = "/hooks/xk8gq4o1mfbd3ci9yb5n7uwqrh"
SLACK_PATH = "/services/T0ABCDEFG/B0HIJKLMN/abcdEFGHijklMNOPqrstUVWX"
API_HASH = "0123456789abcdef0123456789abcdef"
# the shape of a Telethon string session: "1" + URL-safe base64 of DC id, IPv4, port, 256-byte key
SESSION = "1" + base64.urlsafe_b64encode(bytes([2, 149, 154, 167, 51, 1, 187]) + bytes(range(256))).decode()
DB_PASSWORD = "pg-secret-pw-42"


@pytest.fixture
def captured() -> Iterator[list[io.StringIO]]:
    """Logging configured by monitor.logs at DEBUG into buffers (JSON, then console), restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    streams: list[io.StringIO] = []

    def use(fmt: str) -> io.StringIO:
        stream = io.StringIO()
        logs.configure(fmt, level="DEBUG", stream=stream)
        streams.append(stream)
        return stream

    use("json")
    yield streams
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    structlog.reset_defaults()
    redact.forget_all()


async def _add(store: SQLiteStore, n: int, sinks: list[str]) -> None:
    fired = int(T0.timestamp())
    async with store.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO alerts (rule, kind, dedup_key, fired_at, summary, details, channel_id, message_id,"
            " channel_username, link) VALUES ('iskp', 'match', ?, ?, ?, '{}', 1234, ?, 'ozod_sado', NULL)"
            " RETURNING id",
            (f"iskp:{n}", fired, f"post {n} names ISKP", n),
        )
        row = await cursor.fetchone()
        assert row is not None
        for sink in sinks:
            await conn.execute(
                "INSERT INTO deliveries (alert_id, sink, next_attempt_at) VALUES (?, ?, ?)", (row[0], sink, fired)
            )


def _bot_api(token: str) -> LoopbackHTTP:
    def respond(req: Request) -> tuple[int, dict[str, str], bytes]:
        if req.path != f"/bot{token}/sendMessage":
            return 404, {}, b'{"ok": false, "error_code": 404, "description": "Not Found"}'
        return 200, {}, json.dumps({"ok": True, "result": {"message_id": 1}}).encode()

    return LoopbackHTTP(respond)


def _secrets(hook_url: str, slack_url: str) -> list[str]:
    return [TOKEN, TOKEN.split(":", 1)[1], HMAC_SECRET, SMTP_PASSWORD, MATTERMOST_PATH, SLACK_PATH,
            hook_url, slack_url, API_HASH, SESSION, DB_PASSWORD]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_deliveries_through_every_sink_leave_no_secret_in_any_log_line(
    captured: list[io.StringIO], tmp_path: Path
) -> None:
    box = Mailbox()
    smtp = smtp_controller(box, authenticator=Authenticator("alerts", SMTP_PASSWORD))
    smtp.start()
    store = SQLiteStore(tmp_path / "monitor.db")
    await store.open()
    try:
        async with LoopbackHTTP() as hook, LoopbackHTTP() as slack, _bot_api(TOKEN) as bot:
            hook_url, slack_url = hook.url + MATTERMOST_PATH, slack.url + SLACK_PATH
            dead_url = f"http://127.0.0.1:{free_port()}{MATTERMOST_PATH}x"
            env = {"HOOK_SECRET": HMAC_SECRET, "SMTP_USER": "alerts", "SMTP_PASSWORD": SMTP_PASSWORD,
                   "BOT_TOKEN": TOKEN}
            tables = [
                SinkConfig(name="hook", kind="webhook", options={"url": hook_url, "secret_env": "HOOK_SECRET"}),
                SinkConfig(name="slack", kind="webhook",
                           options={"url": slack_url, "secret_env": "HOOK_SECRET", "format": "slack"}),
                SinkConfig(name="dead", kind="webhook",
                           options={"url": dead_url, "secret_env": "HOOK_SECRET", "timeout": 2}),
                SinkConfig(name="mail", kind="email", options={
                    "host": "127.0.0.1", "port": smtp.port, "security": "none", "allow_plaintext_auth": True,
                    "username_env": "SMTP_USER", "password_env": "SMTP_PASSWORD",
                    "from": "m@example.org", "to": ["a@example.org"]}),
                SinkConfig(name="bot", kind="telegram",
                           options={"token_env": "BOT_TOKEN", "chat_id": -1001234567890, "base_url": bot.url}),
                SinkConfig(name="badbot", kind="telegram",  # the fake answers 404 for another token's path
                           options={"token_env": "BOT_TOKEN", "chat_id": -1001234567890,
                                    "base_url": bot.url + "/x"}),
            ]
            sinks = build_sinks(tables, env)
            await _add(store, 1, ["hook", "slack", "dead", "mail", "bot", "badbot"])
            deliverer = Deliverer(store, sinks, FrozenClock(T0), send_timeout=10, jitter=0)
            report = await deliverer.run_once()
            logs.configure("console", level="DEBUG", stream=(console := io.StringIO()))
            captured.append(console)
            await _add(store, 2, ["hook", "bot", "badbot", "dead"])
            deliverer = Deliverer(store, sinks, FrozenClock(T0), send_timeout=10, jitter=0)
            second = await deliverer.run_once()
            await deliverer.aclose()
            # things a library or a crash could write, through both logging front ends
            logging.getLogger("some.library").info("POST %s failed", f"{bot.url}/bot{TOKEN}/sendMessage")
            structlog.get_logger("monitor.test").warning("sink config", url=slack_url, token=TOKEN)
            try:
                raise RuntimeError(f"cannot reach {hook_url} with {HMAC_SECRET}")
            except RuntimeError:
                logging.getLogger("monitor.test").exception("delivery crashed")
        # the deliveries really happened, so the logs had every chance to carry the secrets
        assert len(hook.requests) == 2 and len(slack.requests) == 1 and len(bot.requests) == 4
        assert len(box.messages) == 1
        assert report.delivered == 4 and second.delivered == 2 and report.errors and second.errors
        ledger = await store.query("SELECT last_error FROM deliveries WHERE last_error IS NOT NULL")
    finally:
        await store.close()
        smtp.stop()
    # a config with credentials and a PostgreSQL URL: loading it registers them too
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'[monitor]\ndatabase = "postgresql://monitor:{DB_PASSWORD}@127.0.0.1:5432/test"\n'
        '[[channels]]\nhandle = "@ozod_sado"\n', "utf-8")
    settings = load(config, env={"MONITOR_API_ID": "12345", "MONITOR_API_HASH": API_HASH, "MONITOR_SESSION": SESSION}, telegram=True)
    logging.getLogger("monitor.test").info("settings %r %s %s", settings.credentials, settings.database_url,
                                           f"{API_HASH} {SESSION}")
    text = "\n".join(s.getvalue() for s in captured)
    outputs = [text, *report.errors, *second.errors, *(r["last_error"] for r in ledger)]
    assert "sendMessage" in text and "delivery crashed" in text and "settings" in text  # lines were captured
    for secret in _secrets(hook_url, slack_url):
        for out in outputs:
            assert secret not in out, (secret, out[:2000])
    assert redact.MASK in text


def test_secret_shaped_url_parts_are_masked_even_when_not_configured() -> None:
    line = ("GET https://api.telegram.org/bot123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/getMe "
            "https://hooks.slack.com/services/T1/B2/abcdefghijklmnop "
            "https://chat.example.org/hooks/abcdefghijklmnopqrstuvwxyz "
            "postgresql://monitor:hunter22@db:5432/monitor")
    masked = redact.redact(line)
    for secret in ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "abcdefghijklmnop", "abcdefghijklmnopqrstuvwxyz", "hunter22"):
        assert secret not in masked
    assert "https://api.telegram.org/bot<redacted>/getMe" in masked
    assert "postgresql://monitor:***@db:5432/monitor" in masked


def test_smtp_password_without_tls_is_refused_unless_allowed() -> None:
    options = {"host": "mail.example.org", "security": "none", "username_env": "U", "password_env": "P",
               "from": "m@example.org", "to": ["a@example.org"]}
    problems = validate_sink("email", options, "alerts.sinks[mail]")
    assert [p.where for p in problems] == ["alerts.sinks[mail].security"]
    assert "clear text" in problems[0].message
    assert validate_sink("email", {**options, "allow_plaintext_auth": True}, "w") == []
    assert validate_sink("email", {**options, "security": "starttls"}, "w") == []
    unauthenticated = {k: v for k, v in options.items() if k not in ("username_env", "password_env")}
    assert validate_sink("email", unauthenticated, "w") == []
