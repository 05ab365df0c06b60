"""Top and reach: `monitor report top` and `monitor report reach` as pages, their downloads the CLI's bytes.

The options are the CLI's (``?what=posts-by-views&limit=20&deleted=mark&per_subscriber=1``,
``?ages=1,6,24``) with the same checks and messages; the reports come from the same functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor.errors import ConfigError
from monitor.reports.reach import DEFAULT_AGES, reach
from monitor.reports.table import Report
from monitor.reports.top import TOP_WHAT, top
from monitor.web.common import User, download, page, render, store_of
from monitor.web.query import Params, choice, integer, spec_from, spec_items, url

DELETED = ("include", "exclude", "mark")
PER_SUBSCRIBER = ("channels", "posts-by-views", "posts-by-forwards")


def _flag(params: Params, name: str) -> bool:
    value = (params.one(name) or "").lower()
    if value not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ConfigError(f"{name} {value!r}: use 1 or 0")
    return value in ("1", "true", "yes", "on")


async def _top(request: Request) -> Report:
    """`monitor report top` with the query's options (the CLI's refusals as one-line 400s)."""
    params = Params(request.query_params.multi_items())
    what = choice(params, "what", TOP_WHAT, "channels")
    deleted = choice(params, "deleted", DELETED, "include")
    per_subscriber = _flag(params, "per_subscriber")
    if per_subscriber and what not in PER_SUBSCRIBER:
        raise ConfigError(f"per_subscriber has no effect on top {what}")
    if deleted != "include" and what not in ("posts-by-views", "posts-by-forwards"):
        raise ConfigError(f"deleted has no effect on top {what}")
    spec = spec_from(params)
    store = store_of(request)
    report = await top(store, spec, what=what, limit=integer(params, "limit", 20, 1, 10_000),  # type: ignore[arg-type]  # choice() keeps it to TOP_WHAT
                       deleted=deleted)
    if not per_subscriber:
        return report
    from monitor.reports.audience import with_subscribers
    from monitor.reports.spec import resolve

    return await with_subscribers(store, await resolve(store, spec), report)


def ages_of(params: Params) -> tuple[int, ...]:
    """``ages=1,6,24``: whole hours after publication, as `--ages` takes them."""
    raw = params.one("ages")
    if raw is None:
        return tuple(DEFAULT_AGES)
    try:
        hours = tuple(sorted({int(a) for a in raw.split(",") if a.strip()}))
    except ValueError:
        raise ConfigError(f"ages {raw!r}: whole hours, comma separated") from None
    if not hours:
        raise ConfigError(f"ages {raw!r}: whole hours, comma separated")
    return hours


async def _reach(request: Request) -> Report:
    params = Params(request.query_params.multi_items())
    return await reach(store_of(request), spec_from(params), ages=ages_of(params))


def _links(request: Request, path: str, keep: tuple[str, ...]) -> dict[str, str]:
    params = Params(request.query_params.multi_items())
    items = spec_items(spec_from(params)) + [(k, v) for k, v in params.items if k in keep and v.strip()]
    return {"csv": url(f"{path}.csv", items), "json": url(f"{path}.json", items)}


async def top_page(request: Request, user: User) -> Response:
    report = await _top(request)
    params = Params(request.query_params.multi_items())
    return render(request, "top.html", {
        "report": report, "rows": report.as_dicts(), "columns": report.columns, "meta": report.meta,
        "what": choice(params, "what", TOP_WHAT, "channels"), "choices": TOP_WHAT,
        "limit": integer(params, "limit", 20, 1, 10_000), "deleted": choice(params, "deleted", DELETED, "include"),
        "spec": spec_items(spec_from(params)),
        "downloads": _links(request, "/top", ("what", "limit", "deleted", "per_subscriber")),
    }, user=user)


async def reach_page(request: Request, user: User) -> Response:
    report = await _reach(request)
    params = Params(request.query_params.multi_items())
    return render(request, "reach.html", {
        "rows": report.as_dicts(), "columns": report.columns, "meta": report.meta,
        "ages": ",".join(str(a) for a in ages_of(params)), "spec": spec_items(spec_from(params)),
        "downloads": _links(request, "/reach", ("ages",)),
    }, user=user)


def _download(make: Callable[[Request], Awaitable[Report]], fmt: str, name: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request, user: User) -> Response:
        return download(await make(request), fmt, name)

    return page(handler)


routes = [
    Route("/top", page(top_page)),
    Route("/top.csv", _download(_top, "csv", "top")),
    Route("/top.json", _download(_top, "json", "top")),
    Route("/reach", page(reach_page)),
    Route("/reach.csv", _download(_reach, "csv", "reach")),
    Route("/reach.json", _download(_reach, "json", "reach")),
]
