"""Telegram Bot API sink: sendMessage with parse_mode=HTML to the ONE configured alert chat.

The chat comes from the config only; nothing in an alert can choose where it goes,
so an alert about a watched channel can never be posted into that channel. The
bot token is part of the URL, so error messages are built without the URL.
A digest longer than Telegram's 4096 characters goes out as several messages,
split between alerts; if a later one fails, the whole delivery is retried, so
the earlier parts can appear twice.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import httpx

from monitor.alerts.render import telegram_messages
from monitor.alerts.sinks.http_reuse import ReusedClient
from monitor.alerts.sinks import base
from monitor.alerts.sinks.base import DigestPeriod, PermanentDeliveryError, RetryAfter
from monitor.errors import DeliveryError, Problem
from monitor.identity import bare_channel_id, id_key
from monitor.models import Alert
from monitor.redact import redact


class TelegramBotSink:
    def __init__(
        self,
        name: str,
        *,
        token: str,
        chat_id: int | str,
        base_url: str = "https://api.telegram.org",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.chat_id = chat_id
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._token = token
        self._http = ReusedClient(timeout, transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _redact(self, text: str) -> str:
        return redact(text.replace(self._token, "<token>") if self._token else text)

    async def send(self, alerts: Sequence[Alert], *, period: DigestPeriod | None = None) -> None:
        url = f"{self.base_url}/bot{self._token}/sendMessage"
        client = await self._http.get()
        for text in telegram_messages(alerts, period.as_tuple() if period else None):
            payload = {
                "chat_id": self.chat_id,
                "text": text,
                "parse_mode": "HTML",
                "disable_web_page_preview": True,
            }
            try:
                response = await client.post(url, json=payload)
            except httpx.HTTPError as exc:
                raise DeliveryError(
                    f"telegram {self.name}: {type(exc).__name__}: {self._redact(str(exc))}"
                ) from None
            self._check(response)

    def _check(self, response: httpx.Response) -> None:
        try:
            data: Any = response.json()
        except ValueError:
            data = {}
        if response.status_code == 200 and isinstance(data, dict) and data.get("ok") is True:
            return
        code = (
            data.get("error_code", response.status_code) if isinstance(data, dict) else response.status_code
        )
        description = self._redact(str(data.get("description", ""))[:200]) if isinstance(data, dict) else ""
        message = f"telegram {self.name}: {code} {description}".rstrip()
        params = data.get("parameters") if isinstance(data, dict) else None
        if code == 429 and isinstance(params, dict) and isinstance(params.get("retry_after"), (int, float)):
            raise RetryAfter(message, float(params["retry_after"]))
        if code in (400, 401, 403, 404):  # bad request, bad token, bot kicked, wrong chat: permanent
            raise PermanentDeliveryError(message)
        raise DeliveryError(message)


_CHAT = re.compile(r"^(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,31})$")


def _chat_key(chat: str) -> set[str]:
    """The watch keys a Bot API chat id could stand for (@name -> name; -100<id> and <id> -> id:<id>)."""
    if chat.startswith("@"):
        return {chat[1:].lower(), chat[1:]}
    keys: set[str] = set()
    for text in (chat.removeprefix("-"), chat):  # <id>, and -100<id> as Bot API marks a channel
        bare = bare_channel_id(text)
        if bare is not None:
            keys.add(id_key(bare))
    return keys


def _check(options: Mapping[str, Any], where: str, watched: Collection[str]) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(options.get("base_url"), str):
        problems += base.check_url(options["base_url"], f"{where}.base_url")
    chat = options.get("chat_id")
    if isinstance(chat, (int, str)) and not isinstance(chat, bool):
        text = str(chat)
        if not _CHAT.match(text):
            problems.append(Problem(f"{where}.chat_id", f"must be a numeric chat id or @name, got {text!r}"))
        elif _chat_key(text) & set(watched):
            problems.append(
                Problem(f"{where}.chat_id", "is a watched channel; alerts go to a separate chat, never to a source")
            )
    return problems


def _build(name: str, options: Mapping[str, Any], env: Mapping[str, str], where: str) -> TelegramBotSink:
    token = base.env_value(env, options["token_env"], f"{where}.token_env")
    return TelegramBotSink(
        name,
        token=token,
        chat_id=options["chat_id"],
        base_url=options.get("base_url", "https://api.telegram.org"),
        timeout=float(options.get("timeout", 10)),
    )


KIND = base.SinkKind(
    options={
        "token_env": base.Option((str,), required=True, doc="env var holding the bot token"),
        "chat_id": base.Option((int, str), required=True, doc="the alert chat: numeric id or @name"),
        "base_url": base.Option((str,), doc="Bot API root (default https://api.telegram.org)"),
        "timeout": base.TIMEOUT,
    },
    build=_build,
    check=_check,
)


__all__ = ["TelegramBotSink"]
