"""Delivery's interface to tenancy (core.capabilities): its table holds tenants' rollouts; a tenant's running
rollouts are stopped (their workflows) before its data is swept."""

from __future__ import annotations

from maestro.core import workflow_gateway as workflows
from maestro.core.capabilities import Capability
from maestro.core.settings import get_settings
from maestro.delivery.store import DeliveryStore


def stop(tenant: str) -> dict[str, int]:
    stopped = 0
    for rollout in DeliveryStore(get_settings().delivery_table, tenant).running():
        if rollout.get("execution_arn"):
            stopped += int(workflows.stop(rollout["execution_arn"], "the tenant is being deleted"))
    return {"rollouts": stopped}


CAPABILITY = Capability("delivery", tables=("delivery_table",), stop=stop)
