"""The audit trail's interface to tenancy (core.capabilities): its table and its archive bucket hold
tenants' data (objects under Object Lock stay until their retention ends; the sweep reports them)."""

from __future__ import annotations

from maestro.core.capabilities import Capability

CAPABILITY = Capability("audit", tables=("audit_table",), buckets=("audit_archive_bucket",))
