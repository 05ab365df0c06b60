"""Shared pieces of the daemon tests: scenarios, a small deterministic tagger, a runner for subprocesses."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from monitor.models import Match
from monitor.store.sqlite import SQLiteStore
from monitor.tagging import Tagger

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SRC = REPO / "src"


class Guess(NamedTuple):
    lang: str
    script: str | None
    confidence: float


class ScriptLanguage:
    """A stand-in language stage: Cyrillic text is 'ru', Latin 'en'; enough to see tags flow through."""

    name = "script"
    version = "1"

    def __call__(self, text: str) -> Guess:
        cyr = sum(1 for ch in text if "\u0400" <= ch <= "\u04ff")
        lat = sum(1 for ch in text if ch.isascii() and ch.isalpha())
        if cyr == lat == 0:
            return Guess("und", None, 0.0)
        return Guess("ru", "Cyrl", 0.9) if cyr >= lat else Guess("en", "Latn", 0.9)

    def identify_many(self, texts: list[str]) -> list[Guess]:
        return [self(t) for t in texts]


class WordGroups:
    """A stand-in group stage: a post naming ISIS gets group IS, with the span that matched."""

    version = "t1"

    def tag(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[Match, ...]]:
        start = text.find("ISIS")
        if start < 0:
            return (), (), (), ()
        match = Match(kind="group", canonical="IS", term="ISIS", start=start, end=start + 4, rule="alias")
        return ("IS",), (), (), (match,)


def small_tagger() -> Tagger:
    return Tagger(language=ScriptLanguage(), groups=WordGroups())  # type: ignore[arg-type]


@pytest.fixture
def tagger() -> Tagger:
    return small_tagger()


@pytest.fixture(autouse=True)
async def _stores_are_closed(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[SQLiteStore]]:
    """Every store a test opens (itself, or through the daemon) is closed when the test ends, pass or fail.

    An open aiosqlite connection is a thread that keeps the interpreter alive: one assertion
    failing before a ``close()`` would otherwise turn into a test run that never exits.
    """
    opened: list[SQLiteStore] = []
    real_open = SQLiteStore.open

    async def open_and_track(self: SQLiteStore) -> None:
        await real_open(self)
        opened.append(self)

    monkeypatch.setattr(SQLiteStore, "open", open_and_track)
    yield opened
    for store in reversed(opened):
        await store.close()  # idempotent


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_scenario(
    *,
    channels: int = 3,
    posts: int = 50,
    start: datetime | None = None,
    spacing: timedelta = timedelta(minutes=7),
    first_id: int = 5001,
    faults: list[dict[str, Any]] | None = None,
    statuses: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """A scenario of ``channels`` channels with ``posts`` posts each, dated from ``start`` on."""
    start = start or datetime(2024, 1, 1, tzinfo=UTC)
    chans = []
    for c in range(channels):
        msgs = []
        for i in range(posts):
            when = start + spacing * i + timedelta(seconds=c)
            text = (
                f"Post {i} of channel {c}: ISIS claimed an attack"
                if i % 5 == 0
                else f"Новость {i} канала {c}"
            )
            msg: dict[str, Any] = {
                "id": i + 1,
                "date": iso(when),
                "text": text,
                "views": [[0, 10 + i], [24, 100 + i], [240, 500 + i]],
            }
            if i % 9 == 0:
                msg["forwards"] = [[0, 0], [48, 3]]
            msgs.append(msg)
        chans.append(
            {
                "id": first_id + c,
                "username": f"chan_{c:04d}",
                "title": f"Channel {c}",
                "status": (statuses or {}).get(c, "ok"),
                "messages": msgs,
            }
        )
    return {"format": "monitor-scenario/1", "channels": chans, "faults": faults or []}


def write_config(
    folder: Path, scenario_path: Path, handles: list[str], **sections: Mapping[str, Any]
) -> Path:
    """A scenario config with the given channels; ``sections`` override tables, e.g. polling={...}."""
    base: dict[str, dict[str, Any]] = {
        "monitor": {
            "database": "monitor.db",
            "log_format": "json",
            "heartbeat_interval": 1,
            "config_reload_interval": 0.3,
            "shutdown_grace": 10,
        },
        "source": {"kind": "scenario", "scenario": str(scenario_path)},
        "polling": {
            "interval": 1,
            "jitter": 0,
            "max_concurrent": 3,
            "requests_per_minute": 6000,
            "backfill_posts": 100000,
            "backfill_days": 36500,
            "resample_days": 0,
            "batch_size": 50,
        },
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    lines: list[str] = []
    for name, table in base.items():
        lines.append(f"[{name}]")
        for key, value in table.items():
            lines.append(f"{key} = {toml_value(value)}")
        lines.append("")
    for handle in handles:
        lines += ["[[channels]]", f"handle = {toml_value(handle)}", ""]
    path = folder / "monitor.toml"
    path.write_text("\n".join(lines), "utf-8")
    return path


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    import json

    return json.dumps(str(value))


MONITOR = [sys.executable, "-m", "monitor"]  # the real entry point, as a user starts it
