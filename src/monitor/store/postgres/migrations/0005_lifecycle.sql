-- 0005: channels that die and come back (docs/lifecycle.md); the same tables as SQLite's 0009.
CREATE TABLE channel_events (
    key        TEXT NOT NULL,
    channel_id BIGINT,
    state      TEXT NOT NULL,
    at         BIGINT NOT NULL,
    reason     TEXT,
    PRIMARY KEY (key, at, state)
);
CREATE INDEX channel_events_at ON channel_events (at);
COMMENT ON TABLE channel_events IS 'Every change of a watched channel''s lifecycle state (active, private, banned, deleted, restricted, username_changed, username_freed, invalid).';
COMMENT ON COLUMN channel_events.key IS 'Watch key of the channel (watch.key).';
COMMENT ON COLUMN channel_events.channel_id IS 'Telegram channel id when known (channels.id).';
COMMENT ON COLUMN channel_events.state IS 'The state the channel entered, or the change seen (username_changed).';
COMMENT ON COLUMN channel_events.at IS 'Unix seconds when the collector saw the change.';
COMMENT ON COLUMN channel_events.reason IS 'Why: Telegram''s error, restriction reason or the old and new username.';

CREATE TABLE channel_snapshots (
    channel_id  BIGINT NOT NULL,
    observed_at BIGINT NOT NULL,
    title       TEXT,
    username    TEXT,
    about       TEXT,
    subscribers BIGINT,
    restriction TEXT,
    ttl_period  BIGINT,
    PRIMARY KEY (channel_id, observed_at)
);
COMMENT ON TABLE channel_snapshots IS 'A channel''s profile as GetFullChannel answered, sampled at a slow cadence.';
COMMENT ON COLUMN channel_snapshots.channel_id IS 'Telegram channel id (channels.id).';
COMMENT ON COLUMN channel_snapshots.observed_at IS 'Unix seconds of the sample.';
COMMENT ON COLUMN channel_snapshots.title IS 'Title at that moment.';
COMMENT ON COLUMN channel_snapshots.username IS 'Public username at that moment, NULL when none.';
COMMENT ON COLUMN channel_snapshots.about IS 'Channel description at that moment.';
COMMENT ON COLUMN channel_snapshots.subscribers IS 'Subscriber count, NULL when Telegram did not say.';
COMMENT ON COLUMN channel_snapshots.restriction IS 'Telegram''s restriction_reason entries (platform:reason: text), NULL when none.';
COMMENT ON COLUMN channel_snapshots.ttl_period IS 'Auto-delete timer in seconds, NULL when off.';

ALTER TABLE posts ADD COLUMN deleted_at BIGINT;
ALTER TABLE posts ADD COLUMN deleted_kind TEXT;
COMMENT ON COLUMN posts.deleted_at IS 'Unix seconds when a re-sample found the post gone from the channel (the row stays).';
COMMENT ON COLUMN posts.deleted_kind IS 'deleted, or expired when the channel''s auto-delete timer explains it.';

CREATE TABLE post_links (
    channel_id    BIGINT NOT NULL,
    message_id    BIGINT NOT NULL,
    url           TEXT NOT NULL,
    domain        TEXT NOT NULL,
    day           BIGINT NOT NULL,
    preview_title TEXT,
    preview_site  TEXT,
    PRIMARY KEY (channel_id, message_id, url)
);
CREATE INDEX post_links_day ON post_links (day, domain);
COMMENT ON TABLE post_links IS 'Out-links of posts with their domain and Telegram''s own preview (never fetched).';
COMMENT ON COLUMN post_links.channel_id IS 'Channel of the post.';
COMMENT ON COLUMN post_links.message_id IS 'Message id of the post.';
COMMENT ON COLUMN post_links.url IS 'The link as the post carried it (attacker-controlled: defang where shown).';
COMMENT ON COLUMN post_links.domain IS 'Lower-case host of the link, without www.';
COMMENT ON COLUMN post_links.day IS 'posted_at / 86400 of the post.';
COMMENT ON COLUMN post_links.preview_title IS 'Title of Telegram''s link preview, when it had one.';
COMMENT ON COLUMN post_links.preview_site IS 'Site name of Telegram''s link preview, when it had one.';

CREATE TABLE discovery_decisions (
    ref      TEXT PRIMARY KEY,
    decision TEXT NOT NULL,
    at       BIGINT NOT NULL,
    note     TEXT
);
COMMENT ON TABLE discovery_decisions IS 'Analysts'' accept/reject of discovered channels; a rejected channel stays out of the queue.';
COMMENT ON COLUMN discovery_decisions.ref IS 'The candidate as the queue names it (@username or id:N).';
COMMENT ON COLUMN discovery_decisions.decision IS 'accepted or rejected.';
COMMENT ON COLUMN discovery_decisions.at IS 'Unix seconds of the decision.';
COMMENT ON COLUMN discovery_decisions.note IS 'Why, as the analyst wrote it.';
