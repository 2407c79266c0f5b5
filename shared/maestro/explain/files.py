"""A job attempt's objects in S3, under the tenant's prefix: prepared arrays, shard outputs, results and
the report. Must never write outside tenants/<tenant>/explanations/<job>/<attempt>/."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from maestro.core.object_store import Objects
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
        self.objects = Objects.of_tenant(bucket, ref.tenant)

    def key(self, name: str) -> str:
        return self.root + name

    def put(self, name: str, body: bytes, content_type: str = "application/octet-stream") -> str:
        self.objects.put(self.key(name), body, content_type)
        return self.key(name)

    def get(self, name: str) -> bytes:
        return self.objects.get(self.key(name))

    def exists(self, name: str) -> bool:
        return self.objects.exists(self.key(name))

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
        return self.objects.presigned_get(key, PRESIGN_SECONDS)
