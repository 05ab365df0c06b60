"""The server-side chart: well-formed SVG whatever the names, every mark a link with its value."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from monitor.web.svg import Flag, Series, chart, network

NS = {"s": "http://www.w3.org/2000/svg"}


def test_hostile_names_stay_text_and_the_svg_stays_well_formed() -> None:
    name = '</title></a><script>window.__pwned=1</script>" onload="x" \u202eevil'
    svg = chart(["2024-01", '2024-02"><script>'],
                [Series(name=name, values=[3, 0], links=['/posts?a=1&b="x"', None], flags={0: Flag("spike", 4.2, 1)})])
    root = ET.fromstring(svg)  # parses: nothing broke out of an attribute or an element
    assert root.findall(".//s:script", NS) == []
    assert all("onload" not in el.attrib for el in root.iter())
    bars = root.findall(".//s:a/s:rect", NS)
    assert len(bars) == 1 and bars[0].get("data-series") == name.replace("\u202e", "\\u202e")
    assert root.find(".//s:a", NS).get("href") == '/posts?a=1&b="x"'  # type: ignore[union-attr]
    assert len(root.findall(".//s:rect[@class='bar']", NS)) == 2  # the second, unlinked, is drawn all the same
    flag = root.find(".//s:text[@class='flag']", NS)
    assert flag is not None and flag.get("data-z") == "4.20" and "spike: z = 4.20, baseline median 1" in "".join(flag.itertext())


def test_several_series_are_lines_with_points_and_a_legend() -> None:
    svg = chart(["a", "b", "c"], [Series(name="IS", values=[1, 2, 3], links=["/p1", "/p2", "/p3"]),
                                  Series(name="ISKP", values=[0, 5, 1], links=["/q1", "/q2", "/q3"])])
    root = ET.fromstring(svg)
    assert len(root.findall(".//s:polyline", NS)) == 2
    points = root.findall(".//s:a/s:circle", NS)
    assert [(p.get("data-series"), p.get("data-value")) for p in points] == [
        ("IS", "1"), ("IS", "2"), ("IS", "3"), ("ISKP", "0"), ("ISKP", "5"), ("ISKP", "1")]
    ys = {p.get("data-value"): float(p.get("cy") or 0) for p in points}
    assert ys["5"] < ys["3"] < ys["1"] < ys["0"]  # higher values are drawn higher
    assert [t.text for t in root.findall(".//s:text[@class='legend']", NS)] == ["IS", "ISKP"]


def test_the_network_picture_escapes_names_rings_the_watched_set_and_keeps_the_busiest() -> None:
    hostile = '</title><script>window.__pwned=1</script>" onmouseover="x" \u202eevil'
    nodes = {1: {"label": "@watched_a", "title": "A", "watched": True, "username": "watched_a"},
             2: {"label": hostile, "title": hostile, "watched": False, "username": ""},
             3: {"label": "@watched_b", "title": "", "watched": True, "username": "watched_b"}}
    rows = [(2, hostile, 1, "@watched_a", 40, "2024-01-01", "2024-02-01"),
            (1, "@watched_a", 3, "@watched_b", 2, "2024-01-05", "2024-01-06")]
    svg = network(rows, nodes)
    root = ET.fromstring(svg)
    assert root.findall(".//s:script", NS) == [] and all("onmouseover" not in el.attrib for el in root.iter())
    assert len(root.findall(".//s:line[@class='edge']", NS)) == 2
    centre = 360.0

    def dist(cid: str) -> float:
        circle = root.find(f".//s:g[@data-id='{cid}']/s:circle", NS)
        assert circle is not None
        return abs(complex(float(circle.get("cx") or 0) - centre, float(circle.get("cy") or 0) - centre))

    inner = [dist(c) for c in ("1", "3")]
    outer = dist("2")
    assert max(inner) < outer  # watched channels inside, the one they forward from outside
    assert network(rows, nodes) == svg  # the same data, the same picture
    small = ET.fromstring(network(rows, nodes, limit=2))
    assert {g.get("data-id") for g in small.findall(".//s:g[@class='node']", NS)} == {"1", "2"}  # the busiest two
    assert len(small.findall(".//s:line[@class='edge']", NS)) == 1 and small.get("data-all-nodes") == "3"
