"""What the audit queue carries, turned into records: a bus event as the rule delivered it, or a record a
trusted caller posted (already redacted). A message that is neither is poison: it fails alone, and after
its retries the queue moves it to the dead-letter queue. Must never let one tenant's records enter
another tenant's chain: the tenant comes from the event's verified envelope or the poster's identity."""

from __future__ import annotations

import json
from typing import Any

from maestro.audit.records import from_event
from maestro.audit.service import AuditService
from maestro.audit.store import AuditStore
from maestro.core.errors import Forbidden
from maestro.core.observability import logger
from maestro.core.tenancy import validate_tenant_id
from maestro.tenants.counters import statuses

POSTED = "maestro_audit_record"
REQUIRED = (
    "record_id",
    "tenant",
    "principal",
    "action",
    "resource",
    "occurred_at",
    "outcome",
    "record_class",
)


class PoisonMessage(ValueError):
    pass


def parse(body: str) -> tuple[str, str, dict[str, Any]]:
    """(tenant, kind, payload) of one queue message; PoisonMessage when it cannot be a record."""
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise PoisonMessage(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise PoisonMessage("not a JSON object")
    if POSTED in message:
        record = message[POSTED]
        missing = [k for k in REQUIRED if k not in record]
        if missing:
            raise PoisonMessage(f"posted record lacks {missing}")
        return _tenant(record["tenant"]), "posted", record
    source, detail = message.get("source", ""), message.get("detail")
    if not str(source).startswith("maestro.") or not isinstance(detail, dict) or "detail-type" not in message:
        raise PoisonMessage("neither a maestro.* event nor a posted record")
    return _tenant(detail.get("tenant", "")), "event", message


def _tenant(tenant: str) -> str:
    try:
        return validate_tenant_id(tenant)
    except Forbidden:
        raise PoisonMessage(f"invalid tenant {tenant!r}") from None


def ingest(
    messages: list[tuple[str, str, dict[str, Any]]], table: str, correlation_id: str | None = None
) -> dict[str, int]:
    """Append each tenant's records to its chain, in the order they arrived. A tenant being deleted, or
    deleted, gets none: records still queued when its deletion swept the trail must not re-create it."""
    by_tenant: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for tenant, kind, payload in messages:
        by_tenant.setdefault(tenant, []).append((kind, payload))
    totals = {"appended": 0, "duplicates": 0, "tenants": len(by_tenant), "dropped": 0}
    status = statuses(set(by_tenant))
    for tenant in [t for t in by_tenant if status.get(t) in ("deleting", "deleted")]:
        dropped = by_tenant.pop(tenant)
        totals["dropped"] += len(dropped)
        logger.warning(
            "dropped records of a deleted tenant", extra={"tenant": tenant, "records": len(dropped)}
        )
    for tenant, items in by_tenant.items():
        audit = AuditService(AuditStore(table, tenant), correlation_id)
        redact = audit.redactor()
        records = [from_event(payload, redact) if kind == "event" else payload for kind, payload in items]
        result = audit.append(records)
        totals["appended"] += result["appended"]
        totals["duplicates"] += result["duplicates"]
    return totals
