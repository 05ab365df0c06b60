-- 0011: discovery candidates polled in quarantine (docs/lifecycle.md): collected like watched channels
-- (their watch row has watched = 0) but left out of every report until accepted.
CREATE TABLE quarantine (
    key         TEXT PRIMARY KEY,
    ref         TEXT NOT NULL,
    priority    REAL NOT NULL,
    since       INTEGER NOT NULL,
    accepted_at INTEGER
);
