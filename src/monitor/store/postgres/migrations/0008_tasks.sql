-- 0008: team rounds (the same table as the SQLite backend's 0012; docs/operations.md, team mode).
-- A round that asks Telegram for the whole team (the discovery feed: similar channels and hashtag
-- search; the quarantine refresh) is run by the one collector holding its task lease, renewed with
-- the channel leases and taken over after lease_expiry when its holder dies. started_at and
-- finished_at say when the last round ran, so a round is due for the team, not for each collector,
-- and a round whose collector died before finishing is run again by the next holder.

CREATE TABLE tasks (
    name         TEXT PRIMARY KEY,
    collector_id TEXT,
    expires_at   DOUBLE PRECISION,
    started_at   DOUBLE PRECISION,
    finished_at  DOUBLE PRECISION,
    ran_by       TEXT
);
COMMENT ON TABLE tasks IS 'Rounds one collector runs for the team (team mode): who holds each until when, and when it last ran.';
COMMENT ON COLUMN tasks.name IS 'The round: discovery (similar channels, hashtag search) or quarantine (refresh of the quarantine).';
COMMENT ON COLUMN tasks.collector_id IS 'collectors.id of the holder; NULL when released.';
COMMENT ON COLUMN tasks.expires_at IS 'Unix seconds the hold lasts unless renewed; an expired hold is free to take.';
COMMENT ON COLUMN tasks.started_at IS 'Unix seconds the last round started.';
COMMENT ON COLUMN tasks.finished_at IS 'Unix seconds the last round ended; NULL while it runs, or when its collector died in it.';
COMMENT ON COLUMN tasks.ran_by IS 'collectors.id of the collector that started the last round.';

-- recommendations_asked: when Telegram's similar channels were last asked for each watched channel. In
-- team mode each collector asks for the channels it leases (an access hash is valid only for the account
-- that resolved the channel), once per discovery.search_every for the team, whoever asked before.
CREATE TABLE recommendations_asked (
    key      TEXT PRIMARY KEY,
    asked_at DOUBLE PRECISION NOT NULL
);
COMMENT ON TABLE recommendations_asked IS 'When similar channels were last asked for each watched channel (team mode: by its lease holder).';
COMMENT ON COLUMN recommendations_asked.key IS 'The watched channel (watch.key).';
COMMENT ON COLUMN recommendations_asked.asked_at IS 'Unix seconds of the last channels.getChannelRecommendations for it (answered or refused).';
