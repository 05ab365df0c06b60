-- 0002: aggregate tables for reports, kept exact by triggers on posts and post_tags.
--
-- Why: a report over 10,000,000 posts must answer well under a second, and a GROUP BY over
-- posts cannot. Each table below holds sums per UTC day (posts.day) and is maintained by the
-- triggers at the end of this file on every insert, update and delete, so it is never stale.
--
-- Invariant (tested): every aggregate equals the same GROUP BY over the current rows of
-- posts joined with post_tags. A post_tags row counts only while its post exists, so the
-- order in which a writer inserts posts and tags does not matter.
-- NULL script is stored as '' (a primary key column must not be NULL); NULL views/forwards as 0.
-- Rows whose counts fall back to 0 are kept; readers filter with posts > 0 where it matters.

-- posts per day x channel: what channel and label reports (and every share's denominator) read
CREATE TABLE agg_channel_day (
    day        INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    posts      INTEGER NOT NULL DEFAULT 0,
    views      INTEGER NOT NULL DEFAULT 0,
    forwards   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id)
) WITHOUT ROWID;

-- posts per day x channel x language x script
CREATE TABLE agg_lang_day (
    day        INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    lang       TEXT NOT NULL,
    script     TEXT NOT NULL,
    posts      INTEGER NOT NULL DEFAULT 0,
    views      INTEGER NOT NULL DEFAULT 0,
    forwards   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id, lang, script)
) WITHOUT ROWID;
CREATE INDEX agg_lang_day_channel ON agg_lang_day (channel_id, day);

-- the same summed over channels: what reports without a channel dimension read
CREATE TABLE agg_lang_day_all (
    day      INTEGER NOT NULL,
    lang     TEXT NOT NULL,
    script   TEXT NOT NULL,
    posts    INTEGER NOT NULL DEFAULT 0,
    views    INTEGER NOT NULL DEFAULT 0,
    forwards INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, lang, script)
) WITHOUT ROWID;

-- posts per day x channel x tag (kind: group | person | keyword) x language x script
CREATE TABLE agg_tag_day (
    kind       TEXT NOT NULL,
    day        INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    value      TEXT NOT NULL,
    lang       TEXT NOT NULL,
    script     TEXT NOT NULL,
    posts      INTEGER NOT NULL DEFAULT 0,
    views      INTEGER NOT NULL DEFAULT 0,
    forwards   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, day, channel_id, value, lang, script)
) WITHOUT ROWID;
CREATE INDEX agg_tag_day_value ON agg_tag_day (kind, value, day);
CREATE INDEX agg_tag_day_channel ON agg_tag_day (channel_id, kind, day);

CREATE TABLE agg_tag_day_all (
    kind     TEXT NOT NULL,
    day      INTEGER NOT NULL,
    value    TEXT NOT NULL,
    lang     TEXT NOT NULL,
    script   TEXT NOT NULL,
    posts    INTEGER NOT NULL DEFAULT 0,
    views    INTEGER NOT NULL DEFAULT 0,
    forwards INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, day, value, lang, script)
) WITHOUT ROWID;

-- tags per calendar month x channel (no language): group x channel and label reports over
-- months read ~30x fewer rows here than in agg_tag_day. month = first day of the month (a day number).
CREATE TABLE agg_tag_month (
    kind       TEXT NOT NULL,
    month      INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    value      TEXT NOT NULL,
    posts      INTEGER NOT NULL DEFAULT 0,
    views      INTEGER NOT NULL DEFAULT 0,
    forwards   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, month, channel_id, value)
) WITHOUT ROWID;
CREATE INDEX agg_tag_month_channel ON agg_tag_month (channel_id, kind, month);

-- posts naming two groups at once (a < b): "which groups appear together"
CREATE TABLE agg_pair_day (
    day        INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    a          TEXT NOT NULL,
    b          TEXT NOT NULL,
    posts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id, a, b)
) WITHOUT ROWID;

-- forwards: channel_id re-posted src_channel_id's post (posts.fwd_channel_id)
CREATE TABLE agg_forward_day (
    day            INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    src_channel_id INTEGER NOT NULL,
    posts          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id, src_channel_id)
) WITHOUT ROWID;
CREATE INDEX agg_forward_day_src ON agg_forward_day (src_channel_id, day);

-- mentions: channel_id's post named target (@username, +invite or c/<id>, from posts.mentions); one per post
CREATE TABLE agg_mention_day (
    day        INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    target     TEXT NOT NULL,
    posts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, channel_id, target)
) WITHOUT ROWID;

-- top posts by views / forwards within a date range walk these instead of the whole table
CREATE INDEX posts_views ON posts (views);
CREATE INDEX posts_forwards ON posts (forwards);
-- the newest forward-header name of a source channel (titles of channels not watched)
CREATE INDEX posts_fwd_time ON posts (fwd_channel_id, posted_at) WHERE fwd_channel_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------
-- Backfill from rows already stored (a database created before this migration).
INSERT INTO agg_lang_day (day, channel_id, lang, script, posts, views, forwards)
SELECT day, channel_id, lang, coalesce(script, ''), count(*), coalesce(sum(views), 0), coalesce(sum(forwards), 0)
FROM posts GROUP BY day, channel_id, lang, coalesce(script, '');

INSERT INTO agg_lang_day_all (day, lang, script, posts, views, forwards)
SELECT day, lang, script, sum(posts), sum(views), sum(forwards) FROM agg_lang_day GROUP BY day, lang, script;

INSERT INTO agg_channel_day (day, channel_id, posts, views, forwards)
SELECT day, channel_id, sum(posts), sum(views), sum(forwards) FROM agg_lang_day GROUP BY day, channel_id;

INSERT INTO agg_tag_day (kind, day, channel_id, value, lang, script, posts, views, forwards)
SELECT t.kind, p.day, p.channel_id, t.value, p.lang, coalesce(p.script, ''), count(*),
       coalesce(sum(p.views), 0), coalesce(sum(p.forwards), 0)
FROM post_tags t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id
GROUP BY t.kind, p.day, p.channel_id, t.value, p.lang, coalesce(p.script, '');

INSERT INTO agg_tag_day_all (kind, day, value, lang, script, posts, views, forwards)
SELECT kind, day, value, lang, script, sum(posts), sum(views), sum(forwards)
FROM agg_tag_day GROUP BY kind, day, value, lang, script;

INSERT INTO agg_tag_month (kind, month, channel_id, value, posts, views, forwards)
SELECT kind, CAST(julianday(date(day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), channel_id, value, sum(posts), sum(views), sum(forwards)
FROM agg_tag_day GROUP BY 1, 2, 3, 4;

INSERT INTO agg_pair_day (day, channel_id, a, b, posts)
SELECT p.day, p.channel_id, x.value, y.value, count(*)
FROM post_tags x
JOIN post_tags y ON y.channel_id = x.channel_id AND y.message_id = x.message_id AND y.kind = 'group' AND y.value > x.value
JOIN posts p ON p.channel_id = x.channel_id AND p.message_id = x.message_id
WHERE x.kind = 'group'
GROUP BY p.day, p.channel_id, x.value, y.value;

INSERT INTO agg_forward_day (day, channel_id, src_channel_id, posts)
SELECT day, channel_id, fwd_channel_id, count(*) FROM posts WHERE fwd_channel_id IS NOT NULL
GROUP BY day, channel_id, fwd_channel_id;

INSERT INTO agg_mention_day (day, channel_id, target, posts)
SELECT day, channel_id, target, count(*) FROM (
    SELECT DISTINCT p.day, p.channel_id, p.message_id, j.value AS target
    FROM posts p, json_each(p.mentions) j WHERE p.mentions <> '[]'
) GROUP BY day, channel_id, target;

-- ---------------------------------------------------------------------------------------
-- posts: language and metric sums (the dimensions every volume report reads)

CREATE TRIGGER posts_agg_insert AFTER INSERT ON posts
BEGIN
    INSERT INTO agg_channel_day (day, channel_id, posts, views, forwards)
    VALUES (NEW.day, NEW.channel_id, 1, coalesce(NEW.views, 0), coalesce(NEW.forwards, 0))
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_lang_day (day, channel_id, lang, script, posts, views, forwards)
    VALUES (NEW.day, NEW.channel_id, NEW.lang, coalesce(NEW.script, ''), 1,
            coalesce(NEW.views, 0), coalesce(NEW.forwards, 0))
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_lang_day_all (day, lang, script, posts, views, forwards)
    VALUES (NEW.day, NEW.lang, coalesce(NEW.script, ''), 1, coalesce(NEW.views, 0), coalesce(NEW.forwards, 0))
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
END;

-- Why separate triggers with WHEN: most posts are not forwards and mention nobody, and a trigger
-- whose WHEN is false costs nearly nothing, while every statement inside a fired trigger does.
CREATE TRIGGER posts_agg_insert_forward AFTER INSERT ON posts WHEN NEW.fwd_channel_id IS NOT NULL
BEGIN
    INSERT INTO agg_forward_day (day, channel_id, src_channel_id, posts)
    VALUES (NEW.day, NEW.channel_id, NEW.fwd_channel_id, 1)
    ON CONFLICT DO UPDATE SET posts = posts + 1;
END;

CREATE TRIGGER posts_agg_insert_mentions AFTER INSERT ON posts WHEN NEW.mentions <> '[]'
BEGIN
    INSERT INTO agg_mention_day (day, channel_id, target, posts)
    SELECT DISTINCT NEW.day, NEW.channel_id, j.value, 1 FROM json_each(NEW.mentions) j WHERE true
    ON CONFLICT DO UPDATE SET posts = posts + 1;
END;

-- tags stored before their post (the store never does this, but the invariant allows it)
CREATE TRIGGER posts_agg_insert_early_tags AFTER INSERT ON posts
WHEN EXISTS (SELECT 1 FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id)
BEGIN
    INSERT INTO agg_tag_day (kind, day, channel_id, value, lang, script, posts, views, forwards)
    SELECT t.kind, NEW.day, NEW.channel_id, t.value, NEW.lang, coalesce(NEW.script, ''), 1,
           coalesce(NEW.views, 0), coalesce(NEW.forwards, 0)
    FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_tag_day_all (kind, day, value, lang, script, posts, views, forwards)
    SELECT t.kind, NEW.day, t.value, NEW.lang, coalesce(NEW.script, ''), 1,
           coalesce(NEW.views, 0), coalesce(NEW.forwards, 0)
    FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_tag_month (kind, month, channel_id, value, posts, views, forwards)
    SELECT t.kind, CAST(julianday(date(NEW.day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), NEW.channel_id, t.value, 1, coalesce(NEW.views, 0), coalesce(NEW.forwards, 0)
    FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_pair_day (day, channel_id, a, b, posts)
    SELECT NEW.day, NEW.channel_id, x.value, y.value, 1
    FROM post_tags x JOIN post_tags y
      ON y.channel_id = x.channel_id AND y.message_id = x.message_id AND y.kind = 'group' AND y.value > x.value
    WHERE x.channel_id = NEW.channel_id AND x.message_id = NEW.message_id AND x.kind = 'group'
    ON CONFLICT DO UPDATE SET posts = posts + 1;
END;

CREATE TRIGGER posts_agg_delete AFTER DELETE ON posts
BEGIN
    UPDATE agg_channel_day SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND channel_id = OLD.channel_id;
    UPDATE agg_lang_day SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND channel_id = OLD.channel_id AND lang = OLD.lang AND script = coalesce(OLD.script, '');
    UPDATE agg_lang_day_all SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND lang = OLD.lang AND script = coalesce(OLD.script, '');
    UPDATE agg_tag_day SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND channel_id = OLD.channel_id AND lang = OLD.lang AND script = coalesce(OLD.script, '')
      AND (kind, value) IN (SELECT t.kind, t.value FROM post_tags t
                            WHERE t.channel_id = OLD.channel_id AND t.message_id = OLD.message_id);
    UPDATE agg_tag_day_all SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND lang = OLD.lang AND script = coalesce(OLD.script, '')
      AND (kind, value) IN (SELECT t.kind, t.value FROM post_tags t
                            WHERE t.channel_id = OLD.channel_id AND t.message_id = OLD.message_id);
    UPDATE agg_tag_month SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE month = CAST(julianday(date(OLD.day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER) AND channel_id = OLD.channel_id
      AND (kind, value) IN (SELECT t.kind, t.value FROM post_tags t
                            WHERE t.channel_id = OLD.channel_id AND t.message_id = OLD.message_id);
    UPDATE agg_pair_day SET posts = posts - 1
    WHERE day = OLD.day AND channel_id = OLD.channel_id
      AND (a, b) IN (SELECT x.value, y.value FROM post_tags x JOIN post_tags y
                       ON y.channel_id = x.channel_id AND y.message_id = x.message_id
                      AND y.kind = 'group' AND y.value > x.value
                     WHERE x.channel_id = OLD.channel_id AND x.message_id = OLD.message_id AND x.kind = 'group');
    UPDATE agg_forward_day SET posts = posts - 1
    WHERE OLD.fwd_channel_id IS NOT NULL AND day = OLD.day AND channel_id = OLD.channel_id
      AND src_channel_id = OLD.fwd_channel_id;
    UPDATE agg_mention_day SET posts = posts - 1
    WHERE OLD.mentions <> '[]' AND day = OLD.day AND channel_id = OLD.channel_id
      AND target IN (SELECT j.value FROM json_each(OLD.mentions) j);
END;

-- A re-sample changes views/forwards; a re-tag or content edit changes lang/script. Only then
-- (WHEN) are the old sums taken out and the new ones put in.
CREATE TRIGGER posts_agg_update_metrics AFTER UPDATE OF day, channel_id, message_id, lang, script, views, forwards ON posts
WHEN OLD.day IS NOT NEW.day OR OLD.channel_id IS NOT NEW.channel_id OR OLD.message_id IS NOT NEW.message_id
  OR OLD.lang IS NOT NEW.lang OR OLD.script IS NOT NEW.script
  OR OLD.views IS NOT NEW.views OR OLD.forwards IS NOT NEW.forwards
BEGIN
    UPDATE agg_channel_day SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND channel_id = OLD.channel_id;
    UPDATE agg_lang_day SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND channel_id = OLD.channel_id AND lang = OLD.lang AND script = coalesce(OLD.script, '');
    UPDATE agg_lang_day_all SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND lang = OLD.lang AND script = coalesce(OLD.script, '');
    INSERT INTO agg_channel_day (day, channel_id, posts, views, forwards)
    VALUES (NEW.day, NEW.channel_id, 1, coalesce(NEW.views, 0), coalesce(NEW.forwards, 0))
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_lang_day (day, channel_id, lang, script, posts, views, forwards)
    VALUES (NEW.day, NEW.channel_id, NEW.lang, coalesce(NEW.script, ''), 1,
            coalesce(NEW.views, 0), coalesce(NEW.forwards, 0))
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_lang_day_all (day, lang, script, posts, views, forwards)
    VALUES (NEW.day, NEW.lang, coalesce(NEW.script, ''), 1, coalesce(NEW.views, 0), coalesce(NEW.forwards, 0))
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;

    UPDATE agg_tag_day SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND channel_id = OLD.channel_id AND lang = OLD.lang AND script = coalesce(OLD.script, '')
      AND (kind, value) IN (SELECT t.kind, t.value FROM post_tags t
                            WHERE t.channel_id = OLD.channel_id AND t.message_id = OLD.message_id);
    UPDATE agg_tag_day_all SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE day = OLD.day AND lang = OLD.lang AND script = coalesce(OLD.script, '')
      AND (kind, value) IN (SELECT t.kind, t.value FROM post_tags t
                            WHERE t.channel_id = OLD.channel_id AND t.message_id = OLD.message_id);
    UPDATE agg_tag_month SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE month = CAST(julianday(date(OLD.day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER) AND channel_id = OLD.channel_id
      AND (kind, value) IN (SELECT t.kind, t.value FROM post_tags t
                            WHERE t.channel_id = OLD.channel_id AND t.message_id = OLD.message_id);
    INSERT INTO agg_tag_day (kind, day, channel_id, value, lang, script, posts, views, forwards)
    SELECT t.kind, NEW.day, NEW.channel_id, t.value, NEW.lang, coalesce(NEW.script, ''), 1,
           coalesce(NEW.views, 0), coalesce(NEW.forwards, 0)
    FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_tag_day_all (kind, day, value, lang, script, posts, views, forwards)
    SELECT t.kind, NEW.day, t.value, NEW.lang, coalesce(NEW.script, ''), 1,
           coalesce(NEW.views, 0), coalesce(NEW.forwards, 0)
    FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_tag_month (kind, month, channel_id, value, posts, views, forwards)
    SELECT t.kind, CAST(julianday(date(NEW.day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), NEW.channel_id, t.value, 1, coalesce(NEW.views, 0), coalesce(NEW.forwards, 0)
    FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
END;

-- pairs, forwards and mentions move only when the post's day, key, source or mentions change
CREATE TRIGGER posts_agg_update_refs AFTER UPDATE OF day, channel_id, message_id, fwd_channel_id, mentions ON posts
WHEN OLD.day IS NOT NEW.day OR OLD.channel_id IS NOT NEW.channel_id OR OLD.message_id IS NOT NEW.message_id
  OR OLD.fwd_channel_id IS NOT NEW.fwd_channel_id OR OLD.mentions IS NOT NEW.mentions
BEGIN
    UPDATE agg_pair_day SET posts = posts - 1
    WHERE day = OLD.day AND channel_id = OLD.channel_id
      AND (a, b) IN (SELECT x.value, y.value FROM post_tags x JOIN post_tags y
                       ON y.channel_id = x.channel_id AND y.message_id = x.message_id
                      AND y.kind = 'group' AND y.value > x.value
                     WHERE x.channel_id = OLD.channel_id AND x.message_id = OLD.message_id AND x.kind = 'group');
    INSERT INTO agg_pair_day (day, channel_id, a, b, posts)
    SELECT NEW.day, NEW.channel_id, x.value, y.value, 1
    FROM post_tags x JOIN post_tags y
      ON y.channel_id = x.channel_id AND y.message_id = x.message_id AND y.kind = 'group' AND y.value > x.value
    WHERE x.channel_id = NEW.channel_id AND x.message_id = NEW.message_id AND x.kind = 'group'
    ON CONFLICT DO UPDATE SET posts = posts + 1;
    UPDATE agg_forward_day SET posts = posts - 1
    WHERE OLD.fwd_channel_id IS NOT NULL AND day = OLD.day AND channel_id = OLD.channel_id
      AND src_channel_id = OLD.fwd_channel_id;
    INSERT INTO agg_forward_day (day, channel_id, src_channel_id, posts)
    SELECT NEW.day, NEW.channel_id, NEW.fwd_channel_id, 1 WHERE NEW.fwd_channel_id IS NOT NULL
    ON CONFLICT DO UPDATE SET posts = posts + 1;
    UPDATE agg_mention_day SET posts = posts - 1
    WHERE OLD.mentions <> '[]' AND day = OLD.day AND channel_id = OLD.channel_id
      AND target IN (SELECT j.value FROM json_each(OLD.mentions) j);
    INSERT INTO agg_mention_day (day, channel_id, target, posts)
    SELECT DISTINCT NEW.day, NEW.channel_id, j.value, 1 FROM json_each(NEW.mentions) j WHERE NEW.mentions <> '[]'
    ON CONFLICT DO UPDATE SET posts = posts + 1;
END;

-- ---------------------------------------------------------------------------------------
-- post_tags: a tag counts with its post's current day, channel, language and metrics

CREATE TRIGGER post_tags_agg_insert AFTER INSERT ON post_tags
BEGIN
    INSERT INTO agg_tag_day (kind, day, channel_id, value, lang, script, posts, views, forwards)
    SELECT NEW.kind, p.day, p.channel_id, NEW.value, p.lang, coalesce(p.script, ''), 1,
           coalesce(p.views, 0), coalesce(p.forwards, 0)
    FROM posts p WHERE p.channel_id = NEW.channel_id AND p.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_tag_day_all (kind, day, value, lang, script, posts, views, forwards)
    SELECT NEW.kind, p.day, NEW.value, p.lang, coalesce(p.script, ''), 1,
           coalesce(p.views, 0), coalesce(p.forwards, 0)
    FROM posts p WHERE p.channel_id = NEW.channel_id AND p.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_tag_month (kind, month, channel_id, value, posts, views, forwards)
    SELECT NEW.kind, CAST(julianday(date(p.day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), p.channel_id, NEW.value, 1, coalesce(p.views, 0), coalesce(p.forwards, 0)
    FROM posts p WHERE p.channel_id = NEW.channel_id AND p.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
END;

CREATE TRIGGER post_tags_agg_insert_pair AFTER INSERT ON post_tags WHEN NEW.kind = 'group'
BEGIN
    INSERT INTO agg_pair_day (day, channel_id, a, b, posts)
    SELECT p.day, p.channel_id, min(NEW.value, o.value), max(NEW.value, o.value), 1
    FROM post_tags o JOIN posts p ON p.channel_id = o.channel_id AND p.message_id = o.message_id
    WHERE o.channel_id = NEW.channel_id AND o.message_id = NEW.message_id
      AND o.kind = 'group' AND o.value <> NEW.value
    ON CONFLICT DO UPDATE SET posts = posts + 1;
END;

CREATE TRIGGER post_tags_agg_delete AFTER DELETE ON post_tags
BEGIN
    UPDATE agg_tag_day SET posts = posts - 1,
        views = views - (SELECT coalesce(p.views, 0) FROM posts p
                         WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id),
        forwards = forwards - (SELECT coalesce(p.forwards, 0) FROM posts p
                               WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id)
    WHERE (kind, day, channel_id, value, lang, script) IN (
        SELECT OLD.kind, p.day, p.channel_id, OLD.value, p.lang, coalesce(p.script, '')
        FROM posts p WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id);
    UPDATE agg_tag_day_all SET posts = posts - 1,
        views = views - (SELECT coalesce(p.views, 0) FROM posts p
                         WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id),
        forwards = forwards - (SELECT coalesce(p.forwards, 0) FROM posts p
                               WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id)
    WHERE (kind, day, value, lang, script) IN (
        SELECT OLD.kind, p.day, OLD.value, p.lang, coalesce(p.script, '')
        FROM posts p WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id);
    UPDATE agg_tag_month SET posts = posts - 1,
        views = views - (SELECT coalesce(p.views, 0) FROM posts p
                         WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id),
        forwards = forwards - (SELECT coalesce(p.forwards, 0) FROM posts p
                               WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id)
    WHERE (kind, month, channel_id, value) IN (
        SELECT OLD.kind, CAST(julianday(date(p.day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), p.channel_id, OLD.value
        FROM posts p WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id);
    UPDATE agg_pair_day SET posts = posts - 1
    WHERE OLD.kind = 'group' AND (day, channel_id, a, b) IN (
        SELECT p.day, p.channel_id, min(OLD.value, o.value), max(OLD.value, o.value)
        FROM post_tags o JOIN posts p ON p.channel_id = o.channel_id AND p.message_id = o.message_id
        WHERE o.channel_id = OLD.channel_id AND o.message_id = OLD.message_id
          AND o.kind = 'group' AND o.value <> OLD.value);
END;

CREATE TRIGGER post_tags_agg_update AFTER UPDATE ON post_tags
BEGIN
    -- rare (the store deletes and re-inserts tags): take the old row out and put the new one in
    UPDATE agg_tag_day SET posts = posts - 1,
        views = views - (SELECT coalesce(p.views, 0) FROM posts p
                         WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id),
        forwards = forwards - (SELECT coalesce(p.forwards, 0) FROM posts p
                               WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id)
    WHERE (kind, day, channel_id, value, lang, script) IN (
        SELECT OLD.kind, p.day, p.channel_id, OLD.value, p.lang, coalesce(p.script, '')
        FROM posts p WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id);
    UPDATE agg_tag_day_all SET posts = posts - 1,
        views = views - (SELECT coalesce(p.views, 0) FROM posts p
                         WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id),
        forwards = forwards - (SELECT coalesce(p.forwards, 0) FROM posts p
                               WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id)
    WHERE (kind, day, value, lang, script) IN (
        SELECT OLD.kind, p.day, OLD.value, p.lang, coalesce(p.script, '')
        FROM posts p WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id);
    UPDATE agg_tag_month SET posts = posts - 1,
        views = views - (SELECT coalesce(p.views, 0) FROM posts p
                         WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id),
        forwards = forwards - (SELECT coalesce(p.forwards, 0) FROM posts p
                               WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id)
    WHERE (kind, month, channel_id, value) IN (
        SELECT OLD.kind, CAST(julianday(date(p.day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), p.channel_id, OLD.value
        FROM posts p WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id);
    INSERT INTO agg_tag_day (kind, day, channel_id, value, lang, script, posts, views, forwards)
    SELECT NEW.kind, p.day, p.channel_id, NEW.value, p.lang, coalesce(p.script, ''), 1,
           coalesce(p.views, 0), coalesce(p.forwards, 0)
    FROM posts p WHERE p.channel_id = NEW.channel_id AND p.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_tag_day_all (kind, day, value, lang, script, posts, views, forwards)
    SELECT NEW.kind, p.day, NEW.value, p.lang, coalesce(p.script, ''), 1,
           coalesce(p.views, 0), coalesce(p.forwards, 0)
    FROM posts p WHERE p.channel_id = NEW.channel_id AND p.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
    INSERT INTO agg_tag_month (kind, month, channel_id, value, posts, views, forwards)
    SELECT NEW.kind, CAST(julianday(date(p.day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), p.channel_id, NEW.value, 1, coalesce(p.views, 0), coalesce(p.forwards, 0)
    FROM posts p WHERE p.channel_id = NEW.channel_id AND p.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
END;
