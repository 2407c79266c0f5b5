"""GET /whoami and POST /whoami/check: the caller's principal, tenant, roles and permissions.
Must never answer for anyone but the verified caller."""

from __future__ import annotations

from pydantic import BaseModel, Field

from maestro.core.api import create_app, current_auth, requires
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission
from maestro.tenants.admission import admit

app = create_app("platform", admission=admit)


class Identity(BaseModel):
    principal: str
    tenant: str
    roles: list[str]
    permissions: list[Permission]


class PermissionCheck(BaseModel):
    permissions: list[Permission] = Field(min_length=1, max_length=100, description="Permissions to test")


class PermissionCheckResult(BaseModel):
    granted: list[Permission]
    denied: list[Permission]


@app.get("/whoami", summary="The caller's identity and permissions", **requires(Permission.PLATFORM_WHOAMI))
def whoami() -> Identity:
    auth = current_auth(app)
    return Identity(
        principal=auth.principal,
        tenant=auth.tenant,
        roles=sorted(auth.roles),
        permissions=sorted(auth.permissions),
    )


@app.post(
    "/whoami/check",
    summary="Which of these permissions the caller holds",
    **requires(Permission.PLATFORM_WHOAMI),
)
def check(request: PermissionCheck) -> PermissionCheckResult:
    auth = current_auth(app)
    return PermissionCheckResult(
        granted=[p for p in request.permissions if auth.can(p)],
        denied=[p for p in request.permissions if not auth.can(p)],
    )


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
