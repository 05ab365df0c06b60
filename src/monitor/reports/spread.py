"""Spread: near-duplicate clusters across channels, and the forward network.

Clusters: posts are joined when their content hashes are equal (the same normalised text)
or their 64-bit SimHashes differ in at most ``max_distance`` bits (the same item with a
changed header or an added link). Candidate pairs come from permuted block tables (the
pigeonhole principle, as in Manku et al.'s near-duplicate detection at Google): cut the 64
bits into k+t blocks; two fingerprints within k bits agree exactly on at least t blocks, so
one table per choice of t blocks, keyed by those blocks, puts every close pair in a shared
bucket. t=1 is plain banding (k+1 tables of 7-bit keys for k=8: buckets of n/128, quadratic
in practice on real, uniformly spread fingerprints); t=2 gives 45 tables of 13-bit keys, and
t is chosen by a cost model from n and k. Only posts sharing a bucket are compared.

Network: an edge source -> target with weight n means target re-posted n posts forwarded
from source (information flows along the arrow). Exported through networkx as GraphML or
GEXF for Gephi, and as CSV edges through output.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import combinations
from math import comb
from pathlib import Path
from typing import Any

from monitor.escape import terminal
from monitor.identity import id_key
from monitor.fingerprint import to_unsigned64
from monitor.reports.periods import from_day
from monitor.store.ports import ReportReads as ReportSource
from monitor.reports.spec import CHANNEL_SCOPE, POST_FILTERS, ReportSpec, Resolved, refuse_unused, resolve
from monitor.reports.table import Report
from monitor.reports.top import post_link

DEFAULT_DISTANCE = 8  # bits of 64; a footer or a changed word in a 60-word post moves 4-11 bits
_KEY_BITS = 16  # table keys are sorted by numpy's radix sort, which it uses up to 16 bits
_PAIRS_AT_ONCE = 1 << 20  # bucket pairs compared per numpy call (bounds memory)
_WIDE_BUCKET = 256  # larger buckets (many distinct fingerprints alike in every table bit) go row by row
_SORT_COST = 4.0  # a radix sort's cost per fingerprint, in pair comparisons (measured)
DEFAULT_MIN_LENGTH = 40  # characters; shorter posts ("Подпишитесь!") collide by nature


def near_duplicate_groups(hashes: Sequence[str], simhashes: Sequence[int], max_distance: int) -> list[list[int]]:
    """Indices grouped into clusters (size >= 2), each sorted ascending.

    Equal content hashes and equal SimHashes are joined directly; distinct SimHashes are
    compared only within the buckets of the block tables (see the module docstring), in
    numpy, and the clusters are the connected components of the pairs found.
    """
    import numpy as np

    n = len(hashes)
    if n < 2:
        return []
    values = np.fromiter((to_unsigned64(s) for s in simhashes), dtype=np.uint64, count=n)
    edges_a: list[Any] = []
    edges_b: list[Any] = []
    first_of: dict[str, int] = {}
    same_a, same_b = [], []
    for i, h in enumerate(hashes):
        j = first_of.setdefault(h, i)
        if j != i:
            same_a.append(j)
            same_b.append(i)
    if same_a:
        edges_a.append(np.array(same_a, dtype=np.int64))
        edges_b.append(np.array(same_b, dtype=np.int64))
    live = np.flatnonzero(values)  # simhash 0 = no words
    unique, first, inverse = np.unique(values[live], return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    rep = live[first]  # one post per distinct SimHash
    twins = rep[inverse] != live
    edges_a.append(rep[inverse][twins])
    edges_b.append(live[twins])
    ua, ub = _close_pairs(unique, max_distance)
    edges_a.append(rep[ua])
    edges_b.append(rep[ub])
    labels = _components(n, np.concatenate(edges_a), np.concatenate(edges_b))
    members = np.flatnonzero(np.bincount(labels, minlength=n)[labels] >= 2)  # most posts are alone
    order = members[np.argsort(labels[members], kind="stable")]
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return [g.tolist() for g in np.split(order, cuts)] if order.size else []


def _popcount(x: Any) -> Any:
    """Bits set per uint64 (np.bitwise_count from numpy 2.0; a byte table before that)."""
    import numpy as np

    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return table[np.ascontiguousarray(x).view(np.uint8)].reshape(*np.shape(x), 8).sum(axis=-1, dtype=np.uint8)


def _plan(n: int, k: int) -> tuple[int, int]:
    """(blocks, blocks per key) with the least estimated work: tables x (sorting n + pairs in buckets)."""
    best: tuple[float, int, int] | None = None
    for t in (1, 2, 3):
        blocks = k + t
        if blocks > 64:
            break
        width = min(64 * t / blocks, _KEY_BITS)
        cost = comb(blocks, t) * (_SORT_COST * n + n * n / 2.0**width / 2.0)
        if best is None or cost < best[0]:
            best = (cost, blocks, t)
    assert best is not None
    return best[1], best[2]


def _close_pairs(values: Any, k: int) -> tuple[Any, Any]:
    """Index pairs (i < j) of distinct fingerprints within ``k`` bits, each found once."""
    import numpy as np

    n = len(values)
    empty = np.zeros(0, dtype=np.int64)
    if n < 2:
        return empty, empty
    blocks, t = _plan(n, k)
    bounds = [round(64 * i / blocks) for i in range(blocks + 1)]
    sizes_of = [bounds[b + 1] - bounds[b] for b in range(blocks)]
    # each block's top (at most 16) bits, once: a table key is a few of these side by side
    tops = [
        ((values >> np.uint64(bounds[b] + max(0, size - _KEY_BITS))) & np.uint64((1 << min(size, _KEY_BITS)) - 1))
        .astype(np.uint16)
        for b, size in enumerate(sizes_of)
    ]
    found: list[Any] = []
    for chosen in combinations(range(blocks), t):
        # the table's key: the chosen blocks' bits, at most _KEY_BITS of them (a subset of equal bits is
        # still equal, so fewer bits only makes buckets larger, never misses a pair), for a radix sort
        kept = [sizes_of[b] for b in chosen]
        spare = sum(kept) - _KEY_BITS
        if spare > 0:
            kept = [size - cut for size, cut in zip(kept, _cuts(kept, spare), strict=True)]
        key16 = np.zeros(n, dtype=np.uint16)
        for b, bits in zip(chosen, kept, strict=True):
            key16 = (key16 << np.uint16(bits)) | (tops[b] >> np.uint16(min(sizes_of[b], _KEY_BITS) - bits))
        order = np.argsort(key16, kind="stable")  # radix sort
        sorted_key = key16[order]
        starts = np.flatnonzero(np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]]))
        sizes = np.diff(np.concatenate([starts, [n]]))
        shared = sizes >= 2
        if not shared.any():
            continue
        starts, sizes = starts[shared], sizes[shared]
        sorted_values = values[order]
        # every pair inside each bucket: buckets of one size at a time, as a (buckets x pairs) matrix
        for size in np.unique(sizes).tolist():
            first = starts[sizes == size]
            for lo in range(0, len(first), max(1, _PAIRS_AT_ONCE // (size * size))):
                found.extend(_bucket_pairs(first[lo : lo + max(1, _PAIRS_AT_ONCE // (size * size))], size,
                                           sorted_values, order, n, k))
    if not found:
        return empty, empty
    pairs = np.unique(np.concatenate(found))
    return pairs // n, pairs % n


def _bucket_pairs(first: Any, size: int, sorted_values: Any, order: Any, n: int, k: int) -> list[Any]:
    """Close pairs (as i * n + j, i < j) among buckets of ``size`` members starting at ``first``."""
    import numpy as np

    out = []
    if size <= _WIDE_BUCKET:
        i, j = _triangle(size)
        block = sorted_values[first[:, None] + np.arange(size)]  # buckets x size
        close = np.flatnonzero(_popcount(np.take(block, i, axis=1) ^ np.take(block, j, axis=1)) <= k)
        if close.size:
            row, col = np.divmod(close, len(i))
            a, b = order[first[row] + i[col]], order[first[row] + j[col]]
            out.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))
        return out
    for start in first.tolist():  # a rare huge bucket: one member against the rest at a time
        members = sorted_values[start : start + size]
        for r in range(size - 1):
            hits = np.flatnonzero(_popcount(members[r + 1 :] ^ members[r]) <= k) + r + 1
            if hits.size:
                a, b = order[start + r], order[start + hits]
                out.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))
    return out


_triangles: dict[int, tuple[Any, Any]] = {}


def _triangle(size: int) -> tuple[Any, Any]:
    if size not in _triangles:
        import numpy as np

        _triangles[size] = np.triu_indices(size, 1)
    return _triangles[size]


def _cuts(sizes: list[int], spare: int) -> list[int]:
    """How many low bits to drop from each block so that ``spare`` bits go, spread evenly."""
    cuts = [0] * len(sizes)
    i = 0
    while spare > 0:
        if sizes[i] - cuts[i] > 1:
            cuts[i] += 1
            spare -= 1
        i = (i + 1) % len(sizes)
    return cuts


def _components(n: int, a: Any, b: Any) -> Any:
    """Connected-component label (its smallest member) of each of n nodes, from edge arrays a-b."""
    import numpy as np

    label = np.arange(n, dtype=np.int64)
    if a.size == 0:
        return label
    a = a.astype(np.int64)
    b = b.astype(np.int64)
    while True:
        la, lb = label[a], label[b]
        low = np.minimum(la, lb)
        new = label.copy()
        np.minimum.at(new, la, low)  # hook each root onto the smaller root of its edges
        np.minimum.at(new, lb, low)
        while True:  # pointer jumping until every node points at its root
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label
        label = new


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
    refuse_unused(spec, "spread", POST_FILTERS, "; it clusters the posts of the whole --since/--until range")
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
    refuse_unused(spec, "network", CHANNEL_SCOPE,
                  "; it counts forwards between channels over the --since/--until range (scope: --channel, --label)")
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
    import networkx as nx

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
