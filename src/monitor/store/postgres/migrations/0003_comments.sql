-- 0003: a comment on every table and column, for people who open the database in psql, Metabase
-- or Grafana without knowing monitor (\d+ posts, the column descriptions of a BI tool).
-- Times are Unix seconds (UTC); a day is posted_at / 86400. Comments already set by 0001/0002
-- stay; this file fills the gaps. docs/schema.md says the same at more length.

COMMENT ON TABLE schema_migrations IS 'Migrations applied to this database (monitor db migrate); the highest version is the schema version.';
COMMENT ON COLUMN schema_migrations.version IS 'Migration number (store/postgres/migrations/NNNN_name.sql).';
COMMENT ON COLUMN schema_migrations.name IS 'Migration file name without number and extension.';
COMMENT ON COLUMN schema_migrations.applied_at IS 'Unix seconds when it was applied.';

COMMENT ON COLUMN watch.status_reason IS 'Why the channel has its status (the error or flood wait that set it).';
COMMENT ON COLUMN watch.last_poll_at IS 'Unix seconds of the last poll attempt.';
COMMENT ON COLUMN watch.last_success_at IS 'Unix seconds of the last poll that succeeded.';
COMMENT ON COLUMN watch.last_error IS 'Error of the last failed poll, if any.';
COMMENT ON COLUMN watch.added_at IS 'Unix seconds when the channel was first watched.';

COMMENT ON COLUMN channels.id IS 'Telegram''s bare channel id (without the -100 prefix).';
COMMENT ON COLUMN channels.username IS 'Public @username without the @, when the channel has one.';
COMMENT ON COLUMN channels.title IS 'Channel title as last seen.';
COMMENT ON COLUMN channels.access_hash IS 'Telegram access hash used to address the channel (not a secret of the analyst).';
COMMENT ON COLUMN channels.first_seen_at IS 'Unix seconds when the collector first saw the channel.';
COMMENT ON COLUMN channels.updated_at IS 'Unix seconds of the last change to this row.';

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

COMMENT ON COLUMN post_tags.channel_id IS 'Post key, part 1 (posts.channel_id).';
COMMENT ON COLUMN post_tags.message_id IS 'Post key, part 2 (posts.message_id).';
COMMENT ON COLUMN post_tags.kind IS 'group | person | keyword.';
COMMENT ON COLUMN post_tags.value IS 'Canonical group or person id, or the keyword.';
COMMENT ON COLUMN post_tags.day IS 'The post''s UTC day number (posts.day).';

COMMENT ON COLUMN post_edits.channel_id IS 'Post key, part 1.';
COMMENT ON COLUMN post_edits.message_id IS 'Post key, part 2.';
COMMENT ON COLUMN post_edits.edited_at IS 'Unix seconds of the edit as Telegram reports it.';
COMMENT ON COLUMN post_edits.seen_at IS 'Unix seconds when the collector saw the edit.';
COMMENT ON COLUMN post_edits.old_hash IS 'content_hash before the edit.';
COMMENT ON COLUMN post_edits.new_hash IS 'content_hash after the edit.';

COMMENT ON COLUMN metric_samples.channel_id IS 'Post key, part 1.';
COMMENT ON COLUMN metric_samples.message_id IS 'Post key, part 2.';
COMMENT ON COLUMN metric_samples.sampled_at IS 'Unix seconds of the sample.';
COMMENT ON COLUMN metric_samples.views IS 'Views at sampled_at.';
COMMENT ON COLUMN metric_samples.forwards IS 'Forwards at sampled_at.';
COMMENT ON COLUMN metric_samples.replies IS 'Replies at sampled_at.';
COMMENT ON COLUMN metric_samples.reactions IS 'Reactions at sampled_at.';

COMMENT ON COLUMN parks.scope IS 'account, or channel:<watch key>.';
COMMENT ON COLUMN parks.until IS 'Unix seconds until which nothing of the scope is requested.';
COMMENT ON COLUMN parks.reason IS 'Why (the flood wait Telegram asked for).';

COMMENT ON COLUMN heartbeat.id IS 'Always 1: one row.';
COMMENT ON COLUMN heartbeat.pid IS 'Process id of the collector daemon.';
COMMENT ON COLUMN heartbeat.started_at IS 'Unix seconds when that daemon started.';
COMMENT ON COLUMN heartbeat.beat_at IS 'Unix seconds of its last heartbeat.';

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

COMMENT ON COLUMN deliveries.alert_id IS 'The alert (alerts.id).';
COMMENT ON COLUMN deliveries.sink IS 'Sink name from the config (log, email, telegram, webhook, ...).';
COMMENT ON COLUMN deliveries.state IS 'pending | sending | delivered | failed | digested.';
COMMENT ON COLUMN deliveries.attempts IS 'Delivery attempts so far.';
COMMENT ON COLUMN deliveries.next_attempt_at IS 'Unix seconds of the next attempt (or the lease end while sending).';
COMMENT ON COLUMN deliveries.last_error IS 'Error of the last failed attempt.';
COMMENT ON COLUMN deliveries.delivered_at IS 'Unix seconds when it was delivered.';

COMMENT ON COLUMN terms.term IS 'Folded term: a stem, #hashtag, @name or link host.';
COMMENT ON COLUMN terms.kind IS 'word | hashtag | mention | link.';
COMMENT ON COLUMN terms.first_seen_at IS 'posted_at of the earliest post counted with the term.';
COMMENT ON COLUMN terms.first_channel_id IS 'Channel of that post.';
COMMENT ON COLUMN terms.first_message_id IS 'Message id of that post.';
COMMENT ON COLUMN terms.total IS 'Posts counted with the term, all time.';

COMMENT ON COLUMN term_days.term IS 'The term (terms.term).';
COMMENT ON COLUMN term_days.day IS 'UTC day number (posted_at / 86400).';
COMMENT ON COLUMN term_days.count IS 'Posts of that day with the term.';

COMMENT ON COLUMN discovered_channels.ref IS 'username, or id:<n> for a bare channel id.';
COMMENT ON COLUMN discovered_channels.name IS 'Title seen on a forward header, if any.';
COMMENT ON COLUMN discovered_channels.via IS 'forward | link: how it was first seen.';
COMMENT ON COLUMN discovered_channels.first_seen_at IS 'posted_at of the first post that referenced it.';
COMMENT ON COLUMN discovered_channels.first_channel_id IS 'Channel of that post.';
COMMENT ON COLUMN discovered_channels.first_message_id IS 'Message id of that post.';
COMMENT ON COLUMN discovered_channels.hits IS 'Posts that forwarded from or linked to it.';

COMMENT ON COLUMN alert_rules.name IS 'Rule name from the config.';
COMMENT ON COLUMN alert_rules.kind IS 'Rule kind.';
COMMENT ON COLUMN alert_rules.detection_hash IS 'Hash of what the rule detects at its last retro-hunt; a change re-seeds it.';
COMMENT ON COLUMN alert_rules.seeded_at IS 'Unix seconds of the last retro-hunt.';
COMMENT ON COLUMN alert_rules.last_fired_at IS 'Unix seconds of the last firing (for the cool-down).';
COMMENT ON COLUMN alert_rules.suppressed IS 'Alerts held back by the cool-down since the last firing.';
COMMENT ON COLUMN alert_rules.updated_at IS 'Unix seconds of the last change to this row.';

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
