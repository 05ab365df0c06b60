"""Spread clusters, the forward network (GraphML/GEXF/CSV) and discovery, against the inputs."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import networkx as nx
import pytest
from reports.reportdata import CHANNEL_BY_ID, DUP_TEXT, UNWATCHED_SOURCE, Dataset

from monitor.models import Channel
from monitor.reports.discovery import discovery
from monitor.reports.output import to_csv
from monitor.reports.spec import ReportSpec
from monitor.reports.spread import clusters, export_graph, forward_network, near_duplicate_groups

SPEC = ReportSpec(since=date(2021, 1, 1), until=date(2021, 4, 30))


async def test_near_duplicate_across_channels_with_first_appearance(dataset: Dataset) -> None:
    report = await clusters(dataset.store, SPEC)
    rows = report.as_dicts()
    assert len(rows) == 1
    row = rows[0]
    (c1, m1), (_c2, m2) = dataset.dup_keys
    assert row["posts"] == 2 and row["channels"] == 2
    assert (row["first_channel"], row["first_message_id"]) == (f"@{CHANNEL_BY_ID[c1].username}", m1)
    assert row["first_at"] == "2021-02-10T08:00:00Z" and row["last_at"] == "2021-02-11T09:00:00Z"
    assert row["members"] == [f"@alpha_news/{m1}", f"@gamma_ru/{m2}"]
    assert row["text"] == DUP_TEXT  # whole: exports keep the text, the table shortens it
    assert row["forwarded_from"] == ""  # the first appearance was an original post
    assert report.meta["max_hamming_distance"] == 8
    # a strict distance keeps the pair apart (the texts differ by a footer)
    assert (await clusters(dataset.store, SPEC, max_distance=0)).rows == []


def test_banding_finds_every_pair_within_distance() -> None:
    import random

    rng = random.Random(3)
    base = [rng.getrandbits(64) for _ in range(300)]
    near = [b ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)) for b in base[:50]]  # <= 2 bits away
    values = base + near
    groups = near_duplicate_groups([str(i) for i in range(len(values))], values, 2)
    together = {frozenset(g) for g in groups}
    for i in range(50):
        assert any(i in g and 300 + i in g for g in together), i


async def test_forward_network_exports(dataset: Dataset, tmp_path: Path) -> None:
    report, nodes = await forward_network(dataset.store, SPEC)
    edges = Counter((t.post.forward.channel_id, t.post.channel_id) for t in dataset.posts if t.post.forward)
    assert {(r["source_id"], r["target_id"]): r["forwards"] for r in report.as_dicts()} == dict(edges)
    assert nodes[UNWATCHED_SOURCE.id]["label"] == "Delta Source" and nodes[UNWATCHED_SOURCE.id]["watched"] is False
    for suffix, reader in ((".graphml", nx.read_graphml), (".gexf", nx.read_gexf)):
        path = tmp_path / f"net{suffix}"
        export_graph(report, nodes, path)
        graph = reader(path)
        assert graph.is_directed()
        got = {(int(a), int(b)): int(d["weight"]) for a, b, d in graph.edges(data=True)}
        assert got == dict(edges), suffix
    buffer = io.StringIO()
    to_csv(report, buffer)
    parsed = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert {(int(r["source_id"]), int(r["target_id"])): int(r["forwards"]) for r in parsed} == dict(edges)
    with pytest.raises(ValueError):
        export_graph(report, nodes, tmp_path / "net.txt")


async def test_hostile_channel_title_still_exports(dataset: Dataset, tmp_path: Path) -> None:
    hostile = "Evil\x1b[2J\x00\u202e news <script>&"
    await dataset.store.set_resolved("alpha_news", Channel(id=1001, username="alpha_news", title=hostile),
                                     at=datetime(2021, 5, 3, tzinfo=UTC))
    report, nodes = await forward_network(dataset.store, SPEC)
    for suffix, reader in ((".graphml", nx.read_graphml), (".gexf", nx.read_gexf)):
        path = tmp_path / f"hostile{suffix}"
        export_graph(report, nodes, path)
        graph = reader(path)
        title = graph.nodes["1001"]["title"]
        assert "\x1b" not in title and "\x00" not in title and "\u202e" not in title
        assert "<script>&" in title  # XML escaping round-trips the rest


async def test_discovery_ranks_unwatched_sources(dataset: Dataset) -> None:
    report = await discovery(dataset.store, SPEC)
    rows = {r["candidate"]: r for r in report.as_dicts()}
    forwards = sum(1 for t in dataset.posts if t.post.forward and t.post.forward.channel_id == UNWATCHED_SOURCE.id)
    by_fwd = {t.post.channel_id for t in dataset.posts
              if t.post.forward and t.post.forward.channel_id == UNWATCHED_SOURCE.id}
    assert rows["id:2001"]["forwards"] == forwards
    assert rows["id:2001"]["referring_channels"] == len(by_fwd)
    assert rows["id:2001"]["title"] == "Delta Source"
    assert rows["id:2001"]["command"] == "monitor channels add 2001"
    epsilon = sum(1 for t in dataset.posts if "epsilon_tv" in t.post.mentions)
    assert rows["@epsilon_tv"]["mentions"] == epsilon
    assert rows["@epsilon_tv"]["command"] == "monitor channels add @epsilon_tv"
    assert rows["@delta_src"]["mentions"] == sum(1 for t in dataset.posts if "delta_src" in t.post.mentions)
    assert "@alpha_news" not in rows  # watched channels are never proposed
    assert [r["rank"] for r in report.as_dicts()] == list(range(1, len(rows) + 1))
    ranked = [(-r["referring_channels"], -(r["forwards"] + r["mentions"])) for r in report.as_dicts()]
    assert ranked == sorted(ranked)


@pytest.mark.parametrize("distance", [0, 1, 3, 8, 12, 20])
def test_clusters_are_the_components_of_all_close_pairs(distance: int) -> None:
    """Against brute force: every pair within the distance (plus equal hashes), on spread-out fingerprints."""
    import random

    import numpy as np

    rng = random.Random(distance)
    values = [rng.getrandbits(64) for _ in range(700)]
    for _ in range(150):  # near copies at 0..distance+2 bits, chained copies of copies, and zeros
        v = values[rng.randrange(len(values))]
        for bit in rng.sample(range(64), rng.randint(0, distance + 2)):
            v ^= 1 << bit
        values.append(v)
    values += [0, 0, values[3]]
    hashes = [str(i) for i in range(len(values))]
    hashes[-3] = hashes[-2] = "same text"  # equal content hashes join even without words (simhash 0)
    parent = list(range(len(values)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, x in enumerate(values):
        if x == 0:
            continue
        row = np.array([bin(x ^ y).count("1") if y else 99 for y in values[i + 1 :]])
        for j in np.flatnonzero(row <= distance) + i + 1:
            parent[find(int(j))] = find(i)
    parent[find(len(values) - 2)] = find(len(values) - 3)
    expected: dict[int, list[int]] = {}
    for i in range(len(values)):
        expected.setdefault(find(i), []).append(i)
    want = sorted(sorted(g) for g in expected.values() if len(g) >= 2)
    assert sorted(near_duplicate_groups(hashes, values, distance)) == want
