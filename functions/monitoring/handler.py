"""Model monitoring: monitors (create, list, read, delete), a model version's baseline (profiled from rows
or a CSV among the tenant's artifacts, and at registration from the registry's ModelVersionCreated event),
serving records (batches, kept as per-hour distributions, never as rows), a check now, and past checks."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from maestro.core.api import PathKey, create_app, requires
from maestro.core.api_docs import answers
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.monitoring.api import service
from maestro.monitoring.registration import on_version_created
from maestro.monitoring.spec import MonitorSpec, RecordBatch, Reference
from maestro.tenants.admission import admit

app = create_app("monitoring", admission=admit)
Json = dict
Version = Annotated[int, Path(ge=1, le=10**9)]


@app.post(
    "/monitoring/monitors", summary="Define a monitor", **requires(P.MONITORING_CONFIGURE), **answers(201)
)
def create(spec: MonitorSpec) -> Response[Json]:
    return Response(201, content_types.APPLICATION_JSON, service(app).create(spec))


@app.get("/monitoring/monitors", summary="List the tenant's monitors", **requires(P.MONITORING_READ))
def list_monitors() -> Json:
    return {"monitors": service(app).all()}


@app.get(
    "/monitoring/monitors/<monitor_id>", summary="A monitor and its status", **requires(P.MONITORING_READ)
)
def get(monitor_id: PathKey) -> Json:
    return service(app).get(monitor_id)


@app.delete(
    "/monitoring/monitors/<monitor_id>", summary="Delete a monitor", **requires(P.MONITORING_CONFIGURE)
)
def delete(monitor_id: PathKey) -> Json:
    service(app).delete(monitor_id)
    return {"monitor_id": monitor_id, "deleted": True}


@app.post(
    "/monitoring/monitors/<monitor_id>/check",
    summary="Check the monitor's window now: drift per column and data quality",
    **requires(P.MONITORING_WRITE),
)
def check(monitor_id: PathKey) -> Json:
    return service(app).check(monitor_id)


@app.get(
    "/monitoring/monitors/<monitor_id>/checks", summary="The latest checks", **requires(P.MONITORING_READ)
)
def checks(monitor_id: PathKey, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> Json:
    return {"checks": service(app).history(monitor_id, limit)}


@app.post(
    "/monitoring/baselines",
    summary="Profile a reference as a model version's baseline",
    **requires(P.MONITORING_CONFIGURE),
    **answers(201),
)
def put_baseline(reference: Reference) -> Response[Json]:
    return Response(201, content_types.APPLICATION_JSON, service(app).put_baseline(reference))


@app.get(
    "/monitoring/baselines/<model>/<version>",
    summary="A model version's baseline",
    **requires(P.MONITORING_READ),
)
def get_baseline(model: PathKey, version: Version) -> Json:
    return service(app).baseline(model, version)


@app.post(
    "/monitoring/records",
    summary="Report serving records of a model version (up to 5,000; a retried batch counts once)",
    **requires(P.MONITORING_WRITE),
)
def records(batch: RecordBatch) -> Json:
    return service(app).record(batch)


@lambda_entry()
def handler(event, context):
    if event.get("detail-type") == "ModelVersionCreated":  # the registry's event, through the bus rule
        return on_version_created(event)
    return app.resolve(event, context)
