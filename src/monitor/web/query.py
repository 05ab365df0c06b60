"""Query parameters <-> ReportSpec: the CLI's options spelled as a URL, so a permalink reproduces a view.

The names are the CLI's option names without dashes (``?by=group&every=week&group=ISKP&since=2024-01-01``);
repeatable options repeat (``group=IS&group=ISKP``) or take a comma list, as on the command line.
Every value passes the same validators as the CLI (``monitor.reports.spec``): an unknown dimension,
a malformed date or language is refused with the CLI's one-line message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from monitor.errors import ConfigError
from monitor.reports.spec import ReportSpec, parse_by, parse_date

# URL name -> ReportSpec field, for the repeatable filters
FILTERS: dict[str, str] = {"group": "groups", "lang": "langs", "script": "scripts", "channel": "channels",
                           "label": "labels", "keyword": "keywords", "person": "people"}
_COMMA_LISTS = frozenset({"group", "lang", "script", "channel", "person"})  # as the CLI splits them
METRICS = ("posts", "views", "forwards")
SHOWS = ("counts", "shares")


class Params:
    """Multi-valued query parameters (``request.query_params`` or a plain mapping of lists)."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self.items: list[tuple[str, str]] = [(k, v) for k, v in items]

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name]

    def one(self, name: str, default: str | None = None) -> str | None:
        values = [v for v in self.all(name) if v.strip()]
        if len(values) > 1:
            raise ConfigError(f"{name}: given {len(values)} times; it takes one value")
        return values[0].strip() if values else default


def _values(params: Params, name: str) -> tuple[str, ...]:
    raw = params.all(name)
    if name in _COMMA_LISTS:
        return tuple(v.strip() for value in raw for v in value.split(",") if v.strip())
    return tuple(v.strip() for v in raw if v.strip())


def spec_from(params: Params) -> ReportSpec:
    """The ReportSpec the parameters describe (ConfigError, the CLI's message, when one is wrong)."""
    every = params.one("every")
    filters: dict[str, Any] = {field: _values(params, name) for name, field in FILTERS.items()}
    return ReportSpec(
        since=parse_date(params.one("since")),
        until=parse_date(params.one("until")),
        every=every,  # type: ignore[arg-type]  # checked by ReportSpec
        by=parse_by(params.all("by")),
        quarantined=(params.one("quarantined") or "").lower() in ("1", "true", "on", "yes"),
        **filters,
    )


def choice(params: Params, name: str, allowed: Sequence[str], default: str) -> str:
    value = params.one(name, default) or default
    if value not in allowed:
        raise ConfigError(f"{name} {value!r}: use {', '.join(allowed)}")
    return value


def integer(params: Params, name: str, default: int, low: int, high: int) -> int:
    value = params.one(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} {value!r}: a whole number") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} {number}: use {low}..{high}")
    return number


def spec_items(spec: ReportSpec, *, dates: bool = True) -> list[tuple[str, str]]:
    """The spec as query items, in a stable order (the permalink of a view)."""
    items: list[tuple[str, str]] = []
    if dates and spec.since:
        items.append(("since", spec.since.isoformat()))
    if dates and spec.until:
        items.append(("until", spec.until.isoformat()))
    if spec.every:
        items.append(("every", spec.every))
    if spec.by:
        items.append(("by", ",".join(spec.by)))
    for name, field in FILTERS.items():
        items += [(name, v) for v in getattr(spec, field)]
    return items


def url(path: str, items: Sequence[tuple[str, Any]]) -> str:
    query = urlencode([(k, str(v)) for k, v in items if v is not None and v != ""])
    return f"{path}?{query}" if query else path


def with_filter(spec_items_: Sequence[tuple[str, str]], overrides: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """Query items with the named filters replaced (a chart point narrows its series' dimension)."""
    kept = [(k, v) for k, v in spec_items_ if k not in overrides]
    for name, values in overrides.items():
        kept += [(name, v) for v in values]
    return kept


@dataclass(frozen=True, slots=True)
class View:
    """Options of the chart page beyond the spec."""

    metric: str
    show: str


def view_from(params: Params) -> View:
    return View(metric=choice(params, "metric", METRICS, "posts"), show=choice(params, "show", SHOWS, "counts"))
