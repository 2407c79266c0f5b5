"""Training's interface to tenancy (core.capabilities): its table and the artifacts bucket hold tenants'
data; the running-job counter is counted from its jobs; a tenant's live jobs are stopped (their workflows
and their SageMaker jobs) before its data is swept."""

from __future__ import annotations

from maestro.core import workflow_gateway as workflows
from maestro.core.capabilities import Capability
from maestro.core.settings import get_settings
from maestro.training import gateway, role_gateway
from maestro.training.store import LIVE, QUOTA, TrainingStore
from maestro.training.sweep_store import SweepStore

STOP_CAUSE = "the tenant is being deleted"


def count(tenants: list[str]) -> dict[str, dict[str, int]]:
    table = get_settings().training_table
    return {t: {QUOTA: len(TrainingStore(table, t).live())} for t in tenants}


def stop(tenant: str) -> dict[str, int]:
    """Sweeps first (they would start more trials), then every live job."""
    table, sweeps, cursor = get_settings().training_table, 0, None
    while True:
        page, cursor = SweepStore(table, tenant).page(100, cursor)
        for sweep in page:
            if sweep["status"] in LIVE and sweep.get("execution_arn"):
                sweeps += int(workflows.stop(sweep["execution_arn"], STOP_CAUSE))
        if cursor is None:
            break
    stopped = 0
    for job in TrainingStore(get_settings().training_table, tenant).live():
        if job.get("execution_arn"):
            stopped += int(workflows.stop(job["execution_arn"], STOP_CAUSE))
        gateway.stop(job["sagemaker_job"])
    return {"training_jobs": stopped, "training_sweeps": sweeps}


CAPABILITY = Capability(
    "training",
    tables=("training_table",),
    buckets=("artifacts_bucket",),
    count=count,
    stop=stop,
    remove=role_gateway.remove,
)
