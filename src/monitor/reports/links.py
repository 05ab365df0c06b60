"""Out-links: which domains and links the watched channels point their readers to, ranked by group,
language, channel or label, over time (file hosts and mirror sites are where the payload lives).

Links are attacker-controlled text: the report shows them defanged (``hxxps://files[.]example[.]net``)
unless ``raw`` is asked for, so a table pasted into a chat or a ticket links nowhere. Telegram's own
preview title and site name are shown when it built one; nothing is ever fetched from the web.
Posts found deleted from their channel count unless ``include_deleted`` is False.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from monitor.escape import defang
from monitor.errors import ConfigError, Problem
from monitor.reports.periods import bucket_start, from_day, label
from monitor.reports.spec import NONE, POST_FILTERS, ReportSpec, refuse_unused, resolve
from monitor.reports.table import Report

WHAT = ("domains", "links")
_BY_OK = ("group", "language", "channel")


async def links(store: Any, spec: ReportSpec, *, what: str = "domains", limit: int = 20, raw: bool = False,
                include_deleted: bool = True) -> Report:
    refuse_unused(spec, "links", POST_FILTERS | {"by", "every"})
    if what not in WHAT:
        raise ConfigError(Problem("--what", f"{what!r}: use domains or links"))
    for name in spec.by:
        if name not in _BY_OK and not name.startswith("label:"):
            raise ConfigError(Problem("--by", f"{name!r}: links are ranked by group, language, channel or label:<key>"))
    res = await resolve(store, spec)
    rows = await store.report_links(since_day=res.since_day, until_day=res.until_day, include_deleted=include_deleted,
                                    **res.filters())
    shown = (lambda text: text) if raw else defang
    cells: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {"posts": set(), "channels": set(), "first": None, "last": None, "title": None, "site": None,
                 "deleted": 0})
    for r in rows:
        item = r["domain"] or NONE if what == "domains" else r["url"]
        period = label(bucket_start(int(r["day"]), spec.every), spec.every) if spec.every else ""
        for combo in _combos(res, r):
            cell = cells[(period, combo, item)]
            cell["posts"].add((r["channel_id"], r["message_id"]))
            cell["channels"].add(r["channel_id"])
            day = int(r["day"])
            cell["first"] = day if cell["first"] is None else min(cell["first"], day)
            cell["last"] = day if cell["last"] is None else max(cell["last"], day)
            cell["deleted"] += bool(r["deleted"])
            cell["title"] = cell["title"] or r["preview_title"]
            cell["site"] = cell["site"] or r["preview_site"]
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for (period, combo, item), cell in cells.items():
        groups[(period, combo)].append((item, cell))
    out = []
    for (period, combo), items in sorted(groups.items()):
        ranked = sorted(items, key=lambda kv: (-len(kv[1]["posts"]), -len(kv[1]["channels"]), kv[0]))[:limit]
        for rank, (item, cell) in enumerate(ranked, start=1):
            row: list[Any] = [period] if spec.every else []
            row += [*combo, rank, shown(item), len(cell["posts"]), len(cell["channels"]), cell["deleted"],
                    from_day(cell["first"]).isoformat(), from_day(cell["last"]).isoformat()]
            if what == "links":
                row += [shown(cell["title"]) if cell["title"] else "", shown(cell["site"]) if cell["site"] else ""]
            out.append(tuple(row))
    columns = (("period",) if spec.every else ()) + (*res.by, "rank", "domain" if what == "domains" else "link",
                                                    "posts", "channels", "posts_deleted", "first_day", "last_day")
    if what == "links":
        columns += ("preview_title", "preview_site")
    meta = res.meta() | {"ranked": "posts carrying the link, then channels", "defanged": not raw,
                         "deleted_posts": "included" if include_deleted else "excluded",
                         "previews": "Telegram's own link preview as the post carried it; never fetched"}
    return Report(name=f"links-{what}", columns=columns, rows=out, meta=meta)


def _combos(res: Any, row: dict[str, Any]) -> list[tuple[str, ...]]:
    """The --by values of one link row; a post naming two groups counts under both."""
    combos: list[tuple[str, ...]] = [()]
    for name in res.by:
        if name == "group":
            values = [str(g) for g in row["groups"]] or [NONE]
        elif name == "language":
            values = [f"{row['lang']}-{row['script']}" if row["script"] else str(row["lang"])]
        elif name == "channel":
            values = [res.channel_name(row["channel_id"])]
        else:
            info = res.channels.get(int(row["channel_id"]))
            values = [(info.labels.get(name[6:]) if info else None) or NONE]
        combos = [(*c, v) for c in combos for v in values]
    return combos
