"""The compiled group tagger, cached on disk so `monitor tag` and the daemon start in well under a second.

Building the group tagger (every alias's spellings and inflected forms into one
Aho-Corasick automaton) takes seconds; loading a pickled copy takes a fraction of
that. The tagger itself stays pure (tagging/ does no I/O): this module, in the
composition layer, decides when to build and when to load.

The cache file is keyed by a SHA-256 over everything the built object depends on:
the source files of the tagging package (code and the shipped lexicon, so any
code change invalidates it), the extra lexicon files' bytes, the analysts'
keywords, and the Python and library versions. A file whose key differs, that
is corrupt, truncated, not ours or readable by others is ignored and rebuilt.

Why it is safe to unpickle: the directory is created private (0700) and each
file 0600, written atomically (temporary file + rename); before loading, the
directory and the file must be owned by the current user and not writable by
group or others, and the file must start with this module's magic line and the
expected key. Pickle runs code, so nobody but the user may be able to write
there; anything else is refused and rebuilt.

Where: ``$MONITOR_CACHE_DIR`` if set (``off`` disables the cache), else
``$XDG_CACHE_HOME/monitor``, else ``~/.cache/monitor``.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.tagging.groups import GroupTagger, KeywordSpec

ENV = "MONITOR_CACHE_DIR"
MAGIC = b"monitor-group-tagger-cache 1\n"
KEEP_FILES = 4  # a daemon, `monitor tag` and a test config or two
_LIBRARIES = ("ahocorasick", "re2", "alifbo", "snowballstemmer")  # the modules a built tagger holds objects of
_code_digest: str | None = None
_malloc_trim: Any = None  # glibc's malloc_trim once looked up, False where there is none


def cache_dir() -> Path | None:
    """Where cache files live, or None when the cache is switched off."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "off", "none", "0") else Path(value)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "monitor"
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no password entry: no cache rather than one in the working folder
        return None
    return home / ".cache" / "monitor" if home.is_absolute() else None


def _tagging_code_digest() -> str:
    """SHA-256 over the tagging package's files (code, lexicon, tables), computed once per process."""
    global _code_digest
    if _code_digest is None:
        import monitor.tagging

        root = Path(monitor.tagging.__file__).parent
        h = hashlib.sha256()
        for path in sorted(root.rglob("*")):
            if "__pycache__" in path.parts or not path.is_file() or path.suffix in (".pyc", ".bin", ".gz"):
                continue  # the language model's data is not part of the group tagger
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
        _code_digest = h.hexdigest()
    return _code_digest


def _library_versions() -> str:
    """Python's version and, per library, where its module file is, its size and mtime: any upgrade or
    reinstall rewrites that file. Why not importlib.metadata: importing it costs ~30 ms at every start."""
    parts = [sys.version]
    for name in _LIBRARIES:
        try:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
            st = os.stat(origin) if origin else None
        except (ImportError, ValueError, OSError):
            origin, st = None, None
        parts.append(f"{name}={origin}:{st.st_size}:{st.st_mtime_ns}" if st is not None else f"{name}=?")
    return ";".join(parts)


def cache_key(lexicon_extra: Sequence[Path], keywords: Sequence[KeywordSpec]) -> str:
    """The key a cached tagger must carry; OSError if an extra lexicon file cannot be read."""
    h = hashlib.sha256()
    h.update(_tagging_code_digest().encode())
    h.update(_library_versions().encode())
    for path in lexicon_extra:
        h.update(b"\0extra\0" + str(path).encode() + b"\0" + Path(path).read_bytes())
    for spec in keywords:
        h.update(b"\0kw\0" + repr(spec).encode())
    return h.hexdigest()


def _private_enough(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _load(path: Path, key: str) -> Any:
    """The cached object, or None when the file is absent, foreign, unsafe or corrupt."""
    try:
        if not _private_enough(os.stat(path.parent)):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or not _private_enough(st) or st.st_mode & 0o077:
            return None
        if fh.read(len(MAGIC)) != MAGIC or fh.read(65) != key.encode() + b"\n":
            return None
        # The collector is paused while unpickling: the file makes ~100,000 objects, none of them garbage,
        # and the collections they would trigger cost a quarter of the load (issue 16, start-up).
        enabled = gc.isenabled()
        gc.disable()
        try:
            return pickle.load(fh)  # noqa: S301 - private, owner-only file with our key; see the docstring
        except Exception:  # noqa: BLE001 - any corrupt or truncated file is rebuilt, never trusted
            return None
        finally:
            if enabled:
                gc.enable()


def _store(path: Path, key: str, obj: Any) -> None:
    """Write atomically (temporary file, fsync, rename); any failure just leaves no cache."""
    try:
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an unpicklable tagger is still a working tagger
        return
    tmp = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(path.parent)
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(path.parent, 0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tagger-", suffix=".tmp")  # created 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + key.encode() + b"\n")
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError:
        return
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def cached_group_tagger(
    *, keywords: Sequence[KeywordSpec] = (), lexicon_extra: Sequence[Path] = (), build_apart: bool = False
) -> GroupTagger:
    """The group tagger for this lexicon and these keywords: loaded from the cache or built and cached.

    ``build_apart``: on a cold cache, build and store it in a child process, then load the file here.
    Why: building leaves the builder's intermediate structures in this process's high-water mark (about
    30 MB over a load from the cache); a long-running daemon should not carry that for its whole life
    because it happened to start first after an upgrade. Any failure of the child falls back to
    building here."""
    from monitor.tagging.groups import GroupTagger, load_lexicon

    folder = cache_dir()
    key = None
    if folder is not None:
        try:
            key = cache_key(lexicon_extra, keywords)
        except OSError:
            key = None  # an unreadable extra file: the build below reports it properly
    path = None if folder is None or key is None else folder / f"group-tagger-{key[:20]}.pickle"
    if path is not None and key is not None:
        cached = _load(path, key)
        if not isinstance(cached, GroupTagger) and build_apart and _build_in_child(keywords, lexicon_extra):
            cached = _load(path, key)
        if isinstance(cached, GroupTagger):
            release_free_memory()
            return cached
    tagger = GroupTagger(load_lexicon(extra=lexicon_extra), keywords)
    if path is not None and key is not None:
        _store(path, key, tagger)
        _prune(path)
    release_free_memory()
    return tagger


def _build_in_child(keywords: Sequence[KeywordSpec], lexicon_extra: Sequence[Path]) -> bool:
    """Run ``python -m monitor.tagger_cache`` to build and store the tagger; True when it exited 0.

    The arguments go over stdin as a pickle (the child is this same code, started by this process)."""
    import subprocess

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "monitor.tagger_cache"],
            input=pickle.dumps((tuple(keywords), tuple(lexicon_extra))),
            env=env, capture_output=True, timeout=600, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def release_free_memory() -> None:
    """Give the C allocator's free pages back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    Why: loading the tagger (unpickling, compiling the RE2 sets) leaves about 10 MB of freed blocks
    scattered in the C heap, which stay resident; everything the daemon allocates afterwards
    (the source, the channels' state) then comes on top of them (issue 16, memory). A few ms, once.
    """
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


def _prune(keep: Path) -> None:
    """Keep the few most recently written cache files (one per keyword set in use), delete older ones."""
    try:
        files = sorted(keep.parent.glob("group-tagger-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEEP_FILES:]:
            if old != keep:
                old.unlink()
    except OSError:
        pass


if __name__ == "__main__":  # the child of ``_build_in_child``: build, store, exit
    _keywords, _extra = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - written by our parent process
    cached_group_tagger(keywords=_keywords, lexicon_extra=_extra)
