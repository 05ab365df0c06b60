"""One `monitor run` per SQLite file, one process per Telegram session file: an OS file lock.

Why ``flock`` on a ``<file>.lock`` beside it: the kernel drops the lock when the holder dies
however it dies (kill -9 included), so a stale holder never blocks a restart and there is no pid
to check for liveness; the file holds the holder's pid and host only to name it in the refusal.
The lock file is never deleted (deleting it would let two processes lock two different files).
A PostgreSQL store takes many collectors (leases) and is not locked here.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from monitor.errors import MonitorError


class AlreadyRunning(MonitorError):
    """Another process holds the file this one needs for itself."""


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def holder(path: Path) -> str:
    """Who holds ``path``'s lock as its lock file says ("pid 123 on host"), or "unknown"."""
    try:
        pid, _, host = lock_path(path).read_text("utf-8").strip().partition(" ")
    except OSError:
        return "unknown"
    return f"pid {pid} on {host}" if pid.isdigit() else "unknown"


@contextlib.contextmanager
def exclusive(path: Path, what: str, advice: str) -> Iterator[None]:
    """Hold ``path``'s lock for the block, or raise AlreadyRunning naming the holder."""
    target = lock_path(path)
    try:
        fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise MonitorError(f"cannot create the lock file {target}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(f"{what} {path} is in use by another monitor run ({holder(path)}); {advice}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing drops the lock


@contextlib.contextmanager
def for_run(database_url: str, session_file: Path | None) -> Iterator[None]:
    """The locks `monitor run` holds: the SQLite file (one collector) and the session file (one process)."""
    from monitor.store import sqlite_path, url_scheme

    with contextlib.ExitStack() as stack:
        if url_scheme(database_url) == "sqlite":
            stack.enter_context(
                exclusive(
                    sqlite_path(database_url),
                    "the SQLite database",
                    "a SQLite file takes one collector (use PostgreSQL for several, docs/operations.md)",
                )
            )
        if session_file is not None:
            stack.enter_context(
                exclusive(
                    session_file,
                    "the Telegram session",
                    "one session must never be used by two processes at once (Telegram revokes a duplicated"
                    " auth key); give each collector its own account",
                )
            )
        yield


__all__ = ["AlreadyRunning", "exclusive", "for_run", "holder", "lock_path"]
