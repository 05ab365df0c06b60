"""Analysts' reports: each module computes a `Report` from the store's read side; output.py and charts.py format it."""

from monitor.reports.spec import ReportSpec, parse_by
from monitor.reports.table import Report

__all__ = ["Report", "ReportSpec", "parse_by"]
