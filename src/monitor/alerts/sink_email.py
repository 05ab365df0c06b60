"""E-mail sink over SMTP (aiosmtplib): a plain-text body with an escaped HTML alternative.

The Message-ID is derived from the delivery id, so a resend after a crash carries
the same id and mail systems that de-duplicate on it show one message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from monitor.alerts.render import html_many, plain_many, subject
from monitor.alerts.sinks import DigestPeriod, PermanentDeliveryError, delivery_id
from monitor.errors import DeliveryError
from monitor.models import Alert
from monitor.redact import redact


class EmailSink:
    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        subject_prefix: str = "[monitor]",
        ca_file: str | None = None,
        timeout: float = 10.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = tuple(recipients)
        self.security = security
        self.subject_prefix = subject_prefix
        self.timeout = timeout
        self.ca_file = ca_file
        self._username = username
        self._password = password
        self._now = now

    def message(self, alerts: Sequence[Alert], period: DigestPeriod | None = None) -> EmailMessage:
        span = period.as_tuple() if period else None
        msg = EmailMessage()
        msg["Subject"] = subject(alerts, self.subject_prefix)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = format_datetime(self._now())
        domain = self.sender.rpartition("@")[2] or "monitor.invalid"
        token = hashlib.sha256(delivery_id(self.name, alerts).encode()).hexdigest()[:32]
        msg["Message-ID"] = f"<{token}@{domain}>"
        msg["X-Monitor-Delivery"] = delivery_id(self.name, alerts)
        msg.set_content(plain_many(alerts, span))
        msg.add_alternative(html_many(alerts, span), subtype="html")
        return msg

    async def send(self, alerts: Sequence[Alert], *, period: DigestPeriod | None = None) -> None:
        msg = self.message(alerts, period)
        try:
            await aiosmtplib.send(
                msg,
                hostname=self.host,
                port=self.port,
                username=self._username,
                password=self._password,
                use_tls=self.security == "ssl",
                start_tls=self.security == "starttls",
                cert_bundle=self.ca_file,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"email {self.name}: recipients refused: {exc}") from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise PermanentDeliveryError(f"email {self.name}: authentication failed ({exc.code})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            error = PermanentDeliveryError if 500 <= exc.code < 600 else DeliveryError
            raise error(f"email {self.name}: SMTP {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"email {self.name}: {type(exc).__name__}: {redact(str(exc))}") from exc


__all__ = ["EmailSink"]
