-- 0009: channels that die and come back (docs/lifecycle.md).
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
