"""The training state machine's worker: prepare, poll, finish and fail (the step is named in the payload)."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.training.steps import run


@lambda_entry(correlation_id_path="job.job_id")
def handler(event, context):
    return run(event)
