"""The sweep state machine's worker: prepare, submit and check each trial, finish and fail."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.training.sweep_steps import run


@lambda_entry(correlation_id_path="sweep.sweep_id")
def handler(event, context):
    return run(event)
