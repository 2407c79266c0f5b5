"""Admission, before any route runs: the caller's tenant is registered and active, under its per-minute
request limit, and the caller was not removed from it; the roles the tenant granted the caller inside
Maestro ML join the token's. Must never cost more than one DynamoDB request per request (the profile update
that counts it also returns the limits and the grants version), but for the first of each minute, which
opens the minute's count, and the first after the tenant's grants changed, which reads the caller's."""

from __future__ import annotations

import time
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import DomainError, Forbidden
from maestro.core.settings import get_settings
from maestro.tenants.plans import iso_ms, minute_of
from maestro.tenants.quotas import rate_limited
from maestro.tenants.store import RPM, TenantStore

MAX_CACHED_GRANTS = 10_000
# (tenant, principal) -> (the tenant's grants version, roles granted, the removal if the caller was removed)
_GRANTS: dict[tuple[str, str], tuple[int, frozenset[str], dict[str, Any] | None]] = {}


class TenantUnknown(Forbidden):
    code = "TENANT_UNKNOWN"


class TenantSuspended(Forbidden):
    code = "TENANT_SUSPENDED"


class TenantDeleted(Forbidden):
    code = "TENANT_DELETED"


class PrincipalRemoved(Forbidden):
    code = "PRINCIPAL_REMOVED"


def admit(auth: AuthContext, now: float | None = None) -> AuthContext:
    """The caller as admitted (granted roles added, the tenant's limits attached), or the refusal raised.
    The platform tenant's operators are admitted as they are: no profile, no limits."""
    if auth.is_platform:
        return auth
    now = time.time() if now is None else now
    store = TenantStore(get_settings().platform_table, auth.tenant)
    minute = minute_of(now)
    admitted, profile = store.count_request(minute)
    if not admitted:
        raise refusal(auth.tenant, profile, minute, now)
    assert profile is not None
    granted = _granted(store, auth, int(profile.get("grants_version", 0)))
    return auth.admitted(granted, profile.get("limits") or {})


def refusal(tenant: str, profile: dict[str, Any] | None, minute: int, now: float) -> DomainError:
    if profile is None:
        return TenantUnknown(
            f"tenant {tenant!r} is not registered with Maestro ML; a platform administrator creates it "
            "(POST /tenants)",
            details={"tenant": tenant},
        )
    status, details = (
        profile["status"],
        {
            "tenant": tenant,
            "status": profile["status"],
            "reason": profile.get("status_reason"),
            "since": iso_ms(profile.get("status_changed_at")),
        },
    )
    if status == "suspended":
        return TenantSuspended(
            f"tenant {tenant!r} is suspended: {profile.get('status_reason') or 'no reason given'}",
            details=details,
        )
    if status != "active":
        return TenantDeleted(f"tenant {tenant!r} is {status}: it accepts no requests", details=details)
    return rate_limited(int(profile["limits"][RPM]), int(profile.get("rate_count", 0)), minute, now)


def _granted(store: TenantStore, auth: AuthContext, version: int) -> frozenset[str]:
    key = (auth.tenant, auth.principal)
    cached = _GRANTS.get(key)
    if cached is None or cached[0] != version:
        user = store.get_user(auth.principal) if version else None  # version 0: nobody was ever granted
        removed = user if user and user["status"] == "removed" else None
        roles = frozenset(user["roles"]) if user and not removed else frozenset()
        if len(_GRANTS) >= MAX_CACHED_GRANTS:
            _GRANTS.clear()
        cached = _GRANTS[key] = (version, roles, removed)
    removal = cached[2]
    if removal is not None:
        raise PrincipalRemoved(
            f"{auth.principal} was removed from tenant {auth.tenant!r} by {removal.get('updated_by')} "
            f"at {iso_ms(removal.get('updated_at'))}",
            details={"principal": auth.principal, "tenant": auth.tenant},
        )
    return cached[1]
