"""The ISO-time views for Datasette, DuckDB and pandas users, and the Datasette metadata that describes them."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from reports.reportdata import Dataset

METADATA = Path(__file__).resolve().parents[2] / "config" / "datasette-metadata.json"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _conn(dataset: Dataset) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{dataset.store.path}?mode=ro", uri=True)


async def test_views_show_times_as_iso_8601_utc(dataset: Dataset) -> None:
    conn = _conn(dataset)
    try:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM v_posts ORDER BY posted_at").fetchall()
        assert len(rows) == len(dataset.posts)
        first = min(dataset.posts, key=lambda t: t.post.posted_at).post
        assert rows[0]["posted_at"] == first.posted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert all(ISO.match(r["posted_at"]) and ISO.match(r["first_seen_at"]) for r in rows)
        assert rows[0]["link"].startswith("https://t.me/")
        sample = conn.execute("SELECT sampled_at, hours_after_posting FROM v_metric_samples LIMIT 1").fetchone()
        assert ISO.match(sample["sampled_at"]) and sample["hours_after_posting"] >= 0
        days = conn.execute("SELECT day, sum(posts) FROM v_daily_channels GROUP BY day").fetchall()
        assert sum(r[1] for r in days) == len(dataset.posts) and re.match(r"^\d{4}-\d\d-\d\d$", days[0][0])
    finally:
        conn.close()


async def test_datasette_metadata_describes_every_table_view_and_view_column(dataset: Dataset) -> None:
    tables = json.loads(METADATA.read_text("utf-8"))["databases"]["monitor"]["tables"]
    conn = _conn(dataset)
    try:
        names = {name: kind for name, kind in conn.execute(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")}
        for name, kind in names.items():
            assert name in tables and tables[name]["description"], name
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
            described = tables[name].get("columns", {})
            assert set(described) <= set(columns), (name, set(described) - set(columns))
            if kind == "view":
                assert set(described) == set(columns), (name, set(columns) - set(described))
        assert set(tables) <= set(names), set(tables) - set(names)
    finally:
        conn.close()
