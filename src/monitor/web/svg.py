"""Charts drawn on the server as SVG: bars (one series) or lines with points (several), every bar and
point a link to the posts behind it, spikes marked with their baseline and z.

Why server-side SVG and not a JavaScript chart library: the page then needs no script at all
(the Content-Security-Policy allows none inline, and nothing is fetched), the chart is the same
for every browser and for the tests that read it, and each mark is a plain ``<a>``: a click
gets its posts, a middle-click opens them in a tab, a screen reader reads its ``<title>``.
Everything written here is text from reports (names can be attacker-controlled: channel
titles, terms), so every string goes through ``html.escape`` and no style attribute is used
(CSP ``style-src 'self'``): colours are presentation attributes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from monitor.escape import terminal

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#000000", "#b8860b")
SPIKE, DROP = "#d62728", "#1f77b4"
WIDTH, HEIGHT = 960, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 20, 70


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str  # "spike" | "drop"
    z: float
    baseline: float


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]
    links: Sequence[str | None]  # per period: the posts behind the mark
    flags: dict[int, Flag] = field(default_factory=dict)  # period index -> flag


def _t(text: object) -> str:
    """Text for SVG: terminal-safe (bidi and controls made visible), then XML-escaped."""
    return escape(terminal(str(text)), quote=True)


def _nice_top(value: float) -> tuple[float, float]:
    """A round upper bound and tick step for the y axis."""
    if value <= 0:
        return 1.0, 0.25
    exp = 10 ** math.floor(math.log10(value))
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * exp / 4
        if step * 4 >= value:
            return step * 4, step
    return 10 * exp, 2.5 * exp


def _fmt(value: float, share: bool) -> str:
    if share:
        return f"{value * 100:.1f}%"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def chart(periods: Sequence[str], series: Sequence[Series], *, share: bool = False, label: str = "posts") -> str:
    """The SVG document (as a string to inline in the page) of ``series`` over ``periods``."""
    n = max(len(periods), 1)
    top, step = _nice_top(max((v for s in series for v in s.values), default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / n

    def x(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v / top if top else 0))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}"'
        f' height="{HEIGHT}" role="img" aria-label="{_t(label)} per period" data-series="{len(series)}"'
        f' data-periods="{len(periods)}">'
    ]
    ticks = 0.0
    while ticks <= top + 1e-9:  # y grid and labels
        yy = y(ticks)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11">{_fmt(ticks, share)}</text>')
        ticks += step
    every = max(1, math.ceil(n / 24))
    for i, period in enumerate(periods):  # x labels, thinned to about 24
        if i % every == 0:
            out.append(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="end" font-size="11"'
                       f' transform="rotate(-40 {x(i):.1f} {HEIGHT - BOTTOM + 14})">{_t(period)}</text>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#333"/>')
    bars = len(series) == 1
    safe_periods = [_t(period) for period in periods]  # once per period, not once per point (3,144 points)
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        safe_name = _t(s.name)
        if not bars:
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in enumerate(s.values):
            period = periods[i] if i < len(periods) else ""
            flag = s.flags.get(i)
            title = f"{s.name}, {period}: {_fmt(v, share)} {label}"
            if flag:
                title += f" ({flag.kind}: z = {flag.z:.2f}, baseline median {flag.baseline:g})"
            link = s.links[i] if i < len(s.links) else None
            mark = (f'<rect class="bar" x="{x(i) - slot * 0.4:.1f}" y="{y(v):.1f}" width="{slot * 0.8:.1f}"'
                    f' height="{max(y(0) - y(v), 0):.1f}" fill="{colour}"'
                    if bars else
                    f'<circle class="point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="4" fill="{colour}"')
            safe_period, safe_title = safe_periods[i] if i < len(periods) else "", _t(title)
            mark += f' data-period="{safe_period}" data-series="{safe_name}" data-value="{v:g}"><title>{safe_title}</title>'
            mark += "</rect>" if bars else "</circle>"
            if link:
                mark = f'<a href="{escape(link, quote=True)}">{mark}</a>'
            out.append(mark)
            if flag:
                colour_flag = SPIKE if flag.kind == "spike" else DROP
                yy = y(v) - 10 if flag.kind == "spike" else y(v) + 14
                out.append(f'<text class="flag" x="{x(i):.1f}" y="{yy:.1f}" text-anchor="middle" font-size="13"'
                           f' fill="{colour_flag}" data-z="{flag.z:.2f}" data-baseline="{flag.baseline:g}">'
                           f'{"▲" if flag.kind == "spike" else "▼"}<title>{safe_title}</title></text>')
    if not bars:  # legend
        lx, ly = LEFT, HEIGHT - 14
        for k, s in enumerate(series):
            colour = PALETTE[k % len(PALETTE)]
            out.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>')
            out.append(f'<text x="{lx + 14}" y="{ly}" font-size="11" class="legend">{_t(s.name)}</text>')
            lx += 24 + 7 * min(len(s.name), 28)
            if lx > WIDTH - 120:
                break
    out.append("</svg>")
    return "".join(out)


NET_SIZE = 720
NET_NODES = 60  # the busiest channels drawn; the GEXF download holds the whole graph


def network(rows: Sequence[Sequence[object]], nodes: dict[int, dict[str, object]], *, limit: int = NET_NODES) -> str:
    """The forward network as an SVG picture: watched channels on the inner ring, the channels they
    forward from on the outer ring, each ring ordered by forwards (busiest at the top, clockwise),
    an arrow per edge from source to forwarder, its width growing with the forwards.

    Why rings and not a force layout: the picture is the same for the same data (a permalink shows
    what a colleague saw), needs no numpy, and puts the watched set in the middle where analysts
    look first. ``rows`` are the network report's rows (source id, source, target id, target,
    forwards, first day, last day); ``nodes`` its node attributes.
    """
    weight: dict[int, int] = {}
    for src, _s, dst, _t2, forwards, *_rest in rows:
        for cid in (int(str(src)), int(str(dst))):
            weight[cid] = weight.get(cid, 0) + int(str(forwards))
    ranked = sorted(weight, key=lambda cid: (-weight[cid], str(nodes.get(cid, {}).get("label", cid)), cid))
    shown = ranked[:limit]
    inner = [cid for cid in shown if nodes.get(cid, {}).get("watched")]
    outer = [cid for cid in shown if not nodes.get(cid, {}).get("watched")]
    centre = NET_SIZE / 2
    pos: dict[int, tuple[float, float]] = {}
    for ring, radius in ((inner, NET_SIZE * 0.2 if outer else NET_SIZE * 0.34), (outer, NET_SIZE * 0.38)):
        for i, cid in enumerate(ring):
            angle = -math.pi / 2 + 2 * math.pi * i / max(len(ring), 1)
            r = radius if len(ring) > 1 else (0.0 if ring is inner and not outer else radius)
            pos[cid] = (centre + r * math.cos(angle), centre + r * math.sin(angle))
    heaviest = max((int(str(r[4])) for r in rows), default=1) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="network" viewBox="0 0 {NET_SIZE} {NET_SIZE}"'
           f' width="{NET_SIZE}" height="{NET_SIZE}" role="img" aria-label="forward network"'
           f' data-nodes="{len(shown)}" data-all-nodes="{len(weight)}" data-edges="{len(rows)}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9"'
           ' orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>']
    drawn = 0
    for src, s_name, dst, t_name, forwards, first, last in (tuple(r) for r in rows):
        a, b = pos.get(int(str(src))), pos.get(int(str(dst)))
        if a is None or b is None:
            continue
        drawn += 1
        radius_b = _node_radius(weight[int(str(dst))])
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = math.hypot(dx, dy) or 1.0
        end = (b[0] - dx / length * (radius_b + 2), b[1] - dy / length * (radius_b + 2))
        width = 0.8 + 3.2 * math.log1p(int(str(forwards))) / math.log1p(heaviest)
        title = f"{s_name} → {t_name}: {forwards} forwards, {first} to {last}"
        out.append(f'<line class="edge" x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{end[0]:.1f}" y2="{end[1]:.1f}"'
                   f' stroke="#555" stroke-opacity="0.55" stroke-width="{width:.2f}" marker-end="url(#arrow)"'
                   f' data-forwards="{int(str(forwards))}"><title>{_t(title)}</title></line>')
    for cid in shown:
        x, y = pos[cid]
        attrs = nodes.get(cid, {})
        label = str(attrs.get("label", cid))
        watched = bool(attrs.get("watched"))
        colour = PALETTE[0] if watched else PALETTE[1]
        title = f"{label}{' — ' + str(attrs['title']) if attrs.get('title') else ''}: {weight[cid]} forwards" + (
            " (watched)" if watched else "")
        anchor = "start" if x >= centre else "end"
        tx = x + (_node_radius(weight[cid]) + 4) * (1 if x >= centre else -1)
        out.append(f'<g class="node" data-id="{cid}" data-watched="{str(watched).lower()}">'
                   f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{_node_radius(weight[cid]):.1f}" fill="{colour}">'
                   f'<title>{_t(title)}</title></circle>'
                   f'<text x="{tx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}" font-size="11">{_t(label[:32])}</text></g>')
    out.insert(2, f'<desc>{drawn} of {len(rows)} edges between the {len(shown)} busiest of {len(weight)} channels</desc>')
    out.append("</svg>")
    return "".join(out)


def _node_radius(forwards: int) -> float:
    return 4 + 2.2 * math.log1p(forwards)
