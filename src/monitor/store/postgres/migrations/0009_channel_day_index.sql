-- 0009: agg_channel_day by channel first, with the metrics (the SQLite backend's 0013; the dashboard's
-- per-channel charts). The key is (day, channel_id), so "these 12 channels per week over five years"
-- read every row of the range to keep 12 channels' rows; this index reads only theirs (an index-only
-- scan once the table is vacuumed). An index, not a new aggregate: no trigger or recount changes.
CREATE INDEX agg_channel_day_channel ON agg_channel_day (channel_id, day) INCLUDE (posts, views, forwards);
