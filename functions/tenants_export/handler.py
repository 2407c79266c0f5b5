"""The tenant export workflow's steps (start, walk, finish, fail; named in the task's payload). Must never
run but for an export the tenants API recorded: it starts the workflow only then."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.tenants.export import run


@lambda_entry(correlation_id_path="export.tenant", platform_access=True)
def handler(event, context):
    return run(event)
