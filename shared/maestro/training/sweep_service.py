"""Submitting, reading and stopping sweeps for one tenant. The trials are expanded and checked up front (the
template's bundle and channels too), the sweep workflow starts them. Must never leave a sweep SUBMITTED
without a workflow behind it."""

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
from maestro.training.service import TrainingService
from maestro.training.sources import locate
from maestro.training.store import LIVE, TrainingStore
from maestro.training.sweep_store import SweepStore
from maestro.training.sweeps import SweepRequest

HIDDEN = ("roles", "limits", "tenant", "gsi1pk", "gsi1sk")


@dataclass
class SweepService:
    store: SweepStore
    auth: AuthContext
    settings: Settings
    correlation_id: str | None = None

    def submit(self, request: SweepRequest) -> dict[str, Any]:
        bucket, tenant = self.settings.artifacts_bucket, self.auth.tenant
        job = request.job
        locate(job.source, bucket, tenant, "job.source").require_object("job.source")
        for name, channel in job.channels.items():
            locate(channel.s3_uri, bucket, tenant, f"job.channels.{name}.s3_uri").require_objects(
                f"job.channels.{name}.s3_uri", 10_000
            )
        combinations = request.combinations()
        sweep_id = "sw-" + uuid.uuid4().hex[:24]
        sweep = {
            "sweep_id": sweep_id,
            **submitted(self.auth, request.model_dump(mode="json")),
            "trials": {
                str(i): {"trial": i, "status": "PENDING", "hyperparameters": hps}
                for i, hps in enumerate(combinations)
            },
        }
        self.store.create(sweep)
        try:
            arn = workflows.start(
                self.settings.training_sweep_state_machine_arn, sweep_id, {"sweep": self.ref(sweep_id)}
            )
        except Exception as exc:
            self.store.finish(sweep_id, "FAILED", error={"error": "StartFailed", "reason": "submit again"})
            raise DependencyUnavailable("the sweep workflow could not be started; submit again") from exc
        self.store.update(sweep_id, execution_arn=arn)
        self._event("SweepSubmitted", sweep_id, trials=len(combinations))
        return self.get(sweep_id)

    def ref(self, sweep_id: str) -> dict[str, str]:
        return {"tenant": self.auth.tenant, "sweep_id": sweep_id}

    def get(self, sweep_id: str) -> dict[str, Any]:
        return shown(self.store.get(sweep_id))

    def list(self, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
        sweeps, next_key = self.store.page(limit, cursor)
        return [shown(s) for s in sweeps], next_key

    def stop(self, sweep_id: str) -> dict[str, Any]:
        """Ends the sweep STOPPED: no trial starts any more, and those running are stopped."""
        sweep = self.store.get(sweep_id)
        if sweep["status"] not in LIVE:
            raise Conflict(f"sweep {sweep_id} has ended ({sweep['status']})")
        self.store.finish(
            sweep_id, "STOPPED", error={"error": "Stopped", "reason": f"stopped by {self.auth.principal}"}
        )
        if sweep.get("execution_arn"):
            workflows.stop(sweep["execution_arn"], f"stopped by {self.auth.principal}")
        jobs = TrainingService(
            TrainingStore(self.settings.training_table, self.auth.tenant), self.auth, self.settings
        )
        for trial in sweep["trials"].values():
            if trial.get("job_id"):
                try:
                    jobs.stop(trial["job_id"])
                except Conflict:
                    continue  # it had ended
        self._event("SweepStopped", sweep_id)
        return self.get(sweep_id)

    def _event(self, kind: str, sweep_id: str, **detail: Any) -> None:
        publish_safely(
            DomainEvent.by(self.auth, "training", kind, {"sweep_id": sweep_id, **detail}, self.correlation_id)
        )


def shown(sweep: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in sweep.items() if k not in HIDDEN}
    out["trials"] = [sweep["trials"][k] for k in sorted(sweep.get("trials") or {}, key=int)]
    return out
