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
