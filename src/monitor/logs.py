"""Logging setup: the only module that configures logs (structlog over the standard library).

JSON lines when stderr is not a terminal (Docker, systemd, files: machine-readable,
one event per line), a readable console renderer on a terminal. Libraries that
log through the standard ``logging`` module (Telethon, APScheduler, aiosqlite)
go through the same renderer, so one process writes one format.

Secrets never reach a log line: the HTTP client's per-request lines (which carry the
Bot API token and webhook URLs) are quieted to WARNING, every structlog event passes
``redact_event``, and every rendered line, stdlib records and tracebacks included,
passes ``monitor.redact.redact`` in the formatter (docs/operations.md, "Secrets and logs").
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from monitor import logger
from monitor.logger import structlog
from monitor.redact import redact

_NOISY = {
    "telethon": logging.WARNING,
    "apscheduler": logging.WARNING,
    "aiosqlite": logging.WARNING,
    # one INFO line per request, URL included: the Bot API token and webhook URLs are in it
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
}


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(v) for v in value)
    if isinstance(value, BaseException):
        return value  # rendered by format_exc_info / the console renderer, then redacted as text
    return value


def redact_event(_logger: Any, _method: str, event_dict: Any) -> Any:
    """structlog processor: mask known secrets and secret-shaped URL parts in every string value."""
    return {key: _redact_value(value) for key, value in event_dict.items()}


class RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """The last step before a line is written: the rendered text itself is redacted, so a secret
    inside a traceback, a repr or a third-party message is masked too."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingFilter(logging.Filter):
    """For stdlib handlers that monitor did not install: masks the record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def configure(fmt: str = "auto", *, level: str | int = "INFO", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging to ``stream`` (stderr) as JSON or console lines.

    ``fmt`` is "auto" (JSON unless ``stream`` is a TTY), "json" or "console".
    Safe to call more than once (the CLI calls it, then the daemon re-calls it with the config's format).
    """
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if _isatty(stream) else "json"
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        timestamper,
    ]
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
        shared.append(structlog.processors.format_exc_info)
    else:
        colors = _isatty(stream)
        renderer = structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=_console_tracebacks(colors))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        RedactingFormatter(
            foreign_pre_chain=[*shared, redact_event],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, lvl in _NOISY.items():
        logging.getLogger(name).setLevel(max(lvl, root.level))
    structlog.configure(
        processors=[*shared, redact_event, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _console_tracebacks(colors: bool) -> Any:
    """structlog's default for a console: rich's tracebacks (in colour on a terminal), rich loaded now."""
    dev: Any = structlog.dev
    try:
        import rich
        from rich.console import Console
        from rich.traceback import Traceback
    except ImportError:  # no rich: structlog's own fallback
        return dev.default_exception_formatter if colors else dev.default_monochrome_exception_formatter
    # structlog.dev was imported without rich (monitor.logger): give it the names its formatter uses
    dev.rich, dev.Console, dev.Traceback = rich, Console, Traceback
    return dev.RichTracebackFormatter() if colors else dev.RichTracebackFormatter(color_system=None)


get_logger = logger.get_logger


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ["RedactingFilter", "RedactingFormatter", "configure", "get_logger", "redact_event"]
