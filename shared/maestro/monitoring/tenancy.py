"""Monitoring's interface to tenancy (core.capabilities): its table holds tenants' data."""

from __future__ import annotations

from maestro.core.capabilities import Capability

CAPABILITY = Capability("monitoring", tables=("monitoring_table",))
