"""The sweep workflow's steps, one Lambda invocation each: prepare (the parent run) -> per trial, in a Map:
submit (a training job, once a slot and the tenant's quota allow) then check until it ends -> finish (the
best trial registered, the parent run ended) and fail from every Catch. Trials act as the principal who
submitted the sweep. Must never let a trial hold a slot after its job ended."""

from __future__ import annotations

from typing import Any

from maestro.core.errors import QuotaExceeded
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.settings import get_settings
from maestro.core.submissions import submitter
from maestro.core.workflow_gateway import failure_reason
from maestro.registry.interface import recorder
from maestro.training.service import TrainingService
from maestro.training.spec import TrainingJobRequest, passes
from maestro.training.store import FINAL, TrainingStore
from maestro.training.sweep_store import SweepStore
from maestro.training.sweeps import SweepRequest, best

FIRST_CHECK_S, LONGEST_CHECK_S, QUOTA_RETRY_S = 2, 60, 15


class Sweep:
    def __init__(self, ref: dict[str, str]) -> None:
        settings = get_settings()
        self.tenant, self.sweep_id = ref["tenant"], ref["sweep_id"]
        self.store = SweepStore(settings.training_table, self.tenant)
        self.item = self.store.get(self.sweep_id)
        self.request = SweepRequest.model_validate(self.item["request"])
        self.auth = submitter(self.item)
        self.jobs = TrainingService(
            TrainingStore(settings.training_table, self.tenant), self.auth, settings, self.sweep_id
        )

    def event(self, kind: str, **detail: Any) -> None:
        publish_safely(
            DomainEvent.by(self.auth, "training", kind, {"sweep_id": self.sweep_id, **detail}, self.sweep_id)
        )


def prepare(sweep: Sweep, _event: dict[str, Any]) -> dict[str, Any]:
    job = sweep.request.job
    tags = {
        "maestro.training.sweep_id": sweep.sweep_id,
        "maestro.training.objective": sweep.request.objective.metric,
    }
    _, run_id = recorder(sweep.auth, sweep.sweep_id).start_run(
        job.experiment, job.run_name or f"sweep-{sweep.sweep_id[3:11]}", {}, tags
    )
    sweep.store.update(sweep.sweep_id, status="RUNNING", parent_run_id=run_id)
    return {"trials": [{"index": int(i)} for i in sorted(sweep.item["trials"], key=int)]}


def submit(sweep: Sweep, event: dict[str, Any]) -> dict[str, Any]:
    index = int(event["trial"]["index"])
    if sweep.item["status"] not in ("SUBMITTED", "RUNNING"):
        return {"index": index, "done": True}
    if not sweep.store.take_slot(sweep.sweep_id, index, sweep.request.max_parallel):
        return {"index": index, "seconds": QUOTA_RETRY_S}
    trial = sweep.item["trials"][str(index)]
    template = sweep.request.job.model_dump(mode="json")
    spec = TrainingJobRequest.model_validate(
        {
            **template,
            "hyperparameters": {**template["hyperparameters"], **trial["hyperparameters"]},
            "run_name": f"trial-{index}",
        }
    )
    context = {"sweep_id": sweep.sweep_id, "parent_run_id": sweep.item["parent_run_id"], "trial": index}
    try:
        job = sweep.jobs.submit(spec, sweep=context)
    except QuotaExceeded:  # training_jobs_concurrent: wait for a running job to end
        sweep.store.give_slot_back(sweep.sweep_id, index)
        return {"index": index, "seconds": QUOTA_RETRY_S}
    sweep.store.set_trial(sweep.sweep_id, index, job_id=job["job_id"], status="STARTED")
    return {"index": index, "job_id": job["job_id"], "seconds": FIRST_CHECK_S}


def check(sweep: Sweep, event: dict[str, Any]) -> dict[str, Any]:
    trial = event["trial"]
    job = sweep.jobs.get(trial["job_id"])
    if job["status"] not in FINAL:
        return {**trial, "seconds": min(LONGEST_CHECK_S, int(trial.get("seconds", FIRST_CHECK_S) * 1.5) + 1)}
    sweep.store.end_trial(
        sweep.sweep_id,
        int(trial["index"]),
        status=job["status"],
        metrics=job.get("metrics") or {},
        model_id=(job.get("model") or {}).get("model_id"),
        run_id=job.get("run_id"),
    )
    return {**trial, "done": True}


def finish(sweep: Sweep, _event: dict[str, Any]) -> dict[str, Any]:
    trials = list(sweep.item["trials"].values())
    winner = best(trials, sweep.request.objective)
    runs = recorder(sweep.auth, sweep.sweep_id)
    parent = sweep.item["parent_run_id"]
    if winner is None:
        error = {
            "error": "NoTrialSucceeded",
            "reason": f"no trial succeeded with a {sweep.request.objective.metric}",
        }
        if sweep.store.finish(sweep.sweep_id, "FAILED", error=error):
            runs.end_run(parent, "FAILED")
            sweep.event("SweepFailed", reason=error["reason"])
        return {"status": "FAILED"}
    metric = sweep.request.objective.metric
    runs.log_metrics(parent, {f"best_{metric}": float(winner["metrics"][metric])})
    runs.set_tags(
        parent,
        {
            "maestro.training.best_trial": str(winner["trial"]),
            "maestro.training.best_run_id": str(winner["run_id"]),
        },
    )
    result: dict[str, Any] = {k: winner[k] for k in ("trial", "run_id", "metrics", "hyperparameters")}
    register = sweep.request.registration
    if register:
        ok, why = passes(register.gate, winner["metrics"])
        result["registration"] = {"model": register.model, "gate": register.gate, "passed": ok, "why": why}
        if ok:
            version = runs.register(
                register.model,
                f"models:/{winner['model_id']}",
                winner["run_id"],
                winner["model_id"],
                {"maestro.training.sweep_id": sweep.sweep_id},
            )
            result["registration"]["version"] = version
    runs.end_run(parent, "FINISHED")
    if sweep.store.finish(sweep.sweep_id, "SUCCEEDED", best=result):
        sweep.event("SweepSucceeded", best_trial=winner["trial"], metrics=winner["metrics"])
        if (result.get("registration") or {}).get("version"):
            sweep.event(
                "ModelRegistered",
                name=register.model if register else "",
                version=result["registration"]["version"],
            )
    return {"status": "SUCCEEDED"}


def fail(sweep: Sweep, event: dict[str, Any]) -> dict[str, Any]:
    error = failure_reason(event.get("error") or {})
    if sweep.store.finish(sweep.sweep_id, "FAILED", error=error):
        if sweep.item.get("parent_run_id"):
            recorder(sweep.auth, sweep.sweep_id).end_run(sweep.item["parent_run_id"], "FAILED")
        sweep.event("SweepFailed", reason=error["reason"][:500])
    return {"status": "FAILED"}


STEPS = {"prepare": prepare, "submit": submit, "check": check, "finish": finish, "fail": fail}


def run(event: dict[str, Any]) -> Any:
    return STEPS[event["step"]](Sweep(event["sweep"]), event)
