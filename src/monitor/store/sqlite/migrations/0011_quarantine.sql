-- 0011: discovery candidates polled in quarantine (docs/lifecycle.md): collected like watched channels
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
