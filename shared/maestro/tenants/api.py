"""What the tenants function shares on the HTTP side: the per-request service and the API models.
Must never build a service without the caller's verified identity."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from maestro.core.api import MaestroResolver, current_auth
from maestro.core.fields import Day
from maestro.core.rbac import ROLES
from maestro.core.settings import get_settings
from maestro.core.tenancy import TENANT_ID
from maestro.tenants.exports import TenantExports
from maestro.tenants.plans import PLANS, Limit
from maestro.tenants.service import TenantService
from maestro.tenants.usage import MAX_DAYS

PlanName = Literal["free", "team", "enterprise"]
assert set(PlanName.__args__) == set(PLANS)  # type: ignore[attr-defined]
# Roles a tenant grants inside Maestro ML: every catalogue role but the platform administrator's.
GRANTABLE = tuple(r for r in ROLES if r != "admin")


def _grantable(role: str) -> str:
    if role not in GRANTABLE:
        raise ValueError(f"{role!r} is not a role a tenant grants; one of {', '.join(GRANTABLE)}")
    return role


Quotas = dict[Limit, Annotated[int, Field(ge=0)] | None]


class NewTenant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str = Field(pattern=TENANT_ID.pattern, description="1-63 of a-z, 0-9, '-'; never reused")
    name: str = Field(min_length=1, max_length=200)
    plan: PlanName = "team"
    quotas: Quotas = Field(
        default_factory=dict, description="overrides of the plan's limits; null: unlimited"
    )


class TenantChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    plan: PlanName | None = None
    quotas: Quotas | None = Field(None, description="replaces the overrides; {} returns to the plan's limits")


class Suspension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500, description="shown to the tenant's callers")


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Annotated[str, AfterValidator(_grantable)]] = Field(min_length=1, max_length=len(GRANTABLE))
    display_name: str | None = Field(None, max_length=200)


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Day
    end: Day = Field(description=f"inclusive; at most {MAX_DAYS} days after start")


PRINCIPAL = r"^[^\s#/]{1,256}$"


def service(app: MaestroResolver) -> TenantService:
    return TenantService(get_settings(), current_auth(app), app.request_id)


def exports(app: MaestroResolver) -> TenantExports:
    return TenantExports(get_settings(), current_auth(app), app.request_id)
