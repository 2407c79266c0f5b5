"""The tenant deletion workflow's steps (start, sweep, finish, fail; named in the task's payload).
Must never run for a tenant that was not set to deleting first: the tenants API starts it only then."""

from __future__ import annotations

from maestro.core.observability import lambda_entry
from maestro.tenants.purge import run


@lambda_entry(correlation_id_path="purge.tenant", platform_access=True)
def handler(event, context):
    return run(event)
