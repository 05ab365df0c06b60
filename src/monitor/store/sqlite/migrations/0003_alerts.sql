-- 0003: fired alerts and their per-sink delivery state (an outbox: delivered exactly once across restarts).

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    rule        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    dedup_key   TEXT NOT NULL UNIQUE,
    fired_at    INTEGER NOT NULL,
    summary     TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}',   -- JSON
    channel_id  INTEGER,
    message_id  INTEGER,
    channel_username TEXT,
    link        TEXT
);
CREATE INDEX alerts_rule_fired ON alerts (rule, fired_at);
CREATE INDEX alerts_fired ON alerts (fired_at);

CREATE TABLE deliveries (
    alert_id     INTEGER NOT NULL REFERENCES alerts (id),
    sink         TEXT NOT NULL,               -- sink name from the config
    state        TEXT NOT NULL DEFAULT 'pending', -- pending | sending | delivered | failed | digested
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error   TEXT,
    delivered_at INTEGER,
    PRIMARY KEY (alert_id, sink)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
