"""Restore drills for the platform's operators: start one (it runs in the drill state machine), read its
report (RTO, RPO, what was checked, what differed), list them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from maestro.core.api import PathKey, create_app, current_auth, decode_cursor, encode_cursor, requires
from maestro.core.api_docs import answers
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.platform.drills import Drills
from maestro.tenants.admission import admit

app = create_app("backup_drills", admission=admit)
Json = dict


def drills() -> Drills:
    return Drills(current_auth(app))


@app.post(
    "/platform/drills",
    summary="Start a restore drill of every table (its report follows at GET /platform/drills/{id})",
    **requires(P.PLATFORM_ADMIN),
    **answers(202),
)
def start() -> Response[Json]:
    return Response(202, content_types.APPLICATION_JSON, drills().start())


@app.get("/platform/drills", summary="Restore drills, newest first (paged)", **requires(P.PLATFORM_ADMIN))
def list_drills(
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Json:
    found, next_key = drills().list(limit, decode_cursor(cursor))
    return {"drills": found, "next_cursor": encode_cursor(next_key)}


@app.get(
    "/platform/drills/<drill_id>",
    summary="A drill's report: status, RTO, RPO, checks and findings",
    **requires(P.PLATFORM_ADMIN),
)
def get(drill_id: PathKey) -> Json:
    return drills().get(drill_id)


@lambda_entry(platform_access=True)
def handler(event, context):
    return app.resolve(event, context)
