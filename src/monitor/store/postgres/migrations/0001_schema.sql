-- 0001: the whole schema, PostgreSQL edition.
--
-- The same tables and columns as the SQLite backend, so one set of example queries runs on both:
-- times are BIGINT seconds since the Unix epoch (UTC), `day` is posted_at / 86400, JSON lists are
-- TEXT holding a JSON array. Differences from SQLite are listed in docs/schema.md. Every table and
-- column carries a comment, for people who open the database in psql, Metabase or Grafana without
-- knowing monitor (\d+ posts, the column descriptions of a BI tool).
--
-- Why one file: no PostgreSQL schema was released before this one (0.1.0 shipped SQLite only), so the
-- migrations written while the backend was built were folded into this file; changes from here on
-- are new files with the next number.

CREATE TABLE watch (
    key             TEXT PRIMARY KEY,
    channel_id      BIGINT,
    labels          TEXT NOT NULL DEFAULT '{}',
    poll_interval   DOUBLE PRECISION,
    watched         INTEGER NOT NULL DEFAULT 1,
    status          TEXT NOT NULL DEFAULT 'new',
    status_reason   TEXT,
    retry_at        BIGINT,
    last_poll_at    BIGINT,
    last_success_at BIGINT,
    last_error      TEXT,
    added_at        BIGINT NOT NULL
);
COMMENT ON TABLE watch IS 'The watch list: one row per configured channel reference, with its polling state.';
COMMENT ON COLUMN watch.key IS 'Normalised reference from the config: a username, or id:<n> for a numeric id.';
COMMENT ON COLUMN watch.channel_id IS 'Telegram channel id once resolved (channels.id).';
COMMENT ON COLUMN watch.labels IS 'JSON object of analyst labels from the config (country, affiliation, ...).';
COMMENT ON COLUMN watch.poll_interval IS 'Seconds between polls; NULL means the global default.';
COMMENT ON COLUMN watch.watched IS '1 while the channel is in the config, 0 once removed (history is kept).';
COMMENT ON COLUMN watch.status IS 'new | active | parked | private | not_found | banned | invalid | renamed | error.';
COMMENT ON COLUMN watch.retry_at IS 'Unix seconds of the next slow retry of an unavailable channel.';
COMMENT ON COLUMN watch.status_reason IS 'Why the channel has its status (the error or flood wait that set it).';
COMMENT ON COLUMN watch.last_poll_at IS 'Unix seconds of the last poll attempt.';
COMMENT ON COLUMN watch.last_success_at IS 'Unix seconds of the last poll that succeeded.';
COMMENT ON COLUMN watch.last_error IS 'Error of the last failed poll, if any.';
COMMENT ON COLUMN watch.added_at IS 'Unix seconds when the channel was first watched.';

CREATE TABLE channels (
    id            BIGINT PRIMARY KEY,
    username      TEXT,
    title         TEXT NOT NULL DEFAULT '',
    access_hash   BIGINT,
    checkpoint    BIGINT NOT NULL DEFAULT 0,
    first_seen_at BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX channels_username ON channels (username);
COMMENT ON TABLE channels IS 'Telegram channels seen by the collector (watched ones and their resolved identity).';
COMMENT ON COLUMN channels.checkpoint IS 'Newest message id stored; polls fetch ids above it.';
COMMENT ON COLUMN channels.id IS 'Telegram''s bare channel id (without the -100 prefix).';
COMMENT ON COLUMN channels.username IS 'Public @username without the @, when the channel has one.';
COMMENT ON COLUMN channels.title IS 'Channel title as last seen.';
COMMENT ON COLUMN channels.access_hash IS 'Telegram access hash used to address the channel (not a secret of the analyst).';
COMMENT ON COLUMN channels.first_seen_at IS 'Unix seconds when the collector first saw the channel.';
COMMENT ON COLUMN channels.updated_at IS 'Unix seconds of the last change to this row.';

CREATE TABLE posts (
    channel_id        BIGINT NOT NULL,
    message_id        BIGINT NOT NULL,
    posted_at         BIGINT NOT NULL,
    day               INTEGER NOT NULL,
    edited_at         BIGINT,
    edit_count        INTEGER NOT NULL DEFAULT 0,
    views             BIGINT,
    forwards          BIGINT,
    replies           BIGINT,
    reactions         BIGINT,
    fwd_channel_id    BIGINT,
    fwd_name          TEXT,
    fwd_message_id    BIGINT,
    fwd_date          BIGINT,
    reply_to_id       BIGINT,
    grouped_id        BIGINT,
    media_kind        TEXT,
    author            TEXT,
    links             TEXT NOT NULL DEFAULT '[]',
    mentions          TEXT NOT NULL DEFAULT '[]',
    text_length       INTEGER NOT NULL,
    content_hash      TEXT NOT NULL,
    prev_content_hash TEXT,
    simhash           BIGINT NOT NULL,
    lang              TEXT NOT NULL,
    script            TEXT,
    lang_confidence   DOUBLE PRECISION NOT NULL,
    groups            TEXT NOT NULL DEFAULT '[]',
    people            TEXT NOT NULL DEFAULT '[]',
    keywords          TEXT NOT NULL DEFAULT '[]',
    matches           TEXT NOT NULL DEFAULT '[]',
    tagger_version    TEXT NOT NULL,
    text              TEXT,
    source            TEXT NOT NULL DEFAULT 'telegram',
    first_seen_at     BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    seq               BIGINT GENERATED BY DEFAULT AS IDENTITY,
    deleted_at        BIGINT,
    deleted_kind      TEXT,
    PRIMARY KEY (channel_id, message_id)
);
CREATE INDEX posts_stored ON posts (first_seen_at, seq);
CREATE INDEX posts_day ON posts (day, channel_id);
CREATE INDEX posts_lang_day ON posts (lang, script, day);
CREATE INDEX posts_fwd ON posts (fwd_channel_id) WHERE fwd_channel_id IS NOT NULL;
CREATE INDEX posts_fwd_time ON posts (fwd_channel_id, posted_at) WHERE fwd_channel_id IS NOT NULL;
CREATE INDEX posts_tagger ON posts (tagger_version);
CREATE INDEX posts_text_kept ON posts (posted_at) WHERE text IS NOT NULL;
CREATE INDEX posts_views ON posts (views);
CREATE INDEX posts_forwards ON posts (forwards);
COMMENT ON TABLE posts IS 'One row per Telegram post: metadata, hashes and tags always; text only while store_text keeps it.';
COMMENT ON COLUMN posts.posted_at IS 'Unix seconds (UTC) when the post was published.';
COMMENT ON COLUMN posts.day IS 'posted_at / 86400: the UTC day number that every aggregate groups by.';
COMMENT ON COLUMN posts.fwd_channel_id IS 'Channel the post was forwarded from, when it is a forward.';
COMMENT ON COLUMN posts.links IS 'JSON array of URLs in the post.';
COMMENT ON COLUMN posts.mentions IS 'JSON array of usernames and t.me paths the post names.';
COMMENT ON COLUMN posts.content_hash IS 'sha256 (hex, 32 chars) of the normalised text.';
COMMENT ON COLUMN posts.simhash IS '64-bit SimHash of the text as a signed integer (near-duplicates).';
COMMENT ON COLUMN posts.lang IS 'Main language code (ISO 639-1, uz split by script) or und.';
COMMENT ON COLUMN posts.groups IS 'JSON array of canonical group ids named in the post.';
COMMENT ON COLUMN posts.matches IS 'JSON array: why each tag was given (term as written, span, rule).';
COMMENT ON COLUMN posts.text IS 'Full text, only when store_text is on; cleared after text_retention_days.';
COMMENT ON COLUMN posts.seq IS 'Insertion order (SQLite: rowid): replays posts in the order the collector stored them.';
COMMENT ON COLUMN posts.source IS 'Where the row came from: telegram (a poll) or export (a Desktop export import).';
COMMENT ON COLUMN posts.deleted_at IS 'Unix seconds when a re-sample found the post gone from the channel (the row stays).';
COMMENT ON COLUMN posts.deleted_kind IS 'deleted, or expired when the channel''s auto-delete timer explains it.';
COMMENT ON COLUMN posts.channel_id IS 'Channel of the post (channels.id); with message_id the key of a post.';
COMMENT ON COLUMN posts.message_id IS 'Telegram message id within the channel.';
COMMENT ON COLUMN posts.edited_at IS 'Unix seconds of the last edit Telegram reports, if edited.';
COMMENT ON COLUMN posts.edit_count IS 'Content edits seen by the collector (rows in post_edits).';
COMMENT ON COLUMN posts.views IS 'Views at the last poll or re-sample.';
COMMENT ON COLUMN posts.forwards IS 'Forwards at the last poll or re-sample.';
COMMENT ON COLUMN posts.replies IS 'Replies (comments) at the last poll, if the channel has comments.';
COMMENT ON COLUMN posts.reactions IS 'Total reactions at the last poll.';
COMMENT ON COLUMN posts.fwd_name IS 'Name on the forward header (source channel title or author).';
COMMENT ON COLUMN posts.fwd_message_id IS 'Message id of the original in the source channel.';
COMMENT ON COLUMN posts.fwd_date IS 'Unix seconds when the original was posted.';
COMMENT ON COLUMN posts.reply_to_id IS 'Message id this post replies to, if any.';
COMMENT ON COLUMN posts.grouped_id IS 'Album id: posts of one album share it.';
COMMENT ON COLUMN posts.media_kind IS 'photo | video | document | audio | ... or NULL for text only.';
COMMENT ON COLUMN posts.author IS 'Signature of the author, when the channel signs posts.';
COMMENT ON COLUMN posts.text_length IS 'Length of the text in characters (kept when the text is not).';
COMMENT ON COLUMN posts.prev_content_hash IS 'content_hash before the latest content edit.';
COMMENT ON COLUMN posts.script IS 'Writing system of the text: Cyrl, Latn, Arab, ...';
COMMENT ON COLUMN posts.lang_confidence IS 'Confidence of the language decision, 0 to 1.';
COMMENT ON COLUMN posts.people IS 'JSON array of canonical ids of people named in the post.';
COMMENT ON COLUMN posts.keywords IS 'JSON array of analyst keywords found in the post.';
COMMENT ON COLUMN posts.tagger_version IS 'Version of the tagger (model and lexicon) that set the tags; monitor retag updates stale ones.';
COMMENT ON COLUMN posts.first_seen_at IS 'Unix seconds when the collector first stored the post.';
COMMENT ON COLUMN posts.updated_at IS 'Unix seconds of the last change to this row.';

CREATE TABLE post_tags (
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    day        INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id, kind, value)
);
CREATE INDEX post_tags_value_day ON post_tags (kind, value, day);
COMMENT ON TABLE post_tags IS 'One row per tag of a post (kind group | person | keyword), for grouping with an index.';
COMMENT ON COLUMN post_tags.channel_id IS 'Post key, part 1 (posts.channel_id).';
COMMENT ON COLUMN post_tags.message_id IS 'Post key, part 2 (posts.message_id).';
COMMENT ON COLUMN post_tags.kind IS 'group | person | keyword.';
COMMENT ON COLUMN post_tags.value IS 'Canonical group or person id, or the keyword.';
COMMENT ON COLUMN post_tags.day IS 'The post''s UTC day number (posts.day).';

CREATE TABLE post_edits (
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    edited_at  BIGINT,
    seen_at    BIGINT NOT NULL,
    old_hash   TEXT NOT NULL,
    new_hash   TEXT NOT NULL
);
CREATE INDEX post_edits_key ON post_edits (channel_id, message_id);
COMMENT ON TABLE post_edits IS 'Content edits: the text hash before and after each edit.';
COMMENT ON COLUMN post_edits.channel_id IS 'Post key, part 1.';
COMMENT ON COLUMN post_edits.message_id IS 'Post key, part 2.';
COMMENT ON COLUMN post_edits.edited_at IS 'Unix seconds of the edit as Telegram reports it.';
COMMENT ON COLUMN post_edits.seen_at IS 'Unix seconds when the collector saw the edit.';
COMMENT ON COLUMN post_edits.old_hash IS 'content_hash before the edit.';
COMMENT ON COLUMN post_edits.new_hash IS 'content_hash after the edit.';

CREATE TABLE metric_samples (
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    sampled_at BIGINT NOT NULL,
    views      BIGINT,
    forwards   BIGINT,
    replies    BIGINT,
    reactions  BIGINT,
    PRIMARY KEY (channel_id, message_id, sampled_at)
);
COMMENT ON TABLE metric_samples IS 'Views and forwards of recent posts re-sampled on later polls (reach growth).';
COMMENT ON COLUMN metric_samples.channel_id IS 'Post key, part 1.';
COMMENT ON COLUMN metric_samples.message_id IS 'Post key, part 2.';
COMMENT ON COLUMN metric_samples.sampled_at IS 'Unix seconds of the sample.';
COMMENT ON COLUMN metric_samples.views IS 'Views at sampled_at.';
COMMENT ON COLUMN metric_samples.forwards IS 'Forwards at sampled_at.';
COMMENT ON COLUMN metric_samples.replies IS 'Replies at sampled_at.';
COMMENT ON COLUMN metric_samples.reactions IS 'Reactions at sampled_at.';

CREATE TABLE parks (
    scope  TEXT PRIMARY KEY,
    until  BIGINT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
COMMENT ON TABLE parks IS 'Flood-wait parks that survive a restart; scope is account or channel:<watch key>.';
COMMENT ON COLUMN parks.scope IS 'account, or channel:<watch key>.';
COMMENT ON COLUMN parks.until IS 'Unix seconds until which nothing of the scope is requested.';
COMMENT ON COLUMN parks.reason IS 'Why (the flood wait Telegram asked for).';

CREATE TABLE heartbeat (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    pid        INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    beat_at    BIGINT NOT NULL
);
COMMENT ON TABLE heartbeat IS 'The collector daemon heartbeat: monitor status fails when it is stale.';
COMMENT ON COLUMN heartbeat.id IS 'Always 1: one row.';
COMMENT ON COLUMN heartbeat.pid IS 'Process id of the collector daemon.';
COMMENT ON COLUMN heartbeat.started_at IS 'Unix seconds when that daemon started.';
COMMENT ON COLUMN heartbeat.beat_at IS 'Unix seconds of its last heartbeat.';

-- alerts and their per-sink delivery outbox
CREATE TABLE alerts (
    id               BIGSERIAL PRIMARY KEY,
    rule             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    dedup_key        TEXT NOT NULL UNIQUE,
    fired_at         BIGINT NOT NULL,
    summary          TEXT NOT NULL,
    details          TEXT NOT NULL DEFAULT '{}',
    channel_id       BIGINT,
    message_id       BIGINT,
    channel_username TEXT,
    link             TEXT
);
CREATE INDEX alerts_rule_fired ON alerts (rule, fired_at);
CREATE INDEX alerts_fired ON alerts (fired_at);
COMMENT ON TABLE alerts IS 'Alerts fired by the rules; dedup_key makes each fire at most once.';
COMMENT ON COLUMN alerts.id IS 'Alert number (deliveries.alert_id).';
COMMENT ON COLUMN alerts.rule IS 'Name of the rule that fired.';
COMMENT ON COLUMN alerts.kind IS 'Rule kind: match | spike | new_term | rising_term | new_channel.';
COMMENT ON COLUMN alerts.dedup_key IS 'What makes this alert unique; an alert fires at most once per key.';
COMMENT ON COLUMN alerts.fired_at IS 'Unix seconds when it fired.';
COMMENT ON COLUMN alerts.summary IS 'One-line summary as sent (may quote attacker-controlled post text: escape when shown).';
COMMENT ON COLUMN alerts.details IS 'JSON object with the rule''s evidence.';
COMMENT ON COLUMN alerts.channel_id IS 'Channel of the post that fired it, if any.';
COMMENT ON COLUMN alerts.message_id IS 'Message id of that post, if any.';
COMMENT ON COLUMN alerts.channel_username IS 'Username of that channel when it fired.';
COMMENT ON COLUMN alerts.link IS 't.me link of the post, if any.';

CREATE TABLE deliveries (
    alert_id        BIGINT NOT NULL REFERENCES alerts (id),
    sink            TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    delivered_at    BIGINT,
    PRIMARY KEY (alert_id, sink)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
COMMENT ON TABLE deliveries IS 'Per-sink delivery state of each alert (pending | sending | delivered | failed | digested).';
COMMENT ON COLUMN deliveries.alert_id IS 'The alert (alerts.id).';
COMMENT ON COLUMN deliveries.sink IS 'Sink name from the config (log, email, telegram, webhook, ...).';
COMMENT ON COLUMN deliveries.state IS 'pending | sending | delivered | failed | digested.';
COMMENT ON COLUMN deliveries.attempts IS 'Delivery attempts so far.';
COMMENT ON COLUMN deliveries.next_attempt_at IS 'Unix seconds of the next attempt (or the lease end while sending).';
COMMENT ON COLUMN deliveries.last_error IS 'Error of the last failed attempt.';
COMMENT ON COLUMN deliveries.delivered_at IS 'Unix seconds when it was delivered.';

CREATE TABLE terms (
    term             TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    first_seen_at    BIGINT NOT NULL,
    first_channel_id BIGINT,
    first_message_id BIGINT,
    total            BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX terms_first_seen ON terms (first_seen_at);
COMMENT ON TABLE terms IS 'Term history for new_term and rising_term rules: folded terms and when they first appeared.';
COMMENT ON COLUMN terms.term IS 'Folded term: a stem, #hashtag, @name or link host.';
COMMENT ON COLUMN terms.kind IS 'word | hashtag | mention | link.';
COMMENT ON COLUMN terms.first_seen_at IS 'posted_at of the earliest post counted with the term.';
COMMENT ON COLUMN terms.first_channel_id IS 'Channel of that post.';
COMMENT ON COLUMN terms.first_message_id IS 'Message id of that post.';
COMMENT ON COLUMN terms.total IS 'Posts counted with the term, all time.';

CREATE TABLE term_days (
    term  TEXT NOT NULL,
    day   INTEGER NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (term, day)
);
CREATE INDEX term_days_day ON term_days (day);
COMMENT ON TABLE term_days IS 'Posts per day that carry each term.';
COMMENT ON COLUMN term_days.term IS 'The term (terms.term).';
COMMENT ON COLUMN term_days.day IS 'UTC day number (posted_at / 86400).';
COMMENT ON COLUMN term_days.count IS 'Posts of that day with the term.';

CREATE TABLE discovered_channels (
    ref              TEXT PRIMARY KEY,
    name             TEXT,
    via              TEXT NOT NULL,
    first_seen_at    BIGINT NOT NULL,
    first_channel_id BIGINT,
    first_message_id BIGINT,
    hits             BIGINT NOT NULL DEFAULT 0
);
COMMENT ON TABLE discovered_channels IS 'Channels seen through forwards and links that are not watched (discovery).';
COMMENT ON COLUMN discovered_channels.ref IS 'username, or id:<n> for a bare channel id.';
COMMENT ON COLUMN discovered_channels.name IS 'Title seen on a forward header, if any.';
COMMENT ON COLUMN discovered_channels.via IS 'forward | link: how it was first seen.';
COMMENT ON COLUMN discovered_channels.first_seen_at IS 'posted_at of the first post that referenced it.';
COMMENT ON COLUMN discovered_channels.first_channel_id IS 'Channel of that post.';
COMMENT ON COLUMN discovered_channels.first_message_id IS 'Message id of that post.';
COMMENT ON COLUMN discovered_channels.hits IS 'Posts that forwarded from or linked to it.';

CREATE TABLE alert_rules (
    name           TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    detection_hash TEXT,
    seeded_at      BIGINT,
    last_fired_at  BIGINT,
    suppressed     INTEGER NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL
);
COMMENT ON TABLE alert_rules IS 'Per-rule state: detection hash at the last retro-hunt, cool-down bookkeeping.';
COMMENT ON COLUMN alert_rules.name IS 'Rule name from the config.';
COMMENT ON COLUMN alert_rules.kind IS 'Rule kind.';
COMMENT ON COLUMN alert_rules.detection_hash IS 'Hash of what the rule detects at its last retro-hunt; a change re-seeds it.';
COMMENT ON COLUMN alert_rules.seeded_at IS 'Unix seconds of the last retro-hunt.';
COMMENT ON COLUMN alert_rules.last_fired_at IS 'Unix seconds of the last firing (for the cool-down).';
COMMENT ON COLUMN alert_rules.suppressed IS 'Alerts held back by the cool-down since the last firing.';
COMMENT ON COLUMN alert_rules.updated_at IS 'Unix seconds of the last change to this row.';

-- The ledger itself is created by the migration runner (store/postgres/connection.py).
COMMENT ON TABLE schema_migrations IS 'Migrations applied to this database (monitor db migrate); the highest version is the schema version.';
COMMENT ON COLUMN schema_migrations.version IS 'Migration number (store/postgres/migrations/NNNN_name.sql).';
COMMENT ON COLUMN schema_migrations.name IS 'Migration file name without number and extension.';
COMMENT ON COLUMN schema_migrations.applied_at IS 'Unix seconds when it was applied.';

-- ---------------------------------------------------------------------------------------------
-- Report aggregates (the same tables as the SQLite backend's 0002 and 0005).

CREATE TABLE agg_channel_day (
    day        INTEGER NOT NULL,
    channel_id BIGINT NOT NULL,
    posts      BIGINT NOT NULL DEFAULT 0,
    views      BIGINT NOT NULL DEFAULT 0,
    forwards   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id)
);

CREATE TABLE agg_lang_day (
    day        INTEGER NOT NULL,
    channel_id BIGINT NOT NULL,
    lang       TEXT NOT NULL,
    script     TEXT NOT NULL,
    posts      BIGINT NOT NULL DEFAULT 0,
    views      BIGINT NOT NULL DEFAULT 0,
    forwards   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id, lang, script)
);
CREATE INDEX agg_lang_day_channel ON agg_lang_day (channel_id, day);

CREATE TABLE agg_lang_day_all (
    day      INTEGER NOT NULL,
    lang     TEXT NOT NULL,
    script   TEXT NOT NULL,
    posts    BIGINT NOT NULL DEFAULT 0,
    views    BIGINT NOT NULL DEFAULT 0,
    forwards BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, lang, script)
);

CREATE TABLE agg_tag_day (
    kind       TEXT NOT NULL,
    day        INTEGER NOT NULL,
    channel_id BIGINT NOT NULL,
    value      TEXT NOT NULL,
    lang       TEXT NOT NULL,
    script     TEXT NOT NULL,
    posts      BIGINT NOT NULL DEFAULT 0,
    views      BIGINT NOT NULL DEFAULT 0,
    forwards   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, day, channel_id, value, lang, script)
);
CREATE INDEX agg_tag_day_value ON agg_tag_day (kind, value, day);
CREATE INDEX agg_tag_day_channel ON agg_tag_day (channel_id, kind, day);

CREATE TABLE agg_tag_day_all (
    kind     TEXT NOT NULL,
    day      INTEGER NOT NULL,
    value    TEXT NOT NULL,
    lang     TEXT NOT NULL,
    script   TEXT NOT NULL,
    posts    BIGINT NOT NULL DEFAULT 0,
    views    BIGINT NOT NULL DEFAULT 0,
    forwards BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, day, value, lang, script)
);

CREATE TABLE agg_tag_month (
    kind       TEXT NOT NULL,
    month      INTEGER NOT NULL,
    channel_id BIGINT NOT NULL,
    value      TEXT NOT NULL,
    posts      BIGINT NOT NULL DEFAULT 0,
    views      BIGINT NOT NULL DEFAULT 0,
    forwards   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, month, channel_id, value)
);
CREATE INDEX agg_tag_month_channel ON agg_tag_month (channel_id, kind, month);

CREATE TABLE agg_tag_week (
    kind       TEXT NOT NULL,
    channel_id BIGINT NOT NULL,
    week       INTEGER NOT NULL,
    value      TEXT NOT NULL,
    posts      BIGINT NOT NULL DEFAULT 0,
    views      BIGINT NOT NULL DEFAULT 0,
    forwards   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, channel_id, week, value)
);

CREATE TABLE agg_pair_day (
    day        INTEGER NOT NULL,
    channel_id BIGINT NOT NULL,
    a          TEXT NOT NULL,
    b          TEXT NOT NULL,
    posts      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id, a, b)
);

CREATE TABLE agg_forward_day (
    day            INTEGER NOT NULL,
    channel_id     BIGINT NOT NULL,
    src_channel_id BIGINT NOT NULL,
    posts          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id, src_channel_id)
);
CREATE INDEX agg_forward_day_src ON agg_forward_day (src_channel_id, day);

CREATE TABLE agg_mention_day (
    day        INTEGER NOT NULL,
    channel_id BIGINT NOT NULL,
    target     TEXT NOT NULL,
    posts      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id, target)
);

COMMENT ON TABLE agg_channel_day IS 'Posts, views and forwards per UTC day and channel (kept exact by triggers).';
COMMENT ON TABLE agg_lang_day IS 'Posts per UTC day, channel, language and script.';
COMMENT ON TABLE agg_lang_day_all IS 'Posts per UTC day, language and script, all channels.';
COMMENT ON TABLE agg_tag_day IS 'Posts per UTC day, channel, tag (kind group | person | keyword), language and script.';
COMMENT ON TABLE agg_tag_day_all IS 'Posts per UTC day, tag, language and script, all channels.';
COMMENT ON TABLE agg_tag_month IS 'Posts per calendar month (first day as a day number), channel and tag.';
COMMENT ON TABLE agg_tag_week IS 'Posts per ISO week (Monday as a day number), channel and tag.';
COMMENT ON TABLE agg_pair_day IS 'Posts naming two groups at once (a < b) per UTC day and channel.';
COMMENT ON TABLE agg_forward_day IS 'Forwards per UTC day: channel_id re-posted a post of src_channel_id.';
COMMENT ON TABLE agg_mention_day IS 'Posts per UTC day and channel that name a target (@username, t.me path).';

-- The aggregate tables share their column meanings.
DO $$
DECLARE
    t text;
    c record;
BEGIN
    FOR t IN SELECT unnest(ARRAY['agg_channel_day', 'agg_lang_day', 'agg_lang_day_all', 'agg_tag_day',
                                 'agg_tag_day_all', 'agg_tag_month', 'agg_tag_week', 'agg_pair_day',
                                 'agg_forward_day', 'agg_mention_day'])
    LOOP
        FOR c IN SELECT * FROM (VALUES
            ('day', 'UTC day number (posted_at / 86400) of the posts counted.'),
            ('month', 'First day of the calendar month, as a UTC day number.'),
            ('week', 'Monday of the ISO week, as a UTC day number.'),
            ('channel_id', 'Channel of the posts counted (channels.id).'),
            ('lang', 'Language of the posts counted (posts.lang).'),
            ('script', 'Script of the posts counted (posts.script; empty string for none).'),
            ('kind', 'Tag kind: group | person | keyword.'),
            ('value', 'Tag value: canonical group or person id, or the keyword.'),
            ('a', 'First group of the pair (alphabetically smaller).'),
            ('b', 'Second group of the pair.'),
            ('src_channel_id', 'Channel the counted posts were forwarded from.'),
            ('target', 'Username or t.me path named by the counted posts.'),
            ('posts', 'Posts counted (rows brought back to 0 by deletes are kept).'),
            ('views', 'Sum of the counted posts'' current views.'),
            ('forwards', 'Sum of the counted posts'' current forwards.')
        ) AS v(col, txt)
        LOOP
            IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(t) AND attname = c.col AND NOT attisdropped) THEN
                EXECUTE format('COMMENT ON COLUMN %I.%I IS %L', t, c.col, c.txt);
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- How the aggregates are kept exact.
--
-- Every aggregate equals the GROUP BY over the current rows of posts joined with post_tags, and a
-- post_tags row counts only while its post exists (the invariant `monitor db check` recounts).
--
-- Why statement-level triggers with transition tables: the collector saves a batch of posts in one
-- INSERT, so one trigger run per statement turns the batch into one grouped upsert per aggregate,
-- instead of one upsert per row and table. Each statement's changes are a signed delta (s = +1 for
-- new rows, -1 for old rows): an UPDATE that changes nothing an aggregate reads (a text purge, say)
-- nets to zero and writes nothing. Upserts are sorted by key, so concurrent collectors take the
-- aggregate rows' locks in the same order and do not deadlock each other. Group pairs (a < b)
-- compare with COLLATE "C" (code points, as SQLite does), whatever collation the database has.
--
-- The upsert is written once (monitor_agg_upsert) and the four tag aggregates are listed once
-- (monitor_tag_upserts); both only build statement text, because the transition tables new_rows and
-- old_rows are visible to the trigger function's own EXECUTE alone, not inside a function it calls.

CREATE FUNCTION monitor_month(day integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT day - (extract(day FROM DATE '1970-01-01' + day)::integer - 1) $$;

CREATE FUNCTION monitor_week(day integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT day - ((day + 3) % 7) $$;

-- The statement adding the signed delta of `source` to `target`: source yields the key columns
-- `keys` and s (with `metrics`, also views and forwards); keys that net to zero write nothing.
CREATE FUNCTION monitor_agg_upsert(target text, keys text, source text, metrics boolean) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
SELECT format(
    'WITH src AS (%3$s) INSERT INTO %1$I AS a (%2$s, posts%4$s) SELECT %2$s, sum(s)%5$s FROM src'
    ' GROUP BY %2$s HAVING sum(s) <> 0%6$s ORDER BY %2$s'
    ' ON CONFLICT (%2$s) DO UPDATE SET posts = a.posts + excluded.posts%7$s',
    target, keys, source,
    CASE WHEN metrics THEN ', views, forwards' ELSE '' END,
    CASE WHEN metrics THEN ', sum(s * views), sum(s * forwards)' ELSE '' END,
    CASE WHEN metrics THEN ' OR sum(s * views) <> 0 OR sum(s * forwards) <> 0' ELSE '' END,
    CASE WHEN metrics THEN ', views = a.views + excluded.views, forwards = a.forwards + excluded.forwards' ELSE '' END)
$$;

-- The upserts of the four tag aggregates, in a fixed order, for a delta of tagged rows `tags`
-- (kind, day, channel_id, value, lang, script, s, views, forwards).
CREATE FUNCTION monitor_tag_upserts(tags text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE
AS $$
SELECT monitor_agg_upsert(target, keys, format('SELECT %s, s, views, forwards FROM (%s) t', cols, tags), true)
FROM (VALUES
    (1, 'agg_tag_day', 'kind, day, channel_id, value, lang, script', 'kind, day, channel_id, value, lang, script'),
    (2, 'agg_tag_day_all', 'kind, day, value, lang, script', 'kind, day, value, lang, script'),
    (3, 'agg_tag_month', 'kind, month, channel_id, value', 'kind, monitor_month(day) AS month, channel_id, value'),
    (4, 'agg_tag_week', 'kind, channel_id, week, value', 'kind, channel_id, monitor_week(day) AS week, value')
) AS v(n, target, keys, cols)
ORDER BY n
$$;

-- posts: the statement's rows as a signed delta, applied to every aggregate (the tags of those posts
-- are their current rows: a statement on posts never changes tags).
CREATE FUNCTION monitor_posts_agg() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    cols constant text := 'SELECT channel_id, message_id, day, lang, coalesce(script, '''') AS script,'
        ' coalesce(views, 0) AS views, coalesce(forwards, 0) AS forwards, fwd_channel_id, mentions';
    d text;
    q text;
BEGIN
    d := CASE TG_OP
        WHEN 'INSERT' THEN cols || ', 1 AS s FROM new_rows'
        WHEN 'DELETE' THEN cols || ', -1 AS s FROM old_rows'
        ELSE cols || ', 1 AS s FROM new_rows UNION ALL ' || cols || ', -1 AS s FROM old_rows'
    END;
    EXECUTE monitor_agg_upsert('agg_channel_day', 'day, channel_id', d, true);
    EXECUTE monitor_agg_upsert('agg_lang_day', 'day, channel_id, lang, script', d, true);
    EXECUTE monitor_agg_upsert('agg_lang_day_all', 'day, lang, script', d, true);
    EXECUTE monitor_agg_upsert('agg_forward_day', 'day, channel_id, src_channel_id', format(
        'SELECT day, channel_id, fwd_channel_id AS src_channel_id, s FROM (%s) d WHERE fwd_channel_id IS NOT NULL',
        d), false);
    EXECUTE monitor_agg_upsert('agg_mention_day', 'day, channel_id, target', format(
        'SELECT DISTINCT d.day, d.channel_id, d.message_id, d.s, j.target FROM (%s) d'
        ' CROSS JOIN LATERAL jsonb_array_elements_text(d.mentions::jsonb) AS j(target) WHERE d.mentions <> ''[]''',
        d), false);
    FOR q IN SELECT monitor_tag_upserts(format(
        'SELECT x.kind, d.day, d.channel_id, x.value, d.lang, d.script, d.s, d.views, d.forwards FROM (%s) d'
        ' JOIN post_tags x ON x.channel_id = d.channel_id AND x.message_id = d.message_id', d))
    LOOP
        EXECUTE q;
    END LOOP;
    EXECUTE monitor_agg_upsert('agg_pair_day', 'day, channel_id, a, b', format(
        'SELECT d.day, d.channel_id, x.value AS a, y.value AS b, d.s FROM (%s) d'
        ' JOIN post_tags x ON x.channel_id = d.channel_id AND x.message_id = d.message_id AND x.kind = ''group'''
        ' JOIN post_tags y ON y.channel_id = d.channel_id AND y.message_id = d.message_id AND y.kind = ''group'''
        ' AND y.value > x.value COLLATE "C"', d), false);
    RETURN NULL;
END
$fn$;

CREATE TRIGGER posts_agg_insert AFTER INSERT ON posts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION monitor_posts_agg();
CREATE TRIGGER posts_agg_update AFTER UPDATE ON posts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION monitor_posts_agg();
CREATE TRIGGER posts_agg_delete AFTER DELETE ON posts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION monitor_posts_agg();

-- post_tags: a tag counts with its post's current day, channel, language and metrics.
-- The store replaces a post's tags by DELETE and INSERT; an UPDATE of a tag row is refused, so
-- that pair counting needs to know only which rows came or went.
CREATE FUNCTION monitor_post_tags_agg() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t text;
    pairs text;
    q text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        t := 'SELECT channel_id, message_id, kind, value, 1 AS s FROM new_rows';
        -- pairs among the post's current group tags with at least one side new
        pairs := $p$
            WITH n AS (SELECT DISTINCT channel_id, message_id, value FROM new_rows WHERE kind = 'group'),
            k AS (SELECT DISTINCT channel_id, message_id FROM n),
            c AS (SELECT g.channel_id, g.message_id, g.value, (n.value IS NOT NULL) AS changed
                  FROM post_tags g JOIN k ON k.channel_id = g.channel_id AND k.message_id = g.message_id
                  LEFT JOIN n ON n.channel_id = g.channel_id AND n.message_id = g.message_id AND n.value = g.value
                  WHERE g.kind = 'group')
            SELECT x.channel_id, x.message_id, x.value AS a, y.value AS b, 1 AS s
            FROM c x JOIN c y ON y.channel_id = x.channel_id AND y.message_id = x.message_id AND y.value > x.value COLLATE "C"
            WHERE x.changed OR y.changed
        $p$;
    ELSE
        t := 'SELECT channel_id, message_id, kind, value, -1 AS s FROM old_rows';
        -- pairs among the post's former group tags (the remaining ones plus the deleted ones)
        -- with at least one side deleted
        pairs := $p$
            WITH o AS (SELECT DISTINCT channel_id, message_id, value FROM old_rows WHERE kind = 'group'),
            k AS (SELECT DISTINCT channel_id, message_id FROM o),
            c AS (SELECT channel_id, message_id, value, true AS changed FROM o
                  UNION ALL
                  SELECT g.channel_id, g.message_id, g.value, false
                  FROM post_tags g JOIN k ON k.channel_id = g.channel_id AND k.message_id = g.message_id
                  WHERE g.kind = 'group')
            SELECT x.channel_id, x.message_id, x.value AS a, y.value AS b, -1 AS s
            FROM c x JOIN c y ON y.channel_id = x.channel_id AND y.message_id = x.message_id AND y.value > x.value COLLATE "C"
            WHERE x.changed OR y.changed
        $p$;
    END IF;
    FOR q IN SELECT monitor_tag_upserts(format(
        'SELECT t.kind, p.day, p.channel_id, t.value, p.lang, coalesce(p.script, '''') AS script, t.s,'
        ' coalesce(p.views, 0) AS views, coalesce(p.forwards, 0) AS forwards'
        ' FROM (%s) t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id', t))
    LOOP
        EXECUTE q;
    END LOOP;
    EXECUTE monitor_agg_upsert('agg_pair_day', 'day, channel_id, a, b', format(
        'SELECT p.day, p.channel_id, q.a, q.b, q.s FROM (%s) q'
        ' JOIN posts p ON p.channel_id = q.channel_id AND p.message_id = q.message_id', pairs), false);
    RETURN NULL;
END
$fn$;

CREATE FUNCTION monitor_post_tags_no_update() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION 'post_tags rows are replaced (DELETE and INSERT), never updated';
END
$fn$;

CREATE TRIGGER post_tags_agg_insert AFTER INSERT ON post_tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION monitor_post_tags_agg();
CREATE TRIGGER post_tags_agg_delete AFTER DELETE ON post_tags
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION monitor_post_tags_agg();
CREATE TRIGGER post_tags_no_update BEFORE UPDATE ON post_tags
    FOR EACH ROW EXECUTE FUNCTION monitor_post_tags_no_update();

-- ---------------------------------------------------------------------------------------------
-- Team mode (docs/operations.md): several collectors and a pool of Telegram accounts.
--
-- collectors: one row per `monitor run` process (host, pid, version, heartbeat); a clean stop sets
-- stopped_at. leases: which collector polls which watched channel, until when; a collector renews
-- its leases while it works, and a channel whose lease expired is taken over by another one with
-- SELECT ... FOR UPDATE SKIP LOCKED (store/postgres/leases.py). accounts: each account's health
-- state with reason and time, and which collector holds its session (one process per session).
-- tasks: a round that asks Telegram for the whole team (the discovery feed: similar channels and
-- hashtag search; the quarantine refresh) is run by the one collector holding its task lease, renewed
-- with the channel leases and taken over after lease_expiry when its holder dies. started_at and
-- finished_at say when the last round ran, so a round is due for the team, not for each collector,
-- and a round whose collector died before finishing is run again by the next holder.
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

-- ---------------------------------------------------------------------------------------------
-- Channels that die and come back, and discovery (docs/lifecycle.md). Quarantined candidates have
-- a watch row with watched = 0; reports leave them out until accepted.

CREATE TABLE channel_events (
    key        TEXT NOT NULL,
    channel_id BIGINT,
    state      TEXT NOT NULL,
    at         BIGINT NOT NULL,
    reason     TEXT,
    PRIMARY KEY (key, at, state)
);
CREATE INDEX channel_events_at ON channel_events (at);
COMMENT ON TABLE channel_events IS 'Every change of a watched channel''s lifecycle state (active, private, banned, deleted, restricted, username_changed, username_freed, invalid).';
COMMENT ON COLUMN channel_events.key IS 'Watch key of the channel (watch.key).';
COMMENT ON COLUMN channel_events.channel_id IS 'Telegram channel id when known (channels.id).';
COMMENT ON COLUMN channel_events.state IS 'The state the channel entered, or the change seen (username_changed).';
COMMENT ON COLUMN channel_events.at IS 'Unix seconds when the collector saw the change.';
COMMENT ON COLUMN channel_events.reason IS 'Why: Telegram''s error, restriction reason or the old and new username.';

CREATE TABLE channel_snapshots (
    channel_id  BIGINT NOT NULL,
    observed_at BIGINT NOT NULL,
    title       TEXT,
    username    TEXT,
    about       TEXT,
    subscribers BIGINT,
    restriction TEXT,
    ttl_period  BIGINT,
    PRIMARY KEY (channel_id, observed_at)
);
COMMENT ON TABLE channel_snapshots IS 'A channel''s profile as GetFullChannel answered, sampled at a slow cadence.';
COMMENT ON COLUMN channel_snapshots.channel_id IS 'Telegram channel id (channels.id).';
COMMENT ON COLUMN channel_snapshots.observed_at IS 'Unix seconds of the sample.';
COMMENT ON COLUMN channel_snapshots.title IS 'Title at that moment.';
COMMENT ON COLUMN channel_snapshots.username IS 'Public username at that moment, NULL when none.';
COMMENT ON COLUMN channel_snapshots.about IS 'Channel description at that moment.';
COMMENT ON COLUMN channel_snapshots.subscribers IS 'Subscriber count, NULL when Telegram did not say.';
COMMENT ON COLUMN channel_snapshots.restriction IS 'Telegram''s restriction_reason entries (platform:reason: text), NULL when none.';
COMMENT ON COLUMN channel_snapshots.ttl_period IS 'Auto-delete timer in seconds, NULL when off.';

CREATE TABLE post_links (
    channel_id    BIGINT NOT NULL,
    message_id    BIGINT NOT NULL,
    url           TEXT NOT NULL,
    domain        TEXT NOT NULL,
    day           BIGINT NOT NULL,
    preview_title TEXT,
    preview_site  TEXT,
    PRIMARY KEY (channel_id, message_id, url)
);
CREATE INDEX post_links_day ON post_links (day, domain);
COMMENT ON TABLE post_links IS 'Out-links of posts with their domain and Telegram''s own preview (never fetched).';
COMMENT ON COLUMN post_links.channel_id IS 'Channel of the post.';
COMMENT ON COLUMN post_links.message_id IS 'Message id of the post.';
COMMENT ON COLUMN post_links.url IS 'The link as the post carried it (attacker-controlled: defang where shown).';
COMMENT ON COLUMN post_links.domain IS 'Lower-case host of the link, without www.';
COMMENT ON COLUMN post_links.day IS 'posted_at / 86400 of the post.';
COMMENT ON COLUMN post_links.preview_title IS 'Title of Telegram''s link preview, when it had one.';
COMMENT ON COLUMN post_links.preview_site IS 'Site name of Telegram''s link preview, when it had one.';

CREATE TABLE discovery_decisions (
    ref      TEXT PRIMARY KEY,
    decision TEXT NOT NULL,
    at       BIGINT NOT NULL,
    note     TEXT
);
COMMENT ON TABLE discovery_decisions IS 'Analysts'' accept/reject of discovered channels; a rejected channel stays out of the queue.';
COMMENT ON COLUMN discovery_decisions.ref IS 'The candidate as the queue names it (@username or id:N).';
COMMENT ON COLUMN discovery_decisions.decision IS 'accepted or rejected.';
COMMENT ON COLUMN discovery_decisions.at IS 'Unix seconds of the decision.';
COMMENT ON COLUMN discovery_decisions.note IS 'Why, as the analyst wrote it.';

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

CREATE TABLE discovery_leads (
    ref        TEXT NOT NULL,
    via        TEXT NOT NULL,
    basis      TEXT NOT NULL,
    username   TEXT,
    channel_id BIGINT,
    title      TEXT,
    hits       INTEGER NOT NULL,
    seen_at    BIGINT NOT NULL,
    PRIMARY KEY (ref, via, basis)
);
COMMENT ON TABLE discovery_leads IS 'Candidates Telegram pointed to (similar-channel recommendations, hashtag search of public posts); evidence in the discovery queue.';
COMMENT ON COLUMN discovery_leads.ref IS 'The candidate as the discovery queue names it (@username or id:N).';
COMMENT ON COLUMN discovery_leads.via IS 'recommended or hashtag.';
COMMENT ON COLUMN discovery_leads.basis IS 'The watched channel it is similar to (@name), or the hashtag searched (#tag).';
COMMENT ON COLUMN discovery_leads.username IS 'Its public username when Telegram gave one.';
COMMENT ON COLUMN discovery_leads.channel_id IS 'Telegram''s bare channel id.';
COMMENT ON COLUMN discovery_leads.title IS 'Its title as Telegram sent it (attacker-controlled text).';
COMMENT ON COLUMN discovery_leads.hits IS 'Posts found with the hashtag in the last search (1 for a recommendation).';
COMMENT ON COLUMN discovery_leads.seen_at IS 'Unix seconds of the last time Telegram named it.';

-- ---------------------------------------------------------------------------------------------
-- The web dashboard (docs/web.md): users, the audit trail, alert acknowledgements. Passwords are
-- stored only as argon2id hashes.

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

-- agg_channel_day by channel first, with the metrics (the dashboard's per-channel charts). The key
-- is (day, channel_id), so "these 12 channels per week over five years" read every row of the range
-- to keep 12 channels' rows; this index reads only theirs (an index-only scan once the table is
-- vacuumed). An index, not a new aggregate: no trigger or recount changes.
CREATE INDEX agg_channel_day_channel ON agg_channel_day (channel_id, day) INCLUDE (posts, views, forwards);

-- The posts that point at another channel (a forward or a mention), by day: what the discovery queue
-- reads (report_references: `monitor discovery list`, the dashboard's network page). About one post in
-- eight; the queue of a month otherwise reads every post of the month to keep those. The query repeats
-- the index's WHERE, so the planner can prove it applies.
CREATE INDEX posts_refs_day ON posts (day, channel_id) WHERE fwd_channel_id IS NOT NULL OR mentions <> '[]';
