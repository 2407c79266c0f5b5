"""Explanations' interface to tenancy (core.capabilities): its table and the artifacts bucket hold tenants'
data, and a tenant's submitted and running jobs are stopped before its data is swept (a running job would go
on writing results)."""

from __future__ import annotations

from maestro.core import workflow_gateway as workflows
from maestro.core.capabilities import Capability
from maestro.core.settings import get_settings
from maestro.explain.store import ExplainStore

STOP_CAUSE = "the tenant is being deleted"


def stop(tenant: str) -> dict[str, int]:
    jobs, stopped, cursor = ExplainStore(get_settings().explain_table, tenant), 0, None
    for status in ("SUBMITTED", "RUNNING"):
        while True:
            page, cursor = jobs.list(status, 100, cursor)
            for job in page:
                if job.get("execution_arn"):
                    stopped += int(workflows.stop(job["execution_arn"], STOP_CAUSE))
            if cursor is None:
                break
    return {"explanation_jobs": stopped}


CAPABILITY = Capability("explain", tables=("explain_table",), buckets=("artifacts_bucket",), stop=stop)
