"""`monitor label POST MATCH right|wrong|missed`: an analyst's verdict on one match of a stored post.

A thin shell over ``monitor.labels``: the post's stored text is tagged again with the
configured tagger to find the match (so the label records its alias, rule, source and
lexicon version), and the label is appended to the labels file (``labels.csv`` beside the
config, or ``--labels FILE``). ``--from-csv FILE`` takes many labels at once (columns
``post,match,verdict`` and optionally ``span``, ``note``, ``who``): every row is checked
before any is written. `monitor report precision` and `monitor report misses` read the file.
"""

from __future__ import annotations

import asyncio
import csv
import getpass
import os
from pathlib import Path
from typing import Any

import click

from monitor.errors import MonitorError

ENV_LABELS = "MONITOR_LABELS"


def labels_path(labels: Path | None, config: Path | None) -> Path:
    """``--labels``, else ``$MONITOR_LABELS``, else ``labels.csv`` beside the config file."""
    from monitor.labels import LABELS_FILE
    from monitor.settings import default_config_path

    if labels is not None:
        return labels
    if os.environ.get(ENV_LABELS):
        return Path(os.environ[ENV_LABELS])
    return (config or default_config_path()).resolve().parent / LABELS_FILE


def _who(who: str | None) -> str:
    if who:
        return who
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return "unknown"


def parse_post(text: str, usernames: dict[str, int]) -> tuple[int, int]:
    """``CHANNEL_ID/MESSAGE_ID``, ``id:CHANNEL_ID/MESSAGE_ID`` or a post link (t.me/name/123, t.me/c/456/123)."""
    from monitor.identity import parse_post_link
    from monitor.labels import LabelError

    raw = text.strip()
    if "t.me/" in raw:
        parsed = parse_post_link(raw if "://" in raw else f"https://{raw}")
        if parsed is None:
            raise LabelError(f"post {text!r}: not a post link")
        key, message = parsed
        if key.startswith("id:"):
            return int(key[3:]), message
        if key not in usernames:
            raise LabelError(f"post {text!r}: no stored channel @{key}")
        return usernames[key], message
    head, _, tail = raw.removeprefix("id:").partition("/")
    if not (head.isdigit() and tail.isdigit()):
        raise LabelError(f"post {text!r}: expected CHANNEL_ID/MESSAGE_ID or a t.me post link")
    return int(head), int(tail)


def _rows_from_csv(path: Path) -> list[dict[str, str]]:
    from monitor.labels import LabelError

    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in ("post", "match", "verdict") if c not in (reader.fieldnames or [])]
            if missing:
                raise LabelError(f"{path}: missing column(s) {', '.join(missing)} (needs post,match,verdict)")
            return [{k: (v or "").strip() for k, v in row.items() if k} | {"line": str(reader.line_num)}
                    for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelError(f"{path}: {exc}") from exc


async def _take(db: str, config: Path | None, requests: list[dict[str, str]], who: str) -> list[Any]:
    """Find each request's post and matches; return the labels (raises LabelError naming the bad one)."""
    from monitor.cli.stores import open_db
    from monitor.labels import LabelError, labels_for_matches, parse_span
    from monitor.models import PostKey

    tagger = _tagger(config)
    lexicon = tagger.version.rsplit("lex=", 1)[-1]
    store = await open_db(db, must_exist=True, read_only=True)
    try:
        usernames = {str(r["username"]).lower(): int(r["id"]) for r in await store.report_channels() if r["username"]}
        out: list[Any] = []
        for req in requests:
            where = f"{req['where']}: " if req.get("where") else ""
            try:
                key = PostKey(*parse_post(req["post"], usernames))
                post = await store.get_post(key)
                if post is None:
                    raise LabelError(f"no stored post {key.channel_id}/{key.message_id}")
                if post.text is None:
                    raise LabelError(f"post {key.channel_id}/{key.message_id} has no stored text to find the match in")
                tags = tagger.tag_many([post.text])[0]
                span = parse_span(req["span"]) if req.get("span") else None
                out += labels_for_matches(key, post.text, tags.matches, req["match"], req["verdict"],
                                          who=req.get("who") or who, lexicon=lexicon, span=span,
                                          note=req.get("note", ""))
            except LabelError as exc:
                raise LabelError(f"{where}{exc}") from exc
        return out
    finally:
        await store.close()


def _tagger(config: Path | None) -> Any:
    """The tagger the daemon would use with this config (lexicon extensions, keywords, suppressed aliases)."""
    from monitor.compose import build_tagger

    if config is None:
        return build_tagger()
    from monitor.settings import load

    return build_tagger(load(config))


@click.command("label")
@click.argument("post", required=False)
@click.argument("match", required=False)
@click.argument("verdict", required=False, type=click.Choice(("right", "wrong", "missed")))
@click.option("--span", help="START:END of the match (or of the missed mention) in the post text, as `monitor tag` prints.")
@click.option("--note", default="", help="Free text kept with the label.")
@click.option("--who", help="Who labels (default: the login name).")
@click.option("--from-csv", "from_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Many labels: a CSV with columns post,match,verdict[,span][,note][,who].")
@click.option("--labels", type=click.Path(dir_okay=False, path_type=Path),
              help=f"The labels file (default: ${ENV_LABELS}, else labels.csv beside the config).")
@click.option("--db", help="The SQLite database file, or a postgresql:// URL.")
@click.option("--config", "-c", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Take the database, lexicon extensions and keywords from this config file.")
def label(post: str | None, match: str | None, verdict: str | None, span: str | None, note: str, who: str | None,
          from_csv: Path | None, labels: Path | None, db: str | None, config: Path | None) -> None:
    """Mark a match of a stored post right or wrong, or a missed mention of a group (with --span).

    POST is CHANNEL_ID/MESSAGE_ID or a t.me post link; MATCH is the canonical id (group,
    person or keyword) or the term as written. Labels are appended to the labels file with
    who and when; `monitor report precision` and `monitor report misses` read them.
    """
    from monitor.cli.report import _db_path
    from monitor.labels import LabelError, append_labels

    if from_csv is not None:
        if post or match or verdict:
            raise click.UsageError("give POST MATCH VERDICT or --from-csv FILE, not both")
        requests = [dict(row, where=f"{from_csv}:{row['line']}") for row in _rows_from_csv(from_csv)]
    else:
        if not (post and match and verdict):
            raise click.UsageError("expected POST MATCH right|wrong|missed (or --from-csv FILE)")
        requests = [{"post": post, "match": match, "verdict": verdict, "span": span or "", "note": note}]
    if config is None and db is None:
        from monitor.settings import default_config_path

        config = default_config_path() if default_config_path().is_file() else None
    url = _db_path(db, config)
    target = labels_path(labels, config)
    try:
        taken = asyncio.run(_take(url, config, requests, _who(who)))
        written = append_labels(target, taken)
    except LabelError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"{target}: {exc.strerror or exc}") from exc
    except MonitorError as exc:  # a bad config or store: one line
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{written} label(s) added to {target}")
