-- 0006: the web dashboard's users, its audit trail, and alert acknowledgements (the same tables and
-- columns as the SQLite backend's 0010; docs/web.md). Passwords are stored only as argon2id hashes.

CREATE TABLE web_users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'editor')),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
COMMENT ON TABLE web_users IS 'Local users of the web dashboard (monitor users add/passwd/remove).';
COMMENT ON COLUMN web_users.name IS 'Login name.';
COMMENT ON COLUMN web_users.password_hash IS 'argon2id hash of the password (PHC string); the password itself is never stored.';
COMMENT ON COLUMN web_users.role IS 'viewer (read only) or editor (may acknowledge alerts and watch candidates).';
COMMENT ON COLUMN web_users.created_at IS 'Unix seconds when the user was added.';
COMMENT ON COLUMN web_users.updated_at IS 'Unix seconds of the last change (password or role).';

CREATE TABLE web_audit (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX web_audit_at ON web_audit (at);
COMMENT ON TABLE web_audit IS 'Every write made through the dashboard or monitor users: who, what, when.';
COMMENT ON COLUMN web_audit.id IS 'Sequence number of the entry.';
COMMENT ON COLUMN web_audit.at IS 'Unix seconds of the write.';
COMMENT ON COLUMN web_audit.actor IS 'Who wrote: a dashboard user, or cli:<os user> for monitor users.';
COMMENT ON COLUMN web_audit.action IS 'What was done: user.add, user.passwd, user.remove, alert.ack, ...';
COMMENT ON COLUMN web_audit.target IS 'What it was done to (a user name, an alert id).';
COMMENT ON COLUMN web_audit.detail IS 'JSON object with more about the write (never a password).';

CREATE TABLE alert_acks (
    alert_id BIGINT PRIMARY KEY REFERENCES alerts (id),
    actor    TEXT NOT NULL,
    at       BIGINT NOT NULL
);
COMMENT ON TABLE alert_acks IS 'Alerts acknowledged in the dashboard: one row per alert.';
COMMENT ON COLUMN alert_acks.alert_id IS 'The alert (alerts.id).';
COMMENT ON COLUMN alert_acks.actor IS 'The editor who acknowledged it.';
COMMENT ON COLUMN alert_acks.at IS 'Unix seconds when it was acknowledged.';
