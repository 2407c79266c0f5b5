"""The S3 gateway of capability code: objects in one bucket, read and written with a tenant's credentials
(core.aws.tenant_client) or, for the platform's own objects, the function's. Domain modules never call S3
themselves. Must never pin credentials other than those the caller named."""

from __future__ import annotations

from typing import Any

from maestro.core.aws import client, is_missing, presign, tenant_client


class Objects:
    def __init__(self, bucket: str, s3: Any) -> None:
        self.bucket, self.s3 = bucket, s3

    @classmethod
    def of_tenant(cls, bucket: str, tenant: str) -> Objects:
        """`tenant`'s objects, with its credentials where tenant sessions apply."""
        return cls(bucket, tenant_client(tenant, "s3"))

    @classmethod
    def platform(cls, bucket: str) -> Objects:
        """The platform's own objects (billing exports), with the function's credentials."""
        return cls(bucket, client("s3"))

    def put(self, key: str, body: bytes, content_type: str, *, checksum: bool = False) -> None:
        """Write `body` at `key`; with `checksum`, S3 verifies and keeps its SHA-256."""
        extra = {"ChecksumAlgorithm": "SHA256"} if checksum else {}
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, **extra)

    def get(
        self,
        key: str,
        *,
        version_id: str | None = None,
        first_bytes: int | None = None,
        checked: bool = False,
    ) -> bytes:
        """The object's bytes (of `version_id`, or its first `first_bytes` only, when given); `checked`: with
        S3's own checksum validation of what it sends."""
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if checked:
            args["ChecksumMode"] = "ENABLED"
        if version_id:
            args["VersionId"] = version_id
        if first_bytes is not None:
            args["Range"] = f"bytes=0-{first_bytes - 1}"
        body: bytes = self.s3.get_object(**args)["Body"].read()
        return body

    def head(self, key: str) -> dict[str, Any]:
        """The object's metadata, its SHA-256 (ChecksumSHA256) included when S3 keeps one."""
        found: dict[str, Any] = self.s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        return found

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if is_missing(exc):
                return False
            raise
        return True

    def presigned_get(self, key: str, seconds: int) -> str:
        """A URL that reads the object for `seconds` (at most as long as the signing credentials live)."""
        return presign(self.s3, "get_object", {"Bucket": self.bucket, "Key": key}, seconds)

    def total_bytes(self, prefix: str) -> int:
        """The bytes of the current objects under `prefix`."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sum(int(o["Size"]) for page in pages for o in page.get("Contents", []))

    def listing(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        """The current objects under `prefix` ({Key, Size, ETag}), in key order; at most `limit` + 1, so a
        caller can tell "exactly `limit`" from "more"."""
        found: list[dict[str, Any]] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found += [{k: o[k] for k in ("Key", "Size", "ETag")} for o in page.get("Contents", [])]
            if len(found) > limit:
                return found[: limit + 1]
        return found

    def stream(self, key: str) -> Any:
        """The object's body as a stream (for reading large objects piece by piece)."""
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
