"""Submitting and tracking explanation jobs for one tenant: validate up front (model, dataset, columns),
start the state machine once per distinct request, show status and progress, cancel, and hand out the
results. Must never start a second execution for a request that is already running or done, and never
leave a job that is SUBMITTED without an execution behind it."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from maestro.core import workflow_gateway as workflows
from maestro.core.auth import AuthContext
from maestro.core.aws import presign_seconds
from maestro.core.errors import Conflict, DependencyUnavailable, ValidationError
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.object_store import Objects
from maestro.core.settings import Settings
from maestro.explain import rows as rows_quota
from maestro.explain.files import PRESIGN_SECONDS, JobFiles, JobRef
from maestro.explain.sources import (
    MAX_DATASET_BYTES,
    ModelResolver,
    S3Object,
    check_columns,
    csv_header,
    dataset_format,
    head,
    tenant_object,
)
from maestro.explain.spec import ExplanationRequest
from maestro.explain.store import FINAL, RESTARTABLE, ExplainStore, now_iso
from maestro.explain.summary import summary as explained


def job_id_of(tenant: str, identity: dict[str, Any]) -> str:
    """Same tenant, model version (and its bytes), data (and its version) and parameters: same job."""
    canonical = json.dumps({"tenant": tenant, **identity}, sort_keys=True, separators=(",", ":"))
    return "exp-" + hashlib.sha256(canonical.encode()).hexdigest()[:24]


@dataclass
class ExplainService:
    store: ExplainStore
    auth: AuthContext
    settings: Settings
    correlation_id: str | None = None

    # -- submit --------------------------------------------------------------------------------------
    def submit(self, request: ExplanationRequest) -> tuple[dict[str, Any], bool]:
        """(job, created): an identical earlier request returns its job instead of starting another."""
        tenant, bucket = self.auth.tenant, self.settings.artifacts_bucket
        model = ModelResolver(self.settings.registry_table, bucket, tenant).resolve(
            request.model.name, request.model.version, request.model.alias
        )
        resolved: dict[str, Any] = {"model": model.to_json()}
        inline_csv = None
        if request.dataset.s3_uri is not None:
            dataset = self._dataset(request.dataset.s3_uri, "dataset.s3_uri")
            fmt = dataset_format(dataset.key, request.dataset.format)
            if fmt == "csv":
                check_columns(model.features, csv_header(tenant, dataset), request.dataset.target, "dataset")
            data_identity: Any = dataset.to_json()
        else:
            rows = request.dataset.rows or []
            columns = request.dataset.columns or [f"x{i}" for i in range(len(rows[0]))]
            check_columns(model.features, columns, request.dataset.target, "dataset")
            inline_csv = _csv(columns, rows)
            fmt, dataset, data_identity = "csv", None, hashlib.sha256(inline_csv).hexdigest()
        if request.background.s3_uri is not None:
            bg = self._dataset(request.background.s3_uri, "background.s3_uri")
            resolved |= {"background": bg.to_json(), "background_format": dataset_format(bg.key, None)}
        rows_quota.check(self.auth, request)
        parameters = request.model_dump(exclude={"model": True, "dataset": {"s3_uri", "rows"}})
        job_id = job_id_of(
            tenant,
            {
                "model": [model.name, model.version, model.files["model"].sha256],
                "data": data_identity,
                "background": resolved.get("background"),
                "parameters": parameters,
            },
        )
        ref = JobRef(tenant, job_id, 1)
        if inline_csv is not None:  # stored once per job id: the same rows give the same object
            key = JobFiles(bucket, ref).job_prefix + "input.csv"
            Objects.of_tenant(bucket, tenant).put(key, inline_csv, "text/csv")
            dataset = S3Object(bucket, key)
        assert dataset is not None
        resolved |= {"dataset": dataset.to_json(), "dataset_format": fmt}
        now = now_iso()
        job = {
            "job_id": job_id,
            "tenant": tenant,
            "principal": self.auth.principal,
            "status": "SUBMITTED",
            "attempt": 1,
            "created_at": now,
            "updated_at": now,
            "request": request.model_dump(mode="json"),
            "resolved": resolved,
        }
        if self.store.create(job):
            return self._start(job), True
        existing = self.store.get(job_id)
        if existing["status"] not in RESTARTABLE:
            return self.shown(existing), False
        return self._start(self.store.restart(job_id, int(existing["attempt"]))), True

    def _dataset(self, uri: str, field: str) -> S3Object:
        bucket, key = tenant_object(uri, self.settings.artifacts_bucket, self.auth.tenant, field)
        obj = head(self.auth.tenant, bucket, key, field)
        if obj.size > MAX_DATASET_BYTES:
            raise ValidationError(field, f"{obj.size} bytes is more than the {MAX_DATASET_BYTES} a job reads")
        if obj.size == 0:
            raise ValidationError(field, "the object is empty")
        return obj

    def _start(self, job: dict[str, Any]) -> dict[str, Any]:
        ref = JobRef(self.auth.tenant, job["job_id"], int(job["attempt"]))
        try:
            arn = workflows.start(
                self.settings.explain_state_machine_arn, f"{ref.job_id}-{ref.attempt}", {"job": ref.to_json()}
            )
        except Exception as exc:
            failed = {"error": "StartFailed", "reason": "the workflow could not be started; submit again"}
            self.store.finish(ref.job_id, ref.attempt, "FAILED", error=failed)
            raise DependencyUnavailable(
                "the explanation workflow could not be started; submit again"
            ) from exc
        job = self.store.set_execution(ref.job_id, ref.attempt, arn)
        publish_safely(
            DomainEvent.by(
                self.auth,
                "explain",
                "ExplanationSubmitted",
                {
                    "job_id": ref.job_id,
                    "attempt": ref.attempt,
                    "model": {
                        "name": job["resolved"]["model"]["name"],
                        "version": job["resolved"]["model"]["version"],
                    },
                    "method": job["request"]["method"],
                },
                self.correlation_id,
            )
        )
        return self.shown(job)

    # -- read ----------------------------------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any]:
        job = self.store.get(job_id)
        if job["status"] not in FINAL and job.get("execution_arn"):
            job = self._reconcile(job)
        return self.shown(job)

    def _reconcile(self, job: dict[str, Any]) -> dict[str, Any]:
        """A workflow that ended without reaching its own fail step (timed out, stopped by hand) must not
        leave its job RUNNING forever."""
        failure = workflows.failure(job["execution_arn"])
        if failure is None:
            return job
        ended = self.store.finish(job["job_id"], int(job["attempt"]), "FAILED", error=failure)
        return ended or self.store.get(job["job_id"])

    def shown(self, job: dict[str, Any]) -> dict[str, Any]:
        total: int | None = job.get("rows_total")
        done = sum(int(v) for v in (job.get("progress") or {}).values())
        if job["status"] == "SUCCEEDED" and total is not None:
            done = total  # every row, whatever the last progress update said
        out = {
            "job_id": job["job_id"],
            "status": job["status"],
            "attempt": job["attempt"],
            "created_at": job["created_at"],
            "updated_at": job.get("updated_at"),
            "finished_at": job.get("finished_at"),
            "model": {k: job["resolved"]["model"][k] for k in ("name", "version", "flavor")},
            "method": job["request"]["method"],
            "method_used": job.get("method_used"),
            "progress": {
                "rows_done": done,
                "rows_total": total,
                "shards_total": job.get("shards_total"),
                "percent": round(100.0 * done / total, 1) if total else 0.0,
            },
            "request": job["request"],
        }
        if job.get("error"):
            out["error"] = job["error"]
        if job.get("results"):
            out["results"] = {
                name: f"s3://{self.settings.artifacts_bucket}/{key}" for name, key in job["results"].items()
            }
        return out

    def list(
        self, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], Any]:
        jobs, next_key = self.store.list(status, limit, cursor)
        return [self.shown(j) for j in jobs], next_key

    def links(self, job_id: str) -> dict[str, Any]:
        job = self.store.get(job_id)
        if job["status"] != "SUCCEEDED":
            raise Conflict(f"explanation job {job_id} is {job['status']}; results exist once it SUCCEEDED")
        files = JobFiles(
            self.settings.artifacts_bucket, JobRef(self.auth.tenant, job_id, int(job["attempt"]))
        )
        return {
            "job_id": job_id,
            "expires_in": presign_seconds(PRESIGN_SECONDS),
            "files": {name: files.presigned(key) for name, key in job["results"].items()},
        }

    def summary(self, job_id: str, row: int | None, output: int | None) -> dict[str, Any]:
        job = self.shown(self.store.get(job_id))
        files = JobFiles(
            self.settings.artifacts_bucket, JobRef(self.auth.tenant, job_id, int(job["attempt"]))
        )
        return explained(job, files, row, output)

    def cancel(self, job_id: str) -> dict[str, Any]:
        job = self.store.cancel(job_id)
        rows_quota.release(self.auth.tenant, job)
        if job.get("execution_arn"):
            workflows.stop(job["execution_arn"], "cancelled by user")
        publish_safely(
            DomainEvent.by(
                self.auth, "explain", "ExplanationCancelled", {"job_id": job_id}, self.correlation_id
            )
        )
        return self.shown(job)


def _csv(columns: list[str], rows: list[list[float]]) -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([repr(float(v)) for v in row] for row in rows)
    return buffer.getvalue().encode()
