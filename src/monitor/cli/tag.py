"""`monitor tag`: text lines in, one JSON object per line out. The public face of tagging.

The output keys are a stable contract (analysts and evaluations pipe text through it):
``lang``, ``script``, ``confidence``, ``groups``, ``people``, ``keywords`` (the analyst
keywords found, as the database's ``keywords`` column holds them), ``matches`` (every match,
as the ``matches`` column: ``term`` as written, ``kind``, ``canonical``, ``group``, ``span``
[start, end) in the input text, ``rule``), plus ``id`` when a ``--jsonl`` input line carries one, and
``languages`` ({lang: share of letters}) only when a post mixes more than one language (``lang`` stays
the main one), and ``matches_dropped`` only when a post had more matches than the tagger keeps
(`monitor.tagging.MAX_MATCHES`; the first ones are listed).
Each line is answered as soon as it arrives (a person typing, or a script that writes a
line and waits for its answer); lines already waiting are tagged together in one batch,
up to `BATCH`, so a file or a fast pipe still gets the batched language model and a
million lines never sit in memory at once. A line longer than `MAX_LINE_BYTES` is
answered with an error record (its text is skipped, never buffered whole).
"""

from __future__ import annotations

import codecs
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import click

from monitor.escape import json_dumps
from monitor.models import Tags

BATCH = 256
MAX_LINE_BYTES = 1 << 20  # 1 MiB: a Telegram post is at most 4,096 characters (16 KB of UTF-8)
_READ = 1 << 16


def tags_to_json(tags: Tags) -> dict[str, Any]:
    return {
        "lang": tags.lang,
        "script": tags.script,
        "confidence": tags.confidence,
        "groups": list(tags.groups),
        "people": list(tags.people),
        "keywords": list(tags.keywords),
        "matches": [
            {
                "term": m.term,
                "kind": m.kind,
                "canonical": m.canonical,
                "group": m.group,
                "span": [m.start, m.end],
                "rule": m.rule,
            }
            for m in tags.matches
        ],
    } | ({"matches_dropped": tags.matches_dropped} if tags.matches_dropped else {})


def _record(number: int, line: str | None, jsonl: bool) -> tuple[str, dict[str, Any]]:
    """(text, extra fields) of one input line; a bad line gives an error record instead of stopping."""
    if line is None:
        return "", {"line": number, "error": f"line longer than {MAX_LINE_BYTES} bytes: skipped"}
    line = line.rstrip("\r")
    if not jsonl:
        return line, {}
    try:
        obj = json.loads(line)
        if not isinstance(obj, dict) or not isinstance(obj.get("text", ""), str):
            raise ValueError("expected an object with a string 'text'")
    except ValueError as exc:
        return "", {"line": number, "error": f"invalid JSON line: {exc}"}
    extra = {"id": obj["id"]} if "id" in obj else {}
    return str(obj.get("text", "")), extra


def _line_batches(fd: int, max_line: int = MAX_LINE_BYTES) -> Iterator[list[str | None]]:
    """Lists of complete input lines, each list what one read returned: no waiting for more.

    Reads the file descriptor directly (``os.read`` returns as soon as anything is there),
    so a lone line is answered at once while a fast pipe still yields many lines per read.
    A line over ``max_line`` bytes comes out as None and its bytes are dropped as they arrive.
    Invalid UTF-8 is replaced (U+FFFD), not fatal.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = b""
    skipping = False
    while True:
        chunk = os.read(fd, _READ)
        if not chunk:
            break
        lines: list[str | None] = []
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                break
            piece = chunk[start:nl]
            if skipping or len(pending) + len(piece) > max_line:
                lines.append(None)
            else:
                lines.append(decoder.decode(pending + piece + b"\n", final=False)[:-1])
            pending, skipping = b"", False
            start = nl + 1
        rest = chunk[start:]
        if not skipping:
            pending += rest
            if len(pending) > max_line:
                pending, skipping = b"", True
        if lines:
            for i in range(0, len(lines), BATCH):
                yield lines[i : i + BATCH]
    if skipping:
        yield [None]
    elif pending:
        yield [decoder.decode(pending, final=True)]


def _records(stream: IO[str], jsonl: bool) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Batches of (text, extra fields), numbered by input line."""
    number = 0
    fd = _fileno(stream)
    batches: Iterable[list[str | None]]
    if fd is None:  # an in-memory stream (tests calling the command in-process)
        batches = ([line.rstrip("\n")] for line in stream)
    else:
        batches = _line_batches(fd)
    for lines in batches:
        batch = []
        for line in lines:
            number += 1
            batch.append(_record(number, line, jsonl))
        yield batch


def _fileno(stream: IO[str]) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


@click.command()
@click.option("--jsonl", is_flag=True, help='Input lines are JSON objects with a "text" field (and optional "id").')
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file whose [[keywords]] and [lexicon] extend the shipped lexicon.",
)
@click.option("--engine", default=None, help="Language engine (see `monitor lid eval --help` for the list).")
def tag(jsonl: bool, config_path: Path | None, engine: str | None) -> None:
    """Tag text from stdin: one post per line in, one JSON object per line out."""
    from monitor.compose import build_tagger
    from monitor.errors import ConfigError, MonitorError
    from monitor.tagging.safe_text import scrub

    try:
        settings = None
        if config_path is not None:
            from monitor.settings import load

            settings = load(config_path)
        tagger = build_tagger(settings, engine=engine)
    except ConfigError as exc:  # an unknown --engine, a bad keyword or lexicon file: a usage error (exit 2)
        raise click.UsageError(str(exc)) from exc
    except MonitorError as exc:
        raise click.ClickException(str(exc)) from exc
    out = sys.stdout
    from monitor.tagging.language import language_shares

    for batch in _records(sys.stdin, jsonl):
        texts = [text for text, extra_fields in batch if "error" not in extra_fields]
        tagged = iter(tagger.tag_many(texts))
        shares = iter(language_shares([scrub(t) for t in texts], engine))
        lines = []
        for _text, extra_fields in batch:
            if "error" in extra_fields:
                lines.append(json_dumps(extra_fields))
                continue
            record = {**extra_fields, **tags_to_json(next(tagged))}
            mix = next(shares)
            if mix is not None:
                record["languages"] = mix
            lines.append(json_dumps(record))  # terminal-unsafe characters as JSON escapes
        out.write("\n".join(lines) + "\n")
        out.flush()
