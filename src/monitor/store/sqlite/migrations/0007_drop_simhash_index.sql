-- 0007: drop the index on posts.simhash.
--
-- Why: no query filters, joins or orders by simhash. The spread report reads the fingerprints
-- of a day range through posts_day (EXPLAIN QUERY PLAN shows it) and compares them in Python,
-- so the index was written on every insert and content edit and never read: dropping it made
-- ingest about 17% faster and wrote about 28% fewer bytes. The PostgreSQL schema never had it.

DROP INDEX IF EXISTS posts_simhash;
