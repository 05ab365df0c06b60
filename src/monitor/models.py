"""Records that cross layers: frozen, keyword-only, standard library only.

A post flows one way (source -> tagging -> store -> reports and alerts); each
layer hands the next one of these records and never a library type, so a
Telethon ``Message`` or an ``aiosqlite.Row`` never leaks past its adapter.
All datetimes are UTC-aware: adapters convert at the boundary, models never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

MatchKind = Literal["group", "person", "keyword"]


class PostKey(NamedTuple):
    channel_id: int
    message_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelRef:
    """A channel as the analyst wrote it in the config: @username, t.me link or numeric id.

    ``key`` is the normalised form ("durov" or "id:1234") that the store keys
    watch state by, so the same channel written two ways is one channel.
    """

    key: str
    username: str | None = None
    channel_id: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    poll_interval: float | None = None  # seconds; None = the global default
    accounts: tuple[str, ...] = ()  # team mode: only these accounts poll it (e.g. ones that joined it); () = any


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """A resolved channel. ``id`` is Telegram's bare (positive) channel id, as in t.me/c/<id>/<msg>."""

    id: int
    username: str | None
    title: str
    access_hash: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardOrigin:
    """Where a forwarded post came from. A hidden user or a user has no channel_id, only a name."""

    channel_id: int | None = None
    name: str | None = None
    message_id: int | None = None
    date: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkPreview:
    """What Telegram's preview of a link in a post says (title and site name as Telegram built them).

    Kept because the page behind a link dies with the channel; the preview text is Telegram's copy.
    Attacker-controlled like the post text: escape where shown. Either field may be missing.
    """

    url: str
    title: str | None = None
    site_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """One channel post as a source saw it. ``text`` is '' for media-only posts, never None."""

    channel_id: int
    message_id: int
    posted_at: datetime
    text: str = ""
    edited_at: datetime | None = None
    edit_hidden: bool = False  # Telegram's edit_hide: the "edit" was a reaction, not new content
    views: int | None = None
    forwards: int | None = None
    replies: int | None = None
    reactions: int | None = None  # total over all reaction kinds
    forward: ForwardOrigin | None = None
    reply_to_id: int | None = None
    grouped_id: int | None = None  # album id
    media_kind: str | None = None  # "photo", "video", "document", "poll", ...; bytes are never kept
    author: str | None = None  # post signature
    links: tuple[str, ...] = ()  # outgoing URLs (not t.me)
    mentions: tuple[str, ...] = ()  # @names and t.me links, normalised to lower-case usernames or t.me paths
    preview: LinkPreview | None = None  # Telegram's own link preview (MessageMediaWebPage), never fetched by us

    @property
    def key(self) -> PostKey:
        return PostKey(self.channel_id, self.message_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """Why a post was tagged: the term as written, what it stands for, where, and by which rule.

    ``canonical`` is a group id (kind "group"), a person id (kind "person", with
    ``group`` the person's group) or an analyst keyword (kind "keyword", with
    ``group`` set when the analyst tied the keyword to a group).
    ``rule`` is one of "alias", "inflection", "transliteration", "variant",
    "fuzzy", "bound" (an abbreviation defined in the same post), "deobfuscation",
    "abbreviation", "keyword", "prefix", "pattern".
    ``source`` says where the alias comes from (designation list, encyclopaedia,
    news usage, "generated:RULE", ...) and ``distance`` is the edit distance of a
    "fuzzy" match (0 otherwise), so an analyst can judge the match.
    """

    kind: MatchKind
    canonical: str
    term: str
    start: int
    end: int
    rule: str
    group: str | None = None
    source: str = ""
    distance: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Tags:
    lang: str = "und"  # ISO 639-1, "und" when too little text is left to tell
    script: str | None = None  # ISO 15924: "Cyrl", "Latn", "Arab"
    confidence: float = 0.0
    groups: tuple[str, ...] = ()  # canonical group ids, sorted, unique
    people: tuple[str, ...] = ()  # canonical person ids, sorted, unique
    keywords: tuple[str, ...] = ()  # analysts' keywords that matched, sorted, unique
    matches: tuple[Match, ...] = ()  # at most monitor.tagging.MAX_MATCHES, in text order
    matches_dropped: int = 0  # matches found beyond that cap and not kept (0 = the list is complete)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaggedPost:
    post: Post
    tags: Tags
    tagger_version: str  # e.g. "lang=nb@9e29...;lex=3f2a...", so re-tagging can target stale rows
    # Fingerprints of post.text (monitor.fingerprint), computed with the tags in the CPU stage so the
    # single store writer only writes; None = the store computes them.
    content_hash: str | None = None
    simhash: int | None = None  # unsigned 64-bit


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSample:
    """Views/forwards of a post at one moment, for reach-growth series."""

    channel_id: int
    message_id: int
    sampled_at: datetime
    views: int | None
    forwards: int | None
    replies: int | None = None
    reactions: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveResult:
    inserted: int = 0
    updated: int = 0  # content edits or metadata changes of posts already stored
    unchanged: int = 0
    inserted_keys: tuple[PostKey, ...] = ()
    # Set when the ``evaluate`` step of save_posts raised: its writes were undone, the posts still
    # committed (those posts stay unevaluated, as with a failing engine before). None = evaluated or none asked.
    evaluation_error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchQuota:
    """Telegram's free public-post searches (channels.checkSearchPostsFlood / search_flood). A search is
    made only when it is free: ``stars_amount`` is what a paid one would cost, and monitor never pays."""

    total_daily: int
    remains: int
    stars_amount: int
    query_is_free: bool
    wait_till: datetime | None = None  # when the free quota comes back, when Telegram says

    @property
    def free(self) -> bool:
        return self.query_is_free or self.remains > 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryLead:
    """A candidate channel Telegram itself pointed to: a similar-channel recommendation of a watched
    channel, or public posts carrying a searched hashtag. One row per (ref, via, basis)."""

    ref: str  # "@username" or "id:N", as the discovery queue names it
    username: str | None
    channel_id: int | None
    title: str | None
    via: str  # "recommended" or "hashtag"
    basis: str  # the watched channel it is similar to ("@name"), or the hashtag ("#tag")
    hits: int = 1  # posts found with the hashtag (1 for a recommendation)
    seen_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Quarantined:
    """A discovery candidate polled before an analyst accepted it: reports leave its channel out
    until ``accepted_at`` is set (docs/lifecycle.md, quarantine)."""

    key: str  # the watch key it is polled under
    ref: str  # "@username" or "id:N", as the discovery queue names it
    priority: float
    since: datetime
    channel_id: int | None = None  # known once a poll resolved it
    accepted_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchState:
    """What the store knows of one configured channel: resolution, status and poll history."""

    key: str
    channel: Channel | None  # None until resolved
    labels: Mapping[str, str]
    poll_interval: float | None
    watched: bool
    status: str  # new | active | parked | private | not_found | banned | invalid | renamed | error
    status_reason: str | None
    retry_at: datetime | None
    last_poll_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    checkpoint: int  # newest message id stored (0 = never polled)
    posts: int = 0
    newest_posted_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPost:
    """A post as the store holds it, for re-tagging, alerts and reports."""

    channel_id: int
    message_id: int
    posted_at: datetime
    text: str | None  # None when full text is not kept (store_text off, or past retention)
    lang: str
    script: str | None
    groups: tuple[str, ...]
    people: tuple[str, ...]
    keywords: tuple[str, ...]
    tagger_version: str
    views: int | None = None
    forwards: int | None = None
    channel_username: str | None = None

    @property
    def key(self) -> PostKey:
        return PostKey(self.channel_id, self.message_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """A fired alert: which rule, why, and the post it points to (https://t.me/<channel>/<id>).

    ``details`` is JSON-able: matched terms with short context, counts against the
    baseline, thresholds. Text in it is raw; every sink escapes for its medium.
    """

    rule: str
    kind: str  # match | spike | new_term | rising_term | new_channel
    fired_at: datetime
    dedup_key: str  # same key = same alert; the store keeps the first
    summary: str
    details: Mapping[str, object] = field(default_factory=dict)
    channel_id: int | None = None
    message_id: int | None = None
    channel_username: str | None = None
    link: str | None = None
    id: int | None = None  # set once stored


# -- channel lifecycle (monitor.lifecycle) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelSnapshot:
    """A channel's profile at one moment, as GetFullChannel answered: the history of title, username,
    description and subscriber count. Any field Telegram left out is None (it never stops a poll)."""

    channel_id: int
    observed_at: datetime
    title: str | None = None
    username: str | None = None
    about: str | None = None
    subscribers: int | None = None
    restriction: str | None = None  # "platform:reason: text" of Telegram's restriction_reason, joined by "; "
    ttl_period: int | None = None  # seconds of the channel's auto-delete timer, None when off


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEvent:
    """One change of a watched channel's lifecycle state, with when and why.

    ``state`` is one of monitor.lifecycle.STATES (active, private, banned, deleted, restricted,
    username_changed, username_freed, invalid); ``reason`` is Telegram's error or restriction text.
    """

    key: str
    channel_id: int | None
    state: str
    at: datetime
    reason: str | None = None


# -- alert history and outbox rows (the store's alert ports hand these over; defined once, here) ------


@dataclass(frozen=True, slots=True)
class TermRow:
    """One term's posts on one UTC day (``day`` = days since 1970-01-01) from one batch or a seed."""

    term: str
    kind: str
    day: int
    count: int
    first_seen_at: datetime  # posted_at of the earliest post naming the term
    channel_id: int | None
    message_id: int | None


@dataclass(frozen=True, slots=True)
class DiscoveredRow:
    """A channel that posts referenced (forward or link): how often, and where first."""

    ref: str
    name: str | None
    via: str
    seen_at: datetime
    channel_id: int | None
    message_id: int | None
    hits: int


@dataclass(frozen=True, slots=True)
class TermStat:
    """What the term history knows of one term: when it was first seen, in how many posts in all."""

    first_seen_at: datetime
    total: int


@dataclass(frozen=True, slots=True)
class RuleRecord:
    """An alert rule's stored state: what it detects (to re-hunt on change), when it last fired."""

    name: str
    kind: str
    detection_hash: str | None
    seeded_at: datetime | None
    last_fired_at: datetime | None
    suppressed: int  # candidates held back by the cool-down since the last firing


@dataclass(frozen=True, slots=True)
class Series:
    """What a spike rule counts: the posts of one group, language or channel (``on``: "group",
    "language" or "channel"; ``value``: the group id, language code or channel id), optionally only
    those of ``channel_ids`` and in ``languages``."""

    on: str
    value: str
    channel_ids: tuple[int, ...] | None = None
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleNote:
    """What the alert engine decided about a rule at ``now``, for its stored state: it fired (the
    cool-down restarts), ``suppressed`` candidates were held back by the cool-down, or a retro-hunt
    ``seeded`` it for ``detection_hash``."""

    name: str
    kind: str
    now: datetime
    fired: bool = False
    suppressed: int = 0
    detection_hash: str | None = None
    seeded: bool = False


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """A stored alert and the state of its delivery to each sink (sink -> state)."""

    alert: Alert
    deliveries: Mapping[str, str]


class ClaimedDelivery(NamedTuple):
    """An outbox row claimed for sending: the alert, and which attempt this claim is (1 = first)."""

    alert: Alert
    attempt: int


# -- the web dashboard's users, audit trail and acknowledgements (monitor.web; docs/web.md) ----------

WebRole = Literal["viewer", "editor"]
WEB_ROLES: tuple[WebRole, ...] = ("viewer", "editor")


@dataclass(frozen=True, slots=True, kw_only=True)
class WebUser:
    """A local dashboard user. ``password_hash`` is an argon2id PHC string; the password is never kept."""

    name: str
    password_hash: str
    role: WebRole
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One write through the dashboard or ``monitor users``: who, what, on what, when (and details)."""

    actor: str
    action: str
    target: str
    at: datetime
    detail: Mapping[str, object] = field(default_factory=dict)
    id: int | None = None  # set once stored


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertAck:
    """An alert acknowledged in the dashboard: by whom and when."""

    alert_id: int
    actor: str
    at: datetime


# -- team mode: collectors, leases, accounts -------------------------------------------------------------

AccountStateName = Literal["ok", "flood_wait", "frozen", "banned", "unauthorized", "duplicated"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectorInfo:
    """One `monitor run` process as the store knows it; ``stopped_at`` is set by a clean shutdown."""

    id: str
    host: str
    pid: int
    version: str
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None = None
    taking: bool = True  # False while it can take no channels (its account parked or lost)


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """Who polls one watched channel until ``expires_at`` (and through which account)."""

    key: str
    collector_id: str
    account: str | None
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState:
    """A round one collector runs for the whole team (team mode): its holder until ``expires_at``,
    and when the last round started and finished (``finished_at`` None: it runs, or its collector
    died in it)."""

    name: str
    collector_id: str | None = None
    expires_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    ran_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountState:
    """A Telegram account's health, with the reason and since when; ``until`` ends a flood wait.

    ``method`` names the request Telegram flood-waited (None = the whole account). ``holder`` is the
    collector using the account's session right now (one process per session), ``requests_hour``
    the requests it made in the last hour as of ``beat_at``.
    """

    name: str
    state: AccountStateName = "ok"
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    method: str | None = None
    holder: str | None = None
    held_until: datetime | None = None
    requests_hour: int = 0
    beat_at: datetime | None = None
