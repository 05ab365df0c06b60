"""The log sink: alerts as structured log events, for the daemon's own log (and the last resort)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


from monitor.alerts.render import plain, post_link, untrusted
from monitor.alerts.sinks.base import DigestPeriod, Option, SinkKind
from monitor.models import Alert
from monitor.logger import get_logger


class LogSink:
    """One ``alert`` event per alert; text is cleaned so a console renderer cannot be driven by ESC codes."""

    def __init__(self, name: str = "log", *, level: str = "warning", logger: object | None = None) -> None:
        self.name = name
        self.level = level
        self._log = logger if logger is not None else get_logger("monitor.alerts")

    async def send(self, alerts: Sequence[Alert], *, period: DigestPeriod | None = None) -> None:
        emit = getattr(self._log, self.level)
        for alert in alerts:
            emit(
                "alert",
                sink=self.name,
                alert_id=alert.id,
                rule=untrusted(alert.rule, 80),
                kind=alert.kind,
                summary=untrusted(alert.summary, 300),
                link=post_link(alert),
                digest=f"{period.start.isoformat()}/{period.end.isoformat()}" if period else None,
                text=plain(alert),
            )


def _build(name: str, options: Mapping[str, Any], env: Mapping[str, str], where: str) -> LogSink:
    return LogSink(name, level=str(options.get("level", "warning")))


KIND = SinkKind(
    options={"level": Option((str,), choices=("info", "warning", "error"), doc="log level (default warning)")},
    build=_build,
)


__all__ = ["LogSink"]
