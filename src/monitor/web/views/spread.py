"""Spread: the same item posted in several channels (``monitor report spread``), with its first appearance.

Why the page fills in ``since``: clustering a whole multi-year range reads every fingerprint of it; the
page opens on the last 30 days with posts and redirects to that explicit range, so the permalink and
the downloads name the range they cover (the same query on the CLI gives the same bytes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from monitor.reports.periods import from_day
from monitor.reports.spread import clusters
from monitor.reports.table import Report
from monitor.web.common import User, download, page, render, store_of
from monitor.web.query import Params, integer, spec_from, spec_items, url

DAYS = 30


async def _report(request: Request) -> Report:
    params = Params(request.query_params.multi_items())
    return await clusters(store_of(request), spec_from(params),
                          max_distance=integer(params, "distance", 8, 0, 20),
                          min_channels=integer(params, "min_channels", 2, 1, 1000),
                          min_length=integer(params, "min_length", 40, 0, 100_000),
                          limit=integer(params, "limit", 100, 1, 100_000))


async def spread_page(request: Request, user: User) -> Response:
    params = Params(request.query_params.multi_items())
    if params.one("since") is None:
        span = await store_of(request).report_day_range()
        if span is not None:
            until = from_day(span[1]) if params.one("until") is None else spec_from(params).until or from_day(span[1])
            rest = [(k, v) for k, v in params.items if k not in ("since", "until")]
            return RedirectResponse(url("/spread", [("since", (until - timedelta(days=DAYS - 1)).isoformat()),
                                                    ("until", until.isoformat()), *rest]), status_code=303)
    report = await _report(request)
    query = request.url.query
    return render(request, "spread.html", {"rows": report.as_dicts(), "meta": report.meta, "query": query,
                                           "spec": spec_items(spec_from(params))}, user=user)


def _download(fmt: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request, user: User) -> Response:
        return download(await _report(request), fmt, "spread")

    return page(handler)


routes = [
    Route("/spread", page(spread_page)),
    Route("/spread.csv", _download("csv")),
    Route("/spread.json", _download("json")),
]
