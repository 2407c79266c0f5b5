"""Tenant administration: tenants (platform operators), role grants (tenant admins), usage and the billing
export. Must never let a caller address another tenant without platform:admin (the service checks it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from maestro.core.api import create_app, decode_cursor, encode_cursor, requires
from maestro.core.api_docs import answers
from maestro.core.fields import Day
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.core.tenancy import TENANT_ID
from maestro.tenants.admission import admit
from maestro.tenants.api import (
    PRINCIPAL,
    ExportRequest,
    Grant,
    NewTenant,
    Suspension,
    TenantChange,
    exports,
    service,
)

app = create_app("tenants", admission=admit)
Json = dict
TenantId = Annotated[str, Path(pattern=TENANT_ID.pattern)]
ExportId = Annotated[str, Path(pattern=r"^export-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")]
Principal = Annotated[str, Path(pattern=PRINCIPAL, description="the caller's `sub` claim")]


@app.post("/tenants", summary="Create a tenant", **requires(P.PLATFORM_ADMIN), **answers(201))
def create(body: NewTenant) -> Response[Json]:
    tenant = service(app).create(body.tenant_id, body.name, body.plan, dict(body.quotas))
    return Response(201, content_types.APPLICATION_JSON, tenant)


@app.get("/tenants", summary="Every tenant (paged)", **requires(P.PLATFORM_ADMIN))
def list_tenants(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Json:
    tenants, next_key = service(app).list_tenants(limit, decode_cursor(cursor))
    return {"tenants": tenants, "next_cursor": encode_cursor(next_key)}


@app.get(
    "/tenants/<tenant_id>",
    summary="A tenant: status, plan, quotas with what is used, and a deletion's progress",
    **requires(P.TENANT_READ),
)
def get(tenant_id: TenantId) -> Json:
    return service(app).get(tenant_id)


@app.patch(
    "/tenants/<tenant_id>", summary="Change a tenant's name, plan or quotas", **requires(P.PLATFORM_ADMIN)
)
def update(tenant_id: TenantId, body: TenantChange) -> Json:
    quotas = None if body.quotas is None else dict(body.quotas)
    return service(app).update(tenant_id, body.name, body.plan, quotas)


@app.post("/tenants/<tenant_id>/suspend", summary="Suspend a tenant", **requires(P.PLATFORM_ADMIN))
def suspend(tenant_id: TenantId, body: Suspension) -> Json:
    return service(app).suspend(tenant_id, body.reason)


@app.post("/tenants/<tenant_id>/resume", summary="Resume a suspended tenant", **requires(P.PLATFORM_ADMIN))
def resume(tenant_id: TenantId) -> Json:
    return service(app).resume(tenant_id)


@app.delete(
    "/tenants/<tenant_id>",
    summary="Delete a tenant and its data everywhere (202: started; the tenant shows its progress)",
    **requires(P.PLATFORM_ADMIN),
    **answers(202, 200),
)
def delete(tenant_id: TenantId) -> Response[Json]:
    tenant, started = service(app).delete(tenant_id)
    return Response(202 if started else 200, content_types.APPLICATION_JSON, tenant)


@app.get("/tenants/<tenant_id>/users", summary="The tenant's role grants", **requires(P.TENANT_USERS))
def users(tenant_id: TenantId) -> Json:
    return {"users": service(app).users(tenant_id)}


@app.get("/tenants/<tenant_id>/users/<principal>", summary="One role grant", **requires(P.TENANT_USERS))
def user(tenant_id: TenantId, principal: Principal) -> Json:
    return service(app).user(tenant_id, principal)


@app.put(
    "/tenants/<tenant_id>/users/<principal>",
    summary="Grant roles to a principal (replaces its granted roles)",
    **requires(P.TENANT_USERS),
)
def grant(tenant_id: TenantId, principal: Principal, body: Grant) -> Json:
    return service(app).grant(tenant_id, principal, body.roles, body.display_name)


@app.delete(
    "/tenants/<tenant_id>/users/<principal>",
    summary="Remove a principal: its grants go and its requests are refused",
    **requires(P.TENANT_USERS),
)
def remove(tenant_id: TenantId, principal: Principal) -> Json:
    return service(app).remove(tenant_id, principal)


@app.get(
    "/tenants/<tenant_id>/usage",
    summary="Usage per day: requests and compute by capability, rows explained, storage",
    **requires(P.USAGE_READ),
)
def usage(
    tenant_id: TenantId,
    start: Annotated[Day | None, Query(description="first day (UTC); default 29 days before end")] = None,
    end: Annotated[Day | None, Query(description="last day (UTC), inclusive; default today")] = None,
) -> Json:
    end = end or datetime.now(UTC).date()
    return service(app).usage(tenant_id, start or end - timedelta(days=29), end)


@app.post(
    "/tenants/export",
    summary="Every tenant's usage per day as CSV for billing: a link to it",
    **requires(P.PLATFORM_ADMIN),
)
def export(body: ExportRequest) -> Json:
    return service(app).export(body.start, body.end)


@app.post(
    "/tenants/<tenant_id>/exports",
    summary="Export a tenant: a consistent, restorable snapshot of its items and objects (202: started)",
    **requires(P.PLATFORM_ADMIN),
    **answers(202),
)
def start_export(tenant_id: TenantId) -> Response[Json]:
    return Response(202, content_types.APPLICATION_JSON, exports(app).start(tenant_id))


@app.get(
    "/tenants/<tenant_id>/exports", summary="A tenant's exports, newest first", **requires(P.PLATFORM_ADMIN)
)
def list_exports(
    tenant_id: TenantId,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Json:
    found, next_key = exports(app).list(tenant_id, limit, decode_cursor(cursor))
    return {"exports": found, "next_cursor": encode_cursor(next_key)}


@app.get(
    "/tenants/<tenant_id>/exports/<export_id>",
    summary="An export: its progress, then its manifest (counts, digests, a link)",
    **requires(P.PLATFORM_ADMIN),
)
def get_export(tenant_id: TenantId, export_id: ExportId) -> Json:
    return exports(app).get(tenant_id, export_id)


@lambda_entry(platform_access=True)
def handler(event, context):
    return app.resolve(event, context)
