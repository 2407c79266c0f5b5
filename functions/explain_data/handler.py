"""The explanation state machine's data steps: prepare (read the CSV or Parquet dataset into feature
matrices) and report (the HTML report with its PNG plots, matplotlib headless). shap's stack is not here."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.explain.steps import DATA_STEPS, run


@lambda_entry(correlation_id_path="job.job_id")
def handler(event, context):
    return run(event, DATA_STEPS)
