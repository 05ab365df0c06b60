"""The bundled offline demo: fictional channels, hand-written texts, a seeded scenario.

``build_scenario()`` returns the ``monitor-scenario/1`` dict that the fake Telegram
client replays; ``demo_config_toml()`` writes the matching channel list for the
config.  The texts are news-digest style reporting ABOUT the groups, written for
this project (see texts/*.toml); nothing is fetched from anywhere.
"""

from __future__ import annotations

from monitor.demo.channels import (
    DEMO_CHANNELS,
    DEMO_END,
    DEMO_START,
    UNWATCHED_CHANNELS,
    DemoChannel,
    UnwatchedChannel,
)
from monitor.demo.compose import DEMO_SEED, FORMAT, TRENDS, build_scenario

__all__ = [
    "DEMO_CHANNELS",
    "DEMO_END",
    "DEMO_SEED",
    "DEMO_START",
    "FORMAT",
    "TRENDS",
    "UNWATCHED_CHANNELS",
    "DemoChannel",
    "UnwatchedChannel",
    "build_scenario",
    "demo_config_toml",
]


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def demo_config_toml(db_path: str, poll_interval: int = 60) -> str:
    """A config for the demo channels (the channels part; `monitor demo` adds the source section)."""
    lines = [
        "# Written by `monitor demo`: the fictional channels of the bundled scenario.",
        "[monitor]",
        f"database = {_toml_str(db_path)}",
        "",
    ]
    for ch in DEMO_CHANNELS:
        lines += [
            "[[channels]]",
            f"handle = {_toml_str('@' + ch.username)}",
            f"labels = {{country = {_toml_str(ch.country)}, affiliation = {_toml_str(ch.affiliation)}}}",
            f"poll_interval = {poll_interval}",
            "",
        ]
    return "\n".join(lines)
