"""Admission, before any route runs: the caller's tenant is registered and active, under its per-minute
request limit, and the caller was not removed from it; the roles the tenant granted the caller inside
Maestro ML join the token's. Must never admit more requests in a minute than the tenant's limit, nor keep
admitting a suspended tenant, or a removed principal, for more than LEASE_S.

Requests are counted in leases: an execution environment reserves a block of the minute's requests with one
conditional update (which also returns the tenant's status, limits and grants version) and spends it
locally for at most LEASE_S. Reserved is never more than the limit; a block that no longer fits falls back
to single requests, so the limit is reached exactly. The block doubles while leases run out quickly and
halves when they expire unspent: a quiet tenant is counted request by request, a busy one costs a
DynamoDB request per block, which keeps hot paths (A/B assignment) free of a round trip per request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import DomainError, Forbidden, TooManyRequests
from maestro.core.settings import get_settings
from maestro.tenants.plans import iso_ms, minute_of
from maestro.tenants.quotas import rate_limited
from maestro.tenants.store import RPM, TenantStore

LEASE_S = 1.0  # how stale a tenant's status, limits and grants may be in one environment
MAX_BLOCK = 256
LIMIT_SHARE = 20  # a block is at most 1/20 of the limit: an environment that goes idle strands little
MAX_CACHED_GRANTS = 10_000


class TenantUnknown(Forbidden):
    code = "TENANT_UNKNOWN"


class TenantSuspended(Forbidden):
    code = "TENANT_SUSPENDED"
    audited = True


class TenantDeleted(Forbidden):
    code = "TENANT_DELETED"


class PrincipalRemoved(Forbidden):
    code = "PRINCIPAL_REMOVED"
    audited = True


@dataclass
class Lease:
    source: Any  # the DynamoDB client that counted it: another endpoint or session takes its own
    minute: int
    left: int  # requests of the block still to spend
    block: int
    profile: dict[str, Any]
    until: float  # epoch seconds


@dataclass
class Refusal:
    source: Any
    error: DomainError
    until: float


_lock = threading.Lock()  # functions hosted in one process (local mode) share these
_leases: dict[str, Lease] = {}
_refusals: dict[str, Refusal] = {}
# (tenant, principal) -> (source, the tenant's grants version, roles granted, the removal if it was removed)
_grants: dict[tuple[str, str], tuple[Any, int, frozenset[str], dict[str, Any] | None]] = {}


def admit(auth: AuthContext, now: float | None = None) -> AuthContext:
    """The caller as admitted (granted roles added, the tenant's limits attached), or the refusal raised.
    The platform tenant's operators are admitted as they are: no profile, no limits."""
    if auth.is_platform:
        return auth
    now = time.time() if now is None else now
    store = TenantStore(get_settings().platform_table, auth.tenant)
    profile = _spend(store, minute_of(now), now) or _lease(store, minute_of(now), now)
    granted = _granted(store, auth, int(profile.get("grants_version", 0)))
    return auth.admitted(granted, profile.get("limits") or {})


def _spend(store: TenantStore, minute: int, now: float) -> dict[str, Any] | None:
    """One request of this environment's lease, if it has one left for this minute and is fresh; a refusal
    seen lately is raised again without asking DynamoDB."""
    with _lock:
        refused = _refusals.get(store.tenant)
        if refused is not None and refused.source is store.ddb:
            if now < refused.until:
                raise refused.error
            del _refusals[store.tenant]
        lease = _leases.get(store.tenant)
        if (
            lease is not None
            and lease.source is store.ddb
            and lease.minute == minute
            and lease.left > 0
            and now < lease.until
        ):
            lease.left -= 1
            return lease.profile
    return None


def _lease(store: TenantStore, minute: int, now: float) -> dict[str, Any]:
    tenant = store.tenant
    with _lock:
        previous = _leases.get(tenant)
    if previous is not None and previous.source is not store.ddb:
        previous = None
    limit = (previous.profile.get("limits") or {}).get(RPM) if previous else None
    block = _next_block(previous, now)
    if limit is not None:
        block = min(block, max(1, int(limit) // LIMIT_SHARE))
    admitted, profile = store.reserve_requests(minute, block, limit)
    if not admitted and block > 1 and profile is not None and profile["status"] == "active":
        block = 1  # the block does not fit: one request, exactly
        admitted, profile = store.reserve_requests(minute)
    if not admitted:
        error = refusal(tenant, profile, minute, now)
        # Rate: nothing frees up before the minute ends. Status: read again after a lease's time.
        until = (minute + 1) * 60 if isinstance(error, TooManyRequests) else now + LEASE_S
        with _lock:
            _refusals[tenant] = Refusal(store.ddb, error, until)
        raise error
    assert profile is not None
    with _lock:
        _leases[tenant] = Lease(store.ddb, minute, block - 1, block, profile, now + LEASE_S)
    return profile


def _next_block(previous: Lease | None, now: float) -> int:
    if previous is None:
        return 1
    if previous.left == 0 and now < previous.until:  # spent before it expired: the tenant is busy
        return min(MAX_BLOCK, previous.block * 2)
    if previous.left > 0:  # expired unspent
        return max(1, previous.block // 2)
    return previous.block


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
    used = int(profile.get("rate_count", 0)) if profile.get("rate_window") == minute else 0
    return rate_limited(int(profile["limits"][RPM]), used, minute, now)


def _granted(store: TenantStore, auth: AuthContext, version: int) -> frozenset[str]:
    key = (auth.tenant, auth.principal)
    cached = _grants.get(key)
    if cached is None or cached[0] is not store.ddb or cached[1] != version:
        user = store.get_user(auth.principal) if version else None  # version 0: nobody was ever granted
        removed = user if user and user["status"] == "removed" else None
        roles = frozenset(user["roles"]) if user and not removed else frozenset()
        with _lock:
            if len(_grants) >= MAX_CACHED_GRANTS:
                _grants.clear()
            _grants[key] = cached = (store.ddb, version, roles, removed)
    removal = cached[3]
    if removal is not None:
        raise PrincipalRemoved(
            f"{auth.principal} was removed from tenant {auth.tenant!r} by {removal.get('updated_by')} "
            f"at {iso_ms(removal.get('updated_at'))}",
            details={"principal": auth.principal, "tenant": auth.tenant},
        )
    return cached[2]
