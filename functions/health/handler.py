"""GET /health: liveness, and readiness proven by reaching every store the platform needs.
Public (load balancers and uptime probes call it); must never reveal tenant data."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from maestro.core.api import create_app
from maestro.core.observability import lambda_entry
from maestro.core.settings import get_settings
from maestro.platform.health import check_health, platform_probes
from maestro.tenants.admission import admit

app = create_app("platform", admission=admit)


class DependencyCheck(BaseModel):
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None


class HealthStatus(BaseModel):
    status: str
    live: bool
    ready: bool
    version: str
    checks: list[DependencyCheck]


@app.get(
    "/health",
    summary="Liveness and readiness",
    description="200 when every dependency answers, 503 (with the failing checks) otherwise.",
)
def health() -> Response[HealthStatus]:
    report = check_health(platform_probes(get_settings()))
    body = HealthStatus(
        status=report.status,
        live=report.live,
        ready=report.ready,
        version=report.version,
        checks=[DependencyCheck.model_validate(c, from_attributes=True) for c in report.checks],
    )
    return Response(
        status_code=200 if report.ready else 503,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
    )


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
