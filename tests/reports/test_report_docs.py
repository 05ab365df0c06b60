"""Every SQLite example in docs/schema.md runs on a real database, and every aggregate table is documented."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from reports.reportdata import Dataset

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def _sql_blocks() -> list[str]:
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text("utf-8"), flags=re.DOTALL)
    return [b for b in blocks if "m.posts" not in b]  # the DuckDB one reads through an ATTACH alias


async def test_schema_examples_run(dataset: Dataset) -> None:
    blocks = _sql_blocks()
    assert len(blocks) >= 6
    conn = sqlite3.connect(f"file:{dataset.store.path}?mode=ro", uri=True)
    try:
        for sql in blocks:
            params = (1001, 5) if "?" in sql else ()
            rows = conn.execute(sql, params).fetchall()
            assert isinstance(rows, list)
        month = conn.execute(blocks[0].replace("18628 AND 18992", "0 AND 99999")).fetchall()
        assert sum(r[2] for r in month) == sum(len(t.tags.groups) for t in dataset.posts)
    finally:
        conn.close()


async def test_every_table_is_documented(dataset: Dataset) -> None:
    text = DOC.read_text("utf-8")
    rows = await dataset.store.query(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
    )
    assert rows
    for row in rows:
        assert f"`{row['name']}`" in text, row["name"]
