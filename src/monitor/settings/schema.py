"""The settings tree: every setting with its type, unit, default, bounds, allowed values and reason.

Each field is declared once, as ``name: Annotated[type, about(unit, doc, bounds...)] = default``;
``about`` is a msgspec ``Meta``, so the same declaration is what `monitor.settings.values`
validates against, what the error messages quote (bounds with their unit), and what
docs and the example-file test read. Every number has an upper bound: a value that
would overflow a timer or a date computation is refused by ``monitor check``, not
found by ``monitor run`` at three in the morning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from msgspec import Meta

from monitor.models import ChannelRef

if TYPE_CHECKING:
    from monitor.settings.credentials import Credentials
    from monitor.tagging.groups import KeywordSpec

MINUTE = 60
HOUR = 3600
DAY = 86400
WEEK = 7 * DAY
YEAR_DAYS = 366
MAX_PATTERN_KEYWORDS = 1000  # RE2 sets of a few thousand patterns fail to compile or exhaust memory
MAX_KEYWORDS = 20000
MAX_TERM_LENGTH = 500


def about(unit: str, doc: str, **bounds: float) -> Meta:
    """A field's unit, reason and numeric bounds (ge, gt, le, lt), kept with its type."""
    # Meta's overloads encode "ge or gt, le or lt"; the callers here never pass both, and the
    # bounds arrive as one dict, which no single overload accepts: call it untyped.
    make: Any = Meta
    meta: Meta = make(description=doc, extra={"unit": unit}, **bounds)
    return meta


# -- the tables ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorSettings:
    """``[monitor]``: the database and what is kept in it."""

    database: Annotated[
        str,
        about(
            "path or sqlite:///path",
            "Where posts are stored; relative paths are taken from the config file's folder so the"
            " daemon finds the same file whatever its working directory.",
        ),
    ] = "monitor.db"
    store_text: Annotated[
        bool,
        about(
            "boolean",
            "Keep full post text. Off by default: metadata, hashes and tags answer the reports"
            " without holding propaganda text longer than needed.",
        ),
    ] = False
    text_retention_days: Annotated[
        int,
        about(
            "days",
            "When store_text is on, the daemon clears text of posts older than this; metadata,"
            " hashes and tags stay.",
            gt=0,
            le=100 * YEAR_DAYS,
        ),
    ] = 30
    log_format: Annotated[
        Literal["auto", "json", "console"],
        about(
            "auto | json | console",
            "auto = JSON when stderr is not a terminal (Docker, systemd), coloured console otherwise.",
        ),
    ] = "auto"
    heartbeat_interval: Annotated[
        float,
        about("seconds", "How often the daemon writes its heartbeat to the store.", gt=0, le=HOUR),
    ] = 30
    heartbeat_stale_after: Annotated[
        float,
        about(
            "seconds",
            "`monitor status` exits non-zero when the heartbeat is older: a health check that"
            " catches a hung daemon, not only a dead one.",
            gt=0,
            le=DAY,
        ),
    ] = 180
    config_reload_interval: Annotated[
        float,
        about(
            "seconds",
            "How often the daemon looks at the config file's mtime to pick up channel-list changes"
            " without a restart.",
            gt=0,
            le=DAY,
        ),
    ] = 15
    shutdown_grace: Annotated[
        float,
        about(
            "seconds",
            "On SIGTERM/SIGINT, how long in-flight polls may take to commit their current batch"
            " before they are cancelled (a cancelled batch rolls back; nothing is half-written).",
            ge=0,
            le=HOUR,
        ),
    ] = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionSettings:
    """``[telegram.connection]``: another MTProto endpoint (Telegram's test servers, a mirror)."""

    dc_id: Annotated[int, about("DC number", "Data-centre id of the endpoint.", ge=1, le=1000)] = 2
    host: Annotated[str, about("IP or host name", "Address of the endpoint.")] = ""
    port: Annotated[int, about("TCP port", "Port of the endpoint.", ge=1, le=65535)] = 443
    rsa_key_file: Annotated[
        str,
        about("path (PEM)", "Extra server RSA public key to trust; test servers use keys Telethon does not ship."),
    ] = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TelegramSettings:
    """``[telegram]``: how to reach Telegram; secrets come from the environment or a file outside the repo."""

    credentials_file: Annotated[
        str,
        about(
            "path",
            "TOML file with api_id, api_hash and optionally session_string; keep it outside the"
            " repository. Empty = use MONITOR_API_ID / MONITOR_API_HASH / MONITOR_SESSION.",
        ),
    ] = ""
    session_file: Annotated[
        str,
        about(
            "path",
            "Telethon session file (auth key and entity cache), created with mode 0600; used when no"
            " string session is given.",
        ),
    ] = "monitor.session"
    accounts_dir: Annotated[
        str,
        about(
            "path",
            "Team mode: a folder of credentials files, one TOML per account (as credentials_file; the"
            " file name without .toml is the account name). Each collector takes the first account no"
            " running collector holds, so `docker compose up --scale collector=3` gives every replica"
            " its own account from its own secret. Empty = credentials_file or the environment.",
        ),
    ] = ""
    account_name: Annotated[
        str,
        about(
            "name",
            "This collector's account in the account pool of team mode (PostgreSQL): its health state"
            " and its session's holder are stored under this name, and a second process using the"
            " same name is refused. Empty = the session file's name.",
        ),
    ] = ""
    flood_sleep_threshold: Annotated[
        int,
        about(
            "seconds",
            "Flood waits up to this long are slept by Telethon inside a request; 0 = every flood wait"
            " reaches the daemon, which parks the channel or account and goes on with the others.",
            ge=0,
            le=DAY,
        ),
    ] = 0
    connection: Annotated[
        ConnectionSettings | None,
        about("table", "Optional endpoint override; absent = Telegram's production servers."),
    ] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSettings:
    """``[source]``: where posts come from."""

    kind: Annotated[
        Literal["telegram", "scenario"],
        about(
            "telegram | scenario",
            "scenario = offline replay of a scenario JSON through the real Telethon source code path"
            " (demo and tests); no account, no network.",
        ),
    ] = "telegram"
    scenario: Annotated[str, about("path", "The scenario JSON when kind = scenario.")] = ""
    clock: Annotated[
        Literal["system", "virtual"],
        about(
            "system | virtual",
            "virtual (scenario only): time starts at virtual_start and moves virtual_step per tick,"
            " every channel polled once per tick, so months replay in seconds and deterministically.",
        ),
    ] = "system"
    virtual_start: Annotated[
        str, about("ISO 8601 date-time", "Start of virtual time; empty = the scenario's first post.")
    ] = ""
    virtual_step: Annotated[
        float, about("seconds of virtual time", "Virtual time per tick.", gt=0, le=YEAR_DAYS * DAY)
    ] = 21600
    virtual_end: Annotated[
        str,
        about(
            "ISO 8601 date-time",
            "End of virtual time (the daemon stops there); empty = the scenario's last event plus"
            " resample_days, so view growth is sampled to the end.",
        ),
    ] = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PollingSettings:
    """``[polling]``: how often and how hard Telegram is asked."""

    interval: Annotated[
        float,
        about("seconds", "Between polls of one channel (a channel's poll_interval overrides).", gt=0, le=WEEK),
    ] = 300
    jitter: Annotated[
        float,
        about("seconds", "Random delay added to each poll so channels do not poll in lockstep.", ge=0, le=DAY),
    ] = 30
    max_concurrent: Annotated[int, about("channels", "Channels polled at once.", ge=1, le=256)] = 4
    requests_per_minute: Annotated[
        float,
        about(
            "requests per minute",
            "Global request budget over all channels (a token bucket); Telegram's GetHistory limit"
            " is about 30 requests per 10 s, flood bans follow bursts. Below 1 a minute nothing"
            " useful is collected.",
            ge=1,
            le=1_000_000,  # far above Telegram's limit; benchmarks against the fake client use 100,000
        ),
    ] = 60
    backfill_posts: Annotated[
        int,
        about("posts", "On first sight of a channel, at most this many newest posts...", ge=0, le=1_000_000),
    ] = 200
    backfill_days: Annotated[
        float, about("days", "... and none older than this.", ge=0, le=100 * YEAR_DAYS)
    ] = 30
    resample_days: Annotated[
        float,
        about(
            "days",
            "Views/forwards of posts younger than this are re-sampled on every poll (reach growth);"
            " edits inside this window are caught too.",
            ge=0,
            le=YEAR_DAYS,
        ),
    ] = 7
    unavailable_retry: Annotated[
        float,
        about(
            "seconds",
            "Private, missing, renamed or banned channels are retried this rarely.",
            gt=0,
            le=30 * DAY,
        ),
    ] = 21600
    profile_every: Annotated[
        float,
        about(
            "seconds",
            "Each channel's profile (title, username, description, subscribers, restriction, auto-delete"
            " timer) is sampled with one GetFullChannel this rarely, inside the request budget; 0 = never.",
            ge=0,
            le=30 * DAY,
        ),
    ] = 86400
    batch_size: Annotated[
        int,
        about("posts", "Posts per store transaction (posts, tags and checkpoint together).", ge=1, le=10000),
    ] = 100
    reconnect_max_backoff: Annotated[
        float,
        about("seconds", "Ceiling of the exponential backoff between reconnect attempts.", gt=0, le=DAY),
    ] = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectorSettings:
    """``[collectors]``: team mode, several `monitor run` processes sharing one PostgreSQL store."""

    lease_expiry: Annotated[
        float,
        about(
            "seconds",
            "A collector's claim on a channel runs out this long after its last renewal: a collector"
            " that died (kill -9, machine gone, network cut) loses its channels to the others after"
            " at most this long. Shorter = faster takeover, more renewals.",
            ge=5,
            le=HOUR,
        ),
    ] = 60
    lease_renew_interval: Annotated[
        float,
        about(
            "seconds",
            "How often a collector renews its leases, beats and picks up channels nobody holds (new"
            " ones in the watch list, a dead collector's); must be below lease_expiry.",
            gt=0,
            le=HOUR,
        ),
    ] = 15
    max_channels: Annotated[
        int,
        about(
            "channels",
            "Most channels one collector leases; it takes its fair share (watched channels over live"
            " collectors) up to this.",
            ge=1,
            le=1_000_000,
        ),
    ] = 1000
    accounts_per_collector: Annotated[
        int,
        about(
            "accounts",
            "With telegram.accounts_dir: how many accounts one `monitor run` process takes; each gets"
            " its own collector (own session, own request budget, own leases) and they share the"
            " tagger. 1 = one account per process.",
            ge=1,
            le=64,
        ),
    ] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoverySettings:
    """``[discovery]``: what the daemon does with the discovery queue besides listing it (all off by default;
    docs/lifecycle.md). Read-only towards Telegram: nothing is ever joined."""

    quarantine_above: Annotated[
        float,
        about(
            "priority",
            "Undecided candidates with at least this queue priority are polled in quarantine: collected"
            " like watched channels, left out of every report until `monitor discovery accept`. 0 = off.",
            ge=0,
            le=1000,
        ),
    ] = 0
    quarantine_max: Annotated[
        int, about("channels", "Most channels in quarantine at once (the highest priorities first).", ge=1, le=1000)
    ] = 10
    quarantine_depth: Annotated[
        int, about("hops", "Largest distance from the configured channels of a quarantined candidate.", ge=1, le=10)
    ] = 2
    recommendations: Annotated[
        bool,
        about(
            "on/off",
            "Ask Telegram for channels similar to each watched one (channels.getChannelRecommendations) and"
            " put them in the discovery queue.",
        ),
    ] = False
    hashtags: Annotated[
        tuple[str, ...],
        about(
            "hashtags",
            "Hashtags searched in public posts (channels.searchPosts) for the discovery queue; only the free"
            " daily searches Telegram reports are used, never paid stars. [] = off.",
        ),
    ] = ()
    search_every: Annotated[
        float,
        about(
            "seconds",
            "Between two rounds of recommendations and hashtag searches, paid from the request budget.",
            ge=60,
            le=30 * DAY,
        ),
    ] = DAY


@dataclass(frozen=True, slots=True, kw_only=True)
class LexiconSettings:
    """``[lexicon]``: the group lexicon shipped with monitor, extended by the analyst."""

    extra: Annotated[
        tuple[str, ...],
        about("paths", "Extra lexicon TOML files (same format as the shipped one), in order."),
    ] = ()
    suppress: Annotated[
        tuple[str, ...],
        about(
            "terms",
            "Aliases whose matches are dropped, as written in posts (any case): for an alias that"
            " analysts' labels mark wrong too often (`monitor report precision`).",
        ),
    ] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordEntry:
    """One ``[[keywords]]`` entry as written; `Settings.keyword_specs()` turns these into tagger specs."""

    term: Annotated[
        str,
        Meta(
            description=f"The keyword, or an RE2 pattern when mode = pattern (at most {MAX_TERM_LENGTH}"
            f" characters; at most {MAX_PATTERN_KEYWORDS} patterns, {MAX_KEYWORDS} keywords in all).",
            extra={"unit": "text"},
            max_length=MAX_TERM_LENGTH,
        ),
    ] = ""
    group: Annotated[str | None, about("group id", "Tie the keyword to a canonical group.")] = None
    lang: Annotated[str | None, about("ISO 639-1", "Only in posts of this language.")] = None
    mode: Annotated[
        Literal["word", "prefix", "pattern"],
        about(
            "word | prefix | pattern",
            "word = whole word; prefix = word start (inflected forms); pattern = RE2 (linear time).",
        ),
    ] = "word"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEntry:
    """One ``[[channels]]`` entry as written (documentation of the keys; parsed into ChannelRef)."""

    handle: Annotated[str, about("@username, t.me link or numeric id", "The channel.")] = ""
    labels: Annotated[
        dict[str, str], about("table of strings", "Anything to group reports by: country, affiliation...")
    ] = field(default_factory=dict)
    poll_interval: Annotated[
        float | None,
        about("seconds", "This channel's own interval; absent = polling.interval.", gt=0, le=WEEK),
    ] = None
    accounts: Annotated[
        tuple[str, ...],
        about(
            "account names",
            "Team mode: only collectors on these accounts poll the channel (e.g. accounts that joined"
            " it); absent = any account.",
        ),
    ] = ()


# -- the whole tree ------------------------------------------------------------------------------


def resolve_database(value: str, base: Path) -> str:
    """The store URL: PostgreSQL URLs as given, SQLite paths made absolute against ``base``."""
    if value.startswith(("postgresql://", "postgres://")):
        return value
    raw = value.removeprefix("sqlite:///") if value.startswith("sqlite:///") else value
    p = Path(raw).expanduser()
    if not p.is_absolute():
        p = base / p
    return str(p)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything a config file and the environment say, checked; built by `monitor.settings.load`."""

    path: Path | None = None
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    source: SourceSettings = field(default_factory=SourceSettings)
    polling: PollingSettings = field(default_factory=PollingSettings)
    lexicon: LexiconSettings = field(default_factory=LexiconSettings)
    collectors: CollectorSettings = field(default_factory=CollectorSettings)
    discovery: DiscoverySettings = field(default_factory=DiscoverySettings)
    channels: tuple[ChannelRef, ...] = ()
    keywords: tuple[KeywordEntry, ...] = ()
    alerts: Mapping[str, Any] = field(default_factory=dict)  # raw [alerts] table, for monitor.alerts.config
    credentials: Credentials | None = field(default=None, repr=False)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    @property
    def database_url(self) -> str:
        """The store URL, relative paths resolved against the config file's folder."""
        return resolve_database(self.monitor.database, self.base_dir)

    def resolve_path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def keyword_specs(self) -> list[KeywordSpec]:
        """The analysts' keywords as the tagger's specs; imported lazily so settings loads without the tagger."""
        from monitor.tagging.groups import KeywordSpec

        return [KeywordSpec(term=k.term, group=k.group, lang=k.lang, mode=k.mode) for k in self.keywords]

    def alerts_config(self) -> Any:
        """Parsed [alerts], or None when the table is empty."""
        from monitor.alerts.config import parse_alerts

        if not self.alerts:
            return None
        return parse_alerts(dict(self.alerts), f"{self.path or 'config'}: alerts")

    def redacted(self) -> dict[str, Any]:
        """A JSON-able dump without secrets, for `monitor check --show` and logs."""
        out: dict[str, Any] = {}
        for name in ("monitor", "telegram", "source", "polling", "lexicon", "collectors", "discovery"):
            out[name] = _plain(getattr(self, name))
        out["monitor"]["database"] = _without_password(self.monitor.database)
        out["channels"] = [
            {"key": c.key, "labels": dict(c.labels), "poll_interval": c.poll_interval} for c in self.channels
        ]
        out["keywords"] = [_plain(k) for k in self.keywords]
        out["credentials"] = None if self.credentials is None else {"origin": self.credentials.origin}
        return out


def _without_password(url: str) -> str:
    """A database URL with its password (if any) shown as ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:
        return "<unparseable database URL>"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{parts.netloc.rsplit('@', 1)[-1]}"))


def _plain(obj: Any) -> Any:
    if obj is None:
        return None
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        return list(obj)
    return obj


SECTIONS: Mapping[str, type] = {
    "monitor": MonitorSettings,
    "telegram": TelegramSettings,
    "source": SourceSettings,
    "polling": PollingSettings,
    "lexicon": LexiconSettings,
    "collectors": CollectorSettings,
    "discovery": DiscoverySettings,
}
ARRAYS: Mapping[str, type] = {"channels": ChannelEntry, "keywords": KeywordEntry}
TOP_LEVEL = frozenset({*SECTIONS, *ARRAYS, "alerts"})
