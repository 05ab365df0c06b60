"""The aggregates recounted from posts and post_tags, and compared with what the triggers keep.

Why here: the invariant of the aggregate triggers (migration 0001) is that every aggregate table
equals the same GROUP BY over the current rows of posts joined with post_tags. ``aggregate_drift`` checks it, for the
tests and for ``monitor db check``. Rows the triggers brought back to zero are kept (as on SQLite)
and compare equal to a missing row.
"""

from __future__ import annotations

from typing import Any

from monitor.store.recount import Dialect, recounts

RECOUNTS = recounts(
    Dialect(
        month="monitor_month({d})",
        week="monitor_week({d})",
        byte_order=' COLLATE "C"',
        mentions="posts p CROSS JOIN LATERAL jsonb_array_elements_text(p.mentions::jsonb) AS j(value)",
    )
)


def drift_sql(table: str) -> str:
    """One query: how many key combinations differ between ``table`` and its recount (0 when exact)."""
    keys, metrics, recount = RECOUNTS[table]
    differs = " OR ".join(f"coalesce(r.{m}, 0) <> coalesce(s.{m}, 0)" for m in metrics)
    return (
        f"WITH r AS ({recount}), s AS (SELECT {', '.join(keys)}, {', '.join(metrics)} FROM {table})"
        f" SELECT count(*) FROM r FULL JOIN s USING ({', '.join(keys)}) WHERE {differs}"
    )


async def aggregate_drift(conn: Any) -> list[str]:
    """Aggregate tables that differ from a recount over posts and post_tags (empty when all are exact).

    ``conn`` is an asyncpg connection; run it in a REPEATABLE READ (or read-only) transaction while
    collectors write, so every table is compared against the same snapshot.
    """
    drifted: list[str] = []
    for table in RECOUNTS:
        if int(await conn.fetchval(drift_sql(table))):
            drifted.append(table)
    return drifted


__all__ = ["RECOUNTS", "aggregate_drift", "drift_sql"]
