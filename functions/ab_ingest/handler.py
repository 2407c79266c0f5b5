"""A/B event ingestion: exposures and metric events in batches, idempotent by event id, folded into per-unit
totals and per-variant sufficient statistics in one transaction per unit."""

from __future__ import annotations

from maestro.ab.api import EventsRequest, service
from maestro.core.api import create_app, requires
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.tenants.admission import admit

app = create_app("ab", admission=admit)


@app.post("/ab/events", summary="Ingest exposures and metric events (up to 5,000)", **requires(P.AB_INGEST))
def ingest(body: EventsRequest) -> dict:
    return service(app).ingest(body.experiment_id, body.events)


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
