"""The audit trail's schedules: hourly, every tenant's chain is digested (archived and signed) and then
verified, with an AuditChainBroken security event when it fails; daily, a SOC 2 report of the day before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from maestro.audit.reports import generate
from maestro.audit.service import AuditService
from maestro.audit.store import AuditStore, chains
from maestro.core.observability import lambda_entry, logger
from maestro.core.settings import get_settings


def _each_tenant(work: Any, correlation_id: str | None) -> list[dict[str, Any]]:
    settings = get_settings()
    out = []
    for tenant in chains(settings.audit_table):
        try:
            out.append(
                {
                    "tenant": tenant,
                    **work(AuditService(AuditStore(settings.audit_table, tenant), correlation_id)),
                }
            )
        except Exception:  # noqa: BLE001 - one tenant's failure must not stop the others'
            logger.exception("audit schedule failed for %s", tenant)
    return out


def digest_and_verify(audit: AuditService) -> dict[str, Any]:
    digest = audit.digest()
    report = audit.verify()
    if not report["valid"]:
        audit.emit("AuditChainBroken", kind="chain_verification_failed", first_break=report["first_break"])
    return {"digest": digest and digest["number"], "valid": report["valid"]}


def daily_report(audit: AuditService) -> dict[str, Any]:
    settings, salt = audit.settings()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = (today - timedelta(days=1)).isoformat(), today.isoformat()
    result = generate(
        audit.store, settings, salt, get_settings().audit_archive_bucket, "soc2", start, end, None
    )
    audit.emit("AuditReportGenerated", resource=result["report_id"], type="soc2")
    return {"report": result["report_id"]}


@lambda_entry(correlation_id_path=correlation_paths.EVENT_BRIDGE, platform_access=True)
def handler(event, context):
    if event.get("task") == "daily-report":
        return {"reports": _each_tenant(daily_report, event.get("id"))}
    return {"digests": _each_tenant(digest_and_verify, event.get("id"))}
