"""How a read-only command opens a SQLite file: ``mode=ro``, and ``immutable=1`` only where that is safe.

Why: a WAL database cannot be read without its ``-shm`` index file, which SQLite creates next to the
database on first open. On a read-only mount or directory (a container's read-only volume, a copy on
a DVD) that file cannot be created, and ``mode=ro`` fails with "unable to open database file".
SQLite's ``immutable=1`` reads the file without the index and without any locking, which is exact
only when nothing is in the ``-wal`` file (its pages would be ignored) and nothing writes meanwhile.
So it is used only when: the directory is not writable (we cannot create ``-shm``), there is no
``-shm`` (with one, ``mode=ro`` works and sees the writers), and the ``-wal`` is missing or empty (a
writer keeps a non-empty ``-wal`` and a ``-shm``; a cleanly closed database has neither). Otherwise
the error says what to do. A rollback-journal database needs no side file and opens with ``mode=ro``.
"""

from __future__ import annotations

import os
from pathlib import Path

from monitor.errors import StoreError

WAL_HEADER_OFFSET = 18  # bytes 18 and 19 of the file header: 2 for a WAL database, 1 for a rollback journal


def is_wal(path: Path) -> bool:
    """Whether the database file's header says WAL (without opening it, so nothing is created)."""
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except OSError:
        return False
    return len(header) == 100 and header[:16] == b"SQLite format 3\x00" and header[WAL_HEADER_OFFSET] == 2


def read_only_uri(path: Path) -> str:
    """The URI a read-only connection opens ``path`` with; StoreError when no read-only open can work."""
    base = f"{path.resolve().as_uri()}?mode=ro"
    if not is_wal(path):
        return base
    shm, wal = Path(f"{path}-shm"), Path(f"{path}-wal")
    if shm.exists() or os.access(path.parent, os.W_OK):
        return base  # SQLite reads an existing -shm (even a read-only one) or creates it
    try:
        pending = wal.stat().st_size
    except FileNotFoundError:
        pending = 0
    if pending == 0:
        return base + "&immutable=1"
    raise StoreError(
        f"cannot open database {path} read-only: it is in WAL mode with changes in {wal.name} and no"
        f" {shm.name}, which SQLite must create to read them, but {path.parent} is read-only; open it once"
        " where it is writable (monitor db check, or sqlite3 with PRAGMA wal_checkpoint(TRUNCATE)) or mount"
        " the directory read-write"
    )
