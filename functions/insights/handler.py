"""Insights over the tenant's own history: a node's neighbourhood in the reuse graph, the most reused
artifacts of a period, reuse over time, recommendations for a project, the graph's backfills, the success
forecast (train, read, a project's forecast) and team suggestions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from maestro.core.api import PathKey, create_app, requires
from maestro.core.api_docs import answers
from maestro.core.fields import Moment
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.insights.advice import recommend
from maestro.insights.api import (
    NodeId,
    RecommendationRequest,
    TeamRequest,
    TrainRequest,
    forecasting,
    service,
)
from maestro.tenants.admission import admit

app = create_app("insights", admission=admit)
Json = dict
Since = Annotated[Moment | None, Query(description="from (default: 90 days before until)")]
Until = Annotated[Moment | None, Query(description="until, exclusive (default: now)")]
ArtifactKind = Literal["dataset", "model_version", "logged_model", "code"]


def _window(since: datetime | None, until: datetime | None) -> tuple[int, int]:
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=90)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


@app.get("/insights/neighbourhood", summary="A node's edges in the reuse graph", **requires(P.INSIGHTS_READ))
def neighbourhood(
    node: Annotated[NodeId, Query(description="<kind>:<key>, e.g. project:tag:churn")],
) -> Json:
    return service(app).neighbourhood(node)


@app.get("/insights/reuse", summary="The most reused artifacts of a period", **requires(P.INSIGHTS_READ))
def top_reused(
    since: Since = None,
    until: Until = None,
    kind: Annotated[ArtifactKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Json:
    return service(app).top_reused(*_window(since, until), kind, limit)


@app.get(
    "/insights/reuse/timeline",
    summary="New reusing projects per period, of one artifact or of all",
    **requires(P.INSIGHTS_READ),
)
def timeline(
    node: Annotated[NodeId | None, Query(description="an artifact's id (default: every artifact)")] = None,
    since: Since = None,
    until: Until = None,
    period: Annotated[Literal["day", "week", "month"], Query()] = "month",
) -> Json:
    return service(app).timeline(node, *_window(since, until), period)


@app.post(
    "/insights/recommendations",
    summary="Artifacts a project is likely to reuse, each with the projects behind it",
    **requires(P.INSIGHTS_READ),
)
def recommendations(request: RecommendationRequest) -> Json:
    return recommend(service(app).store, request.ask(), _now_ms())


@app.post(
    "/insights/backfills",
    summary="Rebuild the graph from the registry and the audit trail",
    **requires(P.INSIGHTS_CONFIGURE),
    **answers(202),
)
def start_backfill() -> Response[Json]:
    return Response(202, content_types.APPLICATION_JSON, service(app).start_backfill())


@app.get("/insights/backfills", summary="The latest backfills", **requires(P.INSIGHTS_READ))
def backfills(limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Json:
    return {"backfills": service(app).backfills(limit)}


@app.get(
    "/insights/backfills/<backfill_id>",
    summary="A backfill: its progress, then what it read and how it compared",
    **requires(P.INSIGHTS_READ),
)
def backfill(backfill_id: PathKey) -> Json:
    return service(app).backfill(backfill_id)


@app.post(
    "/insights/forecast/train",
    summary="Train the success forecast on the tenant's finished projects and register it",
    **requires(P.INSIGHTS_CONFIGURE),
)
def train(request: TrainRequest) -> Json:
    return forecasting(app).train(request.definition(), _now_ms())


@app.get(
    "/insights/forecast",
    summary="The forecast model: its figures and reliability",
    **requires(P.INSIGHTS_READ),
)
def forecast_model() -> Json:
    found = forecasting(app)
    return found.shown(found.model())


@app.get(
    "/insights/projects/<project_id>/forecast",
    summary="A project's chance of success, its calibration band and top contributing features",
    **requires(P.INSIGHTS_READ),
)
def forecast(project_id: PathKey) -> Json:
    return forecasting(app).forecast(project_id, _now_ms())


@app.post(
    "/insights/projects/<project_id>/team",
    summary="Principals to add to a project, by the gain in its forecast",
    **requires(P.INSIGHTS_READ),
)
def team(project_id: PathKey, request: TeamRequest) -> Json:
    return forecasting(app).team(project_id, request.size, request.keep, _now_ms())


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
