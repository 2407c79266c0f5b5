"""A monitoring check's report: HTML with the verdict, each column's test and a PNG of the reference's and
the window's distributions, written under the tenant's prefix (this function carries matplotlib)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from maestro.core.api import PathKey, create_app, requires
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.monitoring.api import service
from maestro.tenants.admission import admit

app = create_app("monitoring", admission=admit)
Json = dict


@app.post(
    "/monitoring/monitors/<monitor_id>/report",
    summary="Render a check's report (the latest by default): HTML and a PNG per column",
    **requires(P.MONITORING_READ),
)
def report(
    monitor_id: PathKey,
    checked_at: Annotated[int | None, Query(ge=0, le=10**15, description="the check's checked_at")] = None,
) -> Json:
    return service(app).report(monitor_id, checked_at)


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
