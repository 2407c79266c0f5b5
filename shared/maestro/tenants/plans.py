"""Plans and limits: what each plan allows, a tenant's overrides on top, and the limits that result.
Must never read AWS: limits are plain values the store copies onto the tenant's profile item."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum

GIB = 1024**3


class Limit(StrEnum):
    REQUESTS_PER_MINUTE = "requests_per_minute"
    REGISTERED_MODELS = "registered_models"
    RUNNING_EXPERIMENTS = "running_experiments"
    EXPLANATION_ROWS_PER_DAY = "explanation_rows_per_day"
    MONITORING_RECORDS_PER_DAY = "monitoring_records_per_day"
    TRAINING_JOBS_CONCURRENT = "training_jobs_concurrent"
    STORAGE_BYTES = "storage_bytes"


# None means unlimited. A plan's limits are copied onto each tenant when the plan is assigned or its
# overrides change (the admission check reads them from the profile item it updates anyway).
PLANS: dict[str, dict[Limit, int | None]] = {
    "free": {
        Limit.REQUESTS_PER_MINUTE: 600,
        Limit.REGISTERED_MODELS: 10,
        Limit.RUNNING_EXPERIMENTS: 2,
        Limit.EXPLANATION_ROWS_PER_DAY: 10_000,
        Limit.MONITORING_RECORDS_PER_DAY: 100_000,
        Limit.TRAINING_JOBS_CONCURRENT: 2,
        Limit.STORAGE_BYTES: 5 * GIB,
    },
    "team": {
        Limit.REQUESTS_PER_MINUTE: 6_000,
        Limit.REGISTERED_MODELS: 200,
        Limit.RUNNING_EXPERIMENTS: 20,
        Limit.EXPLANATION_ROWS_PER_DAY: 1_000_000,
        Limit.MONITORING_RECORDS_PER_DAY: 50_000_000,
        Limit.TRAINING_JOBS_CONCURRENT: 20,
        Limit.STORAGE_BYTES: 500 * GIB,
    },
    "enterprise": {
        Limit.REQUESTS_PER_MINUTE: 60_000,
        Limit.REGISTERED_MODELS: None,
        Limit.RUNNING_EXPERIMENTS: None,
        Limit.EXPLANATION_ROWS_PER_DAY: None,
        Limit.MONITORING_RECORDS_PER_DAY: None,
        Limit.TRAINING_JOBS_CONCURRENT: None,
        Limit.STORAGE_BYTES: None,
    },
}
DEFAULT_PLAN = "team"


def effective_limits(plan: str, overrides: Mapping[str, int | None]) -> dict[str, int]:
    """The plan's limits with the tenant's overrides applied; unlimited ones are left out (absent means
    no limit, which is also how the admission check's condition reads them)."""
    merged: dict[str, int | None] = {str(k): v for k, v in PLANS[plan].items()}
    merged |= {str(Limit(k)): v for k, v in overrides.items()}
    return {k: int(v) for k, v in merged.items() if v is not None}


def minute_of(now: float) -> int:
    return int(now // 60)


def day_of(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def minute_resets_at(minute: int) -> str:
    return _iso((minute + 1) * 60)


def day_resets_at(day: str) -> str:
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ms: int | None) -> str | None:
    """Epoch milliseconds (how items keep times) as ISO 8601 UTC."""
    return None if ms is None else _iso(ms / 1000)
