"""The explanation state machine's report step: the HTML report with its PNG plots (matplotlib, headless)."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.explain.steps import REPORT_STEPS, run


@lambda_entry(correlation_id_path="job.job_id")
def handler(event, context):
    return run(event, REPORT_STEPS)
