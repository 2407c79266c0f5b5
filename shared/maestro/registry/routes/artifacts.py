"""MLflow's proxied artifact routes (/api/2.0/mlflow-artifacts/...). Small uploads come through the function;
downloads redirect to presigned S3 URLs, and large uploads use presigned multipart parts, so API Gateway's
10 MB and Lambda's 6 MB payload limits never bite."""

from __future__ import annotations

import base64
import posixpath
from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from maestro.core.api import MaestroResolver, requires
from maestro.core.errors import DomainError
from maestro.core.rbac import Permission as P
from maestro.registry.protocol import first, query, services

Json = dict[str, Any]
PREFIX = "/api/2.0/mlflow-artifacts"
MAX_PROXIED_UPLOAD = 5 * 1024 * 1024  # below Lambda's 6 MB request payload, base64 included


class PayloadTooLarge(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class CreateMultipart(BaseModel):
    path: str  # the client's local file: its basename names the artifact in the URL's directory
    num_parts: int = 1


class Part(BaseModel):
    part_number: int
    etag: str
    url: str | None = None


class CompleteMultipart(BaseModel):
    path: str
    upload_id: str
    parts: list[Part]


class AbortMultipart(BaseModel):
    path: str
    upload_id: str


def _file_in(directory: str, local_file: str) -> str:
    """MLflow's S3 repository keys a multipart upload as <directory>/<basename of the client's file>."""
    return posixpath.join(directory, posixpath.basename(local_file.replace("\\", "/")))


def register(router: MaestroResolver) -> None:
    """Defines the routes on `app` itself: a shared module-level Router would be rebound by every app
    that includes it, and the local runtime hosts several apps (environments) in one process."""

    def _path(after: str) -> str:
        return router.current_event.path.split(after, 1)[1].lstrip("/")

    @router.get(f"{PREFIX}/artifacts", summary="List artifacts under a path", **requires(P.EXPERIMENT_READ))
    def list_artifacts() -> Json:
        return {"files": services(router).artifacts.list_dir(first(query(router), "path") or "")}

    @router.get(
        f"{PREFIX}/artifacts/.+",
        summary="Download an artifact (302 to a presigned S3 URL)",
        **requires(P.EXPERIMENT_READ),
    )
    def download_artifact() -> Response[str]:
        url = services(router).artifacts.download_url(_path(f"{PREFIX}/artifacts/"))
        return Response(status_code=302, headers={"Location": url}, body="")

    @router.get(
        f"{PREFIX}/presigned/.+",
        summary="A presigned download URL for an artifact",
        **requires(P.EXPERIMENT_READ),
    )
    def presigned_download() -> Json:
        artifacts = services(router).artifacts
        path = _path(f"{PREFIX}/presigned/")
        size = artifacts.head(path)["ContentLength"]
        return {"url": artifacts.download_url(path), "headers": {}, "file_size": size}

    @router.put(
        f"{PREFIX}/artifacts/.+",
        summary="Upload an artifact (up to 5 MB; larger files use multipart)",
        **requires(P.EXPERIMENT_WRITE),
    )
    def upload_artifact() -> Json:
        event = router.current_event
        raw = event.raw_event.get("body") or ""
        body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
        if len(body) > MAX_PROXIED_UPLOAD:
            raise PayloadTooLarge(
                f"{len(body)} bytes is more than a proxied upload takes ({MAX_PROXIED_UPLOAD}); set "
                "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true so the client uploads in presigned parts"
            )
        services(router).artifacts.put(_path(f"{PREFIX}/artifacts/"), body, event.headers.get("content-type"))
        return {}

    @router.delete(
        f"{PREFIX}/artifacts/.+", summary="Delete an artifact or a directory", **requires(P.EXPERIMENT_DELETE)
    )
    def delete_artifact() -> Json:
        services(router).artifacts.delete(_path(f"{PREFIX}/artifacts/"))
        return {}

    @router.post(
        f"{PREFIX}/mpu/create/.+",
        summary="Start a multipart upload: presigned URLs per part",
        **requires(P.EXPERIMENT_WRITE),
    )
    def create_multipart(body: CreateMultipart) -> Json:
        return services(router).artifacts.create_multipart(
            _file_in(_path(f"{PREFIX}/mpu/create/"), body.path), body.num_parts
        )

    @router.post(
        f"{PREFIX}/mpu/complete/.+", summary="Complete a multipart upload", **requires(P.EXPERIMENT_WRITE)
    )
    def complete_multipart(body: CompleteMultipart) -> Json:
        services(router).artifacts.complete_multipart(
            _file_in(_path(f"{PREFIX}/mpu/complete/"), body.path),
            body.upload_id,
            [p.model_dump() for p in body.parts],
        )
        return {}

    @router.post(f"{PREFIX}/mpu/abort/.+", summary="Abort a multipart upload", **requires(P.EXPERIMENT_WRITE))
    def abort_multipart(body: AbortMultipart) -> Json:
        services(router).artifacts.abort_multipart(
            _file_in(_path(f"{PREFIX}/mpu/abort/"), body.path), body.upload_id
        )
        return {}
