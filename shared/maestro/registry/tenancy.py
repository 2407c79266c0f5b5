"""The registry's interface to tenancy (core.capabilities): its table and the artifacts bucket hold tenants'
data, and it counts each tenant's registered models."""

from __future__ import annotations

from maestro.core.capabilities import Capability
from maestro.core.settings import get_settings
from maestro.registry.stores.models import ModelStore


def count(tenants: list[str]) -> dict[str, dict[str, int]]:
    table = get_settings().registry_table
    return {t: {"registered_models": ModelStore(table, t).count()} for t in tenants}


CAPABILITY = Capability("registry", tables=("registry_table",), buckets=("artifacts_bucket",), count=count)
