-- 0012: team rounds (the same table as the PostgreSQL backend's 0008; docs/operations.md). With
-- SQLite there is one collector, which holds every task; the table keeps the port the same.
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
