"""The explanation state machine's worker: validate, plan, shard, extras, aggregate, complete and fail (the
step is named in the task's payload). shap and its stack load at the first step that needs them."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.explain.steps import run


@lambda_entry(correlation_id_path="job.job_id")
def handler(event, context):
    return run(event)
