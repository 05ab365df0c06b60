"""One page's reads of the store: each aggregate read once per request, never across requests.

Why: the volume page computes the volume report and the trend report of the same view (the same
functions as the CLI, so the numbers agree). Each resolves the view (channels, day range) and reads
the aggregates; trend reads the same range again plus its baseline weeks before it. Over five years
of 200 channels the second read was a third of the page. ``PageReads`` sits in front of the store for
one request: a read asked again returns the rows already read, and a read that only starts earlier
than one already made (the trend's range: the baseline periods, then the view's range) asks the store
for the missing days alone and adds them to the rows held, per bucket and dimension values.

Why the sum is exact: each row is a sum over the posts of its days, and the two ranges are disjoint and
together the asked range; a group with posts in the union has posts in one part, so the ``HAVING
sum(posts) > 0`` of the aggregate read keeps it. The logical source must be the same for both parts,
else the whole range is read (a range split into whole weeks or months may name another source).

Why per request only: nothing is kept after the response, so a page never shows a number older than
its own request (analysts must be able to trust the figures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.store.ports import ReportReads

_METRICS = ("posts", "views", "forwards")
_VolumeKey = tuple[Any, ...]


@dataclass(slots=True)
class _Held:
    since_day: int
    rows: list[dict[str, Any]]
    source: str


class PageReads:
    """A ``ReportReads`` for one request over ``store`` (the rest of the store's methods pass through)."""

    def __init__(self, store: ReportReads) -> None:
        self._store = store
        self._day_range: tuple[tuple[int, int] | None] | None = None
        self._channels: list[dict[str, Any]] | None = None
        self._volumes: dict[_VolumeKey, _Held] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def report_day_range(self) -> tuple[int, int] | None:
        if self._day_range is None:
            self._day_range = (await self._store.report_day_range(),)
        return self._day_range[0]

    async def report_channels(self) -> list[dict[str, Any]]:
        if self._channels is None:
            self._channels = await self._store.report_channels()
        return [dict(row) for row in self._channels]

    async def report_volume(
        self,
        *,
        since_day: int,
        until_day: int,
        every: str,
        dims: Sequence[str],
        channel_ids: Sequence[int] | None = None,
        tags: Mapping[str, Sequence[str]] | None = None,
        langs: Sequence[tuple[str, str | None]] = (),
        scripts: Sequence[str] = (),
    ) -> tuple[list[dict[str, Any]], str]:
        key: _VolumeKey = (
            until_day, every, tuple(dims), None if channel_ids is None else tuple(channel_ids),
            tuple(sorted((kind, tuple(values)) for kind, values in (tags or {}).items())), tuple(langs),
            tuple(scripts),
        )
        filters: dict[str, Any] = {"every": every, "dims": dims, "channel_ids": channel_ids, "tags": tags,
                                   "langs": langs, "scripts": scripts}
        held = self._volumes.get(key)
        if held is not None and held.since_day == since_day:
            return [dict(row) for row in held.rows], held.source
        if held is not None and since_day < held.since_day:
            head, source = await self._store.report_volume(since_day=since_day, until_day=held.since_day - 1,
                                                           **filters)
            if source == held.source:
                rows = _added(head, held.rows)
                self._volumes[key] = _Held(since_day, rows, source)
                return [dict(row) for row in rows], source
        rows, source = await self._store.report_volume(since_day=since_day, until_day=until_day, **filters)
        if held is None or since_day < held.since_day:  # keep the longer range: later reads start earlier
            self._volumes[key] = _Held(since_day, rows, source)
        return [dict(row) for row in rows], source


def _added(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of two reads over disjoint days, summed per bucket and dimension values."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in (*first, *second):
        ident = tuple((k, v) for k, v in row.items() if k not in _METRICS)
        have = out.get(ident)
        if have is None:
            out[ident] = dict(row)
        else:
            for metric in _METRICS:
                have[metric] = (have[metric] or 0) + (row[metric] or 0)
    return list(out.values())


__all__ = ["PageReads"]
