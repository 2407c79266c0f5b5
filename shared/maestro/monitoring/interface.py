"""What other capabilities may ask of monitoring; they never import its store: whether a model version's
monitors show drift now (a failed guardrail for a rollout or an A/B promotion)."""

from __future__ import annotations

from typing import Any

from maestro.core.settings import get_settings
from maestro.monitoring.store import MonitoringStore


def drift_alert(tenant: str, model: str, version: int) -> dict[str, Any] | None:
    """The drift a monitor of this model version found at its latest check, None when none shows drift."""
    for monitor in MonitoringStore(get_settings().monitoring_table, tenant).monitors():
        watched = monitor["spec"]["model"]
        status = monitor.get("status") or {}
        if (watched["name"], int(watched["version"])) == (model, version) and status.get("state") == "drift":
            return {
                "monitor_id": monitor["monitor_id"],
                "columns": status.get("drifted_columns", []),
                "checked_at": status.get("checked_at"),
            }
    return None
