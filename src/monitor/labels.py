"""Analysts' labels on group tagging: a match was right or wrong, or a mention was missed.

Why a file and not the database: labels are the analysts' own data, kept with the config
(shared, reviewed and versioned like a lexicon extension), they outlive a database rebuilt
from scratch, and they need no schema change. The file is CSV, one label per row, only ever
appended to (a later label of the same match wins, earlier ones stay as history), with who
and when on every row.

Each right/wrong label records what the tagger said at labelling time (canonical id,
the term as written, rule, alias source, lexicon version, span), so precision per group,
alias and lexicon version needs the labels file only, whatever happens to the posts.
A missed mention records the group, the span and the text of the span.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.models import Match, PostKey

__all__ = [
    "COLUMNS",
    "LABELS_FILE",
    "MISS_COLUMNS",
    "PRECISION_COLUMNS",
    "VERDICTS",
    "Label",
    "LabelError",
    "append_labels",
    "current",
    "format_post_key",
    "labels_for_matches",
    "miss_rows",
    "parse_span",
    "precision_rows",
    "read_labels",
]

LABELS_FILE = "labels.csv"  # default name, beside the config file
VERDICTS: tuple[str, ...] = ("right", "wrong", "missed")
COLUMNS: tuple[str, ...] = (
    "at",
    "who",
    "post",
    "verdict",
    "canonical",
    "kind",
    "term",
    "rule",
    "source",
    "lexicon",
    "start",
    "end",
    "note",
)


class LabelError(ValueError):
    """A label that cannot be taken (unknown post, no such match, bad span): one line for the user."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    at: datetime
    who: str
    post: PostKey
    verdict: str  # one of VERDICTS
    canonical: str  # group id (person id or keyword for those kinds)
    kind: str  # "group", "person", "keyword"
    term: str  # as written in the post: the matched alias, or the missed span's text
    rule: str  # the match's rule ("" for a missed mention)
    source: str  # where the alias comes from ("" for a missed mention)
    lexicon: str  # lexicon version of the tagger that made the match
    start: int
    end: int
    note: str = ""

    @property
    def key(self) -> tuple[PostKey, str, int, int]:
        """A later label with the same key replaces an earlier one."""
        return self.post, self.canonical, self.start, self.end


def format_post_key(key: PostKey) -> str:
    return f"{key.channel_id}/{key.message_id}"


def parse_span(text: str) -> tuple[int, int]:
    """``"10:25"`` -> (10, 25): a [start, end) span of the post text, as `monitor tag` prints it."""
    parts = text.split(":")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise LabelError(f"span {text!r}: expected START:END, e.g. 10:25")
    start, end = int(parts[0]), int(parts[1])
    if end <= start:
        raise LabelError(f"span {text!r}: END must be greater than START")
    return start, end


def labels_for_matches(
    post: PostKey,
    text: str,
    matches: Sequence[Match],
    match: str,
    verdict: str,
    *,
    who: str,
    lexicon: str,
    span: tuple[int, int] | None = None,
    note: str = "",
    at: datetime | None = None,
) -> list[Label]:
    """The labels one ``monitor label`` call adds.

    ``match`` names a match of the post by its canonical id or by the term as written
    (case-insensitive); every such match is labelled, or only the one at ``span``. For
    ``missed``, ``match`` is the group id and ``span`` is required.
    """
    if verdict not in VERDICTS:
        raise LabelError(f"verdict {verdict!r}: expected one of {', '.join(VERDICTS)}")
    at = at or datetime.now(UTC)
    if verdict == "missed":
        if span is None:
            raise LabelError("a missed mention needs --span START:END (character offsets in the post text)")
        start, end = span
        if end > len(text):
            raise LabelError(f"span {start}:{end} is past the end of the post text ({len(text)} characters)")
        return [
            Label(at=at, who=who, post=post, verdict=verdict, canonical=match, kind="group", term=text[start:end],
                  rule="", source="", lexicon=lexicon, start=start, end=end, note=note)
        ]
    want = match.casefold()
    chosen = [m for m in matches if want in (m.canonical.casefold(), m.term.casefold())]
    if span is not None:
        chosen = [m for m in chosen if (m.start, m.end) == span]
    if not chosen:
        found = ", ".join(sorted({f"{m.canonical} ({m.term!r} at {m.start}:{m.end})" for m in matches})) or "none"
        where = f" at {span[0]}:{span[1]}" if span else ""
        raise LabelError(f"post {format_post_key(post)} has no match {match!r}{where}; its matches: {found}")
    return [
        Label(at=at, who=who, post=post, verdict=verdict, canonical=m.canonical, kind=m.kind, term=m.term,
              rule=m.rule, source=m.source, lexicon=lexicon, start=m.start, end=m.end, note=note)
        for m in chosen
    ]


def _row(label: Label) -> list[str]:
    return [
        label.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        label.who,
        format_post_key(label.post),
        label.verdict,
        label.canonical,
        label.kind,
        label.term,
        label.rule,
        label.source,
        label.lexicon,
        str(label.start),
        str(label.end),
        label.note,
    ]


def append_labels(path: Path, labels: Iterable[Label]) -> int:
    """Append labels to the CSV file (created with its header); one write, flushed to disk."""
    rows = [_row(label) for label in labels]
    if not rows:
        return 0
    new = not path.exists() or path.stat().st_size == 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if new:
        writer.writerow(COLUMNS)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(buffer.getvalue())
        fh.flush()
        os.fsync(fh.fileno())
    return len(rows)


def read_labels(path: Path) -> list[Label]:
    """Every label in the file, in file order. Raises LabelError naming the line of a bad row."""
    if not path.exists():
        return []
    out: list[Label] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            return []
        missing = [c for c in COLUMNS if c not in reader.fieldnames]
        if missing:
            raise LabelError(f"{path}: not a labels file (missing columns: {', '.join(missing)})")
        for row in reader:
            try:
                channel, message = row["post"].split("/")
                verdict = row["verdict"]
                if verdict not in VERDICTS:
                    raise ValueError(f"verdict {verdict!r}")
                out.append(
                    Label(
                        at=datetime.strptime(row["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
                        who=row["who"],
                        post=PostKey(int(channel), int(message)),
                        verdict=verdict,
                        canonical=row["canonical"],
                        kind=row["kind"],
                        term=row["term"],
                        rule=row["rule"],
                        source=row["source"],
                        lexicon=row["lexicon"],
                        start=int(row["start"]),
                        end=int(row["end"]),
                        note=row["note"] or "",
                    )
                )
            except (ValueError, TypeError, AttributeError) as exc:
                raise LabelError(f"{path}:{reader.line_num}: bad label row ({exc})") from exc
    return out


def current(labels: Iterable[Label]) -> list[Label]:
    """The latest label of each match (file order decides between equal times)."""
    latest: dict[tuple[PostKey, str, int, int], Label] = {}
    for label in labels:
        latest.pop(label.key, None)  # re-insert: keep the order of the latest labels
        latest[label.key] = label
    return list(latest.values())


PRECISION_COLUMNS: tuple[str, ...] = ("group", "alias", "rule", "lexicon", "right", "wrong", "precision")


def precision_rows(labels: Iterable[Label], *, by_alias: bool = True) -> list[tuple[object, ...]]:
    """Precision from right/wrong labels per group, alias (term folded to lower case), rule and lexicon
    version, worst first; plus one row per group over all its aliases (alias ``*``)."""
    cells: dict[tuple[str, str, str, str], list[int]] = {}
    for label in current(labels):
        if label.verdict == "missed":
            continue
        keys = [(label.canonical, "*", "*", label.lexicon)]
        if by_alias:
            keys.append((label.canonical, label.term.casefold(), label.rule, label.lexicon))
        for key in keys:
            cell = cells.setdefault(key, [0, 0])
            cell[0 if label.verdict == "right" else 1] += 1
    rows = [(*key, right, wrong, round(right / (right + wrong), 4)) for key, (right, wrong) in cells.items()]
    return sorted(rows, key=lambda r: (r[0], r[1] != "*", r[6], r[3], r[1], r[2]))


MISS_COLUMNS: tuple[str, ...] = ("group", "text", "post", "span", "lexicon", "who", "at", "note")


def miss_rows(labels: Iterable[Label]) -> list[tuple[object, ...]]:
    """Missed mentions (latest label of each span is ``missed``), by group, then text."""
    rows = [
        (
            label.canonical,
            label.term,
            format_post_key(label.post),
            f"{label.start}:{label.end}",
            label.lexicon,
            label.who,
            label.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            label.note,
        )
        for label in current(labels)
        if label.verdict == "missed"
    ]
    return sorted(rows, key=lambda r: (str(r[0]), str(r[1]).casefold(), str(r[2])))
