"""Alerts: rules from the config, evaluated as posts arrive, stored with pending deliveries.

The public surface is small on purpose: the daemon takes ``daemon_hooks`` (an
``AlertEngine`` whose ``on_saved`` runs after each saved batch, plus the delivery worker);
``monitor check`` calls ``parse_alerts``; the CLI uses ``dry_run`` and ``retro_hunt``.
Sinks and the delivery worker live beside this (``sinks*.py``, ``delivery.py``) and
read the deliveries rows the engine writes.
"""

from __future__ import annotations

from monitor.alerts.config import AlertRule, AlertsConfig, SinkConfig, parse_alerts
from monitor.alerts.engine import AlertEngine
from monitor.alerts.hooks import AlertHooks, daemon_hooks, import_hooks
from monitor.alerts.retro import RetroHuntReport, retro_hunt

__all__ = [
    "AlertEngine",
    "AlertHooks",
    "AlertRule",
    "AlertsConfig",
    "RetroHuntReport",
    "SinkConfig",
    "daemon_hooks",
    "import_hooks",
    "parse_alerts",
    "retro_hunt",
]
