"""The scheduled checks: every tenant's monitors, each checked on its window (hourly, from an EventBridge
schedule). One monitor failing does not stop the others; it is logged and counted."""

from __future__ import annotations

from maestro.core.aws import platform_access
from maestro.core.observability import lambda_entry
from maestro.monitoring.schedule import check_all


@lambda_entry()
def handler(event, context):
    with platform_access():
        return check_all()
