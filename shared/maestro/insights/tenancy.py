"""Insights' interface to tenancy (core.capabilities): its table holds tenants' graphs, backfills and forecast
models; a tenant's running backfills are stopped before its data is swept (a backfill would write after)."""

from __future__ import annotations

from maestro.core import workflow_gateway as workflows
from maestro.core.capabilities import Capability
from maestro.core.settings import get_settings
from maestro.insights.store import InsightsStore

STOP_CAUSE = "the tenant is being deleted"


def stop(tenant: str) -> dict[str, int]:
    stopped = 0
    for record in InsightsStore(get_settings().insights_table, tenant).backfills(50):
        if record.get("status") == "RUNNING" and record.get("execution_arn"):
            stopped += int(workflows.stop(record["execution_arn"], STOP_CAUSE))
    return {"graph_backfills": stopped}


CAPABILITY = Capability("insights", tables=("insights_table",), stop=stop)
