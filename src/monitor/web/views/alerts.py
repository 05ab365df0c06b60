"""The alerts feed (what fired, when, why, delivery state) and acknowledging one (editors only)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from monitor.web.common import User, error_page, page, render, store_of, write_action
from monitor.web.query import Params, integer

PAGE = 100


async def alerts_page(request: Request, user: User) -> Response:
    params = Params(request.query_params.multi_items())
    limit = integer(params, "limit", PAGE, 1, 1000)
    rule = params.one("rule")
    store = store_of(request)
    rows = await store.list_alerts(rule=rule, limit=limit)
    acks = await store.alert_acks([r.alert.id for r in rows if r.alert.id is not None])
    items = []
    for row in rows:
        details = dict(row.alert.details)
        why: list[tuple[str, object]] = []
        if details.get("why"):
            why.append(("why", details["why"]))
        terms = details.get("terms")
        for term in terms if isinstance(terms, list) else []:
            if isinstance(term, dict):
                why.append(("matched", f"{term.get('as_written', '')} → {term.get('canonical', '')}"
                                       f" ({term.get('rule', '')}): {term.get('context', '')}"))
            else:
                why.append(("matched", term))
        counts = details.get("counts")
        if isinstance(counts, dict):
            why.append(("counts", ", ".join(f"{k} {v}" for k, v in counts.items() if k != "history")))
        elif "count" in details:
            why.append(("count", details["count"]))
        items.append({"alert": row.alert, "deliveries": sorted(row.deliveries.items()), "why": why,
                      "ack": acks.get(row.alert.id or -1)})
    return render(request, "alerts.html", {"items": items, "rule": rule or ""}, user=user)


async def acknowledge(request: Request, user: User) -> Response:
    try:
        alert_id = int(request.path_params["alert_id"])
    except (KeyError, ValueError):
        return error_page(request, 404, "no such alert", user)
    ack = await store_of(request).acknowledge_alert(alert_id, actor=user.name, at=datetime.now(UTC))
    if ack is None:
        return error_page(request, 404, "no such alert", user)
    return RedirectResponse(f"/alerts#alert-{alert_id}", status_code=303)


routes = [
    Route("/alerts", page(alerts_page)),
    Route("/alerts/{alert_id:int}/ack", write_action(acknowledge), methods=["POST"]),
]
