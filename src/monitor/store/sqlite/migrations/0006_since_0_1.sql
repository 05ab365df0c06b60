-- 0006: everything added after 0.1.0, in one file: ISO views, the dropped simhash index, team mode,
-- channel lifecycle and discovery, the web dashboard. (These came in several migrations while they were
-- unreleased; they were folded into this one before any release shipped them. 0001-0005 are released
-- and never change.)

-- ---------------------------------------------------------------------------------------------
-- posts.simhash is no longer indexed.
--
-- Why: no query filters, joins or orders by simhash. The spread report reads the fingerprints
-- of a day range through posts_day (EXPLAIN QUERY PLAN shows it) and compares them in Python,
-- so the index was written on every insert and content edit and never read: dropping it made
-- ingest about 17% faster and wrote about 28% fewer bytes. The PostgreSQL schema never had it.

DROP INDEX IF EXISTS posts_simhash;

-- ---------------------------------------------------------------------------------------------
-- Read-only views for people who open the database in Datasette, DuckDB, pandas or sqlite3.
--
-- Why: the tables keep times as integer seconds since 1970 (UTC) and days as day numbers, which
-- is right for indexes and sums but reads as noise ("1704293580"). Each view shows the same rows
-- with times as ISO-8601 UTC text ("2024-01-03T12:53:00Z"), dates as "2024-01-03", channel names
-- beside their ids and post links built. Views hold no data and add no write cost; the column
-- descriptions are in config/datasette-metadata.json and docs/schema.md.

CREATE VIEW v_posts AS
SELECT
    p.channel_id,
    p.message_id,
    c.username AS channel,
    CASE WHEN c.username IS NOT NULL THEN 'https://t.me/' || c.username || '/' || p.message_id
         ELSE 'https://t.me/c/' || p.channel_id || '/' || p.message_id END AS link,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.posted_at, 'unixepoch') AS posted_at,
    date(p.posted_at, 'unixepoch') AS posted_on,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.edited_at, 'unixepoch') AS edited_at,
    p.edit_count,
    p.views,
    p.forwards,
    p.replies,
    p.reactions,
    p.fwd_channel_id,
    p.fwd_name,
    p.fwd_message_id,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.fwd_date, 'unixepoch') AS fwd_date,
    p.reply_to_id,
    p.grouped_id,
    p.media_kind,
    p.author,
    p.lang,
    p.script,
    p.lang_confidence,
    p.groups,
    p.people,
    p.keywords,
    p.links,
    p.mentions,
    p.text_length,
    p.text,
    p.source,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.first_seen_at, 'unixepoch') AS first_seen_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.updated_at, 'unixepoch') AS updated_at
FROM posts p LEFT JOIN channels c ON c.id = p.channel_id;

CREATE VIEW v_post_tags AS
SELECT t.channel_id, t.message_id, c.username AS channel, t.kind, t.value, date(t.day * 86400, 'unixepoch') AS posted_on
FROM post_tags t LEFT JOIN channels c ON c.id = t.channel_id;

CREATE VIEW v_channels AS
SELECT
    w.key,
    w.channel_id,
    c.username,
    c.title,
    w.labels,
    w.watched,
    w.status,
    w.status_reason,
    w.poll_interval,
    strftime('%Y-%m-%dT%H:%M:%SZ', w.last_poll_at, 'unixepoch') AS last_poll_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', w.last_success_at, 'unixepoch') AS last_success_at,
    w.last_error,
    strftime('%Y-%m-%dT%H:%M:%SZ', w.retry_at, 'unixepoch') AS retry_at,
    c.checkpoint,
    strftime('%Y-%m-%dT%H:%M:%SZ', w.added_at, 'unixepoch') AS added_at
FROM watch w LEFT JOIN channels c ON c.id = w.channel_id;

CREATE VIEW v_metric_samples AS
SELECT
    s.channel_id,
    s.message_id,
    strftime('%Y-%m-%dT%H:%M:%SZ', s.sampled_at, 'unixepoch') AS sampled_at,
    round((s.sampled_at - p.posted_at) / 3600.0, 2) AS hours_after_posting,
    s.views,
    s.forwards,
    s.replies,
    s.reactions
FROM metric_samples s LEFT JOIN posts p ON p.channel_id = s.channel_id AND p.message_id = s.message_id;

CREATE VIEW v_post_edits AS
SELECT
    channel_id,
    message_id,
    strftime('%Y-%m-%dT%H:%M:%SZ', edited_at, 'unixepoch') AS edited_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', seen_at, 'unixepoch') AS seen_at,
    old_hash,
    new_hash
FROM post_edits;

CREATE VIEW v_daily_tags AS
SELECT kind, date(day * 86400, 'unixepoch') AS day, value, lang, script, posts, views, forwards
FROM agg_tag_day_all WHERE posts > 0;

CREATE VIEW v_daily_channels AS
SELECT date(a.day * 86400, 'unixepoch') AS day, a.channel_id, c.username AS channel, a.posts, a.views, a.forwards
FROM agg_channel_day a LEFT JOIN channels c ON c.id = a.channel_id WHERE a.posts > 0;

CREATE VIEW v_alerts AS
SELECT
    id,
    rule,
    kind,
    strftime('%Y-%m-%dT%H:%M:%SZ', fired_at, 'unixepoch') AS fired_at,
    summary,
    channel_id,
    message_id,
    channel_username,
    link,
    details
FROM alerts;

CREATE VIEW v_deliveries AS
SELECT
    alert_id,
    sink,
    state,
    attempts,
    strftime('%Y-%m-%dT%H:%M:%SZ', next_attempt_at, 'unixepoch') AS next_attempt_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', delivered_at, 'unixepoch') AS delivered_at,
    last_error
FROM deliveries;

CREATE VIEW v_discovered_channels AS
SELECT
    ref,
    name,
    via,
    strftime('%Y-%m-%dT%H:%M:%SZ', first_seen_at, 'unixepoch') AS first_seen_at,
    first_channel_id,
    first_message_id,
    hits
FROM discovered_channels;

CREATE VIEW v_heartbeat AS
SELECT
    pid,
    strftime('%Y-%m-%dT%H:%M:%SZ', started_at, 'unixepoch') AS started_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', beat_at, 'unixepoch') AS beat_at
FROM heartbeat;

CREATE VIEW v_parks AS
SELECT scope, strftime('%Y-%m-%dT%H:%M:%SZ', until, 'unixepoch') AS until, reason FROM parks;

-- ---------------------------------------------------------------------------------------------
-- Team mode (the same tables as the PostgreSQL schema), so both backends keep one port.
--
-- A SQLite file has one collector (a second `monitor run` is refused by a lock file, see
-- monitor/leases.py), so these rows describe that one process, which holds every task; the same
-- lease and account code runs on both backends. Lease and session times are float Unix seconds.

CREATE TABLE collectors (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    version      TEXT NOT NULL,
    started_at   REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    stopped_at   REAL,
    taking       INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE leases (
    key          TEXT PRIMARY KEY REFERENCES watch (key) ON DELETE CASCADE,
    collector_id TEXT NOT NULL,
    account      TEXT,
    acquired_at  REAL NOT NULL,
    expires_at   REAL NOT NULL
);
CREATE INDEX leases_collector ON leases (collector_id);

CREATE TABLE accounts (
    name          TEXT PRIMARY KEY,
    state         TEXT NOT NULL DEFAULT 'ok',
    reason        TEXT,
    since         REAL,
    until         REAL,
    method        TEXT,
    holder        TEXT,
    held_until    REAL,
    requests_hour INTEGER NOT NULL DEFAULT 0,
    beat_at       REAL
);

CREATE TABLE tasks (
    name         TEXT PRIMARY KEY,
    collector_id TEXT,
    expires_at   REAL,
    started_at   REAL,
    finished_at  REAL,
    ran_by       TEXT
);

-- recommendations_asked: when Telegram's similar channels were last asked for each watched channel. In
-- team mode each collector asks for the channels it leases (an access hash is valid only for the account
-- that resolved the channel), once per discovery.search_every for the team, whoever asked before.
CREATE TABLE recommendations_asked (
    key      TEXT PRIMARY KEY,
    asked_at REAL NOT NULL
);

-- ---------------------------------------------------------------------------------------------
-- Channels that die and come back (docs/lifecycle.md), and discovery.
-- channel_events: every change of a watched channel's state, with when and why.
-- channel_snapshots: title, username, description, subscribers as GetFullChannel answered, over time.
-- posts.deleted_at/deleted_kind: a post gone from the channel inside the re-sample window (the row stays).
-- post_links: each post's out-links with their domain and Telegram's own preview title and site name.
-- discovery_decisions: analysts' accept/reject of discovered channels (reject is remembered).

CREATE TABLE channel_events (
    key        TEXT NOT NULL,
    channel_id INTEGER,
    state      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    reason     TEXT,
    PRIMARY KEY (key, at, state)
);
CREATE INDEX channel_events_at ON channel_events (at);

CREATE TABLE channel_snapshots (
    channel_id  INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    title       TEXT,
    username    TEXT,
    about       TEXT,
    subscribers INTEGER,
    restriction TEXT,
    ttl_period  INTEGER,
    PRIMARY KEY (channel_id, observed_at)
);

ALTER TABLE posts ADD COLUMN deleted_at INTEGER;
ALTER TABLE posts ADD COLUMN deleted_kind TEXT;

CREATE TABLE post_links (
    channel_id    INTEGER NOT NULL,
    message_id    INTEGER NOT NULL,
    url           TEXT NOT NULL,
    domain        TEXT NOT NULL,
    day           INTEGER NOT NULL,
    preview_title TEXT,
    preview_site  TEXT,
    PRIMARY KEY (channel_id, message_id, url)
);
CREATE INDEX post_links_day ON post_links (day, domain);

CREATE TABLE discovery_decisions (
    ref      TEXT PRIMARY KEY,
    decision TEXT NOT NULL,
    at       INTEGER NOT NULL,
    note     TEXT
);

-- quarantine: discovery candidates polled in quarantine (docs/lifecycle.md): collected like watched channels
-- (their watch row has watched = 0) but left out of every report until accepted.
CREATE TABLE quarantine (
    key         TEXT PRIMARY KEY,
    ref         TEXT NOT NULL,
    priority    REAL NOT NULL,
    since       INTEGER NOT NULL,
    accepted_at INTEGER
);

-- discovery_leads: candidates Telegram itself pointed to (similar-channel recommendations of a watched
-- channel, public posts with a searched hashtag); the discovery queue reads them as evidence.
CREATE TABLE discovery_leads (
    ref        TEXT NOT NULL,
    via        TEXT NOT NULL,
    basis      TEXT NOT NULL,
    username   TEXT,
    channel_id INTEGER,
    title      TEXT,
    hits       INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    PRIMARY KEY (ref, via, basis)
);

-- ---------------------------------------------------------------------------------------------
-- The web dashboard's users, its audit trail, and alert acknowledgements (monitor web, docs/web.md).
-- Passwords are stored only as argon2id hashes (the PHC string the hasher returns).

CREATE TABLE web_users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'editor')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Every write made through the dashboard or `monitor users`: who, what, when, on what.
CREATE TABLE web_audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '{}'   -- JSON
);
CREATE INDEX web_audit_at ON web_audit (at);

-- One acknowledgement per alert: who took it in hand, and when.
CREATE TABLE alert_acks (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts (id),
    actor    TEXT NOT NULL,
    at       INTEGER NOT NULL
);

-- agg_channel_day by channel first, covering the metrics (the dashboard's per-channel charts).
--
-- Why: the table's key is (day, channel_id), so "every channel's total over five years" (how the volume
-- page picks the 12 series worth drawing out of 200) sorted all 365,000 rows in a temporary B-tree,
-- and "these 12 channels per week" read every row of the range to keep 12 channels' rows. Ordered by
-- channel and holding the metrics, the index answers the first as one ordered pass with no sort
-- (~4x less CPU) and the second by reading only the 12 channels' rows (~3x less). An index, not a new
-- aggregate: SQLite keeps it exact with the table, so no trigger or recount changes.
CREATE INDEX agg_channel_day_channel ON agg_channel_day (channel_id, day, posts, views, forwards);

-- The posts that point at another channel (a forward or a mention), by day: what the discovery queue
-- reads (report_references: `monitor discovery list`, the dashboard's network page).
--
-- Why: about one post in eight forwards or mentions a channel; the queue of a month read every post of
-- the month through posts_day to keep those (10,000,000 posts: 167,000 rows read for 21,000 kept, 0.11
-- s). The partial index holds only the referencing posts, so the read halves; the query repeats the
-- index's WHERE, which is how SQLite knows it may use it. Written only for those posts.
CREATE INDEX posts_refs_day ON posts (day, channel_id) WHERE fwd_channel_id IS NOT NULL OR mentions <> '[]';
