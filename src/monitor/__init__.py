"""monitor: collect, tag and report on public Telegram channels of Central Asian militant groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.models import Channel, ChannelRef, Match, MetricSample, Post, PostKey, Tags, TaggedPost

__version__ = "0.1.0"

__all__ = [
    "Channel",
    "ChannelRef",
    "Match",
    "MetricSample",
    "Post",
    "PostKey",
    "Tags",
    "TaggedPost",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """The records, imported on first use: `monitor --help` should not pay for the models module."""
    if name in __all__:
        from monitor import models

        return getattr(models, name)
    raise AttributeError(f"module 'monitor' has no attribute {name!r}")
