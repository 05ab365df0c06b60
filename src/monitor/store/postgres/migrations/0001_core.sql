-- 0001: the core schema, PostgreSQL edition.
--
-- The same tables and columns as the SQLite backend, so one set of example queries runs on both:
-- times are BIGINT seconds since the Unix epoch (UTC), `day` is posted_at / 86400, JSON lists are
-- TEXT holding a JSON array. The views at the end of 0002 give ISO timestamps to tools such as
-- Metabase or Grafana. Differences from SQLite are listed in docs/schema.md.

CREATE TABLE watch (
    key             TEXT PRIMARY KEY,
    channel_id      BIGINT,
    labels          TEXT NOT NULL DEFAULT '{}',
    poll_interval   DOUBLE PRECISION,
    watched         INTEGER NOT NULL DEFAULT 1,
    status          TEXT NOT NULL DEFAULT 'new',
    status_reason   TEXT,
    retry_at        BIGINT,
    last_poll_at    BIGINT,
    last_success_at BIGINT,
    last_error      TEXT,
    added_at        BIGINT NOT NULL
);
COMMENT ON TABLE watch IS 'The watch list: one row per configured channel reference, with its polling state.';
COMMENT ON COLUMN watch.key IS 'Normalised reference from the config: a username, or id:<n> for a numeric id.';
COMMENT ON COLUMN watch.channel_id IS 'Telegram channel id once resolved (channels.id).';
COMMENT ON COLUMN watch.labels IS 'JSON object of analyst labels from the config (country, affiliation, ...).';
COMMENT ON COLUMN watch.poll_interval IS 'Seconds between polls; NULL means the global default.';
COMMENT ON COLUMN watch.watched IS '1 while the channel is in the config, 0 once removed (history is kept).';
COMMENT ON COLUMN watch.status IS 'new | active | parked | private | not_found | banned | invalid | renamed | error.';
COMMENT ON COLUMN watch.retry_at IS 'Unix seconds of the next slow retry of an unavailable channel.';

CREATE TABLE channels (
    id            BIGINT PRIMARY KEY,
    username      TEXT,
    title         TEXT NOT NULL DEFAULT '',
    access_hash   BIGINT,
    checkpoint    BIGINT NOT NULL DEFAULT 0,
    first_seen_at BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX channels_username ON channels (username);
COMMENT ON TABLE channels IS 'Telegram channels seen by the collector (watched ones and their resolved identity).';
COMMENT ON COLUMN channels.checkpoint IS 'Newest message id stored; polls fetch ids above it.';

CREATE TABLE posts (
    channel_id        BIGINT NOT NULL,
    message_id        BIGINT NOT NULL,
    posted_at         BIGINT NOT NULL,
    day               INTEGER NOT NULL,
    edited_at         BIGINT,
    edit_count        INTEGER NOT NULL DEFAULT 0,
    views             BIGINT,
    forwards          BIGINT,
    replies           BIGINT,
    reactions         BIGINT,
    fwd_channel_id    BIGINT,
    fwd_name          TEXT,
    fwd_message_id    BIGINT,
    fwd_date          BIGINT,
    reply_to_id       BIGINT,
    grouped_id        BIGINT,
    media_kind        TEXT,
    author            TEXT,
    links             TEXT NOT NULL DEFAULT '[]',
    mentions          TEXT NOT NULL DEFAULT '[]',
    text_length       INTEGER NOT NULL,
    content_hash      TEXT NOT NULL,
    prev_content_hash TEXT,
    simhash           BIGINT NOT NULL,
    lang              TEXT NOT NULL,
    script            TEXT,
    lang_confidence   DOUBLE PRECISION NOT NULL,
    groups            TEXT NOT NULL DEFAULT '[]',
    people            TEXT NOT NULL DEFAULT '[]',
    keywords          TEXT NOT NULL DEFAULT '[]',
    matches           TEXT NOT NULL DEFAULT '[]',
    tagger_version    TEXT NOT NULL,
    text              TEXT,
    source            TEXT NOT NULL DEFAULT 'telegram',
    first_seen_at     BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);
CREATE INDEX posts_day ON posts (day, channel_id);
CREATE INDEX posts_lang_day ON posts (lang, script, day);
CREATE INDEX posts_fwd ON posts (fwd_channel_id) WHERE fwd_channel_id IS NOT NULL;
CREATE INDEX posts_fwd_time ON posts (fwd_channel_id, posted_at) WHERE fwd_channel_id IS NOT NULL;
CREATE INDEX posts_tagger ON posts (tagger_version);
CREATE INDEX posts_text_kept ON posts (posted_at) WHERE text IS NOT NULL;
CREATE INDEX posts_views ON posts (views);
CREATE INDEX posts_forwards ON posts (forwards);
COMMENT ON TABLE posts IS 'One row per Telegram post: metadata, hashes and tags always; text only while store_text keeps it.';
COMMENT ON COLUMN posts.posted_at IS 'Unix seconds (UTC) when the post was published.';
COMMENT ON COLUMN posts.day IS 'posted_at / 86400: the UTC day number that every aggregate groups by.';
COMMENT ON COLUMN posts.fwd_channel_id IS 'Channel the post was forwarded from, when it is a forward.';
COMMENT ON COLUMN posts.links IS 'JSON array of URLs in the post.';
COMMENT ON COLUMN posts.mentions IS 'JSON array of usernames and t.me paths the post names.';
COMMENT ON COLUMN posts.content_hash IS 'sha256 (hex, 32 chars) of the normalised text.';
COMMENT ON COLUMN posts.simhash IS '64-bit SimHash of the text as a signed integer (near-duplicates).';
COMMENT ON COLUMN posts.lang IS 'Main language code (ISO 639-1, uz split by script) or und.';
COMMENT ON COLUMN posts.groups IS 'JSON array of canonical group ids named in the post.';
COMMENT ON COLUMN posts.matches IS 'JSON array: why each tag was given (term as written, span, rule).';
COMMENT ON COLUMN posts.text IS 'Full text, only when store_text is on; cleared after text_retention_days.';
COMMENT ON COLUMN posts.source IS 'Where the row came from: telegram (a poll) or export (a Desktop export import).';

CREATE TABLE post_tags (
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    day        INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id, kind, value)
);
CREATE INDEX post_tags_value_day ON post_tags (kind, value, day);
COMMENT ON TABLE post_tags IS 'One row per tag of a post (kind group | person | keyword), for grouping with an index.';

CREATE TABLE post_edits (
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    edited_at  BIGINT,
    seen_at    BIGINT NOT NULL,
    old_hash   TEXT NOT NULL,
    new_hash   TEXT NOT NULL
);
CREATE INDEX post_edits_key ON post_edits (channel_id, message_id);
COMMENT ON TABLE post_edits IS 'Content edits: the text hash before and after each edit.';

CREATE TABLE metric_samples (
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    sampled_at BIGINT NOT NULL,
    views      BIGINT,
    forwards   BIGINT,
    replies    BIGINT,
    reactions  BIGINT,
    PRIMARY KEY (channel_id, message_id, sampled_at)
);
COMMENT ON TABLE metric_samples IS 'Views and forwards of recent posts re-sampled on later polls (reach growth).';

CREATE TABLE parks (
    scope  TEXT PRIMARY KEY,
    until  BIGINT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
COMMENT ON TABLE parks IS 'Flood-wait parks that survive a restart; scope is account or channel:<watch key>.';

CREATE TABLE heartbeat (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    pid        INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    beat_at    BIGINT NOT NULL
);
COMMENT ON TABLE heartbeat IS 'The collector daemon heartbeat: monitor status fails when it is stale.';

-- alerts and their per-sink delivery outbox
CREATE TABLE alerts (
    id               BIGSERIAL PRIMARY KEY,
    rule             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    dedup_key        TEXT NOT NULL UNIQUE,
    fired_at         BIGINT NOT NULL,
    summary          TEXT NOT NULL,
    details          TEXT NOT NULL DEFAULT '{}',
    channel_id       BIGINT,
    message_id       BIGINT,
    channel_username TEXT,
    link             TEXT
);
CREATE INDEX alerts_rule_fired ON alerts (rule, fired_at);
CREATE INDEX alerts_fired ON alerts (fired_at);
COMMENT ON TABLE alerts IS 'Alerts fired by the rules; dedup_key makes each fire at most once.';

CREATE TABLE deliveries (
    alert_id        BIGINT NOT NULL REFERENCES alerts (id),
    sink            TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    delivered_at    BIGINT,
    PRIMARY KEY (alert_id, sink)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
COMMENT ON TABLE deliveries IS 'Per-sink delivery state of each alert (pending | sending | delivered | failed | digested).';

CREATE TABLE terms (
    term             TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    first_seen_at    BIGINT NOT NULL,
    first_channel_id BIGINT,
    first_message_id BIGINT,
    total            BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX terms_first_seen ON terms (first_seen_at);
COMMENT ON TABLE terms IS 'Term history for new_term and rising_term rules: folded terms and when they first appeared.';

CREATE TABLE term_days (
    term  TEXT NOT NULL,
    day   INTEGER NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (term, day)
);
CREATE INDEX term_days_day ON term_days (day);
COMMENT ON TABLE term_days IS 'Posts per day that carry each term.';

CREATE TABLE discovered_channels (
    ref              TEXT PRIMARY KEY,
    name             TEXT,
    via              TEXT NOT NULL,
    first_seen_at    BIGINT NOT NULL,
    first_channel_id BIGINT,
    first_message_id BIGINT,
    hits             BIGINT NOT NULL DEFAULT 0
);
COMMENT ON TABLE discovered_channels IS 'Channels seen through forwards and links that are not watched (discovery).';

CREATE TABLE alert_rules (
    name           TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    detection_hash TEXT,
    seeded_at      BIGINT,
    last_fired_at  BIGINT,
    suppressed     INTEGER NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL
);
COMMENT ON TABLE alert_rules IS 'Per-rule state: detection hash at the last retro-hunt, cool-down bookkeeping.';
