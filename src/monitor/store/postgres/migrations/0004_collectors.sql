-- 0004: team mode with several collectors and a pool of Telegram accounts (issue 10).
--
-- collectors: one row per `monitor run` process (host, pid, version, heartbeat); a clean stop sets
-- stopped_at. leases: which collector polls which watched channel, until when; a collector renews
-- its leases while it works, and a channel whose lease expired is taken over by another one with
-- SELECT ... FOR UPDATE SKIP LOCKED (store/postgres/leases.py). accounts: each account's health
-- state with reason and time, and which collector holds its session (one process per session).
-- Lease and session times are float Unix seconds: a lease of a minute needs sub-second precision.

CREATE TABLE collectors (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    version      TEXT NOT NULL,
    started_at   DOUBLE PRECISION NOT NULL,
    heartbeat_at DOUBLE PRECISION NOT NULL,
    stopped_at   DOUBLE PRECISION,
    taking       INTEGER NOT NULL DEFAULT 1
);
COMMENT ON TABLE collectors IS 'One row per monitor run process sharing this database (team mode).';
COMMENT ON COLUMN collectors.id IS 'Random id a collector picks at start (host and pid are not unique across restarts).';
COMMENT ON COLUMN collectors.host IS 'Host name of the machine or container.';
COMMENT ON COLUMN collectors.pid IS 'Process id on that host.';
COMMENT ON COLUMN collectors.version IS 'monitor version the collector runs.';
COMMENT ON COLUMN collectors.started_at IS 'Unix seconds when the collector started.';
COMMENT ON COLUMN collectors.heartbeat_at IS 'Unix seconds of its last lease round.';
COMMENT ON COLUMN collectors.stopped_at IS 'Unix seconds of its clean shutdown; NULL while running (or killed).';
COMMENT ON COLUMN collectors.taking IS '1 while it can take channels, 0 while its account is parked or lost (fair shares count only takers).';

CREATE TABLE leases (
    key          TEXT PRIMARY KEY REFERENCES watch (key) ON DELETE CASCADE,
    collector_id TEXT NOT NULL,
    account      TEXT,
    acquired_at  DOUBLE PRECISION NOT NULL,
    expires_at   DOUBLE PRECISION NOT NULL
);
CREATE INDEX leases_collector ON leases (collector_id);
COMMENT ON TABLE leases IS 'Which collector polls which watched channel until when; expired rows are free to take.';
COMMENT ON COLUMN leases.key IS 'The channel (watch.key).';
COMMENT ON COLUMN leases.collector_id IS 'The holder (collectors.id).';
COMMENT ON COLUMN leases.account IS 'The holder''s account that polls the channel, when known.';
COMMENT ON COLUMN leases.acquired_at IS 'Unix seconds when this holder took the lease.';
COMMENT ON COLUMN leases.expires_at IS 'Unix seconds when the lease runs out unless renewed.';

CREATE TABLE accounts (
    name          TEXT PRIMARY KEY,
    state         TEXT NOT NULL DEFAULT 'ok',
    reason        TEXT,
    since         DOUBLE PRECISION,
    until         DOUBLE PRECISION,
    method        TEXT,
    holder        TEXT,
    held_until    DOUBLE PRECISION,
    requests_hour BIGINT NOT NULL DEFAULT 0,
    beat_at       DOUBLE PRECISION
);
COMMENT ON TABLE accounts IS 'Telegram accounts of the pool: health state and which collector holds the session.';
COMMENT ON COLUMN accounts.name IS 'Account name from the config ([[accounts]] name).';
COMMENT ON COLUMN accounts.state IS 'ok | flood_wait | frozen | banned | unauthorized | duplicated.';
COMMENT ON COLUMN accounts.reason IS 'Telegram''s error that set the state.';
COMMENT ON COLUMN accounts.since IS 'Unix seconds when the state was set.';
COMMENT ON COLUMN accounts.until IS 'Unix seconds when a flood wait ends.';
COMMENT ON COLUMN accounts.method IS 'The request a flood wait applies to; NULL = the whole account.';
COMMENT ON COLUMN accounts.holder IS 'Collector (collectors.id) using the session; one process per session.';
COMMENT ON COLUMN accounts.held_until IS 'Unix seconds when the holder''s claim on the session runs out unless renewed.';
COMMENT ON COLUMN accounts.requests_hour IS 'Requests made in the hour before beat_at.';
COMMENT ON COLUMN accounts.beat_at IS 'Unix seconds of the holder''s last report.';
