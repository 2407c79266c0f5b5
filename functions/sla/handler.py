"""SLO definitions (create, list, read, replace, delete; each change an event), an SLO's status now or at a
past moment, and its error budget's history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from maestro.core.api import PathKey, create_app, requires
from maestro.core.api_docs import answers
from maestro.core.fields import Moment
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.sla.api import service
from maestro.sla.service import now_minute
from maestro.sla.slo import SloSpec, epoch_minute
from maestro.tenants.admission import admit

app = create_app("sla", admission=admit)
Json = dict


@app.post("/sla/slos", summary="Define an SLO", **requires(P.SLA_WRITE), **answers(201))
def create(spec: SloSpec) -> Response[Json]:
    return Response(201, content_types.APPLICATION_JSON, service(app).create(spec))


@app.get("/sla/slos", summary="List the tenant's SLOs", **requires(P.SLA_READ))
def list_slos() -> Json:
    return {"slos": service(app).store.list_slos()}


@app.get("/sla/slos/<slo_id>", summary="Get an SLO", **requires(P.SLA_READ))
def get(slo_id: PathKey) -> Json:
    return service(app).store.get_slo(slo_id)


@app.put("/sla/slos/<slo_id>", summary="Replace an SLO's definition", **requires(P.SLA_WRITE))
def update(slo_id: PathKey, spec: SloSpec) -> Json:
    return service(app).update(slo_id, spec)


@app.delete("/sla/slos/<slo_id>", summary="Delete an SLO (its observations stay)", **requires(P.SLA_WRITE))
def delete(slo_id: PathKey) -> Json:
    service(app).delete(slo_id)
    return {"slo_id": slo_id, "deleted": True}


@app.get(
    "/sla/slos/<slo_id>/status",
    summary="Attainment, error budget, burn rates, p50/p95/p99 and error rate",
    **requires(P.SLA_READ),
)
def slo_status(
    slo_id: PathKey,
    at: Annotated[Moment | None, Query(description="a past moment (default: now)")] = None,
) -> Json:
    return service(app).status(slo_id, epoch_minute(at) if at else None)


@app.get("/sla/slos/<slo_id>/report", summary="The error budget over a period", **requires(P.SLA_READ))
def budget_report(
    slo_id: PathKey,
    start: Annotated[datetime | None, Query(description="first point (default: 7 days ago)")] = None,
    end: Annotated[datetime | None, Query(description="last point (default: now)")] = None,
    step_hours: Annotated[int, Query(ge=1, le=24 * 31, description="hours between points")] = 6,
) -> Json:
    last = epoch_minute(end) if end else now_minute()
    first = epoch_minute(start) if start else last - 7 * 1440
    return service(app).budget_report(slo_id, first, last, step_hours)


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
