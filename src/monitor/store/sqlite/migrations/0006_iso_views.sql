-- 0006: read-only views for people who open the database in Datasette, DuckDB, pandas or sqlite3.
--
-- Why: the tables keep times as integer seconds since 1970 (UTC) and days as day numbers, which
-- is right for indexes and sums but reads as noise ("1704293580"). Each view shows the same rows
-- with times as ISO-8601 UTC text ("2024-01-03T12:53:00Z"), dates as "2024-01-03", channel names
-- beside their ids and post links built. Views hold no data and add no write cost; the column
-- descriptions are in config/datasette-metadata.json and docs/schema.md.

CREATE VIEW v_posts AS
SELECT
    p.channel_id,
    p.message_id,
    c.username AS channel,
    CASE WHEN c.username IS NOT NULL THEN 'https://t.me/' || c.username || '/' || p.message_id
         ELSE 'https://t.me/c/' || p.channel_id || '/' || p.message_id END AS link,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.posted_at, 'unixepoch') AS posted_at,
    date(p.posted_at, 'unixepoch') AS posted_on,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.edited_at, 'unixepoch') AS edited_at,
    p.edit_count,
    p.views,
    p.forwards,
    p.replies,
    p.reactions,
    p.fwd_channel_id,
    p.fwd_name,
    p.fwd_message_id,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.fwd_date, 'unixepoch') AS fwd_date,
    p.reply_to_id,
    p.grouped_id,
    p.media_kind,
    p.author,
    p.lang,
    p.script,
    p.lang_confidence,
    p.groups,
    p.people,
    p.keywords,
    p.links,
    p.mentions,
    p.text_length,
    p.text,
    p.source,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.first_seen_at, 'unixepoch') AS first_seen_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', p.updated_at, 'unixepoch') AS updated_at
FROM posts p LEFT JOIN channels c ON c.id = p.channel_id;

CREATE VIEW v_post_tags AS
SELECT t.channel_id, t.message_id, c.username AS channel, t.kind, t.value, date(t.day * 86400, 'unixepoch') AS posted_on
FROM post_tags t LEFT JOIN channels c ON c.id = t.channel_id;

CREATE VIEW v_channels AS
SELECT
    w.key,
    w.channel_id,
    c.username,
    c.title,
    w.labels,
    w.watched,
    w.status,
    w.status_reason,
    w.poll_interval,
    strftime('%Y-%m-%dT%H:%M:%SZ', w.last_poll_at, 'unixepoch') AS last_poll_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', w.last_success_at, 'unixepoch') AS last_success_at,
    w.last_error,
    strftime('%Y-%m-%dT%H:%M:%SZ', w.retry_at, 'unixepoch') AS retry_at,
    c.checkpoint,
    strftime('%Y-%m-%dT%H:%M:%SZ', w.added_at, 'unixepoch') AS added_at
FROM watch w LEFT JOIN channels c ON c.id = w.channel_id;

CREATE VIEW v_metric_samples AS
SELECT
    s.channel_id,
    s.message_id,
    strftime('%Y-%m-%dT%H:%M:%SZ', s.sampled_at, 'unixepoch') AS sampled_at,
    round((s.sampled_at - p.posted_at) / 3600.0, 2) AS hours_after_posting,
    s.views,
    s.forwards,
    s.replies,
    s.reactions
FROM metric_samples s LEFT JOIN posts p ON p.channel_id = s.channel_id AND p.message_id = s.message_id;

CREATE VIEW v_post_edits AS
SELECT
    channel_id,
    message_id,
    strftime('%Y-%m-%dT%H:%M:%SZ', edited_at, 'unixepoch') AS edited_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', seen_at, 'unixepoch') AS seen_at,
    old_hash,
    new_hash
FROM post_edits;

CREATE VIEW v_daily_tags AS
SELECT kind, date(day * 86400, 'unixepoch') AS day, value, lang, script, posts, views, forwards
FROM agg_tag_day_all WHERE posts > 0;

CREATE VIEW v_daily_channels AS
SELECT date(a.day * 86400, 'unixepoch') AS day, a.channel_id, c.username AS channel, a.posts, a.views, a.forwards
FROM agg_channel_day a LEFT JOIN channels c ON c.id = a.channel_id WHERE a.posts > 0;

CREATE VIEW v_alerts AS
SELECT
    id,
    rule,
    kind,
    strftime('%Y-%m-%dT%H:%M:%SZ', fired_at, 'unixepoch') AS fired_at,
    summary,
    channel_id,
    message_id,
    channel_username,
    link,
    details
FROM alerts;

CREATE VIEW v_deliveries AS
SELECT
    alert_id,
    sink,
    state,
    attempts,
    strftime('%Y-%m-%dT%H:%M:%SZ', next_attempt_at, 'unixepoch') AS next_attempt_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', delivered_at, 'unixepoch') AS delivered_at,
    last_error
FROM deliveries;

CREATE VIEW v_discovered_channels AS
SELECT
    ref,
    name,
    via,
    strftime('%Y-%m-%dT%H:%M:%SZ', first_seen_at, 'unixepoch') AS first_seen_at,
    first_channel_id,
    first_message_id,
    hits
FROM discovered_channels;

CREATE VIEW v_heartbeat AS
SELECT
    pid,
    strftime('%Y-%m-%dT%H:%M:%SZ', started_at, 'unixepoch') AS started_at,
    strftime('%Y-%m-%dT%H:%M:%SZ', beat_at, 'unixepoch') AS beat_at
FROM heartbeat;

CREATE VIEW v_parks AS
SELECT scope, strftime('%Y-%m-%dT%H:%M:%SZ', until, 'unixepoch') AS until, reason FROM parks;
