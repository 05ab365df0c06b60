-- 0005: tags per ISO week x channel, kept exact by triggers like the tables of 0002.
--
-- Why: a weekly series per group (keyword, person) over some channels, e.g.
-- `--label country=UZ --by group --every week`, read agg_tag_day through its channel index,
-- one row per day x language x script x tag, each a lookup: about a second on 10,000,000
-- posts. This table holds one row per week x channel x tag (no language), ~40x fewer rows, and
-- its key starts with (kind, channel_id) so a channel filter reads only its channels' rows.
-- week = the Monday that starts the ISO week, as a day number: day - ((day + 3) % 7).
--
-- Invariant (tested): equals the same GROUP BY over post_tags joined with posts.

CREATE TABLE agg_tag_week (
    kind       TEXT NOT NULL,
    channel_id INTEGER NOT NULL,
    week       INTEGER NOT NULL,
    value      TEXT NOT NULL,
    posts      INTEGER NOT NULL DEFAULT 0,
    views      INTEGER NOT NULL DEFAULT 0,
    forwards   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, channel_id, week, value)
) WITHOUT ROWID;

-- Backfill from agg_tag_day (0002 keeps it equal to the GROUP BY over posts and post_tags).
INSERT INTO agg_tag_week (kind, channel_id, week, value, posts, views, forwards)
SELECT kind, channel_id, day - ((day + 3) % 7), value, sum(posts), sum(views), sum(forwards)
FROM agg_tag_day GROUP BY 1, 2, 3, 4 HAVING sum(posts) <> 0;

-- posts: an insert that finds its tags already stored (0002's early-tags case), a delete, and a
-- change of the post's day, key or metrics (a re-sample) move the post's tags between rows.
CREATE TRIGGER posts_aggw_insert_early_tags AFTER INSERT ON posts
WHEN EXISTS (SELECT 1 FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id)
BEGIN
    INSERT INTO agg_tag_week (kind, channel_id, week, value, posts, views, forwards)
    SELECT t.kind, NEW.channel_id, NEW.day - ((NEW.day + 3) % 7), t.value, 1,
           coalesce(NEW.views, 0), coalesce(NEW.forwards, 0)
    FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
END;

CREATE TRIGGER posts_aggw_delete AFTER DELETE ON posts
BEGIN
    UPDATE agg_tag_week SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE channel_id = OLD.channel_id AND week = OLD.day - ((OLD.day + 3) % 7)
      AND (kind, value) IN (SELECT t.kind, t.value FROM post_tags t
                            WHERE t.channel_id = OLD.channel_id AND t.message_id = OLD.message_id);
END;

CREATE TRIGGER posts_aggw_update AFTER UPDATE OF day, channel_id, message_id, views, forwards ON posts
WHEN OLD.day IS NOT NEW.day OR OLD.channel_id IS NOT NEW.channel_id OR OLD.message_id IS NOT NEW.message_id
  OR OLD.views IS NOT NEW.views OR OLD.forwards IS NOT NEW.forwards
BEGIN
    UPDATE agg_tag_week SET posts = posts - 1, views = views - coalesce(OLD.views, 0),
        forwards = forwards - coalesce(OLD.forwards, 0)
    WHERE channel_id = OLD.channel_id AND week = OLD.day - ((OLD.day + 3) % 7)
      AND (kind, value) IN (SELECT t.kind, t.value FROM post_tags t
                            WHERE t.channel_id = OLD.channel_id AND t.message_id = OLD.message_id);
    INSERT INTO agg_tag_week (kind, channel_id, week, value, posts, views, forwards)
    SELECT t.kind, NEW.channel_id, NEW.day - ((NEW.day + 3) % 7), t.value, 1,
           coalesce(NEW.views, 0), coalesce(NEW.forwards, 0)
    FROM post_tags t WHERE t.channel_id = NEW.channel_id AND t.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
END;

-- post_tags: a tag counts with its post's current day, channel and metrics
CREATE TRIGGER post_tags_aggw_insert AFTER INSERT ON post_tags
BEGIN
    INSERT INTO agg_tag_week (kind, channel_id, week, value, posts, views, forwards)
    SELECT NEW.kind, p.channel_id, p.day - ((p.day + 3) % 7), NEW.value, 1,
           coalesce(p.views, 0), coalesce(p.forwards, 0)
    FROM posts p WHERE p.channel_id = NEW.channel_id AND p.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
END;

CREATE TRIGGER post_tags_aggw_delete AFTER DELETE ON post_tags
BEGIN
    UPDATE agg_tag_week SET posts = posts - 1,
        views = views - (SELECT coalesce(p.views, 0) FROM posts p
                         WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id),
        forwards = forwards - (SELECT coalesce(p.forwards, 0) FROM posts p
                               WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id)
    WHERE (kind, channel_id, week, value) IN (
        SELECT OLD.kind, p.channel_id, p.day - ((p.day + 3) % 7), OLD.value
        FROM posts p WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id);
END;

CREATE TRIGGER post_tags_aggw_update AFTER UPDATE ON post_tags
BEGIN
    UPDATE agg_tag_week SET posts = posts - 1,
        views = views - (SELECT coalesce(p.views, 0) FROM posts p
                         WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id),
        forwards = forwards - (SELECT coalesce(p.forwards, 0) FROM posts p
                               WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id)
    WHERE (kind, channel_id, week, value) IN (
        SELECT OLD.kind, p.channel_id, p.day - ((p.day + 3) % 7), OLD.value
        FROM posts p WHERE p.channel_id = OLD.channel_id AND p.message_id = OLD.message_id);
    INSERT INTO agg_tag_week (kind, channel_id, week, value, posts, views, forwards)
    SELECT NEW.kind, p.channel_id, p.day - ((p.day + 3) % 7), NEW.value, 1,
           coalesce(p.views, 0), coalesce(p.forwards, 0)
    FROM posts p WHERE p.channel_id = NEW.channel_id AND p.message_id = NEW.message_id
    ON CONFLICT DO UPDATE SET posts = posts + 1, views = views + excluded.views,
        forwards = forwards + excluded.forwards;
END;
