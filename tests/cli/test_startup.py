"""Start-up: the compiled-tagger cache, the lazy command list, and `monitor tag` answering line by line."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import click
import pytest

from monitor import tagger_cache
from monitor.cli import LAZY_COMMANDS, load_command, main
from monitor.tagging.groups import GroupTagger, KeywordSpec

SAMPLES = [
    "ИГИЛ взял на себя ответственность за нападение",
    "Tolibonning vakillari Doha shahrida muzokara o'tkazdi",
    "Бойцы Исламского государства Хорасан и вербовка",
    "Weather in Dushanbe is sunny today",
]


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("group-tagger-*.pickle"))


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache" / "monitor"
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(folder))
    return folder


def test_built_once_then_loaded_with_the_same_tags_private_files(cache: Path) -> None:
    built = tagger_cache.cached_group_tagger()
    [path] = _files(cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = tagger_cache.cache_key((), ())
    loaded = tagger_cache._load(path, key)
    assert isinstance(loaded, GroupTagger) and loaded is not built
    assert [loaded.tag(t) for t in SAMPLES] == [built.tag(t) for t in SAMPLES]
    mtime = path.stat().st_mtime_ns
    again = tagger_cache.cached_group_tagger()
    assert path.stat().st_mtime_ns == mtime  # loaded, not rebuilt and rewritten
    assert [again.tag(t) for t in SAMPLES] == [built.tag(t) for t in SAMPLES]


def test_a_cold_cache_is_filled_by_a_child_process_and_loaded(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's path (build_apart): the child builds and writes the file, this process only loads it."""
    spec = KeywordSpec(term="вербовк", mode="prefix")
    assert tagger_cache._build_in_child([spec], ()) is True  # a real `python -m monitor.tagger_cache`
    [path] = _files(cache)
    loaded = tagger_cache._load(path, tagger_cache.cache_key((), [spec]))
    assert isinstance(loaded, GroupTagger)
    built_here: list[int] = []
    real_init = GroupTagger.__init__

    def counting_init(self: GroupTagger, *args: Any, **kwargs: Any) -> None:
        built_here.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(GroupTagger, "__init__", counting_init)
    path.unlink()
    daemon = tagger_cache.cached_group_tagger(keywords=[spec], build_apart=True)
    assert built_here == [] and _files(cache) == [path]  # built in the child, loaded here
    assert [daemon.tag(t) for t in SAMPLES] == [loaded.tag(t) for t in SAMPLES]


def test_a_failing_child_falls_back_to_building_here(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tagger_cache.sys, "executable", "/nonexistent/python")
    assert tagger_cache._build_in_child((), ()) is False
    tagger = tagger_cache.cached_group_tagger(build_apart=True)
    assert isinstance(tagger, GroupTagger) and len(_files(cache)) == 1  # built and stored in this process


def test_keywords_extra_lexicon_and_code_each_change_the_key(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text("", encoding="utf-8")
    base = tagger_cache.cache_key([extra], ())
    with_kw = tagger_cache.cache_key([extra], [KeywordSpec(term="вербовк", mode="prefix")])
    extra.write_text("# changed\n", encoding="utf-8")
    changed_lexicon = tagger_cache.cache_key([extra], ())
    monkeypatch.setattr(tagger_cache, "_code_digest", "0" * 64)  # as if a tagging source file changed
    changed_code = tagger_cache.cache_key([extra], ())
    assert len({base, with_kw, changed_lexicon, changed_code}) == 4
    # and a keyword set gets its own file and the keyword is really in the loaded tagger
    spec = KeywordSpec(term="вербовк", mode="prefix")
    tagger = tagger_cache.cached_group_tagger(keywords=[spec])
    loaded = tagger_cache.cached_group_tagger(keywords=[spec])
    assert loaded.tag(SAMPLES[2])[2] == tagger.tag(SAMPLES[2])[2] != ()


def test_pattern_keywords_survive_the_cache(cache: Path) -> None:
    spec = KeywordSpec(term=r"джихад\w*", mode="pattern")
    built = tagger_cache.cached_group_tagger(keywords=[spec])
    [path] = _files(cache)
    loaded = tagger_cache._load(path, tagger_cache.cache_key((), [spec]))
    assert isinstance(loaded, GroupTagger)
    text = "призывы к джихаду в канале"
    assert loaded.tag(text) == built.tag(text) and loaded.tag(text)[2]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign_key", "group_writable"])
def test_a_corrupt_foreign_or_unsafe_file_is_ignored_and_rebuilt(cache: Path, damage: str) -> None:
    reference = tagger_cache.cached_group_tagger()
    [path] = _files(cache)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(tagger_cache.MAGIC + b"x" * 64 + b"\n" + b"not a pickle")
    elif damage == "foreign_key":
        path.write_bytes(tagger_cache.MAGIC + b"f" * 64 + b"\n" + data[len(tagger_cache.MAGIC) + 65 :])
    else:
        path.chmod(0o664)
    key = tagger_cache.cache_key((), ())
    assert tagger_cache._load(path, key) is None
    rebuilt = tagger_cache.cached_group_tagger()
    assert [rebuilt.tag(t) for t in SAMPLES] == [reference.tag(t) for t in SAMPLES]
    assert isinstance(tagger_cache._load(path, key), GroupTagger)  # rewritten whole and private
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_shared_cache_folder_is_not_trusted(cache: Path) -> None:
    tagger_cache.cached_group_tagger()
    [path] = _files(cache)
    cache.chmod(0o777)
    try:
        assert tagger_cache._load(path, tagger_cache.cache_key((), ())) is None
    finally:
        cache.chmod(0o700)


def test_cache_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert tagger_cache.cache_dir() is None
    tagger_cache.cached_group_tagger()
    assert list(tmp_path.rglob("*.pickle")) == []


def test_default_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MONITOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tagger_cache.cache_dir() == tmp_path / "monitor"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert tagger_cache.cache_dir() == tmp_path / ".cache" / "monitor"


# -- the lazy command list ---------------------------------------------------------------------------


def test_the_lazy_table_is_exactly_the_real_commands_with_their_help() -> None:
    from monitor.cli import collect

    assert {c.name for c in collect.COMMANDS} <= set(LAZY_COMMANDS)
    for name, (_target, help_text) in LAZY_COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        for limit in (40, 60, 80, 120):
            assert command.get_short_help_str(limit) == click.Command(name, help=help_text).get_short_help_str(limit), name
    assert list(main.commands) == sorted(LAZY_COMMANDS)


def test_help_imports_no_command_module_and_no_heavy_library() -> None:
    probe = (
        "import sys\n"
        "from monitor.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('structlog', 'rich', 'numpy', 'matplotlib', 'pyarrow', 'telethon', 'httpx', 'monitor.cli.',"
        " 'monitor.tagging', 'monitor.store', 'monitor.daemon', 'monitor.models')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert re.search(r"\n  tag +Tag text from stdin", out)  # the column widens with the longest name
    assert out.strip().splitlines()[-1] == "LOADED []"


def test_tag_imports_no_daemon_report_or_alert_library() -> None:
    probe = (
        "import sys, io\n"
        "sys.stdin = io.TextIOWrapper(io.BytesIO(b'hello\\n'))\n"
        "from monitor.cli import main\n"
        "try:\n    main(['tag'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('structlog', 'rich', 'matplotlib', 'pyarrow', 'telethon', 'httpx', 'aiosqlite', 'apscheduler',"
        " 'monitor.daemon', 'monitor.store', 'monitor.alerts', 'monitor.reports',"
        " 'asyncio', 'monitor.settings', 'msgspec')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "LOADED []"


# -- `monitor tag` answers each line as it arrives ------------------------------------------------------


def _readline(stream, timeout: float = 120) -> str:  # type: ignore[no-untyped-def]
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()))
    reader.start()
    reader.join(timeout=timeout)
    assert got, "no answer"
    return got[0]


@pytest.mark.slow
def test_tag_answers_each_line_before_the_next_is_written() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "tag"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for text, group in [(SAMPLES[0], ["IS"]), (SAMPLES[1], ["TALIBAN"]), (SAMPLES[3], [])]:
            proc.stdin.write(text + "\n")
            proc.stdin.flush()
            assert json.loads(_readline(proc.stdout))["groups"] == group
    finally:
        proc.stdin.close()
        proc.stdout.read()
        proc.wait(timeout=60)
    assert proc.returncode == 0


@pytest.mark.slow
def test_an_oversized_line_gets_an_error_record_and_tagging_goes_on() -> None:
    from monitor.cli.tag import MAX_LINE_BYTES

    stdin = "ИГИЛ " * (MAX_LINE_BYTES // 5 + 10) + "\n" + SAMPLES[0] + "\n" + "б" * 10 + "\xff"
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "tag"], input=stdin.encode("utf-8", "surrogateescape"),
        capture_output=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(out) == 3
    assert out[0]["line"] == 1 and "longer than" in out[0]["error"]
    assert out[1]["groups"] == ["IS"]
    assert out[2]["lang"]  # the last line has no newline and ends in a stray byte: still answered
