"""The rollout state machine's worker: advance, check and fail (the step is named in the payload)."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.delivery.steps import run


@lambda_entry(correlation_id_path="rollout.rollout_id")
def handler(event, context):
    return run(event)
