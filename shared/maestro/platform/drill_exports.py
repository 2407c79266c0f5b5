"""The restore drill's second restore: each tenant's latest completed export, put back into the drill's
copies (the tenant's items there replaced by the export's) and its objects into the drill's scratch prefix
(drills/<drill id>/<tenant>/<bucket field>/), then read back against the export's manifest. An export whose
digests equal the drill's first read of the sources is current: the tenant has not changed since. Must never
write outside the drill's copies and scratch prefix."""

from __future__ import annotations

from typing import Any

from maestro.core.item_digest import ItemDigest
from maestro.core.settings import get_settings
from maestro.platform import drill_store
from maestro.tenants import interface as exports


def scratch_prefix(drill_id: str) -> str:
    return f"drills/{drill_id}/"


def restore_exports(drill: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """({tenant: what its export restored}, findings) for every tenant of the drill's first read that has a
    completed export."""
    settings, tables = get_settings(), drill["tables"]
    tenants = sorted({t for table in tables.values() for t in table["tenants"]} - {settings.platform_tenant})
    empty = ItemDigest().shown()
    restored: dict[str, Any] = {}
    findings: list[dict[str, Any]] = []
    for tenant in tenants:
        export = exports.latest_export(tenant)
        if export is None:
            continue
        manifest = exports.manifest(tenant, export["export_id"])
        targets = {f: tables[f]["target"] for f in manifest["tables"] if f in tables}
        for table in targets.values():
            drill_store.clear_tenant(table, tenant)
        scratch = f"{scratch_prefix(drill['drill_id'])}{tenant}/"
        objects = {f: (settings.artifacts_bucket, f"{scratch}{f}/") for f in manifest["buckets"]}
        result = exports.restore(manifest, targets, objects)
        findings += [finding | {"tenant": tenant} for finding in result["findings"]]
        stale = sorted(
            f
            for f, exported in manifest["tables"].items()
            if {"items": exported["items"], "digest": exported["digest"]}
            != (tables.get(f, {}).get("tenants", {}).get(tenant) or empty)
        )
        restored[tenant] = {
            "export_id": export["export_id"],
            "snapshot_until": manifest["consistent_until"],
            "items": sum(t["items"] for t in result["tables"].values()),
            "objects": sum(o["objects"] for o in result["objects"].values()),
            "bytes": sum(o["bytes"] for o in result["objects"].values()),
            # equal to the sources at the drill's first read; else the tables where the tenant changed since
            "current": not stale,
            "changed_since_export": stale,
            "scratch_prefix": scratch,
        }
    return restored, findings


def remove_scratch(drill_id: str) -> int:
    return exports.remove_prefix(get_settings().artifacts_bucket, scratch_prefix(drill_id))
