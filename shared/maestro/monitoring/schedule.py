"""The scheduled run over every tenant's monitors: each is checked as its tenant's monitoring service would
on request, with a service identity. Must never let one monitor's failure stop the others."""

from __future__ import annotations

from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.observability import logger, metrics
from maestro.core.settings import get_settings
from maestro.monitoring.service import MonitoringService
from maestro.monitoring.store import MonitoringStore, every_monitor

CHECKER = "maestro-monitoring-checker"


def check_all(now: float | None = None) -> dict[str, Any]:
    settings = get_settings()
    states: dict[str, int] = {}
    failed = 0
    for tenant, monitor in every_monitor(settings.monitoring_table):
        auth = AuthContext.of(CHECKER, tenant, frozenset({"service"}))
        service = MonitoringService(
            MonitoringStore(settings.monitoring_table, tenant), auth, settings.artifacts_bucket
        )
        try:
            state = service.check(monitor["monitor_id"], now)["state"]
            states[state] = states.get(state, 0) + 1
        except Exception:  # noqa: BLE001 - see the module docstring
            failed += 1
            logger.exception(
                "monitor check failed", extra={"tenant": tenant, "monitor_id": monitor["monitor_id"]}
            )
            metrics.add_metric(name="MonitorCheckFailures", unit="Count", value=1)
    return {"checked": sum(states.values()), "states": states, "failed": failed}
