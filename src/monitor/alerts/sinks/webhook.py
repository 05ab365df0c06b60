"""HTTP webhook sink: a JSON POST signed with HMAC-SHA256, or a Slack/Mattermost-compatible payload.

Signature scheme (what a receiver checks, see ``verify_signature``):

    X-Monitor-Timestamp: <unix seconds>
    X-Monitor-Signature: sha256=<hex HMAC-SHA256(secret, b"<timestamp>." + body)>
    X-Monitor-Delivery:  <stable delivery id; the same on a resend after a crash>

The timestamp is inside the signed material, so a captured request cannot be
replayed later than the receiver's tolerance; the body is signed byte for byte as
sent. Responses: 2xx delivered; 408, 425, 429 and 5xx retried (Retry-After honoured);
other statuses are permanent (a wrong URL or secret will not fix itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from monitor.alerts.sinks.http_reuse import ReusedClient
from monitor.alerts.render import plain, plain_many, post_link, slack_payload
from monitor.alerts.sinks import base
from monitor.alerts.sinks.base import DigestPeriod, PermanentDeliveryError, RetryAfter, delivery_id
from monitor.errors import DeliveryError, Problem
from monitor.escape import clean_data, one_line
from monitor.models import Alert
from monitor import redact as redaction
from monitor.redact import redact

SIGNATURE_HEADER = "X-Monitor-Signature"
TIMESTAMP_HEADER = "X-Monitor-Timestamp"
DELIVERY_HEADER = "X-Monitor-Delivery"
_RETRY_STATUSES = {408, 425, 429}


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify_signature(
    secret: str | bytes, *, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300
) -> bool:
    """What a receiver runs: constant-time compare, and refuse stale or future timestamps (replay)."""
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    if abs(now - moment) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, moment, body), signature)


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "rule": alert.rule,
        "kind": alert.kind,
        "fired_at": alert.fired_at.isoformat(),
        "dedup_key": one_line(alert.dedup_key),
        "summary": one_line(alert.summary),  # no control, bidi or escape characters in machine payloads
        "details": clean_data(dict(alert.details)),
        "channel_id": alert.channel_id,
        "channel_username": one_line(alert.channel_username) if alert.channel_username else None,
        "message_id": alert.message_id,
        "link": post_link(alert),
        "text": plain(alert),
    }


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


class WebhookSink:
    def __init__(
        self,
        name: str,
        *,
        url: str,
        secret: str,
        format: str = "json",
        timeout: float = 10.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.format = format
        self.timeout = timeout
        self._secret = secret
        self._now = now
        self._http = ReusedClient(timeout, transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    def body(self, alerts: Sequence[Alert], period: DigestPeriod | None = None) -> bytes:
        payload: dict[str, Any]
        if self.format == "slack":
            payload = slack_payload(alerts, period.as_tuple() if period else None)
        else:
            payload = {
                "version": 1,
                "sink": self.name,
                "delivery_id": delivery_id(self.name, alerts),
                "digest": {"start": period.start.isoformat(), "end": period.end.isoformat()}
                if period
                else None,
                "text": plain_many(alerts, period.as_tuple() if period else None),
                "alerts": [_alert_json(a) for a in alerts],
            }
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")

    async def send(self, alerts: Sequence[Alert], *, period: DigestPeriod | None = None) -> None:
        body = self.body(alerts, period)
        stamp = int(self._now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: sign(self._secret, stamp, body),
            DELIVERY_HEADER: delivery_id(self.name, alerts),
            "User-Agent": "monitor-alerts/1",
        }
        try:
            client = await self._http.get()
            response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:  # connect/read/write/pool timeouts and network errors
            raise DeliveryError(f"webhook {self.name}: {type(exc).__name__}: {redact(str(exc))}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        message = f"webhook {self.name}: HTTP {status}"
        if status == 429 or status == 503:
            wait = _retry_after(response)
            if wait is not None:
                raise RetryAfter(message, wait)
        if status >= 500 or status in _RETRY_STATUSES:
            raise DeliveryError(message)
        raise PermanentDeliveryError(message)


def _check(options: Mapping[str, Any], where: str, watched: Collection[str]) -> list[Problem]:
    url = options.get("url")
    return base.check_url(url, f"{where}.url") if isinstance(url, str) else []


def _build(name: str, options: Mapping[str, Any], env: Mapping[str, str], where: str) -> WebhookSink:
    secret = base.env_value(env, options["secret_env"], f"{where}.secret_env")
    redaction.register_url(options["url"])  # for Slack and Mattermost the URL is the secret
    return WebhookSink(
        name,
        url=options["url"],
        secret=secret,
        format=options.get("format", "json"),
        timeout=float(options.get("timeout", 10)),
    )


KIND = base.SinkKind(
    options={
        "url": base.Option((str,), required=True, doc="http(s) URL receiving a POST"),
        "secret_env": base.Option((str,), required=True, doc="env var holding the HMAC-SHA256 shared secret"),
        "format": base.Option((str,), choices=("json", "slack"), doc="json (default) | slack (Slack/Mattermost)"),
        "timeout": base.TIMEOUT,
    },
    build=_build,
    check=_check,
)


__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookSink",
    "sign",
    "verify_signature",
]
