"""Pure rule evaluation: given a post, its channel and the history figures, does a rule fire, and why.

No I/O here: the engine fetches history (term counts, window counts, watched channels)
from the store, asks these functions, and writes what they return. The same functions
serve the live engine and the dry-run of ``monitor alerts test``.

Robust baselines: a spike or a rising term is judged by a median/MAD z-score, so one
earlier burst in the history does not hide the next one, and a flat weekly rhythm
(busy Fridays, quiet nights) gives a z of about zero. The scale has a Poisson floor
(sqrt of the median, at least 1), so a perfectly flat history does not turn one extra
post into an infinite z.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.alerts.config import AlertRule
from monitor.alerts.terms import context
from monitor import identity
from monitor.identity import id_key, is_id_key, key_display, keys_of, parse_id_key, reference_key
from monitor.models import Alert, Post, Tags

DAY = 86400
WEEK = 7 * DAY
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelContext:
    """What rules need of the channel a post came from."""

    id: int
    username: str | None = None
    title: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> frozenset[str]:
        return keys_of(self.id, self.username)


def post_link(channel_id: int, username: str | None, message_id: int) -> str:
    """https://t.me/<username>/<id>, or https://t.me/c/<id>/<msg> for a channel without a username."""
    return identity.post_link(message_id, username=username, channel_id=channel_id) or ""


def passes_filters(rule: AlertRule, channel: ChannelContext, tags: Tags) -> bool:
    """The rule's channel, language and label filters (each empty filter lets everything through)."""
    if rule.channels and not (channel.keys & set(rule.channels)):
        return False
    if rule.languages and tags.lang not in rule.languages:
        return False
    for key, allowed in rule.labels:
        if channel.labels.get(key) not in allowed:
            return False
    return True


def in_cooldown(rule: AlertRule, last_fired_at: datetime | None, at: datetime) -> bool:
    return (
        bool(rule.cooldown)
        and last_fired_at is not None
        and at - last_fired_at < timedelta(seconds=rule.cooldown)
    )


def _alert(
    rule: AlertRule,
    *,
    at: datetime,
    dedup_key: str,
    summary: str,
    details: dict[str, object],
    channel: ChannelContext | None,
    post: Post | None,
) -> Alert:
    details = {"rule": rule.name, "kind": rule.kind, **details}
    if post is not None and channel is not None:
        details.setdefault("posted_at", post.posted_at.isoformat())
        details.setdefault("channel", channel.username or channel.title or id_key(channel.id))
    return Alert(
        rule=rule.name,
        kind=rule.kind,
        fired_at=at,
        dedup_key=dedup_key,
        summary=summary,
        details=details,
        channel_id=post.channel_id if post else None,
        message_id=post.message_id if post else None,
        channel_username=channel.username if channel else None,
        link=post_link(post.channel_id, channel.username if channel else None, post.message_id)
        if post
        else None,
    )


def _where(channel: ChannelContext) -> str:
    return f"@{channel.username}" if channel.username else (channel.title or f"channel {channel.id}")


# -- match -----------------------------------------------------------------------------
def evaluate_match(
    rule: AlertRule, channel: ChannelContext, post: Post, tags: Tags, *, at: datetime
) -> Alert | None:
    """A keyword, person or group of the rule appears in the post (after the filters)."""
    if not passes_filters(rule, channel, tags):
        return None
    hit_groups = sorted(set(rule.groups) & set(tags.groups))
    hit_people = sorted(set(rule.people) & set(tags.people))
    hit_keywords = sorted(set(rule.keywords) & set(tags.keywords))
    if not (hit_groups or hit_people or hit_keywords):
        return None
    wanted = {("group", g) for g in hit_groups} | {("person", p) for p in hit_people}
    wanted |= {("keyword", k) for k in hit_keywords}
    terms: list[dict[str, object]] = []
    for m in tags.matches:
        if (m.kind, m.canonical) in wanted and len(terms) < 10:
            terms.append(
                {
                    "kind": m.kind,
                    "canonical": m.canonical,
                    "as_written": m.term,
                    "rule": m.rule,
                    "context": context(post.text, m.start, m.end) if post.text else "",
                }
            )
    if not terms:  # tags without spans (e.g. from a store row without matches): still say what matched
        terms = [
            {"kind": k, "canonical": v, "as_written": v, "rule": "tag", "context": ""}
            for k, v in sorted(wanted)
        ]
    named = ", ".join(hit_groups + hit_people + hit_keywords)
    return _alert(
        rule,
        at=at,
        dedup_key=f"{rule.name}:post:{post.channel_id}:{post.message_id}",
        summary=f"{rule.name}: {named} in {_where(channel)}",
        details={
            "why": f"the post names {named}",
            "groups": hit_groups,
            "people": hit_people,
            "keywords": hit_keywords,
            "terms": terms,
            "lang": tags.lang,
        },
        channel=channel,
        post=post,
    )


# -- robust baseline ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    current: int
    history: tuple[int, ...]
    median: float
    mad: float
    scale: float
    z: float

    def as_dict(self) -> dict[str, object]:
        return {
            "current": self.current,
            "baseline_median": self.median,
            "baseline_mad": self.mad,
            "scale": round(self.scale, 3),
            "z": round(self.z, 2),
            "history": list(self.history),
        }


def robust_z(current: int, history: Sequence[int]) -> Baseline:
    """Median/MAD z-score of ``current`` against ``history``, with a Poisson floor on the scale."""
    if not history:
        return Baseline(current=current, history=(), median=0.0, mad=0.0, scale=1.0, z=float(current))
    median = float(statistics.median(history))
    mad = float(statistics.median([abs(h - median) for h in history]))
    scale = max(MAD_TO_SIGMA * mad, median**0.5, 1.0)
    return Baseline(
        current=current,
        history=tuple(history),
        median=median,
        mad=mad,
        scale=scale,
        z=(current - median) / scale,
    )


# -- spike --------------------------------------------------------------------------------
def spike_series(rule: AlertRule, channel: ChannelContext, tags: Tags) -> list[tuple[str, str]]:
    """The (on, value) series a new post adds to, for a spike rule that looks at it."""
    if not passes_filters(rule, channel, tags):
        return []
    if rule.on == "group":
        groups = tags.groups if not rule.groups else sorted(set(tags.groups) & set(rule.groups))
        return [("group", g) for g in groups]
    if rule.on == "language":
        return [] if tags.lang == "und" else [("language", tags.lang)]
    return [("channel", str(channel.id))]


def spike_windows(rule: AlertRule, end: int) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """(current window, baseline windows) as half-open epoch ranges (start, end]: same hour one day
    or one week back, ``baseline_periods`` times."""
    step = WEEK if rule.baseline == "weekly" else DAY
    width = int(rule.window)
    current = (end - width, end)
    return current, [(end - k * step - width, end - k * step) for k in range(1, rule.baseline_periods + 1)]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpikeVerdict:
    fired: bool
    baseline: Baseline
    reason: str


def spike_verdict(rule: AlertRule, current: int, history: Sequence[int], history_known: int) -> SpikeVerdict:
    """``history_known``: how many baseline windows lie after the first data of the series (the rest
    are before the series existed and say nothing)."""
    usable = list(history[:history_known]) if history_known < len(history) else list(history)
    base = robust_z(current, usable)
    if len(usable) < rule.min_history:
        return SpikeVerdict(fired=False, baseline=base, reason=f"only {len(usable)} baseline periods")
    if current < rule.effective_min_count:
        return SpikeVerdict(fired=False, baseline=base, reason=f"{current} < min_count")
    if base.z < rule.threshold:
        return SpikeVerdict(fired=False, baseline=base, reason=f"z {base.z:.2f} < {rule.threshold:g}")
    return SpikeVerdict(fired=True, baseline=base, reason=f"z {base.z:.2f} >= {rule.threshold:g}")


def spike_alert(
    rule: AlertRule,
    series: tuple[str, str],
    verdict: SpikeVerdict,
    *,
    window: tuple[int, int],
    at: datetime,
    channel: ChannelContext,
    post: Post,
    series_label: str | None = None,
) -> Alert:
    on, value = series
    label = series_label or value
    b = verdict.baseline
    return _alert(
        rule,
        at=at,
        dedup_key=f"{rule.name}:spike:{on}={value}:{window[1] // max(int(rule.window), 1)}",
        summary=(
            f"{rule.name}: {on} {label} spiked to {b.current} posts in {_human(rule.window)}"
            f" (baseline median {b.median:g}, z={b.z:.1f})"
        ),
        details={
            "why": f"{b.current} posts of {on} {label} in the last {_human(rule.window)} against a"
            f" {rule.baseline} baseline of {len(b.history)} periods: median {b.median:g}, MAD {b.mad:g},"
            f" robust z {b.z:.2f} >= threshold {rule.threshold:g}",
            "series": {"on": on, "value": value, "label": label},
            "window": {"start": window[0], "end": window[1], "seconds": int(rule.window)},
            "counts": b.as_dict(),
            "threshold": rule.threshold,
            "baseline": rule.baseline,
        },
        channel=channel,
        post=post,
    )


# -- terms ----------------------------------------------------------------------------------
def new_term_fires(
    rule: AlertRule,
    *,
    prior_total: int,
    new_total: int,
    first_seen_at: int | None,
    at: int,
    history_start: int | None,
) -> bool:
    """A term fires as new when its post count crosses min_count now, it was first seen within
    ``within``, and the term history is older than ``warmup`` (else every word is "new")."""
    if history_start is None or at - history_start < rule.warmup:
        return False
    need = rule.effective_min_count
    if not (prior_total < need <= new_total):
        return False
    return first_seen_at is None or at - first_seen_at <= rule.within


def term_alert(
    rule: AlertRule,
    *,
    term: str,
    surface: str,
    ctx: str,
    at: datetime,
    channel: ChannelContext,
    post: Post,
    counts: Mapping[str, object],
    why: str,
    period: str | None = None,
) -> Alert:
    suffix = f":{period}" if period else ""
    return _alert(
        rule,
        at=at,
        dedup_key=f"{rule.name}:term:{term}{suffix}",
        summary=f"{rule.name}: rising term {surface!r} in {_where(channel)}",
        details={
            "why": why,
            "terms": [{"term": term, "as_written": surface, "context": ctx}],
            "counts": dict(counts),
        },
        channel=channel,
        post=post,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTerm:
    term: str  # folded key
    surface: str  # as written in the post
    context: str
    posts_before: int
    posts_now: int
    first_seen_at: int


def new_terms_alert(
    rule: AlertRule, terms: Sequence[NewTerm], *, at: datetime, channel: ChannelContext, post: Post
) -> Alert:
    """One alert per post for all the terms it brought that are new: a post full of new words is one
    message to the analyst, not ten. Each term still fires once only: the term history remembers it."""
    shown = ", ".join(repr(t.surface) for t in terms[:5]) + (
        f" and {len(terms) - 5} more" if len(terms) > 5 else ""
    )
    need = rule.effective_min_count
    if all(t.posts_before == 0 for t in terms) and need <= 1:
        why = f"never seen before: {shown}"
    else:
        why = f"first seen within {_human(rule.within)} and now in at least {need} posts: {shown}"
    return _alert(
        rule,
        at=at,
        dedup_key=f"{rule.name}:post:{post.channel_id}:{post.message_id}",
        summary=f"{rule.name}: new term{'s' if len(terms) > 1 else ''} {shown} in {_where(channel)}",
        details={
            "why": why,
            "terms": [
                {
                    "term": t.term,
                    "as_written": t.surface,
                    "context": t.context,
                    "posts_before": t.posts_before,
                    "posts_now": t.posts_now,
                    "first_seen_at": t.first_seen_at,
                }
                for t in terms[:20]
            ],
            "counts": {"new_terms": len(terms), "min_count": need},
        },
        channel=channel,
        post=post,
    )


def rising_verdict(rule: AlertRule, current: int, history: Sequence[int]) -> SpikeVerdict:
    """A term rises when its recent count is at least min_count, ``factor`` x its median, and a robust z
    of ``threshold`` above its own daily history."""
    base = robust_z(current, history)
    if current < rule.effective_min_count:
        return SpikeVerdict(fired=False, baseline=base, reason=f"{current} < min_count")
    if current < rule.factor * max(base.median, 1.0):
        return SpikeVerdict(fired=False, baseline=base, reason=f"{current} < {rule.factor:g} x median")
    if base.z < rule.threshold:
        return SpikeVerdict(fired=False, baseline=base, reason=f"z {base.z:.2f} < {rule.threshold:g}")
    return SpikeVerdict(fired=True, baseline=base, reason="rising")


def rising_days(rule: AlertRule) -> int:
    """The current window of a rising_term rule in whole days (at least 1)."""
    return max(1, round(rule.window / DAY))


# -- new channel ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelReference:
    ref: str  # "username" or "id:123"
    via: str  # forward | link
    name: str | None = None


def channel_references(rule: AlertRule, channel: ChannelContext, post: Post) -> list[ChannelReference]:
    """Channels a post forwards from or links to, other than its own (invite links are private: skipped)."""
    found: dict[str, ChannelReference] = {}
    if "forward" in rule.via and post.forward is not None and post.forward.channel_id:
        ref = id_key(post.forward.channel_id)
        found[ref] = ChannelReference(ref=ref, via="forward", name=post.forward.name)
    if "link" in rule.via:
        for mention in post.mentions:
            m = mention.lower()
            key = reference_key(m)
            if key is None:
                continue
            if rule.ignore_bots and not is_id_key(key) and key.endswith("bot"):
                continue
            ref = key
            found.setdefault(ref, ChannelReference(ref=ref, via="link"))
    own = channel.keys
    return [r for r in found.values() if r.ref not in own]


def new_channel_alert(
    rule: AlertRule,
    reference: ChannelReference,
    *,
    hits: int,
    at: datetime,
    channel: ChannelContext,
    post: Post,
) -> Alert:
    shown = reference.name or key_display(reference.ref)
    bare = parse_id_key(reference.ref)
    add_hint = reference.ref if bare is None else str(bare)
    how = "forwarded from" if reference.via == "forward" else "linked to"
    return _alert(
        rule,
        at=at,
        dedup_key=f"{rule.name}:channel:{reference.ref}",
        summary=f"{rule.name}: {_where(channel)} {how} unwatched channel {shown}",
        details={
            "why": f"{_where(channel)} {how} {shown}, which is not watched ({hits} posts so far)",
            "discovered": {"ref": reference.ref, "name": reference.name, "via": reference.via},
            "counts": {"posts_referencing": hits, "min_count": rule.effective_min_count},
            "add_with": f"monitor channels add {add_hint}",
        },
        channel=channel,
        post=post,
    )


def _human(seconds: float) -> str:
    s = int(seconds)
    for unit, size in (("w", WEEK), ("d", DAY), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"
