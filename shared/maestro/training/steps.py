"""The training workflow's steps, one Lambda invocation each, run by the state machine:
prepare -> create -> [Wait -> (DescribeTrainingJob) -> poll] until the job ends -> finish, and fail from
every Catch. The job acts as the principal who submitted it: its run, metrics, logged model and
registered version are theirs, recorded through the registry's own rules (registry.interface.recorder).
Must never leave a job RUNNING once its SageMaker job has ended, nor a run RUNNING once its job has."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from typing import Any

from maestro.core.events import DomainEvent, publish_safely
from maestro.core.object_store import Objects
from maestro.core.settings import get_settings
from maestro.core.submissions import submitter
from maestro.core.workflow_gateway import failure_reason
from maestro.registry.interface import recorder
from maestro.tenants.counters import Counter
from maestro.training import gateway, role_gateway
from maestro.training.errors import TrainingError
from maestro.training.flavors import model_files
from maestro.training.spec import DEFAULT_IMAGE, TrainingJobRequest, passes
from maestro.training.store import LIVE, QUOTA, TrainingStore

FIRST_POLL_S, LONGEST_POLL_S = 2, 60
MAX_MODEL_BYTES = 512 * 1024**2  # copied into the run through this function's memory
LOG_TAIL_LINES = 20
ENDED_EARLY = {
    "MaxRuntimeExceeded": "it ran past max_runtime_s",
    "MaxWaitTimeExceeded": "it waited past max_wait_s",
}


class Job:
    def __init__(self, ref: dict[str, str], correlation_id: str | None = None) -> None:
        settings = get_settings()
        self.tenant, self.job_id = ref["tenant"], ref["job_id"]
        self.store = TrainingStore(settings.training_table, self.tenant)
        self.item = self.store.get(self.job_id)
        self.request = TrainingJobRequest.model_validate(self.item["request"])
        self.auth = submitter(self.item)
        self.correlation_id = correlation_id or self.job_id

    @property
    def name(self) -> str:
        return str(self.item["sagemaker_job"])

    def event(self, kind: str, **detail: Any) -> None:
        publish_safely(
            DomainEvent.by(
                self.auth, "training", kind, {"job_id": self.job_id, **detail}, self.correlation_id
            )
        )

    def end(self, status: str, **fields: Any) -> bool:
        return self.store.finish(self.job_id, status, Counter.of(self.auth, QUOTA), **fields)


# -- prepare: the run, its lineage, and SageMaker's request --------------------------------------------
def prepare(job: Job, _event: dict[str, Any]) -> dict[str, Any]:
    settings, r = get_settings(), job.request
    resolved = job.item["resolved"]
    source = resolved["source"]
    code_digest = _sha256_of(job.tenant, source["uri"])
    image = r.image or DEFAULT_IMAGE.format(region=settings.region)
    runs = recorder(job.auth, job.correlation_id)
    tags = {
        "mlflow.source.type": "JOB",
        "mlflow.source.name": r.entry_point,
        "mlflow.user": job.auth.principal,
        "maestro.training.job_id": job.job_id,
        "maestro.training.sagemaker_job": job.name,
        "maestro.training.image": image,
        "maestro.training.instance_type": r.instance_type,
        "maestro.training.instance_count": str(r.instance_count),
        "maestro.training.spot": str(r.spot).lower(),
        "maestro.training.code_uri": source["uri"],
        "maestro.training.code_digest": code_digest,
    }
    if job.item.get("sweep"):
        tags["maestro.training.sweep_id"] = job.item["sweep"]["sweep_id"]
    experiment_id, run_id = runs.start_run(
        r.experiment,
        r.run_name,
        dict(r.hyperparameters),
        tags,
        parent_run_id=(job.item.get("sweep") or {}).get("parent_run_id"),
    )
    runs.log_datasets(
        run_id,
        [
            {
                "name": name,
                "digest": channel["digest"],
                "source_type": "s3",
                "source": json.dumps({"uri": channel["uri"]}),
                "context": name,
            }
            for name, channel in sorted(resolved["channels"].items())
        ],
    )
    job.store.update(
        job.job_id,
        status="RUNNING",
        run_id=run_id,
        experiment_id=experiment_id,
        code_digest=code_digest,
        progress={"stage": "Starting", "elapsed_s": 0, "max_runtime_s": r.max_runtime_s},
    )
    job.event("TrainingStarted", run_id=run_id, sagemaker_job=job.name)
    request = {**_create_request(job, image), "RoleArn": role_gateway.ensure(job.tenant)}
    return {"request": request, "poll": {"seconds": FIRST_POLL_S, "count": 0}}


def _create_request(job: Job, image: str) -> dict[str, Any]:
    settings, r = get_settings(), job.request
    channels = job.item["resolved"]["channels"]
    hyperparameters = {
        k: json.dumps(v) if not isinstance(v, str) else v for k, v in r.hyperparameters.items()
    }
    # SageMaker's framework containers take the code from these two (the SageMaker SDK's convention).
    hyperparameters |= {
        "sagemaker_program": json.dumps(r.entry_point),
        "sagemaker_submit_directory": json.dumps(job.item["resolved"]["source"]["uri"]),
    }
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": r.max_runtime_s}
    if r.spot and r.max_wait_s:
        stopping["MaxWaitTimeInSeconds"] = r.max_wait_s
    output = f"s3://{settings.artifacts_bucket}/tenants/{job.tenant}/training/{job.job_id}"
    return {
        "TrainingJobName": job.name,
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": m.name, "Regex": m.pattern()} for m in r.metrics],
        },
        "HyperParameters": hyperparameters,
        "InputDataConfig": [
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": channels[name]["uri"],
                        "S3DataDistributionType": channel.distribution,
                    }
                },
            }
            for name, channel in sorted(r.channels.items())
        ],
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {
            "InstanceType": r.instance_type,
            "InstanceCount": r.instance_count,
            "VolumeSizeInGB": r.volume_gb,
        },
        "StoppingCondition": stopping,
        "EnableManagedSpotTraining": r.spot,
        "Environment": {"MAESTRO_TRAINING_JOB_ID": job.job_id},
        "Tags": [{"Key": "maestro:tenant", "Value": job.tenant}, {"Key": "maestro:job", "Value": job.job_id}],
    }


def _sha256_of(tenant: str, uri: str) -> str:
    bucket, _, key = uri[5:].partition("/")
    digest = hashlib.sha256()
    body = Objects.of_tenant(bucket, tenant).stream(key)
    for chunk in iter(lambda: body.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def create(job: Job, event: dict[str, Any]) -> dict[str, Any]:
    """SageMaker's CreateTrainingJob with the request prepare made (the tenant's own role in it)."""
    if job.item["status"] != "RUNNING":  # stopped before it started
        raise TrainingError(f"the job is {job.item['status']}: not started")
    return {"created": gateway.create(event["request"])}


# -- poll: progress and metrics so far ------------------------------------------------------------------
def poll(job: Job, event: dict[str, Any]) -> dict[str, Any]:
    described = gateway.describe(job.name)
    previous = event.get("poll") or {}
    count = int(previous.get("count", 0)) + 1
    if job.item["status"] in LIVE:
        if job.item.get("stop_requested") and described["TrainingJobStatus"] == "InProgress":
            gateway.stop(job.name)
        job.store.update(job.job_id, progress=_progress(job, described), metrics=_metrics(described))
    seconds = min(LONGEST_POLL_S, max(FIRST_POLL_S, int(previous.get("seconds", FIRST_POLL_S) * 1.5)))
    return {"seconds": seconds, "count": count}


def _progress(job: Job, described: dict[str, Any]) -> dict[str, Any]:
    transitions = described.get("SecondaryStatusTransitions") or []
    return {
        "stage": described.get("SecondaryStatus", "Starting"),
        "sagemaker_status": described["TrainingJobStatus"],
        "elapsed_s": int(described.get("TrainingTimeInSeconds") or 0),
        "max_runtime_s": job.request.max_runtime_s,
        "transitions": [{"status": t["Status"], "message": t.get("StatusMessage", "")} for t in transitions],
    }


def _metrics(described: dict[str, Any]) -> dict[str, float]:
    return {m["MetricName"]: float(m["Value"]) for m in described.get("FinalMetricDataList") or []}


# -- finish: what the job ended with ------------------------------------------------------------------------
def finish(job: Job, _event: dict[str, Any]) -> dict[str, Any]:
    described = gateway.describe(job.name)
    status, metrics = described["TrainingJobStatus"], _metrics(described)
    run_id = job.item.get("run_id")
    runs = recorder(job.auth, job.correlation_id)
    if run_id and metrics:
        runs.log_metrics(run_id, metrics)
    if status == "Completed":
        return _succeeded(job, described, metrics)
    secondary = described.get("SecondaryStatus", "")
    if status == "Stopped" and secondary not in ENDED_EARLY:
        by = job.item.get("stop_requested") or "SageMaker"
        stopped = {"error": "Stopped", "reason": f"stopped by {by}"}
        ended = job.end("STOPPED", progress=_progress(job, described), metrics=metrics, error=stopped)
        if run_id:
            runs.end_run(run_id, "KILLED")
        if ended:
            job.event("TrainingStopped", run_id=run_id)
        return {"status": "STOPPED"}
    reason = (
        ENDED_EARLY.get(secondary) or described.get("FailureReason") or f"SageMaker ended the job {status}"
    )
    error: dict[str, Any] = {
        "error": "TrainingFailed",
        "reason": str(reason)[:4000],
        "log_tail": _log_tail(job),
    }
    ended = job.end("FAILED", progress=_progress(job, described), metrics=metrics, error=error)
    if run_id:
        runs.end_run(run_id, "FAILED")
    if ended:
        job.event("TrainingFailed", run_id=run_id, reason=error["reason"][:500])
    return {"status": "FAILED"}


def _succeeded(job: Job, described: dict[str, Any], metrics: dict[str, float]) -> dict[str, Any]:
    run_id, r = str(job.item["run_id"]), job.request
    runs = recorder(job.auth, job.correlation_id)
    files = _model_archive(job, described["ModelArtifacts"]["S3ModelArtifacts"])
    files = model_files(r.model.flavor, r.model.file, files, described)
    model_id, source = runs.log_model(run_id, "model", files, r.model.flavor)
    model: dict[str, Any] = {
        "model_id": model_id,
        "uri": source,
        "artifact": described["ModelArtifacts"]["S3ModelArtifacts"],
    }
    if r.registration:
        ok, why = passes(r.registration.gate, metrics)
        model["registration"] = {
            "model": r.registration.model,
            "gate": r.registration.gate,
            "passed": ok,
            "why": why,
        }
        if ok:
            version = runs.register(
                r.registration.model, source, run_id, model_id, {"maestro.training.job_id": job.job_id}
            )
            model["registration"]["version"] = version
    runs.end_run(run_id, "FINISHED")
    if job.end("SUCCEEDED", progress=_progress(job, described), metrics=metrics, model=model):
        job.event("TrainingSucceeded", run_id=run_id, model_id=model_id, metrics=metrics)
        registration = model.get("registration") or {}
        if registration.get("version"):
            job.event(
                "ModelRegistered", name=registration["model"], version=registration["version"], run_id=run_id
            )
        elif registration:
            job.event("ModelRegistrationSkipped", name=registration["model"], why=registration["why"])
    return {"status": "SUCCEEDED"}


def _model_archive(job: Job, uri: str) -> dict[str, bytes]:
    """The files of model.tar.gz (path -> bytes), read with the tenant's credentials."""
    bucket, _, key = uri[5:].partition("/")
    objects = Objects.of_tenant(bucket, job.tenant)
    if int(objects.head(key)["ContentLength"]) > MAX_MODEL_BYTES:
        raise TrainingError(
            f"the model archive is larger than {MAX_MODEL_BYTES // 1024**2} MB: register it from {uri}"
        )
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(objects.get(key)), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    files[member.name.lstrip("./")] = handle.read()
    if not files:
        raise TrainingError("the job wrote no model: its model folder (SM_MODEL_DIR) was empty")
    return files


def _log_tail(job: Job) -> list[str]:
    lines: list[str] = []
    token = None
    for _ in range(20):
        page, token = gateway.log_lines(job.name, token, 1000)
        lines = (lines + [f"[{line['host']}] {line['message']}" for line in page])[-LOG_TAIL_LINES:]
        if not token:
            break
    return lines


# -- fail: every Catch lands here ----------------------------------------------------------------------------
def fail(job: Job, event: dict[str, Any]) -> dict[str, Any]:
    error = failure_reason(event.get("error") or {}, plain=("TrainingError",))
    if job.item["status"] == "RUNNING":
        gateway.stop(job.name)  # a SageMaker job whose workflow failed must not train on unobserved
    ended = job.end("FAILED", error=error)
    if job.item.get("run_id"):
        recorder(job.auth, job.correlation_id).end_run(str(job.item["run_id"]), "FAILED")
    if ended:
        job.event("TrainingFailed", run_id=job.item.get("run_id"), reason=error["reason"][:500])
    return {"status": "FAILED"}


STEPS = {"prepare": prepare, "create": create, "poll": poll, "finish": finish, "fail": fail}


def run(event: dict[str, Any]) -> Any:
    return STEPS[event["step"]](Job(event["job"]), event)
