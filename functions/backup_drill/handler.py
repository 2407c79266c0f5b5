"""The restore drill's worker: start, check, verify and fail (the step is named in the payload)."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.platform.drill import run


@lambda_entry(correlation_id_path="execution", platform_access=True)
def handler(event, context):
    return run(event)
