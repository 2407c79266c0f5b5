"""A tenant's data wherever it lies, found and removed for its deletion: items whose partition key is led by
the tenant in every table, and every version of its objects under tenants/<t>/ in every bucket. The only
boto3 user of deletion. Must never remove what the deletion keeps (the tenant's profile and deletion record,
its usage records) nor anything outside the tenant's keys and prefix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from maestro.core.aws import client
from maestro.core.dynamo_store import batch_write, tenant_items_page
from maestro.core.tenancy import tenant_key, tenant_prefix
from maestro.tenants.store import DELETION, PROFILE

SCAN_PAGE = 1000
DELETE_OBJECTS = 1000  # S3's limit per DeleteObjects


@dataclass
class Page:
    """What one page of a target gave: removed items or object versions (and bytes), objects kept because
    Object Lock retains them, and where the next page starts (None: the target is done)."""

    removed: int = 0
    removed_bytes: int = 0
    retained: int = 0
    retained_bytes: int = 0
    retained_until: str | None = None
    cursor: dict[str, Any] | None = field(default=None)


def kept(tenant: str, item: dict[str, Any]) -> bool:
    """The deletion's own records: the tenant's profile (a tombstone, so its id is never reused), its deletion
    record, and its usage per day (the platform's billing records of it)."""
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    return (pk == tenant_key(tenant, "TENANT") and sk in (PROFILE, DELETION)) or pk == tenant_key(
        tenant, "TENANT", "USAGE"
    )


def purge_table_page(table: str, tenant: str, cursor: dict[str, Any] | None) -> Page:
    """One page of a Scan for the tenant's partition keys, and the deletion of what it found. A Scan, not a
    Query: a tenant's items lie under many partition keys, all led by "<tenant>#"."""
    found, following = tenant_items_page(table, tenant, cursor, keys_only=True, limit=SCAN_PAGE)
    keys = [i for i in found if not kept(tenant, i)]
    batch_write(client("dynamodb"), table, [{"DeleteRequest": {"Key": k}} for k in keys])
    return Page(removed=len(keys), cursor=following)


def purge_bucket_page(bucket: str, tenant: str, cursor: dict[str, Any] | None) -> Page:
    """One page of every version and delete marker under tenants/<t>/ (deleting only the current version
    would leave the data behind a delete marker), deleted by version; versions Object Lock retains stay. The
    first page also aborts the tenant's unfinished multipart uploads (their parts are stored data too)."""
    s3, page = client("s3"), Page()
    if cursor is None:
        for upload in s3.list_multipart_uploads(Bucket=bucket, Prefix=tenant_prefix(tenant)).get(
            "Uploads", []
        ):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            page.removed += 1
    args: dict[str, Any] = {"Bucket": bucket, "Prefix": tenant_prefix(tenant), "MaxKeys": DELETE_OBJECTS}
    if cursor:
        args |= {"KeyMarker": cursor["key"], "VersionIdMarker": cursor["version"]}
    response = s3.list_object_versions(**args)
    versions = response.get("Versions", []) + response.get("DeleteMarkers", [])
    if versions:
        _delete_versions(s3, bucket, versions, page)
    if response.get("IsTruncated"):
        page.cursor = {"key": response["NextKeyMarker"], "version": response["NextVersionIdMarker"]}
    return page


def _delete_versions(s3: Any, bucket: str, versions: list[dict[str, Any]], page: Page) -> None:
    """Delete the versions; those S3 refuses with AccessDenied are locked by Object Lock and stay."""
    by_id = {(v["Key"], v["VersionId"]): v for v in versions}
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k, "VersionId": v} for k, v in by_id], "Quiet": False}
    )
    refused = [e for e in result.get("Errors", []) if e.get("Code") != "AccessDenied"]
    if refused:
        raise RuntimeError(f"objects in s3://{bucket} could not be deleted: {refused[:3]}")
    deleted = {
        (d["Key"], d.get("VersionId") or d.get("DeleteMarkerVersionId")) for d in result.get("Deleted", [])
    }
    retained = [v for key, v in by_id.items() if key not in deleted]
    page.removed += len(by_id) - len(retained)
    page.removed_bytes += sum(int(v.get("Size", 0)) for key, v in by_id.items() if key in deleted)
    page.retained += len(retained)
    page.retained_bytes += sum(int(v.get("Size", 0)) for v in retained)
    if retained:  # the newest locked version is the last to be released
        newest = max(retained, key=lambda v: v["LastModified"])
        head = s3.head_object(Bucket=bucket, Key=newest["Key"], VersionId=newest["VersionId"])
        until = head.get("ObjectLockRetainUntilDate")
        page.retained_until = until.isoformat() if until else None
