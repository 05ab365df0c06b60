"""Channels: every watched channel with its status, poll history and posts stored; the forward
network (GEXF download, as ``monitor report network --gexf``) and discovery candidates."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from monitor.reports.discovery import discovery
from monitor.reports.spread import export_graph, forward_network
from monitor.collectors.status import TeamStatus, account_rows, collector_rows
from monitor.errors import ConfigError, MonitorError
from monitor.escape import terminal
from monitor.models import AuditEntry
from monitor.reports.queue import build_queue, find
from monitor.reports.spec import resolve
from monitor.watchlist import accept_candidate, remember_accepted
from monitor.web import svg
from monitor.web.common import User, download, error_page, page, render, state, store_of, write_action
from monitor.web.pagereads import PageReads
from monitor.web.query import Params, integer, spec_from, spec_items, url


async def channels_page(request: Request, user: User) -> Response:
    """Every channel; in team mode (collectors registered, PostgreSQL) also the collectors, the accounts
    and who polls each channel, from the same functions as `monitor status`."""
    store = store_of(request)
    states = await store.watch_states(include_unwatched=True)
    collectors = await store.collectors()
    team = None
    if collectors:
        team = TeamStatus(collectors=collectors, leases=await store.leases(), accounts=await store.account_states(),
                          now=datetime.now(UTC), expiry=state(request).config.lease_expiry)
    leased = team.live_leases() if team is not None else {}
    return render(request, "channels.html", {
        "states": states, "team": team is not None, "leased": leased,
        "collectors": collector_rows(team) if team is not None else [],
        "accounts": account_rows(team) if team is not None else [],
    }, user=user)


EDGES = 100  # edges listed per page: the busiest first, the rest a click (or a download) away


async def network_page(request: Request, user: User) -> Response:
    """The forward network of the range (picture, a page of its edges, the downloads with every edge),
    the discovery candidates and the discovery queue.

    Why the edges are paged: a month of 10,000,000 posts holds thousands of edges; the page lists the
    ``EDGES`` busiest (the report's order) after ``edges_from``, the downloads hold them all."""
    params = Params(request.query_params.multi_items())
    spec = spec_from(params)
    store = PageReads(store_of(request))  # one resolve and one channel read for the three reports
    report, nodes = await forward_network(store, spec)
    found = await discovery(store, spec, limit=integer(params, "limit", 50, 1, 10_000))
    items = spec_items(spec)
    res = await resolve(store, spec)  # the queue of the page's range, not of all time (speed)
    queue = await build_queue(store, since_day=res.since_day, until_day=res.until_day, depth_limit=QUEUE_DEPTH)
    start = integer(params, "edges_from", 0, 0, 10_000_000)
    rest = [(k, v) for k, v in params.items if k != "edges_from"]
    edges = report.as_dicts()
    return render(request, "network.html", {
        "queue": queue[:integer(params, "limit", 50, 1, 10_000)],
        "can_watch": state(request).config.config_path is not None,
        "edges": edges[start:start + EDGES], "edges_from": start, "edges_total": len(edges),
        "edges_next": url("/network", [*rest, ("edges_from", start + EDGES)]) if start + EDGES < len(edges) else None,
        "edges_prev": url("/network", [*rest, ("edges_from", max(start - EDGES, 0))]) if start else None,
        "candidates": found.as_dicts(), "meta": report.meta,
        "picture": svg.network(report.rows, nodes), "picture_limit": svg.NET_NODES,  # strings escaped by svg._t
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


QUEUE_DEPTH = 2  # as `monitor discovery list/accept` by default


async def accept(request: Request, user: User) -> Response:
    """An editor watches a discovery candidate: `monitor discovery accept` over HTTP (config file
    edited with its comments kept, store watch list and decision, an audit entry)."""
    config_path = state(request).config.config_path
    if config_path is None:
        return error_page(request, 409, "the dashboard was started without --config: there is no watch list"
                          " to add to (start it with `monitor web -c CONFIG`)", user)
    form = await request.form()
    wanted = str(form.get("candidate") or "")
    store = store_of(request)
    c = find(await build_queue(store, depth_limit=QUEUE_DEPTH, include_decided=True), wanted)
    if c is None:
        return error_page(request, 404, f"{terminal(wanted)!s} is not in the discovery queue", user)
    try:
        ref, labels = await run_in_threadpool(accept_candidate, config_path, c)
    except ConfigError as exc:
        return error_page(request, 409, terminal("; ".join(str(p) for p in exc.problems)), user)
    except MonitorError as exc:  # a candidate known by neither username nor id
        return error_page(request, 409, terminal(str(exc)), user)
    now = datetime.now(UTC)
    await remember_accepted(store, ref, c, labels, at=now)
    await store.record_audit(AuditEntry(actor=user.name, action="watch.add", target=ref.key, at=now,
                                        detail={"candidate": c.ref, **labels}))
    return RedirectResponse("/channels", status_code=303)


routes = [
    Route("/discovery/accept", write_action(accept), methods=["POST"]),
    Route("/channels", page(channels_page)),
    Route("/network", page(network_page)),
    Route("/network.gexf", page(network_gexf)),
    Route("/network.csv", _network_download("csv")),
    Route("/network.json", _network_download("json")),
    Route("/discovery.csv", page(discovery_csv)),
]
