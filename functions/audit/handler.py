"""The audit trail's API: search records, verify the chain and its digests, digest now, compliance
reports, the tenant's audit settings, and records posted by trusted callers (queued like bus events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from maestro.audit.api import PostedRecords, ReportRequest, service
from maestro.audit.gateway import enqueue
from maestro.audit.records import from_posted
from maestro.audit.reports import generate
from maestro.audit.settings import AuditSettings
from maestro.core.api import create_app, current_auth, decode_cursor, encode_cursor, requires
from maestro.core.api_docs import answers
from maestro.core.fields import Key, Moment
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.core.settings import get_settings
from maestro.tenants.admission import admit

app = create_app("audit", admission=admit)
Json = dict


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@app.get("/audit/events", summary="Search the trail (paged)", **requires(P.AUDIT_READ))
def events(
    start: Annotated[Moment | None, Query(description="from (default: 7 days ago)")] = None,
    end: Annotated[Moment | None, Query(description="until (default: now)")] = None,
    principal: Annotated[Key | None, Query()] = None,
    action: Annotated[Key | None, Query(description="e.g. registry:ModelVersionCreated")] = None,
    resource: Annotated[Key | None, Query()] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|denied|failure)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Json:
    until = end or datetime.now(UTC)
    since = start or until - timedelta(days=7)
    filters = {
        k: v
        for k, v in {
            "principal": principal,
            "action": action,
            "resource": resource,
            "outcome": outcome,
        }.items()
        if v
    }
    records, next_key = service(app).store.search(
        _iso(since), _iso(until), filters, limit, decode_cursor(cursor)
    )
    return {"records": records, "next_cursor": encode_cursor(next_key)}


@app.get(
    "/audit/verify", summary="Re-walk the chain, its digests and the archive", **requires(P.AUDIT_VERIFY)
)
def verify() -> Json:
    return service(app).verify()


@app.post("/audit/digests", summary="Digest and archive what is new now", **requires(P.AUDIT_VERIFY))
def digest_now() -> Json:
    return {"digest": service(app).digest()}


@app.post(
    "/audit/reports",
    summary="Generate a GDPR, SOC 2 or HIPAA report",
    **requires(P.AUDIT_REPORT),
    **answers(201),
)
def report(body: ReportRequest) -> Response[Json]:
    audit = service(app)
    settings, salt = audit.settings()
    until = body.end or datetime.now(UTC)
    since = body.start or until - timedelta(days=30)
    result = generate(
        audit.store,
        settings,
        salt,
        get_settings().audit_archive_bucket,
        body.type,
        _iso(since),
        _iso(until),
        body.subject,
    )
    auth = current_auth(app)
    audit.emit(
        "AuditReportGenerated", report_id=result["report_id"], type=body.type, requested_by=auth.principal
    )
    return Response(201, content_types.APPLICATION_JSON, result)


@app.get("/audit/settings", summary="The tenant's audit settings", **requires(P.AUDIT_READ))
def get_audit_settings() -> Json:
    settings, _ = service(app).settings()
    return settings.model_dump(mode="json")


@app.put("/audit/settings", summary="Replace the tenant's audit settings", **requires(P.AUDIT_CONFIGURE))
def put_audit_settings(body: AuditSettings) -> Json:
    service(app).put_settings(body, current_auth(app))
    return body.model_dump(mode="json")


@app.post(
    "/audit/records",
    summary="Post audit records (queued; a retried record counts once)",
    **requires(P.AUDIT_WRITE),
    **answers(202),
)
def post_records(body: PostedRecords) -> Response[Json]:
    auth = current_auth(app)
    redact = service(app).redactor()
    records = [
        from_posted(r, auth.tenant, auth.principal, app.request_id or "", redact) for r in body.records
    ]
    enqueue(records)
    return Response(
        202,
        content_types.APPLICATION_JSON,
        {"queued": len(records), "record_ids": [r["record_id"] for r in records]},
    )


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
