"""`monitor tag`: text lines in, one JSON object per line out. The public face of tagging.

The output keys are a stable contract (analysts and evaluations pipe text through it):
``lang``, ``script``, ``confidence``, ``groups``, ``people``, ``keywords`` (every match:
``term`` as written, ``kind``, ``canonical``, ``group``, ``span`` [start, end) in the
input text, ``rule``), plus ``id`` when a ``--jsonl`` input line carries one.
It streams in small batches, so a million lines never sit in memory at once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import click

from monitor.escape import json_dumps
from monitor.models import Tags

BATCH = 256


def tags_to_json(tags: Tags) -> dict[str, Any]:
    return {
        "lang": tags.lang,
        "script": tags.script,
        "confidence": tags.confidence,
        "groups": list(tags.groups),
        "people": list(tags.people),
        "keywords": [
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
    }


def _records(stream: IO[str], jsonl: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    """(text, extra fields) per input line; a bad JSON line yields an error record instead of stopping."""
    for number, line in enumerate(stream, start=1):
        line = line.rstrip("\r\n")
        if not jsonl:
            yield line, {}
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or not isinstance(obj.get("text", ""), str):
                raise ValueError("expected an object with a string 'text'")
        except ValueError as exc:
            yield "", {"line": number, "error": f"invalid JSON line: {exc}"}
            continue
        extra = {"id": obj["id"]} if "id" in obj else {}
        yield str(obj.get("text", "")), extra


def _batched(items: Iterable[tuple[str, dict[str, Any]]], size: int) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    batch: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


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
    from monitor.errors import MonitorError
    from monitor.tagging import build_tagger

    try:
        keywords: tuple[Any, ...] = ()
        extra: tuple[Path, ...] = ()
        if config_path is not None:
            from monitor.settings import load

            settings = load(config_path)
            keywords = tuple(settings.keyword_specs())
            extra = tuple(settings.resolve_path(p) for p in settings.lexicon.extra)
        tagger = build_tagger(keywords=keywords, lexicon_extra=extra, engine=engine)
    except MonitorError as exc:
        raise click.ClickException(str(exc)) from exc
    out = sys.stdout
    for batch in _batched(_records(sys.stdin, jsonl), BATCH):
        tagged = iter(tagger.tag_many([text for text, extra_fields in batch if "error" not in extra_fields]))
        lines = []
        for _text, extra_fields in batch:
            if "error" in extra_fields:
                lines.append(json_dumps(extra_fields))
                continue
            record = {**extra_fields, **tags_to_json(next(tagged))}
            lines.append(json_dumps(record))  # terminal-unsafe characters as JSON escapes
        out.write("\n".join(lines) + "\n")
        out.flush()
