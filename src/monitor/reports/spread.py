"""Spread: near-duplicate clusters across channels, and the forward network.

Clusters: posts are joined when their content hashes are equal (the same normalised text)
or their 64-bit SimHashes differ in at most ``max_distance`` bits (the same item with a
changed header or an added link). Candidate pairs come from banding: with k allowed bit
differences, two fingerprints within distance k agree exactly on at least one of k+1 bands,
so only posts sharing a band value are compared (no all-pairs scan).

Network: an edge source -> target with weight n means target re-posted n posts forwarded
from source (information flows along the arrow). Exported through networkx as GraphML or
GEXF for Gephi, and as CSV edges through output.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.escape import terminal
from monitor.identity import id_key
from monitor.fingerprint import to_unsigned64
from monitor.reports.periods import from_day
from monitor.store.ports import ReportReads as ReportSource
from monitor.reports.spec import ReportSpec, Resolved, resolve
from monitor.reports.table import Report
from monitor.reports.top import post_link

DEFAULT_DISTANCE = 8  # bits of 64; a footer or a changed word in a 60-word post moves 4-11 bits
DEFAULT_MIN_LENGTH = 40  # characters; shorter posts ("Подпишитесь!") collide by nature


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def near_duplicate_groups(hashes: Sequence[str], simhashes: Sequence[int], max_distance: int) -> list[list[int]]:
    """Indices grouped into clusters (size >= 2), each sorted ascending.

    Candidate pairs share one of ``max_distance + 1`` bands exactly (pigeonhole); each band
    bucket is compared all-against-all with numpy popcounts, in row chunks to bound memory.
    """
    import numpy as np

    n = len(hashes)
    union = _Union(n)
    first_of: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if h in first_of:
            union.join(first_of[h], i)
        else:
            first_of[h] = i
    values = np.array([to_unsigned64(s) for s in simhashes], dtype=np.uint64)
    live = np.nonzero(values)[0]  # simhash 0 = no words
    bands = max_distance + 1
    width = 64 // bands
    for band in range(bands):
        shift = band * width
        bits = 64 - shift if band == bands - 1 else width
        mask = np.uint64((1 << bits) - 1) if bits < 64 else np.uint64(0xFFFFFFFFFFFFFFFF)
        keys = (values[live] >> np.uint64(shift)) & mask
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
        for members in np.split(live[order], cuts):
            if len(members) < 2:
                continue
            sub = values[members]
            for row in range(0, len(members), 1024):
                block = sub[row : row + 1024]
                dist = np.bitwise_count(block[:, None] ^ sub[None, :])
                ii, jj = np.nonzero(dist <= max_distance)
                for a, b in zip(ii.tolist(), jj.tolist(), strict=True):
                    if row + a < b:
                        union.join(int(members[row + a]), int(members[b]))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[union.find(i)].append(i)
    return [sorted(g) for g in groups.values() if len(g) >= 2]


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def clusters(
    store: ReportSource,
    spec: ReportSpec,
    *,
    max_distance: int = DEFAULT_DISTANCE,
    min_channels: int = 2,
    min_length: int = DEFAULT_MIN_LENGTH,
    limit: int = 100,
) -> Report:
    res = await resolve(store, spec)
    rows = await store.report_fingerprints(
        since_day=res.since_day, until_day=res.until_day, min_length=min_length, **res.filters()
    )
    groups = near_duplicate_groups([r["content_hash"] for r in rows], [int(r["simhash"]) for r in rows],
                                   max_distance)
    found: list[tuple[Any, ...]] = []
    for members in groups:
        items = sorted((rows[i] for i in members), key=lambda r: (r["posted_at"], r["channel_id"], r["message_id"]))
        channels = sorted({int(r["channel_id"]) for r in items})
        if len(channels) < min_channels:
            continue
        head = items[0]
        info = res.channels.get(int(head["channel_id"]))
        text = head["text"]
        found.append((
            len(items), len(channels), res.channel_name(head["channel_id"]), int(head["message_id"]),
            _iso(int(head["posted_at"])), _iso(int(items[-1]["posted_at"])),
            post_link(info.username if info else None, int(head["channel_id"]), int(head["message_id"])),
            [f"{res.channel_name(r['channel_id'])}/{r['message_id']}" for r in items],
            head["fwd_channel_id"],
            text,  # whole: the terminal table shortens it, exports keep it
        ))
    found.sort(key=lambda r: (-r[1], -r[0], r[4]))
    found = found[:limit]
    # the first appearance we saw may itself be a forward: name where it came from
    unknown = sorted({int(r[8]) for r in found if r[8] is not None and int(r[8]) not in res.channels})
    names = await store.report_forward_names(unknown)
    out = []
    for i, r in enumerate(found, start=1):
        src = r[8]
        origin = "" if src is None else (res.channel_name(src) if int(src) in res.channels
                                         else names.get(int(src), id_key(int(src))))
        out.append((i, *r[:8], origin, r[9]))
    return Report(
        name="spread",
        columns=("cluster", "posts", "channels", "first_channel", "first_message_id", "first_at", "last_at",
                 "first_link", "members", "forwarded_from", "text"),
        rows=out,
        meta=res.meta() | {"max_hamming_distance": max_distance, "min_channels": min_channels,
                           "min_text_length": min_length, "fingerprint": "64-bit SimHash of word 3-shingles"},
    )


async def forward_network(store: ReportSource, spec: ReportSpec) -> tuple[Report, dict[int, dict[str, Any]]]:
    """Edges (source -> forwarding channel) and node attributes keyed by channel id."""
    res = await resolve(store, spec)
    rows = await store.report_forward_edges(
        since_day=res.since_day, until_day=res.until_day, channel_ids=res.channel_ids
    )
    unknown = sorted({int(r["source"]) for r in rows} - set(res.channels))
    names = await store.report_forward_names(unknown)
    nodes: dict[int, dict[str, Any]] = {}

    def node(cid: int) -> str:
        if cid not in nodes:
            info = res.channels.get(cid)
            title = (info.title if info else None) or names.get(cid) or ""
            nodes[cid] = {
                "label": info.name if info else (names.get(cid) or str(cid)),
                "username": (info.username if info else None) or "",
                "title": title,
                "watched": bool(info.watched) if info else False,
            }
        return str(nodes[cid]["label"])

    out = []
    for r in rows:
        src, dst = int(r["source"]), int(r["target"])
        out.append((src, node(src), dst, node(dst), int(r["posts"]), from_day(int(r["first_day"])).isoformat(),
                    from_day(int(r["last_day"])).isoformat()))
    report = Report(
        name="network",
        columns=("source_id", "source", "target_id", "target", "forwards", "first_day", "last_day"),
        rows=out,
        meta=_network_meta(res),
    )
    return report, nodes


def _network_meta(res: Resolved) -> dict[str, Any]:
    return res.meta() | {"edge": "source -> target: target forwarded posts of source", "source": "agg_forward_day"}


def _xml_safe(text: str) -> str:
    """GraphML/GEXF are XML 1.0: control characters are not even escapable there."""
    return terminal(text)


def export_graph(report: Report, nodes: dict[int, dict[str, Any]], path: Path) -> None:
    """Write the network as GraphML (.graphml) or GEXF (.gexf), chosen by the file suffix."""
    import networkx as nx  # type: ignore[import-untyped]

    graph = nx.DiGraph(name="monitor forward network")
    for cid, attrs in nodes.items():
        graph.add_node(str(cid), label=_xml_safe(str(attrs["label"])), username=_xml_safe(str(attrs["username"])),
                       title=_xml_safe(str(attrs["title"])), watched=bool(attrs["watched"]))
    for src, _s, dst, _t, weight, first, last in report.rows:
        graph.add_edge(str(src), str(dst), weight=int(weight), first_day=first, last_day=last)
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        nx.write_graphml(graph, path)
    elif suffix == ".gexf":
        nx.write_gexf(graph, path)
    else:
        raise ValueError(f"{path.name}: use a .graphml or .gexf file name")
