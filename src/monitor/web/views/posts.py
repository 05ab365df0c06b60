"""The posts behind a chart point: a page of posts with matches highlighted, and its downloads.

The highlight is built from each match's span in the stored text: the text is cut into pieces
(plain, matched), every piece passes the same escaping as any post text (visible bidi and control
characters, then Jinja's autoescaping), so a hostile post cannot break out of its ``<mark>``.
Links are shown as text with their domain; only http(s) links become anchors, with
rel="noopener noreferrer nofollow".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor.reports.posts import PostRow, Span, post_rows, posts_report
from monitor.reports.spec import POST_FILTERS, refuse_unused, resolve
from monitor.web.common import User, download, page, render, store_of
from monitor.web.query import Params, integer, spec_from, spec_items, url

PAGE = 50


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    span: Span | None


def pieces(text: str, spans: tuple[Span, ...]) -> list[Piece]:
    """``text`` cut at the spans (overlapping ones: the first wins), in order."""
    out: list[Piece] = []
    at = 0
    for span in spans:
        if span.start < at:
            continue
        if span.start > at:
            out.append(Piece(text[at:span.start], None))
        out.append(Piece(text[span.start:span.end], span))
        at = span.end
    if at < len(text):
        out.append(Piece(text[at:], None))
    return out


def _safe_href(link: str) -> str | None:
    low = link.strip().lower()
    return link.strip() if low.startswith(("https://", "http://")) else None


async def _page(request: Request) -> tuple[Any, list[PostRow], int, int]:
    params = Params(request.query_params.multi_items())
    spec = spec_from(params)
    refuse_unused(spec, "posts", POST_FILTERS, "; it lists posts, one per row")
    limit = integer(params, "limit", PAGE, 1, 1000)
    offset = integer(params, "offset", 0, 0, 10_000_000)
    store = store_of(request)
    res = await resolve(store, spec)
    return res, await post_rows(store, res, limit=limit, offset=offset), limit, offset


async def posts_page(request: Request, user: User) -> Response:
    res, rows, limit, offset = await _page(request)
    base = spec_items(res.spec)
    shown = [
        {"row": r, "pieces": pieces(r.text, r.spans) if r.text else [],
         "links": [(link, _safe_href(link)) for link in r.links]}
        for r in rows
    ]
    context = {
        "rows": shown, "spec": res.spec, "meta": res.meta(), "offset": offset, "limit": limit,
        "next": url("/posts", [*base, ("offset", offset + limit), ("limit", limit)]) if len(rows) == limit else None,
        "prev": url("/posts", [*base, ("offset", max(offset - limit, 0)), ("limit", limit)]) if offset else None,
        "query": request.url.query,
        "chart": url("/volume", base),
    }
    return render(request, "posts.html", context, user=user)


def _download(fmt: str) -> Any:
    async def handler(request: Request, user: User) -> Response:
        res, rows, limit, offset = await _page(request)
        return download(posts_report(res, rows, limit=limit, offset=offset), fmt, "posts")

    return page(handler)


routes = [
    Route("/posts", page(posts_page)),
    Route("/posts.csv", _download("csv")),
    Route("/posts.json", _download("json")),
]
