"""Tenant administration for one verified caller: the platform's operators create, change, suspend, resume
and delete tenants and export usage for billing; a tenant's admins grant its roles; its auditors and admins
read its usage. Every change is an event in the actor's tenant's trail. Must never let a caller of one tenant
address another tenant unless it holds platform:admin."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from maestro.core import workflow_gateway as workflows
from maestro.core.auth import AuthContext
from maestro.core.dynamo_store import from_item
from maestro.core.errors import Conflict, DependencyUnavailable, Forbidden, NotFound, ValidationError
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.object_store import Objects
from maestro.core.rbac import Permission
from maestro.core.settings import Settings
from maestro.core.tenancy import tenant_prefix
from maestro.tenants import usage as metering
from maestro.tenants.counters import DAILY_RECORDS
from maestro.tenants.plans import (
    Limit,
    day_of,
    day_resets_at,
    effective_limits,
    iso_ms,
    minute_of,
    minute_resets_at,
)
from maestro.tenants.store import TENANTS_INDEX, TenantStore, all_profiles, now_ms, usage_of_day

ADMINISTRABLE = ("active", "suspended")
EXPORT_URL_SECONDS = 3600


@dataclass
class TenantService:
    settings: Settings
    auth: AuthContext
    correlation_id: str | None = None

    def _store(self, tenant_id: str) -> TenantStore:
        return TenantStore(self.settings.platform_table, tenant_id)

    def _addressable(self, tenant_id: str) -> TenantStore:
        """A tenant this caller may address: its own, or any for the platform's operators."""
        if tenant_id == self.settings.platform_tenant:
            raise ValidationError(
                "tenant_id",
                f"{tenant_id!r} is the platform's own tenant: it has no profile, limits or grants",
            )
        if tenant_id != self.auth.tenant and not self.auth.can(Permission.PLATFORM_ADMIN):
            raise Forbidden(
                f"callers of tenant {self.auth.tenant!r} may address only their own tenant",
                details={"tenant": tenant_id},
            )
        return self._store(tenant_id)

    def _emit(self, detail_type: str, **detail: Any) -> None:
        publish_safely(DomainEvent.by(self.auth, "tenants", detail_type, detail, self.correlation_id))

    # -- the platform's operators ---------------------------------------------------------------------
    def create(self, tenant_id: str, name: str, plan: str, quotas: dict[str, int | None]) -> dict[str, Any]:
        store = self._addressable(tenant_id)
        profile = register(store, name, plan, quotas, self.auth.principal)
        self._emit("TenantCreated", tenant_id=tenant_id, name=name, plan=plan, limits=profile["limits"])
        return self.shown(store, profile)

    def list_tenants(self, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
        index = self._store(self.settings.platform_tenant)
        items, next_key = index._page(
            limit,
            cursor,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": TENANTS_INDEX}},
        )
        return [self.summary(from_item(i)) for i in items], next_key

    def get(self, tenant_id: str) -> dict[str, Any]:
        store = self._addressable(tenant_id)
        return self.shown(store, store.require_profile())

    def update(
        self, tenant_id: str, name: str | None, plan: str | None, quotas: dict[str, int | None] | None
    ) -> dict[str, Any]:
        store = self._addressable(tenant_id)
        profile = store.require_profile()
        plan = plan or profile["plan"]
        overrides = (
            (profile.get("overrides") or {}) if quotas is None else {str(k): v for k, v in quotas.items()}
        )
        fields: dict[str, Any] = {
            "plan": plan,
            "overrides": overrides,
            "limits": effective_limits(plan, overrides),
            "updated_at": now_ms(),
        }
        if name is not None:
            fields["name"] = name
        updated = store.update_profile(fields, int(profile["version"]), statuses=ADMINISTRABLE)
        self._emit("TenantUpdated", tenant_id=tenant_id, plan=plan, limits=fields["limits"])
        return self.shown(store, updated)

    def suspend(self, tenant_id: str, reason: str) -> dict[str, Any]:
        return self._set_status(tenant_id, "active", "suspended", reason, "TenantSuspended")

    def resume(self, tenant_id: str) -> dict[str, Any]:
        return self._set_status(tenant_id, "suspended", "active", None, "TenantResumed")

    def _set_status(
        self, tenant_id: str, current: str, target: str, reason: str | None, detail_type: str
    ) -> dict[str, Any]:
        store = self._addressable(tenant_id)
        profile = store.require_profile()
        if profile["status"] != current:
            raise Conflict(f"tenant {tenant_id!r} is {profile['status']}, not {current}")
        changed = store.update_profile(
            self._status(target, reason), int(profile["version"]), statuses=(current,)
        )
        self._emit(detail_type, tenant_id=tenant_id, reason=reason)
        return self.shown(store, changed)

    def _status(self, status: str, reason: str | None) -> dict[str, Any]:
        when = now_ms()
        return {
            "status": status,
            "status_reason": reason,
            "status_changed_at": when,
            "status_changed_by": self.auth.principal,
            "updated_at": when,
        }

    def delete(self, tenant_id: str) -> tuple[dict[str, Any], bool]:
        """(the tenant with its deletion, whether a deletion started now). The tenant stops being admitted at
        once; the deletion workflow then removes its data everywhere and reports what it removed."""
        store = self._addressable(tenant_id)
        profile = store.require_profile()
        if profile["status"] in ADMINISTRABLE:
            profile = store.update_profile(
                self._status("deleting", f"deletion requested by {self.auth.principal}"),
                int(profile["version"]),
                statuses=ADMINISTRABLE,
            )
        deletion = store.get_deletion()
        if deletion and deletion["status"] == "RUNNING":
            deletion = self._reconciled(store, deletion)  # its workflow may have ended outside its steps
        if profile["status"] == "deleted" or (deletion and deletion["status"] == "RUNNING"):
            return self.shown(store, profile, deletion), False
        requested = now_ms()
        try:
            arn = workflows.start(
                self.settings.tenants_purge_state_machine_arn,
                f"{tenant_id}-{requested}",
                {"purge": {"tenant": tenant_id, "requested_by": self.auth.principal}},
            )
        except Exception as exc:
            raise DependencyUnavailable(
                f"tenant {tenant_id!r} no longer accepts requests, but its deletion could not start; "
                "send DELETE again"
            ) from exc
        started = {
            "status": "RUNNING",
            "requested_at": requested,
            "requested_by": self.auth.principal,
            "execution_arn": arn,
            "attempt": int((deletion or {}).get("attempt", 0)) + 1,
        }
        store.put_deletion(started)
        self._emit("TenantDeletionRequested", tenant_id=tenant_id)
        return self.shown(store, profile, started), True

    # -- a tenant's own view ---------------------------------------------------------------------------
    def summary(self, profile: dict[str, Any]) -> dict[str, Any]:
        return {
            "tenant_id": profile["tenant_id"],
            "name": profile["name"],
            "plan": profile["plan"],
            "status": profile["status"],
            "status_reason": profile.get("status_reason"),
            "created_at": iso_ms(profile.get("created_at")),
        }

    def shown(
        self,
        store: TenantStore,
        profile: dict[str, Any],
        deletion: dict[str, Any] | None = None,
        now: float | None = None,
    ) -> dict[str, Any]:
        """The tenant as the API shows it; `deletion`: its deletion record when the caller holds it already
        (reconciled), else read (and reconciled) here for a tenant being deleted."""
        now = time.time() if now is None else now
        limits, quota = profile.get("limits") or {}, store.get_quota()
        minute, today = minute_of(now), day_of(now)
        today_usage = next(iter(store.usage(today, today)), {})
        used_rpm = int(profile.get("rate_count", 0)) if profile.get("rate_window") == minute else 0
        quotas: dict[str, dict[str, Any]] = {
            str(Limit.REQUESTS_PER_MINUTE): {
                "limit": limits.get(Limit.REQUESTS_PER_MINUTE),
                "used": used_rpm,
                "resets_at": minute_resets_at(minute),
            },
            **{
                str(counter): {"limit": limits.get(counter), "used": int(quota.get(counter, 0))}
                for counter in (
                    Limit.REGISTERED_MODELS,
                    Limit.RUNNING_EXPERIMENTS,
                    Limit.TRAINING_JOBS_CONCURRENT,
                    Limit.STORAGE_BYTES,
                )
            },
            str(Limit.EXPLANATION_ROWS_PER_DAY): {
                "limit": limits.get(Limit.EXPLANATION_ROWS_PER_DAY),
                "used": int(today_usage.get("rows_reserved", 0)),
                "resets_at": day_resets_at(today),
            },
            str(Limit.MONITORING_RECORDS_PER_DAY): {
                "limit": limits.get(Limit.MONITORING_RECORDS_PER_DAY),
                "used": int(today_usage.get(DAILY_RECORDS, 0)),
                "resets_at": day_resets_at(today),
            },
        }
        quotas[Limit.STORAGE_BYTES]["measured_at"] = iso_ms(today_usage.get("storage_measured_at"))
        out = {
            **self.summary(profile),
            "status_changed_at": iso_ms(profile.get("status_changed_at")),
            "status_changed_by": profile.get("status_changed_by"),
            "updated_at": iso_ms(profile.get("updated_at")),
            "version": profile["version"],
            "overrides": profile.get("overrides") or {},
            "quotas": quotas,
        }
        if deletion is None and profile["status"] in ("deleting", "deleted"):
            deletion = store.get_deletion()
            if deletion and deletion["status"] == "RUNNING":
                deletion = self._reconciled(store, deletion)
        if deletion:
            out["deletion"] = {
                "status": deletion["status"],
                "requested_at": iso_ms(deletion.get("requested_at")),
                "requested_by": deletion.get("requested_by"),
                "finished_at": iso_ms(deletion.get("finished_at")),
                "progress": deletion.get("progress"),
                "report": deletion.get("report"),
                "error": deletion.get("error"),
            }
        return out

    @staticmethod
    def _reconciled(store: TenantStore, deletion: dict[str, Any]) -> dict[str, Any]:
        """A deletion whose workflow ended without reaching its own fail step (stopped, timed out, or failing
        before it could record why) must not show RUNNING forever."""
        error = workflows.failure(deletion["execution_arn"])
        if error is None:
            return deletion
        store.update_deletion(status="FAILED", finished_at=now_ms(), error=error)
        return {**deletion, "status": "FAILED", "error": error}

    # -- role grants -----------------------------------------------------------------------------------
    def users(self, tenant_id: str) -> list[dict[str, Any]]:
        return [self._user(u) for u in self._addressable(tenant_id).list_users()]

    def user(self, tenant_id: str, principal: str) -> dict[str, Any]:
        user = self._addressable(tenant_id).get_user(principal)
        if user is None:
            raise NotFound(f"{principal} has no grant in tenant {tenant_id!r}")
        return self._user(user)

    @staticmethod
    def _user(user: dict[str, Any]) -> dict[str, Any]:
        return {
            "principal": user["principal"],
            "display_name": user.get("display_name"),
            "roles": user["roles"],
            "status": user["status"],
            "updated_at": iso_ms(user.get("updated_at")),
            "updated_by": user.get("updated_by"),
        }

    def grant(
        self, tenant_id: str, principal: str, roles: list[str], display_name: str | None
    ) -> dict[str, Any]:
        """Replace `principal`'s granted roles (re-admitting it if it was removed)."""
        store = self._addressable(tenant_id)
        existing = store.get_user(principal)
        user = self._changed(principal, sorted(set(roles)), "active", existing, display_name)
        store.put_user(user, None if existing is None else int(existing["version"]))
        previous = [] if existing is None or existing["status"] == "removed" else existing["roles"]
        self._emit(
            "RoleGranted",
            tenant_id=tenant_id,
            subject=principal,
            granted_roles=user["roles"],
            previous_roles=previous,
        )
        return self._user(user)

    def remove(self, tenant_id: str, principal: str) -> dict[str, Any]:
        """Revoke every role the tenant granted `principal` and refuse its requests from now on, whatever
        its token's roles: the tenant's way to lock someone out before the identity provider does."""
        if principal == self.auth.principal and tenant_id == self.auth.tenant:
            raise Conflict("you cannot remove yourself; another tenant admin can")
        store = self._addressable(tenant_id)
        existing = store.get_user(principal)
        user = self._changed(principal, [], "removed", existing, None)
        store.put_user(user, None if existing is None else int(existing["version"]))
        revoked = [] if existing is None else existing["roles"]
        self._emit("RoleRevoked", tenant_id=tenant_id, subject=principal, revoked_roles=revoked)
        return self._user(user)

    def _changed(
        self,
        principal: str,
        roles: list[str],
        status: str,
        existing: dict[str, Any] | None,
        display_name: str | None,
    ) -> dict[str, Any]:
        return {
            "principal": principal,
            "display_name": display_name or (existing or {}).get("display_name"),
            "roles": roles,
            "status": status,
            "updated_at": now_ms(),
            "updated_by": self.auth.principal,
            "version": int((existing or {}).get("version", 0)) + 1,
        }

    # -- usage -----------------------------------------------------------------------------------------
    def usage(self, tenant_id: str, start: date, end: date) -> dict[str, Any]:
        _check_range(start, end)
        store = self._addressable(tenant_id)
        store.require_profile()
        days = [metering.day_view(item) for item in store.usage(start.isoformat(), end.isoformat())]
        return {
            "tenant_id": tenant_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "days": days,
            "totals": metering.totals(days),
        }

    def export(self, start: date, end: date) -> dict[str, Any]:
        """Every tenant's usage per day as CSV, written under the platform's prefix; a link to it."""
        _check_range(start, end)
        key = f"{billing_prefix(self.settings)}usage-{start.isoformat()}-{end.isoformat()}-{now_ms()}.csv"
        rows = write_export(self.settings, start, end, key)
        bucket = self.settings.artifacts_bucket
        self._emit("UsageExported", start=start.isoformat(), end=end.isoformat(), rows=rows, key=key)
        return {
            "rows": rows,
            "columns": metering.EXPORT_COLUMNS,
            "s3_uri": f"s3://{bucket}/{key}",
            "url": Objects.platform(bucket).presigned_get(key, EXPORT_URL_SECONDS),
        }


def register(
    store: TenantStore, name: str, plan: str, quotas: dict[str, int | None], by: str
) -> dict[str, Any]:
    """A new active tenant on `plan` with `quotas` overriding it (Conflict if the id was ever used)."""
    when = now_ms()
    profile = {
        "tenant_id": store.tenant,
        "name": name,
        "plan": plan,
        "overrides": {str(k): v for k, v in quotas.items()},
        "limits": effective_limits(plan, quotas),
        "status": "active",
        "status_reason": None,
        "status_changed_at": when,
        "status_changed_by": by,
        "created_at": when,
        "created_by": by,
        "updated_at": when,
        "version": 1,
        "grants_version": 0,
    }
    store.create(profile)
    return profile


def billing_prefix(settings: Settings) -> str:
    return f"{tenant_prefix(settings.platform_tenant)}billing/"


def write_export(settings: Settings, start: date, end: date, key: str) -> int:
    """Every tenant's usage of each day from `start` to `end` as one CSV object at `key`; its rows."""
    table = settings.platform_table
    plans = {p["tenant_id"]: p["plan"] for p in all_profiles(table)}
    rows = [
        row
        for day in metering.days_between(start, end)
        for row in metering.export_rows(day, usage_of_day(table, day), plans)
    ]
    Objects.platform(settings.artifacts_bucket).put(key, metering.to_csv(rows), "text/csv")
    return len(rows)


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationError("end", "is before start")
    if (end - start).days >= metering.MAX_DAYS:
        raise ValidationError("end", f"at most {metering.MAX_DAYS} days after start")
