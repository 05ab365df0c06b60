-- 0001: the core schema. Times are INTEGER seconds since the Unix epoch, UTC.
-- `day` columns are posted_at / 86400 (days since epoch, UTC), kept so reports group without functions.

CREATE TABLE watch (
    key            TEXT PRIMARY KEY,          -- normalised config reference: "username" or "id:123"
    channel_id     INTEGER,                   -- set once resolved; resolving happens once
    labels         TEXT NOT NULL DEFAULT '{}', -- JSON object from the config
    poll_interval  REAL,                      -- seconds; NULL = global default
    watched        INTEGER NOT NULL DEFAULT 1, -- 0 once removed from the config (history is kept)
    status         TEXT NOT NULL DEFAULT 'new', -- new | active | parked | private | not_found | banned | invalid | renamed | error
    status_reason  TEXT,
    retry_at       INTEGER,                   -- for unavailable channels: next slow retry
    last_poll_at   INTEGER,
    last_success_at INTEGER,
    last_error     TEXT,
    added_at       INTEGER NOT NULL
);

CREATE TABLE channels (
    id            INTEGER PRIMARY KEY,        -- Telegram's bare channel id
    username      TEXT,
    title         TEXT NOT NULL DEFAULT '',
    access_hash   INTEGER,
    checkpoint    INTEGER NOT NULL DEFAULT 0, -- newest message id stored; polls fetch ids above it
    first_seen_at INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX channels_username ON channels (username);

CREATE TABLE posts (
    channel_id      INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    posted_at       INTEGER NOT NULL,
    day             INTEGER NOT NULL,
    edited_at       INTEGER,
    edit_count      INTEGER NOT NULL DEFAULT 0,
    views           INTEGER,
    forwards        INTEGER,
    replies         INTEGER,
    reactions       INTEGER,
    fwd_channel_id  INTEGER,
    fwd_name        TEXT,
    fwd_message_id  INTEGER,
    fwd_date        INTEGER,
    reply_to_id     INTEGER,
    grouped_id      INTEGER,
    media_kind      TEXT,
    author          TEXT,
    links           TEXT NOT NULL DEFAULT '[]',  -- JSON array of URLs
    mentions        TEXT NOT NULL DEFAULT '[]',  -- JSON array of usernames / t.me paths
    text_length     INTEGER NOT NULL,
    content_hash    TEXT NOT NULL,               -- sha256 of the normalised text (hex, 32 chars)
    prev_content_hash TEXT,                      -- the hash before the latest content edit
    simhash         INTEGER NOT NULL,            -- 64-bit SimHash as a signed integer
    lang            TEXT NOT NULL,
    script          TEXT,
    lang_confidence REAL NOT NULL,
    groups          TEXT NOT NULL DEFAULT '[]',  -- JSON array of canonical group ids
    people          TEXT NOT NULL DEFAULT '[]',
    keywords        TEXT NOT NULL DEFAULT '[]',
    matches         TEXT NOT NULL DEFAULT '[]',  -- JSON array: why each tag was given
    tagger_version  TEXT NOT NULL,
    text            TEXT,                        -- only when store_text is on; cleared after the retention period
    source          TEXT NOT NULL DEFAULT 'telegram',
    first_seen_at   INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);
CREATE INDEX posts_day ON posts (day, channel_id);
CREATE INDEX posts_lang_day ON posts (lang, script, day);
CREATE INDEX posts_fwd ON posts (fwd_channel_id) WHERE fwd_channel_id IS NOT NULL;
CREATE INDEX posts_simhash ON posts (simhash);
CREATE INDEX posts_tagger ON posts (tagger_version);
CREATE INDEX posts_text_kept ON posts (posted_at) WHERE text IS NOT NULL;

-- One row per tag of a post, so reports group by group, person or keyword with an index.
CREATE TABLE post_tags (
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    kind       TEXT NOT NULL,     -- group | person | keyword
    value      TEXT NOT NULL,
    day        INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id, kind, value)
);
CREATE INDEX post_tags_value_day ON post_tags (kind, value, day);

-- Content edits: the text hash before and after each edit.
CREATE TABLE post_edits (
    channel_id   INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    edited_at    INTEGER,
    seen_at      INTEGER NOT NULL,
    old_hash     TEXT NOT NULL,
    new_hash     TEXT NOT NULL
);
CREATE INDEX post_edits_key ON post_edits (channel_id, message_id);

-- Views/forwards of recent posts re-sampled on later polls: reach growth.
CREATE TABLE metric_samples (
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    sampled_at INTEGER NOT NULL,
    views      INTEGER,
    forwards   INTEGER,
    replies    INTEGER,
    reactions  INTEGER,
    PRIMARY KEY (channel_id, message_id, sampled_at)
);

-- Flood-wait parks survive a restart. scope: "account" or "channel:<watch key>".
CREATE TABLE parks (
    scope  TEXT PRIMARY KEY,
    until  INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);

-- The daemon's heartbeat: `monitor status` exits non-zero when it is stale.
CREATE TABLE heartbeat (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    pid        INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    beat_at    INTEGER NOT NULL
);
