-- 0007: discovery candidates polled in quarantine (the same table as the SQLite backend's 0011;
-- docs/lifecycle.md). Their watch row has watched = 0; reports leave them out until accepted.

CREATE TABLE quarantine (
    key         TEXT PRIMARY KEY,
    ref         TEXT NOT NULL,
    priority    DOUBLE PRECISION NOT NULL,
    since       BIGINT NOT NULL,
    accepted_at BIGINT
);
COMMENT ON TABLE quarantine IS 'Discovery candidates polled before an analyst accepted them; reports leave them out until accepted.';
COMMENT ON COLUMN quarantine.key IS 'The watch key the channel is polled under (watch.key).';
COMMENT ON COLUMN quarantine.ref IS 'The candidate as the discovery queue names it (@username or id:N).';
COMMENT ON COLUMN quarantine.priority IS 'Its queue priority when it was put in quarantine.';
COMMENT ON COLUMN quarantine.since IS 'Unix seconds when it was put in quarantine.';
COMMENT ON COLUMN quarantine.accepted_at IS 'Unix seconds of `monitor discovery accept`; from then on it counts as watched.';
