"""Putting a tenant export back, and proving it: its items into tables (each table by the settings field the
manifest names it by), its objects under a prefix per bucket, then a read of what was written: the tenant's
items in each table must give the manifest's count and digest, and every object the SHA-256 it had when it
was exported. Operators restore a tenant in place (its own tables and tenants/<t>/); a restore drill restores
into its copies and a scratch prefix. Must never call a restore good that the read-back contradicts."""

from __future__ import annotations

import json
from typing import Any

from maestro.core.item_digest import ItemDigest, parsed
from maestro.core.settings import get_settings
from maestro.tenants import export_store as files


def manifest(tenant: str, export_id: str) -> dict[str, Any]:
    key = files.export_prefix(tenant, export_id) + "manifest.json"
    return files.get_json(get_settings().artifacts_bucket, key)


def restore(
    manifest: dict[str, Any], tables: dict[str, str], objects: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """Write the export's items into `tables` ({field: table}) and its objects to `objects` ({field: (bucket,
    prefix)}); fields left out are not restored. Then read back: {tables, objects, findings}."""
    export_bucket, root, tenant = get_settings().artifacts_bucket, manifest["root"], manifest["tenant"]
    for field, table in tables.items():
        for part in files.keys(export_bucket, f"{root}items/{field}/"):
            files.write_items(table, [parsed(line) for line in files.get_lines(export_bucket, part)])
    exported: dict[str, list[dict[str, Any]]] = {}
    for field, (bucket, prefix) in objects.items():
        exported[field] = [
            json.loads(line)
            for part in files.keys(export_bucket, f"{root}objects/{field}.index/")
            for line in files.get_lines(export_bucket, part)
        ]
        for entry in exported[field]:
            files.copy_hashed(
                export_bucket, f"{root}objects/{field}/{entry['key']}", None, bucket, prefix + entry["key"]
            )
    return read_back(manifest, tenant, tables, objects, exported)


def read_back(
    manifest: dict[str, Any],
    tenant: str,
    tables: dict[str, str],
    objects: dict[str, tuple[str, str]],
    exported: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    findings: list[dict[str, Any]] = []
    restored_tables = {}
    for field, table in tables.items():
        digest, cursor = ItemDigest(), None
        while True:
            items, cursor = files.items_page(table, tenant, cursor)
            for item in items:
                digest.add(item)
            if cursor is None:
                break
        expected = manifest["tables"].get(field) or {"items": 0, "digest": ItemDigest().digest}
        restored_tables[field] = digest.shown()
        if digest.shown() != {"items": expected["items"], "digest": expected["digest"]}:
            findings.append(
                {"check": "export_items", "table": field, "exported": expected, "restored": digest.shown()}
            )
    restored_objects = {}
    for field, (bucket, prefix) in objects.items():
        wrong = [
            e["key"] for e in exported[field] if files.sha256_of(bucket, prefix + e["key"]) != e["sha256"]
        ]
        expected_count = int((manifest["buckets"].get(field) or {}).get("objects", 0))
        restored_objects[field] = {
            "objects": len(exported[field]),
            "bytes": sum(e["size"] for e in exported[field]),
        }
        if wrong or len(exported[field]) != expected_count:
            findings.append(
                {
                    "check": "export_objects",
                    "bucket": field,
                    "expected": expected_count,
                    "restored": len(exported[field]),
                    "sha256_differs": wrong[:20],
                }
            )
    return {"tables": restored_tables, "objects": restored_objects, "findings": findings}
