-- 0002: report aggregates, kept exact by statement-level triggers.
--
-- The same tables as the SQLite backend (see its 0002 and 0005), with the same invariant:
-- every aggregate equals the GROUP BY over the current rows of posts joined with post_tags, and a
-- post_tags row counts only while its post exists.
--
-- Why statement-level triggers with transition tables: the collector saves a batch of posts in one
-- INSERT, so one trigger run per statement turns the batch into one grouped upsert per aggregate,
-- instead of one upsert per row and table. Each statement's changes are a signed delta (+1 for new
-- rows, -1 for old rows): an UPDATE that changes nothing an aggregate reads (a text purge, say)
-- nets to zero and writes nothing. Upserts are sorted by key, so concurrent collectors take the
-- aggregate rows' locks in the same order and do not deadlock each other. Group pairs (a < b) compare
-- with COLLATE "C" (code points, as SQLite does), whatever collation the database was created with.

CREATE FUNCTION monitor_month(day integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT day - (extract(day FROM DATE '1970-01-01' + day)::integer - 1) $$;

CREATE FUNCTION monitor_week(day integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT day - ((day + 3) % 7) $$;

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

-- ---------------------------------------------------------------------------------------------
-- posts: the statement's rows as a signed delta, applied to every aggregate.

CREATE FUNCTION monitor_posts_agg() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    d text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        d := 'SELECT channel_id, message_id, day, lang, coalesce(script, '''') AS script, coalesce(views, 0) AS views, coalesce(forwards, 0) AS forwards, fwd_channel_id, mentions, 1 AS s FROM new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        d := 'SELECT channel_id, message_id, day, lang, coalesce(script, '''') AS script, coalesce(views, 0) AS views, coalesce(forwards, 0) AS forwards, fwd_channel_id, mentions, -1 AS s FROM old_rows';
    ELSE
        d := 'SELECT channel_id, message_id, day, lang, coalesce(script, '''') AS script, coalesce(views, 0) AS views, coalesce(forwards, 0) AS forwards, fwd_channel_id, mentions, 1 AS s FROM new_rows '
          || 'UNION ALL SELECT channel_id, message_id, day, lang, coalesce(script, '''') AS script, coalesce(views, 0) AS views, coalesce(forwards, 0) AS forwards, fwd_channel_id, mentions, -1 AS s FROM old_rows';
    END IF;

    EXECUTE format($q$
        WITH d AS (%s)
        INSERT INTO agg_channel_day AS a (day, channel_id, posts, views, forwards)
        SELECT day, channel_id, sum(s), sum(s * views), sum(s * forwards) FROM d
        GROUP BY day, channel_id
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY day, channel_id
        ON CONFLICT (day, channel_id) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, d);

    EXECUTE format($q$
        WITH d AS (%s)
        INSERT INTO agg_lang_day AS a (day, channel_id, lang, script, posts, views, forwards)
        SELECT day, channel_id, lang, script, sum(s), sum(s * views), sum(s * forwards) FROM d
        GROUP BY day, channel_id, lang, script
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY day, channel_id, lang, script
        ON CONFLICT (day, channel_id, lang, script) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, d);

    EXECUTE format($q$
        WITH d AS (%s)
        INSERT INTO agg_lang_day_all AS a (day, lang, script, posts, views, forwards)
        SELECT day, lang, script, sum(s), sum(s * views), sum(s * forwards) FROM d
        GROUP BY day, lang, script
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY day, lang, script
        ON CONFLICT (day, lang, script) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, d);

    EXECUTE format($q$
        WITH d AS (%s)
        INSERT INTO agg_forward_day AS a (day, channel_id, src_channel_id, posts)
        SELECT day, channel_id, fwd_channel_id, sum(s) FROM d WHERE fwd_channel_id IS NOT NULL
        GROUP BY day, channel_id, fwd_channel_id HAVING sum(s) <> 0
        ORDER BY day, channel_id, fwd_channel_id
        ON CONFLICT (day, channel_id, src_channel_id) DO UPDATE SET posts = a.posts + excluded.posts
    $q$, d);

    EXECUTE format($q$
        WITH d AS (%s),
        m AS (SELECT DISTINCT d.day, d.channel_id, d.message_id, d.s, j.target
              FROM d CROSS JOIN LATERAL jsonb_array_elements_text(d.mentions::jsonb) AS j(target)
              WHERE d.mentions <> '[]')
        INSERT INTO agg_mention_day AS a (day, channel_id, target, posts)
        SELECT day, channel_id, target, sum(s) FROM m
        GROUP BY day, channel_id, target HAVING sum(s) <> 0
        ORDER BY day, channel_id, target
        ON CONFLICT (day, channel_id, target) DO UPDATE SET posts = a.posts + excluded.posts
    $q$, d);

    -- tags of the posts in the delta (their current rows: a statement on posts never changes tags)
    EXECUTE format($q$
        WITH d AS (%s),
        t AS (SELECT x.kind, d.day, d.channel_id, x.value, d.lang, d.script, d.s, d.views, d.forwards
              FROM d JOIN post_tags x ON x.channel_id = d.channel_id AND x.message_id = d.message_id)
        INSERT INTO agg_tag_day AS a (kind, day, channel_id, value, lang, script, posts, views, forwards)
        SELECT kind, day, channel_id, value, lang, script, sum(s), sum(s * views), sum(s * forwards) FROM t
        GROUP BY kind, day, channel_id, value, lang, script
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY kind, day, channel_id, value, lang, script
        ON CONFLICT (kind, day, channel_id, value, lang, script) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, d);

    EXECUTE format($q$
        WITH d AS (%s),
        t AS (SELECT x.kind, d.day, x.value, d.lang, d.script, d.s, d.views, d.forwards
              FROM d JOIN post_tags x ON x.channel_id = d.channel_id AND x.message_id = d.message_id)
        INSERT INTO agg_tag_day_all AS a (kind, day, value, lang, script, posts, views, forwards)
        SELECT kind, day, value, lang, script, sum(s), sum(s * views), sum(s * forwards) FROM t
        GROUP BY kind, day, value, lang, script
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY kind, day, value, lang, script
        ON CONFLICT (kind, day, value, lang, script) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, d);

    EXECUTE format($q$
        WITH d AS (%s),
        t AS (SELECT x.kind, monitor_month(d.day) AS month, d.channel_id, x.value, d.s, d.views, d.forwards
              FROM d JOIN post_tags x ON x.channel_id = d.channel_id AND x.message_id = d.message_id)
        INSERT INTO agg_tag_month AS a (kind, month, channel_id, value, posts, views, forwards)
        SELECT kind, month, channel_id, value, sum(s), sum(s * views), sum(s * forwards) FROM t
        GROUP BY kind, month, channel_id, value
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY kind, month, channel_id, value
        ON CONFLICT (kind, month, channel_id, value) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, d);

    EXECUTE format($q$
        WITH d AS (%s),
        t AS (SELECT x.kind, d.channel_id, monitor_week(d.day) AS week, x.value, d.s, d.views, d.forwards
              FROM d JOIN post_tags x ON x.channel_id = d.channel_id AND x.message_id = d.message_id)
        INSERT INTO agg_tag_week AS a (kind, channel_id, week, value, posts, views, forwards)
        SELECT kind, channel_id, week, value, sum(s), sum(s * views), sum(s * forwards) FROM t
        GROUP BY kind, channel_id, week, value
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY kind, channel_id, week, value
        ON CONFLICT (kind, channel_id, week, value) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, d);

    EXECUTE format($q$
        WITH d AS (%s)
        INSERT INTO agg_pair_day AS a (day, channel_id, a, b, posts)
        SELECT d.day, d.channel_id, x.value, y.value, sum(d.s)
        FROM d
        JOIN post_tags x ON x.channel_id = d.channel_id AND x.message_id = d.message_id AND x.kind = 'group'
        JOIN post_tags y ON y.channel_id = d.channel_id AND y.message_id = d.message_id AND y.kind = 'group'
                        AND y.value > x.value COLLATE "C"
        GROUP BY d.day, d.channel_id, x.value, y.value HAVING sum(d.s) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (day, channel_id, a, b) DO UPDATE SET posts = a.posts + excluded.posts
    $q$, d);
    RETURN NULL;
END
$fn$;

CREATE TRIGGER posts_agg_insert AFTER INSERT ON posts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION monitor_posts_agg();
CREATE TRIGGER posts_agg_update AFTER UPDATE ON posts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION monitor_posts_agg();
CREATE TRIGGER posts_agg_delete AFTER DELETE ON posts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION monitor_posts_agg();

-- ---------------------------------------------------------------------------------------------
-- post_tags: a tag counts with its post's current day, channel, language and metrics.
-- The store replaces a post's tags by DELETE and INSERT; an UPDATE of a tag row is refused, so
-- that pair counting needs to know only which rows came or went.

CREATE FUNCTION monitor_post_tags_agg() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t text;
    pairs text;
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

    EXECUTE format($q$
        WITH t AS (%s),
        j AS (SELECT t.kind, p.day, p.channel_id, t.value, p.lang, coalesce(p.script, '') AS script, t.s,
                     coalesce(p.views, 0) AS views, coalesce(p.forwards, 0) AS forwards
              FROM t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id)
        INSERT INTO agg_tag_day AS a (kind, day, channel_id, value, lang, script, posts, views, forwards)
        SELECT kind, day, channel_id, value, lang, script, sum(s), sum(s * views), sum(s * forwards) FROM j
        GROUP BY kind, day, channel_id, value, lang, script
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY kind, day, channel_id, value, lang, script
        ON CONFLICT (kind, day, channel_id, value, lang, script) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, t);

    EXECUTE format($q$
        WITH t AS (%s),
        j AS (SELECT t.kind, p.day, t.value, p.lang, coalesce(p.script, '') AS script, t.s,
                     coalesce(p.views, 0) AS views, coalesce(p.forwards, 0) AS forwards
              FROM t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id)
        INSERT INTO agg_tag_day_all AS a (kind, day, value, lang, script, posts, views, forwards)
        SELECT kind, day, value, lang, script, sum(s), sum(s * views), sum(s * forwards) FROM j
        GROUP BY kind, day, value, lang, script
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY kind, day, value, lang, script
        ON CONFLICT (kind, day, value, lang, script) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, t);

    EXECUTE format($q$
        WITH t AS (%s),
        j AS (SELECT t.kind, monitor_month(p.day) AS month, p.channel_id, t.value, t.s,
                     coalesce(p.views, 0) AS views, coalesce(p.forwards, 0) AS forwards
              FROM t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id)
        INSERT INTO agg_tag_month AS a (kind, month, channel_id, value, posts, views, forwards)
        SELECT kind, month, channel_id, value, sum(s), sum(s * views), sum(s * forwards) FROM j
        GROUP BY kind, month, channel_id, value
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY kind, month, channel_id, value
        ON CONFLICT (kind, month, channel_id, value) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, t);

    EXECUTE format($q$
        WITH t AS (%s),
        j AS (SELECT t.kind, p.channel_id, monitor_week(p.day) AS week, t.value, t.s,
                     coalesce(p.views, 0) AS views, coalesce(p.forwards, 0) AS forwards
              FROM t JOIN posts p ON p.channel_id = t.channel_id AND p.message_id = t.message_id)
        INSERT INTO agg_tag_week AS a (kind, channel_id, week, value, posts, views, forwards)
        SELECT kind, channel_id, week, value, sum(s), sum(s * views), sum(s * forwards) FROM j
        GROUP BY kind, channel_id, week, value
        HAVING sum(s) <> 0 OR sum(s * views) <> 0 OR sum(s * forwards) <> 0
        ORDER BY kind, channel_id, week, value
        ON CONFLICT (kind, channel_id, week, value) DO UPDATE SET posts = a.posts + excluded.posts,
            views = a.views + excluded.views, forwards = a.forwards + excluded.forwards
    $q$, t);

    EXECUTE format($q$
        WITH q AS (%s)
        INSERT INTO agg_pair_day AS a (day, channel_id, a, b, posts)
        SELECT p.day, p.channel_id, q.a, q.b, sum(q.s)
        FROM q JOIN posts p ON p.channel_id = q.channel_id AND p.message_id = q.message_id
        GROUP BY p.day, p.channel_id, q.a, q.b HAVING sum(q.s) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (day, channel_id, a, b) DO UPDATE SET posts = a.posts + excluded.posts
    $q$, pairs);
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
