"""Explanation jobs: submit (validated up front, idempotent), status with progress, list, cancel, and
presigned links to the results and the report. The work itself runs in the explanation state machine."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from maestro.core.api import (
    PathKey,
    create_app,
    current_auth,
    decode_cursor,
    encode_cursor,
    requires,
)
from maestro.core.api_docs import answers
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.core.settings import get_settings
from maestro.explain.service import ExplainService
from maestro.explain.spec import ExplanationRequest
from maestro.explain.store import ExplainStore
from maestro.tenants.admission import admit

app = create_app("explain", admission=admit)
Json = dict


def service() -> ExplainService:
    auth, settings = current_auth(app), get_settings()
    return ExplainService(ExplainStore(settings.explain_table, auth.tenant), auth, settings, app.request_id)


@app.post(
    "/explanations",
    summary="Submit an explanation job (the same request returns the same job)",
    **requires(P.EXPLAIN_SUBMIT),
    **answers(201, 200),
)
def submit(request: ExplanationRequest) -> Response[Json]:
    job, created = service().submit(request)
    return Response(201 if created else 200, content_types.APPLICATION_JSON, job)


@app.get("/explanations", summary="The tenant's jobs, newest first (paged)", **requires(P.EXPLAIN_READ))
def list_jobs(
    status: Annotated[str | None, Query(pattern="^(SUBMITTED|RUNNING|SUCCEEDED|FAILED|CANCELLED)$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Json:
    jobs, next_key = service().list(status, limit, decode_cursor(cursor))
    return {"jobs": jobs, "next_cursor": encode_cursor(next_key)}


@app.get(
    "/explanations/<job_id>", summary="A job's status, progress, error or results", **requires(P.EXPLAIN_READ)
)
def get(job_id: PathKey) -> Json:
    return service().get(job_id)


@app.get(
    "/explanations/<job_id>/results",
    summary="Presigned links to the per-row values, importances and the HTML report",
    **requires(P.EXPLAIN_READ),
)
def results(job_id: PathKey) -> Json:
    return service().links(job_id)


@app.get(
    "/explanations/<job_id>/summary",
    summary="A finished job's global importance and one row's local explanation",
    **requires(P.EXPLAIN_READ),
)
def summary(
    job_id: PathKey,
    row: Annotated[
        int | None, Query(ge=0, description="a dataset row the job explained; default its first")
    ] = None,
    output: Annotated[
        int | None,
        Query(ge=0, description="the model output; default its last (a classifier's positive class)"),
    ] = None,
) -> Json:
    return service().summary(job_id, row, output)


@app.post("/explanations/<job_id>/cancel", summary="Stop a job", **requires(P.EXPLAIN_CANCEL))
def cancel(job_id: PathKey) -> Json:
    return service().cancel(job_id)


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
