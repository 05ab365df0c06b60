"""Logging setup: the only module that configures logs (structlog over the standard library).

JSON lines when stderr is not a terminal (Docker, systemd, files: machine-readable,
one event per line), a readable console renderer on a terminal. Libraries that
log through the standard ``logging`` module (Telethon, APScheduler, aiosqlite)
go through the same renderer, so one process writes one format.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

_NOISY = {"telethon": logging.WARNING, "apscheduler": logging.WARNING, "aiosqlite": logging.WARNING}


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
        renderer = structlog.dev.ConsoleRenderer(colors=_isatty(stream))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, lvl in _NOISY.items():
        logging.getLogger(name).setLevel(max(lvl, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "monitor") -> Any:
    return structlog.get_logger(name)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ["configure", "get_logger"]
