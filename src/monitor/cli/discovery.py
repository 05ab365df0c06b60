"""`monitor discovery list/accept/reject/why`: the discovery queue analysts control.

Thin: the queue is built by ``monitor.reports.queue`` (candidates, evidence, priority, depth); accept
goes through the same config editing as `monitor channels add` (comments kept), with labels saying
where the channel came from; reject is stored so the candidate stays out of the queue.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from monitor.cli.collect import _existing_db, _open, _settings, add_channel
from monitor.cli.common import config_option, friendly, parse_labels
from monitor.errors import ConfigError, Problem
from monitor.escape import defang, json_dumps, one_line
from monitor.reports.periods import from_day
from monitor.reports.queue import DEFAULT_LANGS, Candidate, build_queue, find
from monitor.watchlist import candidate_handle, candidate_labels

_depth = click.option("--depth", type=click.IntRange(1, 10), default=2, show_default=True,
                      help="Largest distance from the configured channels (1 = pointed at by them directly).")
_langs = click.option("--lang", "langs", multiple=True,
                      help=f"Languages that raise a candidate's priority (repeatable; default {', '.join(DEFAULT_LANGS)}).")


async def _queue(url: str, *, depth: int, langs: tuple[str, ...], include_decided: bool = False) -> list[Candidate]:
    store = await _open(url)
    try:
        return await build_queue(store, depth_limit=depth, langs=langs or DEFAULT_LANGS,
                                 include_decided=include_decided)
    finally:
        await store.close()


def _shown(text: object, limit: int = 60) -> str:
    """Names and titles come from Telegram: one safe line, links defanged."""
    return defang(one_line(text, limit))


@click.group("discovery")
def discovery_group() -> None:
    """The discovery queue: channels the watched ones point at, and successors of channels taken down."""


@discovery_group.command("list")
@config_option
@_depth
@_langs
@click.option("--limit", type=click.IntRange(1, 10_000), default=30, show_default=True)
@click.option("--all", "include_decided", is_flag=True, help="Also show accepted and rejected candidates.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
@friendly
def discovery_list(config_path: Path | None, depth: int, langs: tuple[str, ...], limit: int, include_decided: bool,
                   as_json: bool) -> None:
    """Candidates, highest priority first (docs/lifecycle.md says how priority is counted)."""
    settings = _settings(config_path)
    queue = asyncio.run(_queue(_existing_db(settings), depth=depth, langs=langs, include_decided=include_decided))
    if as_json:
        click.echo(json_dumps([_as_dict(c) for c in queue[:limit]], indent=2))
        return
    if not queue:
        click.echo("the discovery queue is empty")
        return
    click.echo("priority\tcandidate\tdistance\treferring\tforwards\tmentions\tsuccessor_of\tdecision\ttitle")
    for c in queue[:limit]:
        click.echo("\t".join(str(v) for v in (
            c.priority, _shown(c.ref), c.distance, len(c.referrers), c.forwards, c.mentions,
            _shown(", ".join(sorted(c.successor_of))), c.decision or ("quarantined" if c.quarantined else ""),
            _shown(c.title or ""))))


def _as_dict(c: Candidate) -> dict[str, Any]:
    return {
        "candidate": c.ref, "priority": c.priority, "distance": c.distance, "title": c.title,
        "referring_channels": sorted(c.referrers), "forwards": c.forwards, "mentions": c.mentions,
        "languages": dict(c.langs), "groups": dict(c.groups), "successor_of": sorted(c.successor_of),
        "first_day": from_day(c.first_day).isoformat() if c.first_day is not None else None,
        "last_day": from_day(c.last_day).isoformat() if c.last_day is not None else None,
        "decision": c.decision, "quarantined": c.quarantined, "evidence": c.evidence,
    }


def _pick(settings: Any, ref: str, depth: int) -> Candidate:
    queue = asyncio.run(_queue(_existing_db(settings), depth=depth, langs=(), include_decided=True))
    found = find(queue, ref)
    if found is None:
        raise ConfigError(Problem("candidate", f"{ref!r} is not in the discovery queue (see `monitor discovery list --all`)"))
    return found


@discovery_group.command("why")
@config_option
@_depth
@click.argument("candidate")
@friendly
def discovery_why(config_path: Path | None, depth: int, candidate: str) -> None:
    """Every piece of evidence that put CANDIDATE in the queue."""
    c = _pick(_settings(config_path), candidate, depth)
    click.echo(f"{_shown(c.ref)}  priority {c.priority}, distance {c.distance}"
               + (f", {c.decision}" if c.decision else "") + (f"  {_shown(c.title)}" if c.title else ""))
    if c.langs:
        click.echo("languages of the posts pointing at it: " + ", ".join(f"{k} {v}" for k, v in c.langs.most_common()))
    if c.groups:
        click.echo("groups they name: " + ", ".join(f"{_shown(k)} {v}" for k, v in c.groups.most_common()))
    for line in c.evidence:
        click.echo("  " + _shown(line, 300))


@discovery_group.command("accept")
@config_option
@_depth
@click.argument("candidate")
@click.option("--label", "labels", multiple=True, help="More labels, key=value (repeatable).")
@friendly
def discovery_accept(config_path: Path | None, depth: int, candidate: str, labels: tuple[str, ...]) -> None:
    """Watch CANDIDATE: it is added to the config's [[channels]] with labels saying where it came from."""
    settings = _settings(config_path)
    c = _pick(settings, candidate, depth)
    label_set = candidate_labels(c, parse_labels(labels))
    key = add_channel(settings, candidate_handle(c), labels=label_set)

    async def remember() -> bool:
        store = await _open(settings.database_url)
        try:
            now = datetime.now(UTC)
            await store.set_discovery_decision(c.ref, "accepted", at=now, note=label_set["discovered"])
            # A channel polled in quarantine keeps its posts: the same channel id, now counted as watched.
            return bool(await store.accept_quarantined(key, at=now))
        finally:
            await store.close()

    from_quarantine = asyncio.run(remember())
    click.echo(f"accepted {_shown(c.ref)}: watching {key} ({_shown(label_set['discovered'], 120)})"
               + ("; its posts collected in quarantine now count in reports" if from_quarantine else ""))


@discovery_group.command("reject")
@config_option
@_depth
@click.argument("candidate")
@click.option("--note", default=None, help="Why, for the next analyst.")
@friendly
def discovery_reject(config_path: Path | None, depth: int, candidate: str, note: str | None) -> None:
    """Leave CANDIDATE out of the queue from now on (the decision is stored)."""
    settings = _settings(config_path)
    c = _pick(settings, candidate, depth)

    async def remember() -> None:
        store = await _open(settings.database_url)
        try:
            await store.set_discovery_decision(c.ref, "rejected", at=datetime.now(UTC), note=note)
        finally:
            await store.close()

    asyncio.run(remember())
    click.echo(f"rejected {_shown(c.ref)}; `monitor discovery list --all` still shows it")
