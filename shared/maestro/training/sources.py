"""Where a training job's code and data are: s3:// URIs in the artifacts bucket under the tenant's prefix,
or mlflow-artifacts:/ paths (the tenant's proxied artifacts), checked to exist with the tenant's
credentials, and their digests (the lineage a run records). Must never accept a location outside the
tenant's prefix."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from maestro.core.aws import error_code, is_missing
from maestro.core.errors import ValidationError
from maestro.core.object_store import Objects
from maestro.core.tenancy import tenant_prefix
from maestro.registry.interface import PROXY_SCHEME, safe_path


@dataclass(frozen=True)
class Located:
    bucket: str
    key: str  # an object's key, or a prefix
    tenant: str
    digest: str = ""
    objects: int = 0

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def to_json(self) -> dict[str, Any]:
        return {"uri": self.uri, "digest": self.digest, "objects": self.objects}

    def require_object(self, field: str) -> Located:
        try:
            Objects.of_tenant(self.bucket, self.tenant).head(self.key)
        except Exception as exc:
            if is_missing(exc) or error_code(exc) in ("403", "AccessDenied"):
                raise ValidationError(
                    field, f"{self.uri} cannot be read ({error_code(exc) or 'missing'})"
                ) from exc
            raise
        return self

    def require_objects(self, field: str, limit: int) -> Located:
        """The objects under the prefix (at most `limit`), with a digest of their keys, sizes and ETags."""
        found = Objects.of_tenant(self.bucket, self.tenant).listing(self.key, limit)
        if not found:
            raise ValidationError(field, f"no objects under {self.uri}")
        if len(found) > limit:
            raise ValidationError(
                field, f"more than {limit:,} objects under {self.uri}: name a narrower prefix"
            )
        lines = "\n".join(f"{o['Key'][len(self.key) :]}\t{o['Size']}\t{o['ETag']}" for o in found)
        return Located(
            self.bucket, self.key, self.tenant, hashlib.sha256(lines.encode()).hexdigest()[:16], len(found)
        )


def locate(uri: str, bucket: str, tenant: str, field: str) -> Located:
    prefix = tenant_prefix(tenant)
    if uri.startswith(PROXY_SCHEME):
        path = safe_path(uri[len(PROXY_SCHEME) :].lstrip("/"), field)
        if not path:
            raise ValidationError(field, "names no artifact path")
        return Located(bucket, f"{prefix}artifacts/{path}", tenant)
    if not uri.startswith("s3://"):
        raise ValidationError(field, "must be an s3:// URI or an mlflow-artifacts:/ path")
    target, _, key = uri[5:].partition("/")
    rest = key[len(prefix) :]
    if (
        target != bucket
        or not key.startswith(prefix)
        or not rest.strip("/")
        or safe_path(rest, field) != rest.rstrip("/")
    ):
        raise ValidationError(field, f"must be under s3://{bucket}/{prefix}")
    return Located(bucket, key, tenant)
