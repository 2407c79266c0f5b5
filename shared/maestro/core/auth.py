"""The caller's identity (principal, tenant, roles) built from API Gateway HTTP API JWT claims.
Must never trust a claim that API Gateway's authorizer did not verify: only requestContext is read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from maestro.core.errors import Forbidden, Unauthorized
from maestro.core.rbac import Permission, permissions_for
from maestro.core.settings import Settings, get_settings
from maestro.core.tenancy import validate_tenant_id


@dataclass(frozen=True)
class AuthContext:
    principal: str
    tenant: str
    roles: frozenset[str]
    permissions: frozenset[Permission] = field(default=frozenset())
    # The tenant's limits (maestro.tenants.plans.Limit -> maximum; absent: unlimited), set by admission.
    limits: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, principal: str, tenant: str, roles: frozenset[str]) -> AuthContext:
        """platform:admin acts across tenants, so it holds only for callers of the platform tenant: an `admin`
        of any other tenant administers that tenant alone."""
        permissions = permissions_for(roles)
        if tenant != get_settings().platform_tenant:
            permissions -= {Permission.PLATFORM_ADMIN}
        return cls(principal, validate_tenant_id(tenant), roles, permissions)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def is_platform(self) -> bool:
        return self.tenant == get_settings().platform_tenant

    def admitted(self, granted_roles: frozenset[str], limits: Mapping[str, int]) -> AuthContext:
        """This identity with the roles its tenant granted it inside Maestro ML, and the tenant's limits."""
        roles = self.roles | granted_roles
        return replace(AuthContext.of(self.principal, self.tenant, roles), limits=dict(limits))


def parse_list_claim(value: Any) -> frozenset[str]:
    """API Gateway hands array claims on as one string, "[a b c]"; other issuers use JSON arrays,
    comma- or space-separated strings, or real lists (direct invocation). All mean the same set."""
    if value is None:
        return frozenset()
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(v) for v in value if str(v))
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return frozenset(str(v) for v in parsed if str(v))
        except ValueError:
            pass
        text = text[1:-1]
    return frozenset(p for p in text.replace(",", " ").split() if p)


def auth_from_claims(claims: dict[str, Any] | None, settings: Settings | None = None) -> AuthContext:
    settings = settings or get_settings()
    if not claims:
        raise Unauthorized("no verified identity on the request")
    principal = str(claims.get(settings.principal_claim) or "")
    tenant = str(claims.get(settings.tenant_claim) or "")
    if not principal:
        raise Unauthorized(f"token has no '{settings.principal_claim}' claim")
    if not tenant:
        raise Forbidden(f"token has no '{settings.tenant_claim}' claim: the caller belongs to no tenant")
    return AuthContext.of(principal, tenant, parse_list_claim(claims.get(settings.roles_claim)))


def auth_from_event(event: dict[str, Any], settings: Settings | None = None) -> AuthContext:
    """From a payload 2.0 event: requestContext.authorizer.jwt.claims (set only by a verified authorizer)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims")
    return auth_from_claims(claims, settings)
