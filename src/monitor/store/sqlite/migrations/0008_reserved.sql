-- 0008: reserved for the collector-leases branch, which owns this number. A no-op here so that the
-- lifecycle migration (0009) applies on this branch; dropped when the real 0008 merges.
SELECT 1;
