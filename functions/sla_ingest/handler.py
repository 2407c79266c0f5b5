"""Observations: batches that services post (POST /sla/observations, idempotent by batch id), and Maestro ML's
own invocation outcomes from its functions' CloudWatch Logs subscriptions (the platform tenant)."""

from __future__ import annotations

from maestro.core.api import create_app, requires
from maestro.core.auth import AuthContext
from maestro.core.errors import ValidationError
from maestro.core.observability import lambda_entry, logger
from maestro.core.rbac import Permission as P
from maestro.core.settings import get_settings
from maestro.sla.api import service
from maestro.sla.collect import batches_from_logs
from maestro.sla.observations import ObservationBatch
from maestro.sla.service import SlaService
from maestro.sla.store import SlaStore
from maestro.tenants.admission import admit

app = create_app("sla", admission=admit)
COLLECTOR = "maestro-sla-collector"


@app.post(
    "/sla/observations",
    summary="Report request outcomes (up to 5,000; a retried batch counts once)",
    **requires(P.SLA_OBSERVE),
)
def observe(body: ObservationBatch) -> dict:
    return service(app).observe(body)


def collect(event: dict) -> dict:
    settings = get_settings()
    tenant = settings.platform_tenant
    sla = SlaService(
        SlaStore(settings.sla_table, tenant), AuthContext.of(COLLECTOR, tenant, frozenset({"service"}))
    )
    results = []
    for batch in batches_from_logs(event):
        try:
            results.append(sla.observe(batch))
        except ValidationError as exc:  # e.g. a line older than the minute buckets keep: unusable, skipped
            logger.warning("skipped %d outcome lines: %s", len(batch.observations), exc.message)
    return {"batches": len(results), "accepted": sum(r["accepted"] for r in results)}


@lambda_entry()
def handler(event, context):
    if "awslogs" in event:
        return collect(event)
    return app.resolve(event, context)
