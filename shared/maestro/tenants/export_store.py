"""What a tenant export asks of DynamoDB and S3, and where it keeps its records: one page of a tenant's items
in a table (a Scan for partition keys led by "<tenant>#"), one page of the current versions of its objects
under tenants/<t>/, the export's files (gzipped JSON lines, copies of object versions hashed as they are
copied, the manifest), a restore's writes, and the exports' records in the platform table under the platform
tenant (outside the tenant's keys: recording progress must not change what is exported). The only boto3 user
of exports. Must never write outside an export's own prefix, a restore's target, or a drill's copy."""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any

from maestro.core.aws import client, is_missing
from maestro.core.dynamo_store import TenantTable, batch_write, tenant_items_page, to_item
from maestro.core.errors import NotFound
from maestro.core.submissions import numbers, shown
from maestro.core.tenancy import tenant_prefix

SCAN_PAGE = 1000
LIST_PAGE = 500


def export_prefix(tenant: str, export_id: str) -> str:
    """Where an export's files live: inside the tenant's own prefix, so the tenant's deletion removes them."""
    return f"{tenant_prefix(tenant)}exports/{export_id}/"


def exports_prefix(tenant: str) -> str:
    return f"{tenant_prefix(tenant)}exports/"


def items_page(
    table: str, tenant: str, cursor: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of the tenant's items (DynamoDB JSON, strongly consistent) and where the next starts."""
    return tenant_items_page(table, tenant, cursor, limit=SCAN_PAGE)


def versions_page(
    bucket: str, tenant: str, cursor: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of the current version of each of the tenant's objects ({key, version_id, size}), in key
    order, its exports left out; deleted objects (a delete marker on top) are not current."""
    args: dict[str, Any] = {"Bucket": bucket, "Prefix": tenant_prefix(tenant), "MaxKeys": LIST_PAGE}
    if cursor:
        args |= {"KeyMarker": cursor["key"], "VersionIdMarker": cursor["version"]}
    response = client("s3").list_object_versions(**args)
    skip = exports_prefix(tenant)
    current = [
        {"key": v["Key"], "version_id": v.get("VersionId") or "null", "size": int(v.get("Size", 0))}
        for v in response.get("Versions", [])
        if v.get("IsLatest") and not v["Key"].startswith(skip)
    ]
    following = None
    if response.get("IsTruncated"):
        following = {"key": response["NextKeyMarker"], "version": response["NextVersionIdMarker"]}
    return current, following


def put_lines(bucket: str, key: str, lines: list[str]) -> None:
    body = gzip.compress(("\n".join(lines) + "\n").encode() if lines else b"")
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson")


def get_lines(bucket: str, key: str) -> list[str]:
    body = gzip.decompress(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()).decode()
    return [line for line in body.split("\n") if line]


def keys(bucket: str, prefix: str) -> list[str]:
    """The current objects' keys under `prefix`, in key order."""
    pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def put_json(bucket: str, key: str, document: dict[str, Any]) -> None:
    body = json.dumps(document, indent=1, sort_keys=True).encode()
    client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def get_json(bucket: str, key: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    except Exception as exc:
        if is_missing(exc):
            raise NotFound(f"s3://{bucket}/{key} does not exist") from exc
        raise
    return found


class _Hashing:
    """A readable body that hashes (SHA-256) and counts what passes through it."""

    def __init__(self, body: Any) -> None:
        self.body, self.sha256, self.size = body, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.body.read(size)
        self.sha256.update(chunk)
        self.size += len(chunk)
        return chunk


def copy_hashed(
    source_bucket: str, key: str, version_id: str | None, target_bucket: str, target_key: str
) -> dict[str, Any]:
    """Copy one object version, streamed (large objects go up in parts); {size, sha256} of what was copied."""
    s3 = client("s3")
    args = {"Bucket": source_bucket, "Key": key} | (
        {"VersionId": version_id} if version_id and version_id != "null" else {}
    )
    body = _Hashing(s3.get_object(**args)["Body"])
    s3.upload_fileobj(body, target_bucket, target_key)
    return {"size": body.size, "sha256": body.sha256.hexdigest()}


def sha256_of(bucket: str, key: str) -> str:
    body = _Hashing(client("s3").get_object(Bucket=bucket, Key=key)["Body"])
    while body.read(1 << 20):
        pass
    return body.sha256.hexdigest()


def remove_prefix(bucket: str, prefix: str) -> int:
    """Every version and delete marker under `prefix`, which must be an export's or a drill's own."""
    if not (prefix.endswith("/") and ("/exports/" in prefix or prefix.startswith("drills/"))):
        raise ValueError(f"{prefix} is not an export's or a drill's prefix")
    s3, removed = client("s3"), 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
        if versions:
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            removed += len(objects)
    return removed


def write_items(table: str, items: list[dict[str, Any]]) -> None:
    """Put the items (DynamoDB JSON) into `table`."""
    batch_write(client("dynamodb"), table, [{"PutRequest": {"Item": i}} for i in items])


class ExportStore(TenantTable):
    """The exports' records: one item each, under the platform tenant's keys; a tenant's newest first through
    gsi1."""

    capability = "EXPORT"

    def _pk(self, tenant: str, export_id: str) -> str:
        return self.k(tenant, export_id)

    def put(self, record: dict[str, Any]) -> None:
        item = {
            **numbers(record),
            "pk": self._pk(record["tenant"], record["export_id"]),
            "sk": "EXPORT",
            "gsi1pk": self.k("OF", record["tenant"]),
            "gsi1sk": f"{record['requested_at']}#{record['export_id']}",
        }
        self._call("put_item", Item=to_item(item))

    def set(self, tenant: str, export_id: str, field: str, value: str) -> None:
        """One attribute of an existing record, the rest as the workflow left it."""
        self.update_item(
            self._pk(tenant, export_id), "EXPORT", "SET #f = :v", names={"#f": field}, values={"v": value}
        )

    def get(self, tenant: str, export_id: str) -> dict[str, Any]:
        found = self.item(self._pk(tenant, export_id), "EXPORT")
        if found is None:
            raise NotFound(f"export {export_id} of tenant {tenant} does not exist")
        return shown(found)

    def page(
        self, tenant: str, limit: int, cursor: dict[str, Any] | None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], Any]:
        items, cursor = self.newest_first(self.k("OF", tenant), limit, cursor, status)
        return [shown(i) for i in items], cursor

    def latest_completed(self, tenant: str) -> dict[str, Any] | None:
        found, _ = self.page(tenant, 1, None, status="COMPLETED")
        return found[0] if found else None
