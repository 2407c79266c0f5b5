"""Usage metering: every function's outcome lines (a CloudWatch Logs subscription) become per-tenant,
per-day usage; the hourly schedule measures storage, corrects drifted quota counters and writes yesterday's
billing export. Must never run on the request path: nothing a caller waits for goes through here."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.tenants.meter import measure, meter_logs


@lambda_entry(correlation_id_path=None, platform_access=True)
def handler(event, context):
    if "awslogs" in event:
        return meter_logs(event)
    return measure()  # the schedule's event
