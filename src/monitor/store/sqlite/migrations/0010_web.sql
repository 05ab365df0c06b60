-- 0010: the web dashboard's users, its audit trail, and alert acknowledgements (monitor web, docs/web.md).
-- Passwords are stored only as argon2id hashes (the PHC string the hasher returns).

CREATE TABLE web_users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'editor')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Every write made through the dashboard or `monitor users`: who, what, when, on what.
CREATE TABLE web_audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '{}'   -- JSON
);
CREATE INDEX web_audit_at ON web_audit (at);

-- One acknowledgement per alert: who took it in hand, and when.
CREATE TABLE alert_acks (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts (id),
    actor    TEXT NOT NULL,
    at       INTEGER NOT NULL
);
