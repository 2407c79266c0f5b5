"""The live reuse graph, from the registry's events on the bus (EventBridge rule): each event's run or version
is read as the registry holds it now, and its edges are kept at their earliest time."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.insights.incremental import on_event


@lambda_entry(correlation_id_path="detail.correlation_id")
def handler(event, context):
    return on_event(event)
