"""Quota and rate-limit refusals: which limit, its maximum, what is used, what was asked, when it resets.
Must never refuse without saying which limit and how the caller gets past it."""

from __future__ import annotations

import time

from maestro.core.errors import QuotaExceeded, TooManyRequests
from maestro.tenants.plans import Limit, minute_resets_at

COUNTERS = {
    # quota item attribute -> the limit it is held to
    "registered_models": Limit.REGISTERED_MODELS,
    "running_experiments": Limit.RUNNING_EXPERIMENTS,
    "storage_bytes": Limit.STORAGE_BYTES,
    "training_jobs_concurrent": Limit.TRAINING_JOBS_CONCURRENT,
}
REMEDY = {
    Limit.REGISTERED_MODELS: "delete a registered model or ask a platform administrator to raise the limit",
    Limit.RUNNING_EXPERIMENTS: "pause or conclude a running experiment first",
    Limit.EXPLANATION_ROWS_PER_DAY: "explain fewer rows, or wait until the quota resets",
    Limit.MONITORING_RECORDS_PER_DAY: "sample the serving records, or wait until the quota resets",
    Limit.TRAINING_JOBS_CONCURRENT: "wait for a running training job to end, or stop one",
    Limit.STORAGE_BYTES: "delete artifacts or ask a platform administrator to raise the limit",
}


def quota_exceeded(
    limit: Limit, maximum: int, used: int, requested: int, resets_at: str | None = None
) -> QuotaExceeded:
    when = f"; resets at {resets_at}" if resets_at else ""
    return QuotaExceeded(
        f"quota {limit}: {used:,} of {maximum:,} used, {requested:,} more requested{when}; {REMEDY[limit]}",
        details={
            "limit": str(limit),
            "maximum": maximum,
            "used": used,
            "requested": requested,
            "resets_at": resets_at,
        },
    )


def rate_limited(maximum: int, used: int, minute: int, now: float | None = None) -> TooManyRequests:
    now = time.time() if now is None else now
    retry_after = max(1, int((minute + 1) * 60 - now + 0.999))
    resets_at = minute_resets_at(minute)
    return TooManyRequests(
        f"rate limit {Limit.REQUESTS_PER_MINUTE}: {used:,} of {maximum:,} requests this minute; "
        f"retry after {retry_after} s (resets at {resets_at})",
        details={
            "limit": str(Limit.REQUESTS_PER_MINUTE),
            "maximum": maximum,
            "used": used,
            "resets_at": resets_at,
            "retry_after_s": retry_after,
        },
    )
