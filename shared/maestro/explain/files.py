"""A job attempt's objects in S3, under the tenant's prefix: prepared arrays, shard outputs, results and
the report. Must never write outside tenants/<tenant>/explanations/<job>/<attempt>/."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from maestro.core.aws import is_missing, presign, tenant_client
from maestro.core.tenancy import tenant_prefix

PRESIGN_SECONDS = 3600


@dataclass(frozen=True)
class JobRef:
    tenant: str
    job_id: str
    attempt: int

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> JobRef:
        job = event["job"]
        return cls(job["tenant"], job["job_id"], int(job["attempt"]))

    def to_json(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "job_id": self.job_id, "attempt": self.attempt}


class JobFiles:
    def __init__(self, bucket: str, ref: JobRef) -> None:
        self.bucket = bucket
        self.job_prefix = f"{tenant_prefix(ref.tenant)}explanations/{ref.job_id}/"
        self.root = f"{self.job_prefix}{ref.attempt}/"
        self.s3 = tenant_client(ref.tenant, "s3")

    def key(self, name: str) -> str:
        return self.root + name

    def put(self, name: str, body: bytes, content_type: str = "application/octet-stream") -> str:
        self.s3.put_object(Bucket=self.bucket, Key=self.key(name), Body=body, ContentType=content_type)
        return self.key(name)

    def get(self, name: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()
        return body

    def exists(self, name: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self.key(name))
        except Exception as exc:
            if is_missing(exc):
                return False
            raise
        return True

    def put_json(self, name: str, data: Any) -> str:
        return self.put(name, json.dumps(data, indent=1).encode(), "application/json")

    def get_json(self, name: str) -> Any:
        return json.loads(self.get(name))

    def put_arrays(self, name: str, **arrays: Any) -> str:
        import numpy as np

        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return self.put(name, buffer.getvalue())

    def get_arrays(self, name: str) -> dict[str, Any]:
        import numpy as np

        with np.load(io.BytesIO(self.get(name)), allow_pickle=False) as loaded:
            return {k: loaded[k] for k in loaded.files}

    def presigned(self, key: str) -> str:
        return presign(self.s3, "get_object", {"Bucket": self.bucket, "Key": key}, PRESIGN_SECONDS)
