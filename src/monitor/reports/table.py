"""The result of every report: named columns and rows, plus what a reader needs to trust it.

Reports compute; they never format. Formatting (terminal, CSV, JSON, Parquet, charts)
takes a `Report` and escapes attacker-controlled text for its medium.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    name: str  # "volume", "trend", "top-channels", ...
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]]
    meta: Mapping[str, Any] = field(default_factory=dict)  # parameters, thresholds, time range, notes

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]
