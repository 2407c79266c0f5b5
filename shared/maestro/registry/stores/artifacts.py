"""The tenant's proxied artifacts in S3 (the registry's S3 surface): small files through the API, large
transfers straight to S3 through presigned URLs, each upload counted against the tenant's storage quota.
Must never let a key leave tenants/<tenant>/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from maestro.core.aws import error_code, is_missing, presign, tenant_client
from maestro.core.errors import NotFound, QuotaExceeded, ValidationError
from maestro.core.fields import S3_KEY_BYTES
from maestro.core.tenancy import tenant_prefix
from maestro.registry.artifacts import MANIFEST_LIMIT, MULTIPART_PART_LIMIT, PRESIGN_SECONDS, safe_path
from maestro.tenants.counters import Counter


class ArtifactStore:
    """The tenant's proxied artifacts in S3. Large transfers go straight to S3 through presigned URLs."""

    def __init__(self, bucket: str, tenant: str, storage: Counter | None = None) -> None:
        self.bucket = bucket
        self.root = tenant_prefix(tenant) + "artifacts/"
        self.s3 = tenant_client(tenant, "s3")
        self.storage = storage  # the tenant's storage_bytes quota, when uploads are to count against it

    def key(self, path: str, field: str = "path") -> str:
        key = self.root + safe_path(path, field)
        if len(key.encode()) > S3_KEY_BYTES:
            raise ValidationError(
                field, f"artifact path is too long: its S3 key would pass {S3_KEY_BYTES} bytes"
            )
        return key

    def put(self, path: str, body: bytes, content_type: str | None) -> None:
        """S3 verifies and keeps the SHA-256 of what we send: explanation jobs load a model file only if
        its bytes still match it."""
        extra = {"ContentType": content_type} if content_type else {}
        self._reserve(len(body))  # before the bytes land: over the storage quota, nothing is written
        try:
            self.s3.put_object(
                Bucket=self.bucket, Key=self.key(path), Body=body, ChecksumAlgorithm="SHA256", **extra
            )
        except Exception:
            self._release(len(body))
            raise

    def _reserve(self, size: int) -> None:
        if self.storage is not None:
            self.storage.reserve(size)

    def _release(self, size: int) -> None:
        if self.storage is not None:
            self.storage.release(size)

    def head(self, path: str) -> dict[str, Any]:
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=self.key(path))
        except Exception as exc:
            if is_missing(exc):
                raise NotFound(f"artifact {path} does not exist") from exc
            raise

    def checksums(self, path: str, limit: int = MANIFEST_LIMIT) -> dict[str, str]:
        """Every file under a directory with the SHA-256 S3 keeps for it ("" when it was uploaded without
        one), read from object metadata: no object's bytes are fetched."""
        prefix = self.key(path).rstrip("/") + "/"
        out: dict[str, str] = {}
        paginator = self.s3.get_paginator("list_objects_v2")
        for response in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in response.get("Contents", []):
                if len(out) == limit:
                    return out
                head = self.s3.head_object(Bucket=self.bucket, Key=obj["Key"], ChecksumMode="ENABLED")
                out[obj["Key"][len(prefix) :]] = head.get("ChecksumSHA256", "")
        return out

    def download_url(self, path: str) -> str:
        self.head(path)
        return presign(self.s3, "get_object", {"Bucket": self.bucket, "Key": self.key(path)}, PRESIGN_SECONDS)

    def list_dir(self, path: str) -> list[dict[str, Any]]:
        """Immediate children of a directory, as MLflow lists them (paths relative to `path`)."""
        prefix = self.key(path).rstrip("/") + "/" if safe_path(path) else self.root
        files: list[dict[str, Any]] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for response in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in response.get("CommonPrefixes", []):
                files.append({"path": common["Prefix"][len(prefix) :].rstrip("/"), "is_dir": True})
            for obj in response.get("Contents", []):
                name = obj["Key"][len(prefix) :]
                if name:
                    files.append({"path": name, "is_dir": False, "file_size": obj["Size"]})
        return sorted(files, key=lambda f: f["path"])

    def delete(self, path: str) -> int:
        prefix = self.key(path)
        deleted = 0
        paginator = self.s3.get_paginator("list_objects_v2")
        for response in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            objects = [
                o
                for o in response.get("Contents", [])
                if o["Key"] == prefix or o["Key"].startswith(prefix.rstrip("/") + "/")
            ]
            if objects:
                self.s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": o["Key"]} for o in objects]}
                )
                self._release(sum(int(o["Size"]) for o in objects))
                deleted += len(objects)
        return deleted

    def create_multipart(self, path: str, num_parts: int) -> dict[str, Any]:
        if not 1 <= num_parts <= MULTIPART_PART_LIMIT:
            raise ValidationError("num_parts", f"must be between 1 and {MULTIPART_PART_LIMIT}")
        key = self.key(path)
        upload_id = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        credentials = [
            {
                "part_number": n,
                "url": presign(
                    self.s3,
                    "upload_part",
                    {"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": n},
                    PRESIGN_SECONDS,
                ),
                "headers": {},
            }
            for n in range(1, num_parts + 1)
        ]
        return {"upload_id": upload_id, "credentials": credentials}

    def complete_multipart(self, path: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        """The upload's exact size (its parts, as S3 lists them) counts against the storage quota before the
        object exists: over it, the upload is aborted and nothing is stored."""
        if not parts:
            raise ValidationError("parts", "at least one uploaded part is required")
        self._require_upload(path, upload_id)
        with no_such_upload(upload_id):
            size = self._uploaded_bytes(path, upload_id, {int(p["part_number"]) for p in parts})
        try:
            self._reserve(size)
        except QuotaExceeded:
            self.abort_multipart(path, upload_id)
            raise
        try:
            with no_such_upload(upload_id):
                self.s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=self.key(path),
                    UploadId=upload_id,
                    MultipartUpload={
                        "Parts": [{"PartNumber": int(p["part_number"]), "ETag": p["etag"]} for p in parts]
                    },
                )
        except Exception:
            self._release(size)
            raise

    def _uploaded_bytes(self, path: str, upload_id: str, numbers: set[int]) -> int:
        if self.storage is None:
            return 0
        paginator = self.s3.get_paginator("list_parts")
        pages = paginator.paginate(Bucket=self.bucket, Key=self.key(path), UploadId=upload_id)
        return sum(
            int(part["Size"])
            for page in pages
            for part in page.get("Parts", [])
            if part["PartNumber"] in numbers
        )

    def _require_upload(self, path: str, upload_id: str) -> None:
        """The upload must be one started for this very key under the tenant's prefix. S3 binds an upload id
        to its key; moto (local mode) looks the id up whatever the key, which would let a caller complete
        another key's upload by its id. One listing of this key's uploads makes both behave alike."""
        key = self.key(path)
        listed = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=key).get("Uploads", [])
        if not any(u["Key"] == key and u["UploadId"] == upload_id for u in listed):
            raise NotFound(
                f"multipart upload {upload_id} does not exist for {path} (completed or aborted already?)"
            )

    def abort_multipart(self, path: str, upload_id: str) -> None:
        self._require_upload(path, upload_id)
        with no_such_upload(upload_id):
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key(path), UploadId=upload_id)


@contextmanager
def no_such_upload(upload_id: str) -> Iterator[None]:
    """S3's NoSuchUpload (completed, aborted, or never started) as the caller's 404."""
    try:
        yield
    except Exception as exc:
        if error_code(exc) == "NoSuchUpload":
            raise NotFound(
                f"multipart upload {upload_id} does not exist (completed or aborted already?)"
            ) from exc
        raise
