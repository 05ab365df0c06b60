-- 0008: the tables of team mode (PostgreSQL 0004), so both backends keep one port.
--
-- A SQLite file has one collector (a second `monitor run` is refused by a lock file, see
-- monitor/leases.py), so these rows describe that one process; the same lease and account code
-- runs on both backends. Lease and session times are float Unix seconds.

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
