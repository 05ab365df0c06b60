-- 0013: agg_channel_day by channel first, covering the metrics (the dashboard's per-channel charts).
--
-- Why: the table's key is (day, channel_id), so "every channel's total over five years" (how the volume
-- page picks the 12 series worth drawing out of 200) sorted all 365,000 rows in a temporary B-tree,
-- and "these 12 channels per week" read every row of the range to keep 12 channels' rows. Ordered by
-- channel and holding the metrics, the index answers the first as one ordered pass with no sort
-- (~4x less CPU) and the second by reading only the 12 channels' rows (~3x less). An index, not a new
-- aggregate: SQLite keeps it exact with the table, so no trigger or recount changes.
CREATE INDEX agg_channel_day_channel ON agg_channel_day (channel_id, day, posts, views, forwards);
