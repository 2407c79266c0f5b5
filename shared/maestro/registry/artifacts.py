"""Artifact locations and the tenant's S3 prefix: `mlflow-artifacts:/<path>` resolves to
s3://<bucket>/tenants/<tenant>/artifacts/<path>. Must never let a path leave the tenant's prefix."""

from __future__ import annotations

import posixpath
import re

from maestro.core.errors import ValidationError
from maestro.core.tenancy import tenant_prefix

PROXY_SCHEME = "mlflow-artifacts:"
PRESIGN_SECONDS = 3600
MULTIPART_PART_LIMIT = 10_000  # S3's limit on parts per upload
MANIFEST_LIMIT = 200  # files of a model directory whose checksums a model version records
UNSAFE = re.compile(r"(^|/)\.\.(/|$)|\\|^/|^[a-zA-Z]:|%2e%2e", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # S3's XML listings cannot carry most control characters


def safe_path(path: str, field: str = "path") -> str:
    path = (path or "").strip()
    if UNSAFE.search(path):
        raise ValidationError(
            field, f"artifact path {path!r} must be relative and stay inside the artifact root"
        )
    if CONTROL.search(path):
        raise ValidationError(field, "artifact path must not contain control characters")
    return posixpath.normpath(path).lstrip("./") if path else ""


def default_experiment_location(experiment_id: str) -> str:
    return f"{PROXY_SCHEME}/experiments/{experiment_id}"


def check_location(location: str, bucket: str, tenant: str) -> str:
    """Explicit experiment locations: proxied paths, or s3:// (the client then writes with its own AWS
    credentials). Inside our artifacts bucket an s3:// location must stay under the tenant's prefix."""
    if location.startswith(PROXY_SCHEME):
        safe_path(location[len(PROXY_SCHEME) :].lstrip("/"), "artifact_location")
        return location.rstrip("/")
    if location.startswith("s3://"):
        target_bucket, _, key = location[5:].partition("/")
        if target_bucket == bucket and not (key.rstrip("/") + "/").startswith(tenant_prefix(tenant)):
            raise ValidationError(
                "artifact_location",
                f"locations in s3://{bucket} must be under s3://{bucket}/{tenant_prefix(tenant)}",
            )
        return location.rstrip("/")
    raise ValidationError("artifact_location", "use an s3:// or mlflow-artifacts:/ location")
