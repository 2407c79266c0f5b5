"""The scheduled SLO check (EventBridge, every minute): probes, statuses, and the events that changed."""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools.logging import correlation_paths

from maestro.core.observability import lambda_entry
from maestro.sla.check import check_all
from maestro.sla.service import now_minute
from maestro.sla.slo import epoch_minute


@lambda_entry(correlation_id_path=correlation_paths.EVENT_BRIDGE, platform_access=True)
def handler(event, context):
    # The schedule's own time is the clock: a delayed invocation still checks the minute it was due for.
    at = event.get("time")
    minute = epoch_minute(datetime.fromisoformat(at.replace("Z", "+00:00"))) if at else now_minute()
    return {"checked": check_all(minute, event.get("id"))}
