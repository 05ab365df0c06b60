-- 0004: what alert rules remember between posts and restarts.
-- Term history (new_term / rising_term), channels discovered through forwards and links
-- (new_channel), and per-rule state (detection hash for retro-hunts, cool-down).
-- Terms are folded keys (a stem, "#hashtag" or "@name"); counts are posts, not occurrences.

CREATE TABLE terms (
    term             TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,              -- word | hashtag | mention | link
    first_seen_at    INTEGER NOT NULL,           -- posted_at of the earliest post counted with it
    first_channel_id INTEGER,
    first_message_id INTEGER,
    total            INTEGER NOT NULL DEFAULT 0  -- posts counted with it, all time
) WITHOUT ROWID;
CREATE INDEX terms_first_seen ON terms (first_seen_at);

CREATE TABLE term_days (
    term  TEXT NOT NULL,
    day   INTEGER NOT NULL,                      -- posted_at / 86400, as posts.day
    count INTEGER NOT NULL,                      -- posts of that day with the term
    PRIMARY KEY (term, day)
) WITHOUT ROWID;
CREATE INDEX term_days_day ON term_days (day);

CREATE TABLE discovered_channels (
    ref              TEXT PRIMARY KEY,           -- "username" or "id:123" (bare channel id)
    name             TEXT,                       -- title seen on a forward, if any
    via              TEXT NOT NULL,              -- forward | link (first way it was seen)
    first_seen_at    INTEGER NOT NULL,
    first_channel_id INTEGER,
    first_message_id INTEGER,
    hits             INTEGER NOT NULL DEFAULT 0  -- posts that forwarded from or linked to it
);

CREATE TABLE alert_rules (
    name           TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    detection_hash TEXT,                         -- AlertRule.detection_hash() when last seeded
    seeded_at      INTEGER,                      -- last retro-hunt
    last_fired_at  INTEGER,                      -- for the cool-down
    suppressed     INTEGER NOT NULL DEFAULT 0,   -- alerts held back by the cool-down since the last firing
    updated_at     INTEGER NOT NULL
);
