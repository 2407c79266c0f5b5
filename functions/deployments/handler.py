"""Model rollouts: start one (an alias moves from its version to another in traffic steps, each held and
gated by guardrails), read, list and abort them, and route units of an alias to the version serving them.
The work runs in the delivery state machine."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field

from maestro.core.api import PathKey, create_app, current_auth, decode_cursor, encode_cursor, requires
from maestro.core.api_docs import answers
from maestro.core.fields import Key
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.core.settings import get_settings
from maestro.delivery.service import DeliveryService
from maestro.delivery.spec import ALIAS, RolloutRequest
from maestro.delivery.store import DeliveryStore
from maestro.tenants.admission import admit

app = create_app("deployments", admission=admit)
Json = dict
MAX_UNITS = 1000


class RouteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: Key
    alias: str = Field(pattern=ALIAS)
    units: list[Key] = Field(min_length=1, max_length=MAX_UNITS, description="unit ids (users, sessions)")


def service() -> DeliveryService:
    auth, settings = current_auth(app), get_settings()
    return DeliveryService(
        DeliveryStore(settings.delivery_table, auth.tenant), auth, settings, app.request_id
    )


@app.post(
    "/deployments",
    summary="Start a model rollout behind an alias",
    **requires(P.DEPLOY_START),
    **answers(201),
)
def start(request: RolloutRequest) -> Response[Json]:
    return Response(201, content_types.APPLICATION_JSON, service().start(request))


@app.get("/deployments", summary="The tenant's rollouts, newest first (paged)", **requires(P.DEPLOY_READ))
def list_rollouts(
    status: Annotated[str | None, Query(pattern="^(RUNNING|COMPLETED|ROLLED_BACK|FAILED)$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Json:
    found, next_key = service().list(status, limit, decode_cursor(cursor))
    return {"rollouts": found, "next_cursor": encode_cursor(next_key)}


@app.get(
    "/deployments/<rollout_id>",
    summary="A rollout: its step, traffic split, history, guardrail checks and outcome",
    **requires(P.DEPLOY_READ),
)
def get(rollout_id: PathKey) -> Json:
    return service().get(rollout_id)


@app.post(
    "/deployments/<rollout_id>/abort",
    summary="Abort a rollout: it rolls back at its next guardrail check",
    **requires(P.DEPLOY_ABORT),
)
def abort(rollout_id: PathKey) -> Json:
    return service().abort(rollout_id)


@app.post(
    "/deployments/route",
    summary="The version of an alias that serves each unit (sticky while a rollout runs)",
    **requires(P.DEPLOY_ROUTE),
)
def route(request: RouteRequest) -> Json:
    return service().route(request.model, request.alias, request.units)


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
