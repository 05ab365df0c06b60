-- 0007: discovery candidates polled in quarantine (the same table as the SQLite backend's 0011;
-- docs/lifecycle.md). Their watch row has watched = 0; reports leave them out until accepted.

CREATE TABLE quarantine (
    key         TEXT PRIMARY KEY,
    ref         TEXT NOT NULL,
    priority    DOUBLE PRECISION NOT NULL,
    since       BIGINT NOT NULL,
    accepted_at BIGINT
);
COMMENT ON TABLE quarantine IS 'Discovery candidates polled before an analyst accepted them; reports leave them out until accepted.';
COMMENT ON COLUMN quarantine.key IS 'The watch key the channel is polled under (watch.key).';
COMMENT ON COLUMN quarantine.ref IS 'The candidate as the discovery queue names it (@username or id:N).';
COMMENT ON COLUMN quarantine.priority IS 'Its queue priority when it was put in quarantine.';
COMMENT ON COLUMN quarantine.since IS 'Unix seconds when it was put in quarantine.';
COMMENT ON COLUMN quarantine.accepted_at IS 'Unix seconds of `monitor discovery accept`; from then on it counts as watched.';

CREATE TABLE discovery_leads (
    ref        TEXT NOT NULL,
    via        TEXT NOT NULL,
    basis      TEXT NOT NULL,
    username   TEXT,
    channel_id BIGINT,
    title      TEXT,
    hits       INTEGER NOT NULL,
    seen_at    BIGINT NOT NULL,
    PRIMARY KEY (ref, via, basis)
);
COMMENT ON TABLE discovery_leads IS 'Candidates Telegram pointed to (similar-channel recommendations, hashtag search of public posts); evidence in the discovery queue.';
COMMENT ON COLUMN discovery_leads.ref IS 'The candidate as the discovery queue names it (@username or id:N).';
COMMENT ON COLUMN discovery_leads.via IS 'recommended or hashtag.';
COMMENT ON COLUMN discovery_leads.basis IS 'The watched channel it is similar to (@name), or the hashtag searched (#tag).';
COMMENT ON COLUMN discovery_leads.username IS 'Its public username when Telegram gave one.';
COMMENT ON COLUMN discovery_leads.channel_id IS 'Telegram''s bare channel id.';
COMMENT ON COLUMN discovery_leads.title IS 'Its title as Telegram sent it (attacker-controlled text).';
COMMENT ON COLUMN discovery_leads.hits IS 'Posts found with the hashtag in the last search (1 for a recommendation).';
COMMENT ON COLUMN discovery_leads.seen_at IS 'Unix seconds of the last time Telegram named it.';
