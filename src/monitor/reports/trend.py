"""Trend and spikes: change vs the previous period and vs a rolling baseline, robust flags.

Why median/MAD: one earlier spike inflates a mean and standard deviation and hides the
next one; the median and the median absolute deviation (MAD) ignore it. Why the weekday
baseline for daily series: channels post less at weekends, so Monday is compared with the
Mondays before it, not with Sunday.

z = (x - median(baseline)) / max(1.4826 * MAD(baseline), 1)
The 1.4826 factor makes MAD estimate a standard deviation for normal data; the floor of
1 post keeps a perfectly flat history from turning a +1 into an infinite z. A period is
flagged "spike" when z >= threshold and "drop" when z <= -threshold, and only when the
baseline has at least ``min_baseline`` periods. Periods before the first stored post are
not collection, not silence, so they never enter a baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from monitor.reports.periods import Every, buckets, label, shift
from monitor.store.ports import ReportReads as ReportSource
from monitor.reports.spec import ReportSpec, resolve
from monitor.reports.table import Report
from monitor.reports.volume import METRICS, volume_data

DEFAULT_THRESHOLD = 3.5  # Iglewicz and Hoaglin's cut-off for modified z-scores
DEFAULT_WINDOW = {"day": 8, "week": 8, "month": 12}  # baseline length, in comparable periods
MIN_BASELINE = 4
MAD_SCALE = 1.4826


@dataclass(frozen=True, slots=True)
class Score:
    median: float | None
    mad: float | None
    z: float | None
    flag: str


def baseline_positions(index: int, every: Every, window: int) -> list[int]:
    """Indices of the baseline of period ``index``: same weekday for days, else the periods before."""
    step = 7 if every == "day" else 1
    return [index - step * k for k in range(1, window + 1) if index - step * k >= 0]


def _median(values: Sequence[float]) -> float:
    """``statistics.median``'s arithmetic without its generality: a weekly chart of 12 series scores 3,000
    periods, two medians each."""
    data = sorted(values)
    half = len(data) // 2
    return data[half] if len(data) % 2 else (data[half - 1] + data[half]) / 2


def robust_score(value: float, history: Sequence[float], threshold: float, min_baseline: int = MIN_BASELINE) -> Score:
    if len(history) < min_baseline:
        return Score(None, None, None, "")
    median = _median(history)
    mad = _median([abs(h - median) for h in history])
    z = (value - median) / max(MAD_SCALE * mad, 1.0)
    flag = "spike" if z >= threshold else "drop" if z <= -threshold else ""
    return Score(median, mad, z, flag)


async def trend(
    store: ReportSource,
    spec: ReportSpec,
    *,
    metric: str = "posts",
    threshold: float = DEFAULT_THRESHOLD,
    window: int | None = None,
    only_flagged: bool = False,
) -> Report:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}")
    every: Every = spec.period
    win = window or DEFAULT_WINDOW[every]
    res = await resolve(store, spec)
    lookback = win * (7 if every == "day" else 1)
    first = buckets(res.since_day, res.since_day, every)[0]
    extended = replace(res, since_day=shift(first, every, lookback))
    series, _, periods, table = await volume_data(store, extended, denominators=False)
    span = await store.report_day_range()
    # periods before the first stored post are "not collected yet", not zero: keep them out of baselines
    data_start = buckets(span[0], span[0], every)[0] if span else first
    shown_from = first
    m = METRICS.index(metric)
    combos = sorted(series) if res.by else [()]
    rows: list[tuple[Any, ...]] = []
    for combo in combos:
        cells = series.get(combo, {})
        values = [float(cells.get(b, [0, 0, 0])[m]) for b in periods]
        for i, bucket in enumerate(periods):
            if bucket < shown_from:
                continue
            x = values[i]
            prev = values[i - 1] if i > 0 else None
            history = [values[j] for j in baseline_positions(i, every, win) if periods[j] >= data_start]
            score = robust_score(x, history, threshold)
            change = None if prev is None else x - prev
            pct = None if prev in (None, 0) else round(100.0 * (x - prev) / prev, 2)
            vs_base = None if score.median is None else x - score.median
            if only_flagged and not score.flag:
                continue
            rows.append((
                label(bucket, every), *combo, int(x),
                None if prev is None else int(prev), None if change is None else int(change), pct,
                score.median, score.mad, vs_base, None if score.z is None else round(score.z, 3), score.flag,
            ))
    columns = ("period", *res.by, metric, "previous", "change", "change_pct", "baseline_median", "baseline_mad",
               "vs_baseline", "z", "flag")
    meta = res.meta() | {
        "source": table,
        "metric": metric,
        "method": "robust z = (x - median) / max(1.4826 * MAD, 1) over the baseline",
        "baseline": (f"same weekday in the previous {win} weeks" if every == "day"
                     else f"previous {win} {every}s"),
        "threshold": threshold,
        "min_baseline": MIN_BASELINE,
        "flags": "spike: z >= threshold; drop: z <= -threshold",
    }
    return Report(name="trend", columns=columns, rows=rows, meta=meta)
