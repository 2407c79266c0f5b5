"""What other capabilities may ask of monitoring; they never import its store: whether a model version's
monitors show drift now (a failed guardrail for a rollout or an A/B promotion), and recording serving
records that arrive with their own events (A/B exposures), as POST /monitoring/records would."""

from __future__ import annotations

from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.settings import get_settings
from maestro.monitoring.spec import Record
from maestro.monitoring.store import MonitoringStore

__all__ = ["Record", "drift_alert", "record_serving"]


def record_serving(
    auth: AuthContext,
    model: str,
    version: int,
    records: list[Record],
    batch_id: str,
    correlation_id: str | None,
) -> dict[str, Any]:
    """{batch_id, accepted, duplicate}: the same checks, quota and idempotency as POST /monitoring/records
    (Conflict when the version has no baseline, QuotaExceeded past monitoring_records_per_day)."""
    from maestro.monitoring.service import MonitoringService  # deferred: readers need none of it
    from maestro.monitoring.spec import ModelRef, RecordBatch

    settings = get_settings()
    service = MonitoringService(
        MonitoringStore(settings.monitoring_table, auth.tenant),
        auth,
        settings.artifacts_bucket,
        correlation_id,
    )
    batch = RecordBatch(model=ModelRef(name=model, version=version), batch_id=batch_id, records=records)
    return service.record(batch)


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
