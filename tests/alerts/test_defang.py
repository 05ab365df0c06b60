"""Defanging for analysts who click: each trick a post can play, in each medium that shows alerts.

Bare domains and Markdown links must not be clickable, team mentions must not notify,
right-to-left overrides must not reorder what is read, and the JSON webhook must carry no
raw control characters.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from monitor.alerts import render
from monitor.alerts.sinks.email import EmailSink
from monitor.alerts.sinks.webhook import WebhookSink
from monitor.models import Alert

BARE = "evil-login.example.com/reset"
MARKDOWN = "[click me](http://evil.example)"
MENTIONS = "@channel @here @all @everyone"
RLO = "invoice\u202efdp.exe"
CONTROLS = "a\x1b[31mb\x00c\x85d\x9b2Je\u2066f\u2069"
POST = "https://t.me/ozod_sado/101"


def alert(text: str) -> Alert:
    return Alert(
        id=1, rule="r", kind="match", fired_at=datetime(2026, 3, 14, 9, 0, tzinfo=UTC), dedup_key="r:1",
        summary=f"post: {text}",
        details={"why": f"named in {text}", "terms": [{"term": text, "context": text}], "forwarded_from": text},
        channel_id=1234, message_id=101, channel_username="ozod_sado",
    )


def _email(text: str) -> tuple[str, str]:
    msg = EmailSink("m", host="127.0.0.1", port=25, sender="m@example.org", recipients=["a@example.org"]).message(
        [alert(text)]
    )
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def _media(text: str) -> dict[str, str]:
    plain, html = _email(text)
    slack = render.slack_payload([alert(text)])
    return {
        "telegram": "\n".join(render.telegram_messages([alert(text)])),
        "slack": json.dumps(slack["blocks"], ensure_ascii=False),
        "mattermost": str(slack["text"]),
        "email-plain": plain,
        "email-html": html,
        "webhook-text": json.loads(WebhookSink("h", url="http://127.0.0.1:9/", secret="s").body([alert(text)]))[
            "text"
        ],
        "log": render.plain(alert(text)),
    }


MEDIA = ["telegram", "slack", "mattermost", "email-plain", "email-html", "webhook-text", "log"]


@pytest.mark.parametrize("medium", MEDIA)
def test_bare_domains_are_defanged(medium: str) -> None:
    out = _media(BARE)[medium]
    assert "evil-login.example.com" not in out.replace("\u200b", "")
    assert "evil-login[.]example[.]com/reset" in out.replace("\u200b", "")


@pytest.mark.parametrize("medium", MEDIA)
def test_markdown_links_are_broken_and_defanged(medium: str) -> None:
    out = _media(MARKDOWN)[medium].replace("\u200b", "")
    assert "](" not in out and "http://evil.example" not in out
    assert "hxxp://evil[.]example" in out
    assert re.findall(r"https?://[^\s\"'<>|]+", out) == [POST] * len(re.findall(r"https?://", out))


@pytest.mark.parametrize("medium", ["slack", "mattermost"])
def test_team_mentions_notify_nobody_in_slack_and_mattermost(medium: str) -> None:
    out = _media(MENTIONS)[medium]
    assert not re.search(r"(?i)@(channel|here|all|everyone)\b", out)
    assert "@\u2060channel" in out and "@\u2060here" in out and "@\u2060all" in out


@pytest.mark.parametrize("medium", MEDIA)
def test_right_to_left_overrides_do_not_reach_any_medium(medium: str) -> None:
    out = _media(RLO)[medium]
    assert "\u202e" not in out and "\\u202e" not in out
    assert "invoicefdp[.]exe" in out.replace("\u200b", "")  # the text as stored, in logical order


def test_json_webhook_summary_and_details_carry_no_control_characters() -> None:
    body = WebhookSink("h", url="http://127.0.0.1:9/", secret="s").body([alert(CONTROLS)])
    raw = body.decode("utf-8")
    for bad in ("\x1b", "\\u001b", "\x00", "\\u0000", "\x85", "\x9b", "\u2066", "\u2069"):
        assert bad not in raw, repr(bad)
    item = json.loads(body)["alerts"][0]
    assert item["summary"] == "post: abcdef" and item["details"]["forwarded_from"] == "abcdef"
    assert item["details"]["terms"] == [{"term": "abcdef", "context": "abcdef"}]


def test_terminal_alert_list_drops_what_would_drive_the_terminal() -> None:
    from monitor.escape import one_line as terminal_text

    out = terminal_text(f"{CONTROLS} {RLO}")
    assert out == "abcdef invoicefdp.exe"
