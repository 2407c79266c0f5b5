"""Tenancy's interface to the other capabilities: the quota counters they move in their own transactions
(Counter), the daily explanation-row quota (DailyRows), and tenants' statuses for background work. Other
capabilities use tenancy through this module only, never through its stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.settings import get_settings
from maestro.tenants.plans import Limit, day_resets_at
from maestro.tenants.quota_store import daily_quota_update, daily_refusal, quota_op, raise_if_quota
from maestro.tenants.quotas import COUNTERS, quota_exceeded
from maestro.tenants.store import TenantStore
from maestro.tenants.store import statuses as _statuses


@dataclass(frozen=True)
class Counter:
    """One of a tenant's quota counters, as a capability's own transaction moves it with the change it counts:
    `op(delta)` goes into the transaction, `raise_if_refused(exc, index)` tells a refusal by the quota from
    any other cancellation; `reserve`/`release` move it alone, for changes that are not DynamoDB writes."""

    table: str
    tenant: str
    name: str
    maximum: int | None

    @classmethod
    def of(cls, auth: AuthContext, name: str) -> Counter:
        return cls(get_settings().platform_table, auth.tenant, name, auth.limits.get(COUNTERS[name]))

    def op(self, delta: int) -> dict[str, Any]:
        return quota_op(self.table, self.tenant, self.name, delta, self.maximum)

    def raise_if_refused(self, exc: Exception, index: int, delta: int = 1) -> None:
        raise_if_quota(exc, index, self.name, delta, self.maximum)

    def reserve(self, amount: int) -> None:
        """Count `amount` more on its own, for a change that is not a DynamoDB write (an S3 upload)."""
        TenantStore(self.table, self.tenant).reserve(self.name, amount, self.maximum)

    def release(self, amount: int) -> None:
        if amount:
            TenantStore(self.table, self.tenant).release(self.name, amount)


def statuses(tenants: set[str]) -> dict[str, str]:
    """The status (active, suspended, deleting, deleted) of each of `tenants` that has a profile."""
    return _statuses(get_settings().platform_table, tenants)


@dataclass(frozen=True)
class DailyRows:
    """A tenant's explanation rows of each day (quota explanation_rows_per_day), counted on its usage item of
    the day: reserved atomically within the limit its profile holds now, given back, or read."""

    tenant: str

    def _store(self) -> TenantStore:
        return TenantStore(get_settings().platform_table, self.tenant)

    def used(self, day: str) -> int:
        return self._store().rows_reserved(day)

    def refuse_if_over(self, day: str, wanted: int, maximum: int | None) -> None:
        """QuotaExceeded at once if `wanted` more rows cannot fit in what is left of `day`."""
        if maximum is None:
            return
        used = self.used(day)
        if used + wanted > maximum:
            raise quota_exceeded(Limit.EXPLANATION_ROWS_PER_DAY, maximum, used, wanted, day_resets_at(day))

    def reserve(self, day: str, rows: int) -> None:
        """Count `rows` more on `day`, held to the limit the tenant's profile holds now (QuotaExceeded)."""
        store = self._store()
        limits = (store.get_profile() or {}).get("limits") or {}
        store.reserve_rows(day, rows, limits.get(Limit.EXPLANATION_ROWS_PER_DAY))

    def give_back(self, day: str, rows: int) -> None:
        if rows:
            self._store().add_usage(day, {"rows_reserved": -rows})

    def explained(self, day: str, rows: int) -> None:
        """Meter `rows` explained on `day` (usage, not quota)."""
        self._store().add_usage(day, {"rows_explained": rows})


DAILY_RECORDS = "monitoring_records"  # the usage item's count of the day's serving records


@dataclass(frozen=True)
class DailyRecords:
    """A tenant's serving records of each day (quota monitoring_records_per_day), counted on its usage item of
    the day by an Update that goes into the capability's own transaction with the records it counts."""

    table: str
    tenant: str
    maximum: int | None

    @classmethod
    def of(cls, auth: AuthContext) -> DailyRecords:
        return cls(
            get_settings().platform_table, auth.tenant, auth.limits.get(Limit.MONITORING_RECORDS_PER_DAY)
        )

    def op(self, day: str, records: int) -> dict[str, Any]:
        """Count `records` more on `day`, landing only while the day stays within the limit."""
        update = daily_quota_update(self.table, self.tenant, day, DAILY_RECORDS, records, self.maximum)
        return {"Update": update}

    def raise_if_refused(self, exc: Exception, index: int, day: str, records: int) -> None:
        """A cancelled transaction whose quota update (at `index`) failed its condition: QuotaExceeded."""
        reasons = getattr(exc, "response", {}).get("CancellationReasons", [])
        if (
            self.maximum is not None
            and index < len(reasons)
            and reasons[index].get("Code") == "ConditionalCheckFailed"
        ):
            limit, old = Limit.MONITORING_RECORDS_PER_DAY, reasons[index].get("Item")
            raise daily_refusal(old, DAILY_RECORDS, limit, self.maximum, records, day) from exc
