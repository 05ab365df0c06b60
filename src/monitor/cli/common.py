"""What every command shares: the error wrapper, the exit statuses, the config and database options.

Why one place: a user meets the same `error: ...` line and the same exit status whichever command
failed (0 ok, 1 runtime failure, 2 config or usage, 130 interrupted), and names a config (``-c/--config``)
and a database (``--db`` / ``MONITOR_DB``) the same way everywhere. Text from outside (post text,
channel titles, exception messages that quote them) goes through `monitor.escape`, the one sanitiser.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from monitor.errors import ConfigError, MonitorError, Problem
from monitor.escape import one_line

F = TypeVar("F", bound=Callable[..., Any])
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


def fail(message: object, code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``error: MESSAGE`` on one terminal-safe line to stderr and exit with ``code``."""
    click.echo(f"error: {one_line(message)}", err=True)
    sys.exit(code)


def friendly(func: F) -> F:
    """Turn monitor's errors into one line and an exit status; a traceback is for bugs only."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {one_line(problem)}", err=True)
            sys.exit(EXIT_CONFIG)
        except MonitorError as exc:  # StoreError, SourceError, ... : a runtime failure
            fail(exc)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except OSError as exc:
            fail(f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")
        except sqlite3.DatabaseError as exc:  # a damaged page met while reading, past what opening checks
            from monitor.cli.stores import database_error

            fail(database_error(exc))

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature, mypy cannot see it


config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default: $MONITOR_CONFIG or ./monitor.toml).",
)


def database_option(func: F) -> F:
    """``--db URL`` (a SQLite file, sqlite:///path or postgresql://...), passed on as ``database``.

    ``--database`` is kept as a hidden alias of ``--db`` so older scripts keep working."""
    func = click.option("--database", "database_alias", default=None, hidden=True)(func)
    func = click.option(
        "--db",
        "database",
        default=None,
        help="Database: a SQLite file, sqlite:///path or postgresql://... (default: $MONITOR_DB, else the config's).",
    )(func)

    @functools.wraps(func)
    def merged(*args: Any, database: str | None = None, database_alias: str | None = None, **kwargs: Any) -> Any:
        return func(*args, database=database or database_alias, **kwargs)

    return merged  # type: ignore[return-value]  # functools.wraps keeps the signature, mypy cannot see it


def parse_labels(values: Sequence[str]) -> dict[str, str]:
    """``--label key=value`` options (repeatable) as a dict; a malformed one is a ConfigError naming it."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(Problem("--label", f"{item!r} is not key=value"))
        out[key.strip()] = value.strip()
    return out


def chosen_database(database: str | None, config_path: Path | None) -> str | None:
    """The database named on the command line, else (when no config is named either) by the
    environment: ``MONITOR_DB``, or its old name ``MONITOR_DATABASE``; None means "the config's"."""
    if database:
        return database
    if config_path is not None:
        return None
    return os.environ.get("MONITOR_DB") or os.environ.get("MONITOR_DATABASE") or None
