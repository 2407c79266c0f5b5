"""The graph backfill workflow's steps (start, walk, finish, fail; named in the task's payload). Must never
run but for a backfill the insights API recorded: it starts the workflow only then."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.insights.backfill import run


@lambda_entry(correlation_id_path="backfill.backfill_id")
def handler(event, context):
    return run(event)
