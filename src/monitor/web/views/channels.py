"""Channels: every watched channel with its status, poll history and posts stored; the forward
network (GEXF download, as ``monitor report network --gexf``) and discovery candidates."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor.reports.discovery import discovery
from monitor.reports.spread import export_graph, forward_network
from monitor.web.common import User, download, page, render, store_of
from monitor.web.query import Params, integer, spec_from, spec_items, url


async def channels_page(request: Request, user: User) -> Response:
    states = await store_of(request).watch_states(include_unwatched=True)
    return render(request, "channels.html", {"states": states}, user=user)


async def network_page(request: Request, user: User) -> Response:
    params = Params(request.query_params.multi_items())
    spec = spec_from(params)
    report, _nodes = await forward_network(store_of(request), spec)
    found = await discovery(store_of(request), spec, limit=integer(params, "limit", 50, 1, 10_000))
    items = spec_items(spec)
    return render(request, "network.html", {
        "edges": report.as_dicts(), "candidates": found.as_dicts(), "meta": report.meta,
        "gexf": url("/network.gexf", items), "csv": url("/network.csv", items), "json": url("/network.json", items),
        "discovery_csv": url("/discovery.csv", items),
    }, user=user)


async def network_gexf(request: Request, user: User) -> Response:
    spec = spec_from(Params(request.query_params.multi_items()))
    report, nodes = await forward_network(store_of(request), spec)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "network.gexf"
        export_graph(report, nodes, path)  # the CLI's writer: the same file as --gexf
        body = path.read_bytes()
    return Response(body, media_type="application/gexf+xml",
                    headers={"Content-Disposition": 'attachment; filename="network.gexf"'})


def _network_download(fmt: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request, user: User) -> Response:
        report, _nodes = await forward_network(store_of(request), spec_from(Params(request.query_params.multi_items())))
        return download(report, fmt, "network")

    return page(handler)


async def discovery_csv(request: Request, user: User) -> Response:
    params = Params(request.query_params.multi_items())
    found = await discovery(store_of(request), spec_from(params), limit=integer(params, "limit", 50, 1, 10_000))
    return download(found, "csv", "discovery")


routes = [
    Route("/channels", page(channels_page)),
    Route("/network", page(network_page)),
    Route("/network.gexf", page(network_gexf)),
    Route("/network.csv", _network_download("csv")),
    Route("/network.json", _network_download("json")),
    Route("/discovery.csv", page(discovery_csv)),
]
