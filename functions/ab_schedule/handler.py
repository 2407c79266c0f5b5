"""Scheduled A/B analysis (EventBridge schedule): analyzes every running experiment and emits its events;
concludes and promotes only where an experiment opted in."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths

from maestro.ab.schedule import analyze_running
from maestro.core.observability import lambda_entry


@lambda_entry(correlation_id_path=correlation_paths.EVENT_BRIDGE, platform_access=True)
def handler(event, context):
    return {"analyzed": analyze_running(event.get("id"))}
