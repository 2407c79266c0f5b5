"""What other capabilities may ask of tenancy's exports (a restore drill does): a tenant's latest completed
export and its manifest, its restore into given tables and prefixes with the read-back, and the removal of a
scratch prefix such a restore wrote. They never import its stores."""

from __future__ import annotations

from typing import Any

from maestro.tenants.export import records
from maestro.tenants.export_store import remove_prefix
from maestro.tenants.restore import manifest, restore

__all__ = ["latest_export", "manifest", "remove_prefix", "restore"]


def latest_export(tenant: str) -> dict[str, Any] | None:
    """The tenant's newest COMPLETED export's record; None when it has none."""
    return records().latest_completed(tenant)
