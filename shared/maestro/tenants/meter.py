"""Metering, off the request path: every function's outcome lines reach the meter through a CloudWatch Logs
subscription (a second one beside the SLA collector's) and become per-tenant, per-day usage; an hourly run
measures each tenant's storage, corrects quota counters that drifted from the data, and writes yesterday's
billing export. Must never count a delivered batch twice: its log event ids name it, and a marker written in
the same transaction as its counts makes a redelivery count nothing."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import date, timedelta
from typing import Any

from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent

from maestro.core import capabilities
from maestro.core.object_store import Objects
from maestro.core.observability import logger
from maestro.core.outcomes import OUTCOME_KEY
from maestro.core.settings import get_settings
from maestro.core.tenancy import TENANT_ID
from maestro.tenants import usage
from maestro.tenants.plans import day_of
from maestro.tenants.service import billing_prefix, write_export
from maestro.tenants.store import TenantStore, all_profiles, stored_bytes

USAGE_PER_TRANSACTION = 99  # beside the batch's marker, within DynamoDB's 100 items
MARKER_DAYS = 14  # CloudWatch Logs redelivers within hours; the markers then expire (TTL)
MEASURED = ("active", "suspended")


def meter_logs(event: dict[str, Any], now: float | None = None) -> dict[str, int]:
    data = CloudWatchLogsEvent(event).parse_logs_data()
    if data.message_type != "DATA_MESSAGE":
        return {"lines": 0, "tenant_days": 0}  # CONTROL_MESSAGE: CloudWatch Logs checking the destination
    ids, outcomes = [], []
    for log_event in data.log_events:
        try:
            outcome = json.loads(log_event.message)[OUTCOME_KEY]
        except (ValueError, KeyError, TypeError):
            continue
        if TENANT_ID.fullmatch(str(outcome.get("tenant", ""))):
            ids.append(log_event.get_id)
            outcomes.append(outcome)
    counts = usage.aggregate(outcomes)
    settings = get_settings()
    store = TenantStore(settings.platform_table, settings.platform_tenant)
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
    expires = int((time.time() if now is None else now) + MARKER_DAYS * 86400)
    keys, counted = sorted(counts), 0
    for start in range(0, len(keys), USAGE_PER_TRANSACTION):
        chunk = {k: counts[k] for k in keys[start : start + USAGE_PER_TRANSACTION]}
        counted += len(chunk) if store.meter(f"logs:{digest}:{start}", chunk, expires) else 0
    return {"lines": len(outcomes), "tenant_days": counted}


def measure(now: float | None = None) -> dict[str, int]:
    """Each live tenant's stored bytes (its quota counter and the day's usage take them), its registered
    models and running experiments counted from the data (a counter that drifted is corrected unless it moved
    meanwhile), and yesterday's billing export if it is not written yet."""
    now = time.time() if now is None else now
    settings, day = get_settings(), day_of(now)
    measured = [p["tenant_id"] for p in all_profiles(settings.platform_table) if p["status"] in MEASURED]
    by_capability = capabilities.counted(measured)
    tenants = corrected = 0
    for tenant in measured:
        store = TenantStore(settings.platform_table, tenant)
        seen = store.get_quota()
        counted = {"storage_bytes": stored_bytes(settings.artifacts_bucket, tenant), **by_capability[tenant]}
        store.record_storage(day, counted["storage_bytes"])
        for counter, value in counted.items():
            if store.set_counter(counter, value, seen.get(counter)):
                corrected += 1
                logger.warning(
                    "quota counter corrected from the data",
                    extra={"tenant": tenant, "counter": counter, "was": seen.get(counter), "now": value},
                )
        tenants += 1
    return {"tenants": tenants, "counters_corrected": corrected, "exported": export_yesterday(now)}


def export_yesterday(now: float) -> int:
    """Yesterday's usage of every tenant as billing/daily/<day>.csv, once: the rows written (0 if done)."""
    settings = get_settings()
    yesterday = date.fromisoformat(day_of(now)) - timedelta(days=1)
    key = f"{billing_prefix(settings)}daily/{yesterday.isoformat()}.csv"
    if Objects.platform(settings.artifacts_bucket).exists(key):
        return 0
    return write_export(settings, yesterday, yesterday, key)
