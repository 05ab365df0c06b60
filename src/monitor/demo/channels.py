"""The fictional channels of the demo, and the unwatched ones they forward from.

Kept apart from the generator so the config writer and the docs can list them
without building the whole scenario.  The records themselves are data, in channels.toml;
every name there is invented for the demo.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources

DEMO_START = date(2024, 1, 1)
DEMO_END = date(2024, 6, 30)


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoChannel:
    """One watched demo channel: its identity, labels for the config and how it writes.

    ``langs`` weights the text pools (keys of texts/*.toml); ``rate`` is the mean
    number of own posts per day; ``bias`` multiplies the weight of a topic, so
    the channel has a recognisable beat.
    """

    id: int
    username: str
    title: str
    access_hash: int
    country: str
    affiliation: str
    langs: dict[str, float]
    rate: float
    start: date = DEMO_START  # a channel that appears later in the demo's half-year says when
    subscribers: int
    first_id: int
    apostrophe: str = "'"  # how this channel types the Uzbek o'/g' apostrophe
    authors: tuple[str, ...] = ()
    comments: bool = False
    bias: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnwatchedChannel:
    """A channel that watched ones forward from or link to, for the discovery report."""

    id: int
    username: str
    title: str
    weight: float  # how often it is cited, relative to the other unwatched ones


def _load() -> tuple[tuple[DemoChannel, ...], tuple[UnwatchedChannel, ...]]:
    """The channel records of channels.toml (package data, so it works from a wheel)."""
    with (resources.files("monitor.demo") / "channels.toml").open("rb") as fh:
        table = tomllib.load(fh)
    watched = tuple(DemoChannel(**{**row, "authors": tuple(row.get("authors", ()))}) for row in table["watched"])
    return watched, tuple(UnwatchedChannel(**row) for row in table["unwatched"])


DEMO_CHANNELS, UNWATCHED_CHANNELS = _load()
