"""E-mail sink over SMTP (aiosmtplib): a plain-text body with an escaped HTML alternative.

The Message-ID is derived from the delivery id, so a resend after a crash carries
the same id and mail systems that de-duplicate on it show one message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from monitor.alerts.render import html_many, plain_many, subject
from monitor.alerts.sinks import base
from monitor.alerts.sinks.base import DigestPeriod, PermanentDeliveryError, delivery_id
from monitor.errors import DeliveryError, Problem
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


_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")


def _check(options: Mapping[str, Any], where: str, watched: Collection[str]) -> list[Problem]:
    problems: list[Problem] = []
    if ("username_env" in options) != ("password_env" in options):
        problems.append(Problem(where, "username_env and password_env go together"))
    if (
        "password_env" in options
        and options.get("security") == "none"
        and options.get("allow_plaintext_auth") is not True
    ):
        problems.append(
            Problem(
                f"{where}.security",
                'is "none" but a password is set: it would cross the network in clear text;'
                " use starttls or ssl (or set allow_plaintext_auth = true for a trusted local relay)",
            )
        )
    sender = options.get("from")
    if isinstance(sender, str) and not _ADDRESS.match(sender):
        problems.append(Problem(f"{where}.from", f"not an e-mail address: {sender!r}"))
    rcpts = options.get("to")
    if isinstance(rcpts, list):
        if not rcpts:
            problems.append(Problem(f"{where}.to", "needs at least one recipient"))
        for i, rcpt in enumerate(rcpts):
            if not isinstance(rcpt, str) or not _ADDRESS.match(rcpt):
                problems.append(Problem(f"{where}.to[{i}]", f"not an e-mail address: {rcpt!r}"))
    return problems


def _build(name: str, options: Mapping[str, Any], env: Mapping[str, str], where: str) -> EmailSink:
    security = options.get("security", "starttls")
    port = int(options.get("port", {"starttls": 587, "ssl": 465, "none": 25}[security]))
    username = password = None
    if "username_env" in options:
        username = base.env_value(env, options["username_env"], f"{where}.username_env", secret=False)
        password = base.env_value(env, options["password_env"], f"{where}.password_env")
    return EmailSink(
        name,
        host=options["host"],
        port=port,
        security=security,
        username=username,
        password=password,
        sender=options["from"],
        recipients=tuple(options["to"]),
        subject_prefix=options.get("subject_prefix", "[monitor]"),
        ca_file=options.get("ca_file"),
        timeout=float(options.get("timeout", 10)),
    )


KIND = base.SinkKind(
    options={
        "host": base.Option((str,), required=True, doc="SMTP server"),
        "port": base.Option((int,), doc="default 587 (starttls), 465 (ssl), 25 (none)"),
        "security": base.Option((str,), choices=("starttls", "ssl", "none"), doc="default starttls"),
        "username_env": base.Option((str,), doc="env var with the SMTP user name (optional)"),
        "password_env": base.Option((str,), doc="env var with the SMTP password (optional)"),
        "from": base.Option((str,), required=True, doc="sender address"),
        "to": base.Option((list,), required=True, doc="list of recipient addresses"),
        "subject_prefix": base.Option((str,), doc='default "[monitor]"'),
        "ca_file": base.Option((str,), doc="PEM bundle to verify the server with (a private CA); default: system CAs"),
        "allow_plaintext_auth": base.Option(
            (bool,), doc="send the password over a connection without TLS (default false: refused)"
        ),
        "timeout": base.TIMEOUT,
    },
    build=_build,
    check=_check,
)


__all__ = ["EmailSink"]
