"""Submitting and tracking training jobs for one tenant: the spec checked up front (its bundle and every
channel exist under the tenant's prefix), counted against training_jobs_concurrent, and its workflow
started; status with progress and metrics so far, the job's log lines from every host, and stopping. The
work runs in the training state machine (training.steps). Must never leave a job SUBMITTED without a
workflow behind it, nor hold its quota after it ended."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from maestro.core import workflow_gateway as workflows
from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict, DependencyUnavailable
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.settings import Settings
from maestro.core.submissions import submitted
from maestro.tenants.counters import Counter
from maestro.training import gateway
from maestro.training.sources import locate
from maestro.training.spec import TrainingJobRequest
from maestro.training.store import LIVE, QUOTA, TrainingStore

MAX_CHANNEL_OBJECTS = 10_000


def sagemaker_name(job_id: str) -> str:
    return f"maestro-{job_id}"


@dataclass
class TrainingService:
    store: TrainingStore
    auth: AuthContext
    settings: Settings
    correlation_id: str | None = None

    def submit(self, request: TrainingJobRequest, sweep: dict[str, Any] | None = None) -> dict[str, Any]:
        tenant, bucket = self.auth.tenant, self.settings.artifacts_bucket
        source = locate(request.source, bucket, tenant, "source")
        source.require_object("source")
        channels = {
            name: locate(c.s3_uri, bucket, tenant, f"channels.{name}.s3_uri").require_objects(
                f"channels.{name}.s3_uri", MAX_CHANNEL_OBJECTS
            )
            for name, c in request.channels.items()
        }
        job_id = "tj-" + uuid.uuid4().hex[:24]
        job: dict[str, Any] = {
            "job_id": job_id,
            **submitted(self.auth, request.model_dump(mode="json")),
            "resolved": {
                "source": source.to_json(),
                "channels": {n: c.to_json() for n, c in channels.items()},
            },
            "sagemaker_job": sagemaker_name(job_id),
            "progress": {"stage": "SUBMITTED"},
            "metrics": {},
        }
        if sweep:
            job["sweep"] = sweep
        self.store.create(job, Counter.of(self.auth, QUOTA))
        try:
            arn = workflows.start(self.settings.training_state_machine_arn, job_id, {"job": self.ref(job_id)})
        except Exception as exc:
            self._end(
                job_id,
                "FAILED",
                {"error": "StartFailed", "reason": "the workflow could not start; submit again"},
            )
            raise DependencyUnavailable("the training workflow could not be started; submit again") from exc
        shown = self.store.update(job_id, execution_arn=arn) if self._live(job_id) else self.store.get(job_id)
        self._event("TrainingSubmitted", shown)
        return self.shown(shown)

    def ref(self, job_id: str) -> dict[str, str]:
        return {"tenant": self.auth.tenant, "job_id": job_id}

    def _live(self, job_id: str) -> bool:
        return self.store.get(job_id)["status"] in LIVE

    def _end(self, job_id: str, status: str, error: dict[str, Any] | None = None) -> bool:
        fields = {"error": error} if error else {}
        return self.store.finish(job_id, status, Counter.of(self.auth, QUOTA), **fields)

    # -- reading ------------------------------------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any]:
        """The job; one whose workflow ended without ending it (a failure no Catch can take) ends FAILED."""
        job = self.store.get(job_id)
        if job["status"] in LIVE and job.get("execution_arn"):
            failed = workflows.failure(job["execution_arn"])
            if failed and self._end(job_id, "FAILED", failed):
                gateway.stop(job["sagemaker_job"])
                job = self.store.get(job_id)
        return self.shown(job)

    def list(
        self, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], Any]:
        jobs, next_key = self.store.page(status, limit, cursor)
        return [self.shown(j) for j in jobs], next_key

    def logs(self, job_id: str, token: str | None, limit: int) -> dict[str, Any]:
        job = self.store.get(job_id)
        lines, next_token = gateway.log_lines(job["sagemaker_job"], token, limit)
        return {"job_id": job_id, "status": job["status"], "lines": lines, "next_token": next_token}

    @staticmethod
    def shown(job: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in job.items() if k not in ("roles", "limits", "resolved", "tenant")}

    # -- stopping -----------------------------------------------------------------------------------------
    def stop(self, job_id: str) -> dict[str, Any]:
        """A job that has not started training ends STOPPED now; a training one is asked to stop and ends
        STOPPED when SageMaker says it has (its workflow sees to that)."""
        job = self.store.get(job_id)
        if job["status"] not in LIVE:
            raise Conflict(f"training job {job_id} has ended ({job['status']})")
        if job["status"] == "SUBMITTED":
            if self._end(
                job_id, "STOPPED", {"error": "Stopped", "reason": f"stopped by {self.auth.principal}"}
            ):
                if job.get("execution_arn"):
                    workflows.stop(job["execution_arn"], f"stopped by {self.auth.principal}")
                self._event("TrainingStopped", job)
                return self.get(job_id)
            job = self.store.get(job_id)  # it started meanwhile
        self.store.update(job_id, stop_requested=self.auth.principal)
        gateway.stop(job["sagemaker_job"])
        return self.get(job_id)

    def _event(self, kind: str, job: dict[str, Any]) -> None:
        detail = {"job_id": job["job_id"], "status": job["status"]}
        publish_safely(DomainEvent.by(self.auth, "training", kind, detail, self.correlation_id))
