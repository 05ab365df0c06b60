"""The posts behind a report cell: what an analyst reads after seeing a bar (``monitor report posts``,
the dashboard's posts view; both export the same Report).

Why oldest first and paged: a cell of a month can hold thousands of posts; a page of ``limit``
after ``offset`` keeps every answer bounded, and the order (posted_at, channel, message) is
stable, so page 2 of a permalink is the same tomorrow. The rows keep each match's span and rule
(``post_rows``) so a front end can highlight the text where the tagger matched; the Report
lists the matched terms for exports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.reports.spec import POST_FILTERS, ReportSpec, Resolved, refuse_unused, resolve
from monitor.reports.table import Report
from monitor.reports.top import post_link
from monitor.store.ports import ReportReads as ReportSource

MAX_LIMIT = 1000
COLUMNS = ("channel", "message_id", "posted_at", "language", "views", "forwards", "groups", "people", "keywords",
           "matched", "links", "text", "link")


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """One match in a post's text: [start, end) in code points, what it stands for and the rule."""

    start: int
    end: int
    kind: str
    canonical: str
    term: str
    rule: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PostRow:
    """One post behind a cell, decoded (JSON lists as tuples, times as UTC datetimes)."""

    channel_id: int
    channel: str
    message_id: int
    posted_at: datetime
    lang: str
    script: str | None
    views: int | None
    forwards: int | None
    groups: tuple[str, ...]
    people: tuple[str, ...]
    keywords: tuple[str, ...]
    links: tuple[str, ...]
    text: str | None  # None when the text is not kept
    spans: tuple[Span, ...]
    link: str

    @property
    def language(self) -> str:
        return f"{self.lang}-{self.script}" if self.script else self.lang


def _list(value: Any) -> tuple[str, ...]:
    try:
        data = json.loads(value or "[]")
    except (TypeError, ValueError):
        return ()
    return tuple(str(v) for v in data) if isinstance(data, list) else ()


def _spans(value: Any, text: str | None) -> tuple[Span, ...]:
    """Matches whose span lies inside the stored text, in text order (others cannot be shown)."""
    try:
        data = json.loads(value or "[]")
    except (TypeError, ValueError):
        return ()
    out: list[Span] = []
    size = len(text or "")
    for m in data if isinstance(data, list) else ():
        if not isinstance(m, Mapping):
            continue
        try:
            start, end = int(m.get("start", -1)), int(m.get("end", -1))
        except (TypeError, ValueError):
            continue
        out.append(Span(start=start, end=end, kind=str(m.get("kind", "")), canonical=str(m.get("canonical", "")),
                        term=str(m.get("term", "")), rule=str(m.get("rule", ""))))
    return tuple(sorted((s for s in out if 0 <= s.start < s.end <= size), key=lambda s: (s.start, -s.end)))


async def post_rows(store: ReportSource, res: Resolved, *, limit: int = 100, offset: int = 0) -> list[PostRow]:
    """One page of the posts in ``res``'s range and filters, oldest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1..{MAX_LIMIT}")
    if offset < 0:
        raise ValueError("offset must be 0 or more")
    rows = await store.report_posts(since_day=res.since_day, until_day=res.until_day, limit=limit, offset=offset,
                                    **res.filters())
    out: list[PostRow] = []
    for r in rows:
        cid, mid = int(r["channel_id"]), int(r["message_id"])
        text = r["text"]
        out.append(PostRow(
            channel_id=cid, channel=res.channel_name(cid), message_id=mid,
            posted_at=datetime.fromtimestamp(int(r["posted_at"]), UTC), lang=str(r["lang"]),
            script=r["script"] or None, views=r["views"], forwards=r["forwards"], groups=_list(r["groups"]),
            people=_list(r["people"]), keywords=_list(r["keywords"]), links=_list(r["links"]), text=text,
            spans=_spans(r["matches"], text), link=post_link(r["username"], cid, mid),
        ))
    return out


def posts_report(res: Resolved, rows: Sequence[PostRow], *, limit: int, offset: int) -> Report:
    """The rows as a Report (every export format of the CLI); ``matched`` lists term -> canonical (rule)."""
    out = [
        (r.channel, r.message_id, r.posted_at, r.language, r.views, r.forwards, list(r.groups), list(r.people),
         list(r.keywords), [f"{s.term} -> {s.canonical} ({s.rule})" for s in r.spans], list(r.links), r.text, r.link)
        for r in rows
    ]
    meta = res.meta() | {"order": "posted_at, channel, message_id", "limit": limit, "offset": offset,
                         "text": "empty when the post's text is not kept"}
    meta.pop("every", None)
    meta.pop("by", None)
    return Report(name="posts", columns=COLUMNS, rows=out, meta=meta)


async def posts(store: ReportSource, spec: ReportSpec, *, limit: int = 100, offset: int = 0) -> Report:
    """``monitor report posts``: the posts in the range and filters, oldest first, one page."""
    refuse_unused(spec, "posts", POST_FILTERS, "; it lists posts, one per row")
    res = await resolve(store, spec)
    return posts_report(res, await post_rows(store, res, limit=limit, offset=offset), limit=limit, offset=offset)
