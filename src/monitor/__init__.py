"""monitor: collect, tag and report on public Telegram channels of Central Asian militant groups."""

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
