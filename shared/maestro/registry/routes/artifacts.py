"""MLflow's proxied artifact routes (/api/2.0/mlflow-artifacts/...). Small uploads come through the function;
downloads redirect to presigned S3 URLs, and large uploads use presigned multipart parts, so API Gateway's
10 MB and Lambda's 6 MB payload limits never bite."""

from __future__ import annotations

import base64
import posixpath
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from maestro.core.api import MaestroResolver, requires
from maestro.core.api_docs import answers
from maestro.core.errors import PayloadTooLarge
from maestro.core.fields import ArtifactPath, Key, Text
from maestro.core.rbac import Permission as P
from maestro.registry.artifacts import MULTIPART_PART_LIMIT
from maestro.registry.protocol import services

Json = dict[str, Any]
PREFIX = "/api/2.0/mlflow-artifacts"
MAX_PROXIED_UPLOAD = 5 * 1024 * 1024  # below Lambda's 6 MB request payload, base64 included


# The greedy {artifact_path+} of API Gateway's proxy route: the rest of the URL, slashes included.
ArtifactPathParam = Annotated[
    ArtifactPath, Path(description="the artifact's path under the experiment's root")
]


class CreateMultipart(BaseModel):
    path: ArtifactPath  # the client's local file: its basename names the artifact in the URL's directory
    num_parts: int = Field(1, ge=1, le=MULTIPART_PART_LIMIT)


class Part(BaseModel):
    part_number: int = Field(ge=1, le=MULTIPART_PART_LIMIT)
    etag: Key
    url: Text | None = None


class CompleteMultipart(BaseModel):
    path: ArtifactPath
    upload_id: Key
    parts: list[Part] = Field(max_length=MULTIPART_PART_LIMIT)


class AbortMultipart(BaseModel):
    path: ArtifactPath
    upload_id: Key


def _file_in(directory: str, local_file: str) -> str:
    """MLflow's S3 repository keys a multipart upload as <directory>/<basename of the client's file>."""
    return posixpath.join(directory, posixpath.basename(local_file.replace("\\", "/")))


def register(router: MaestroResolver) -> None:
    @router.get(f"{PREFIX}/artifacts", summary="List artifacts under a path", **requires(P.EXPERIMENT_READ))
    def list_artifacts(
        path: Annotated[ArtifactPath | None, Query(description="the directory (default: the root)")] = None,
    ) -> Json:
        return {"files": services(router).artifacts.list_dir(path or "")}

    @router.get(
        f"{PREFIX}/artifacts/<artifact_path>",
        summary="Download an artifact (302 to a presigned S3 URL)",
        **requires(P.EXPERIMENT_READ),
        **answers(302),
    )
    def download_artifact(artifact_path: ArtifactPathParam) -> Response[str]:
        url = services(router).artifacts.download_url(artifact_path)
        return Response(status_code=302, content_type="text/plain", headers={"Location": url}, body="")

    @router.get(
        f"{PREFIX}/presigned/<artifact_path>",
        summary="A presigned download URL for an artifact",
        **requires(P.EXPERIMENT_READ),
    )
    def presigned_download(artifact_path: ArtifactPathParam) -> Json:
        artifacts = services(router).artifacts
        path = artifact_path
        size = artifacts.head(path)["ContentLength"]
        return {"url": artifacts.download_url(path), "headers": {}, "file_size": size}

    @router.put(
        f"{PREFIX}/artifacts/<artifact_path>",
        summary="Upload an artifact (up to 5 MB; larger files use multipart)",
        **requires(P.EXPERIMENT_WRITE),
    )
    def upload_artifact(artifact_path: ArtifactPathParam) -> Json:
        event = router.current_event
        raw = event.raw_event.get("body") or ""
        body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
        if len(body) > MAX_PROXIED_UPLOAD:
            raise PayloadTooLarge(
                f"{len(body)} bytes is more than a proxied upload takes ({MAX_PROXIED_UPLOAD}); set "
                "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true so the client uploads in presigned parts"
            )
        services(router).artifacts.put(artifact_path, body, event.headers.get("content-type"))
        return {}

    @router.delete(
        f"{PREFIX}/artifacts/<artifact_path>",
        summary="Delete an artifact or a directory",
        **requires(P.EXPERIMENT_DELETE),
    )
    def delete_artifact(artifact_path: ArtifactPathParam) -> Json:
        services(router).artifacts.delete(artifact_path)
        return {}

    @router.post(
        f"{PREFIX}/mpu/create/<artifact_path>",
        summary="Start a multipart upload: presigned URLs per part",
        **requires(P.EXPERIMENT_WRITE),
    )
    def create_multipart(artifact_path: ArtifactPathParam, body: CreateMultipart) -> Json:
        return services(router).artifacts.create_multipart(_file_in(artifact_path, body.path), body.num_parts)

    @router.post(
        f"{PREFIX}/mpu/complete/<artifact_path>",
        summary="Complete a multipart upload",
        **requires(P.EXPERIMENT_WRITE),
    )
    def complete_multipart(artifact_path: ArtifactPathParam, body: CompleteMultipart) -> Json:
        services(router).artifacts.complete_multipart(
            _file_in(artifact_path, body.path),
            body.upload_id,
            [p.model_dump() for p in body.parts],
        )
        return {}

    @router.post(
        f"{PREFIX}/mpu/abort/<artifact_path>",
        summary="Abort a multipart upload",
        **requires(P.EXPERIMENT_WRITE),
    )
    def abort_multipart(artifact_path: ArtifactPathParam, body: AbortMultipart) -> Json:
        services(router).artifacts.abort_multipart(_file_in(artifact_path, body.path), body.upload_id)
        return {}
