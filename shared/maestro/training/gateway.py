"""The training capability's AWS surface besides its table: SageMaker's training jobs (describe, stop) and
their logs in CloudWatch (/aws/sagemaker/TrainingJobs, a stream per host). The workflow itself creates the
jobs (its CreateTrainingJob task). Must never read another job's logs than the one named."""

from __future__ import annotations

from typing import Any

from maestro.core.aws import client

LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def create(request: dict[str, Any]) -> bool:
    """Creates the training job; False when it exists already (a retried step whose first attempt landed)."""
    try:
        client("sagemaker").create_training_job(**request)
    except Exception as exc:
        if "ResourceInUse" in str(exc):
            return False
        raise
    return True


def describe(name: str) -> dict[str, Any]:
    found: dict[str, Any] = client("sagemaker").describe_training_job(TrainingJobName=name)
    return found


def stop(name: str) -> bool:
    """Whether a stop was asked (False: the job has ended, or there is none)."""
    try:
        client("sagemaker").stop_training_job(TrainingJobName=name)
    except Exception as exc:
        if "ValidationException" in str(exc) or "not found" in str(exc).lower():
            return False
        raise
    return True


def log_lines(name: str, token: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The job's log lines, oldest first, from every host: [{host, timestamp, message}], the next token."""
    args: dict[str, Any] = {"logGroupName": LOG_GROUP, "logStreamNamePrefix": f"{name}/", "limit": limit}
    if token:
        args["nextToken"] = token
    try:
        page = client("logs").filter_log_events(**args)
    except Exception as exc:
        if "ResourceNotFound" in str(exc):
            return [], None
        raise
    lines = [
        {
            "host": e["logStreamName"].split("/", 1)[-1].rsplit("-", 1)[0],
            "timestamp": int(e["timestamp"]),
            "message": e["message"],
        }
        for e in page.get("events", [])
    ]
    return lines, page.get("nextToken")
