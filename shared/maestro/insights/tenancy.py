"""Insights' interface to tenancy (core.capabilities): its table holds tenants' graphs and backfills."""

from __future__ import annotations

from maestro.core.capabilities import Capability

CAPABILITY = Capability("insights", tables=("insights_table",))
