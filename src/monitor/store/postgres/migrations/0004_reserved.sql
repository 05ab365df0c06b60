-- 0004: reserved for the collector-leases branch, which owns this number. A no-op here so that the
-- lifecycle migration (0005) applies on this branch; dropped when the real 0004 merges.
SELECT 1;
