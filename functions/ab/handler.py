"""A/B experiment management: create, read, update (drafts freely; running ones only safely), the lifecycle
draft -> running <-> paused -> concluded, and the tenant's global holdout. Every change is an event."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types

from maestro.ab.api import Conclusion, Holdout, service
from maestro.ab.experiments import ExperimentSpec
from maestro.core.api import PathKey, create_app, requires
from maestro.core.api_docs import answers
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.tenants.admission import admit

app = create_app("ab", admission=admit)
Json = dict


@app.post("/ab/experiments", summary="Create an experiment (draft)", **requires(P.AB_WRITE), **answers(201))
def create(spec: ExperimentSpec) -> Response[Json]:
    return Response(201, content_types.APPLICATION_JSON, service(app).create(spec))


@app.get("/ab/experiments", summary="List experiments", **requires(P.AB_READ))
def list_experiments() -> Json:
    return {"experiments": service(app).list_all()}


@app.get("/ab/experiments/<experiment_id>", summary="Get an experiment", **requires(P.AB_READ))
def get(experiment_id: PathKey) -> Json:
    return service(app).get(experiment_id)


@app.put(
    "/ab/experiments/<experiment_id>", summary="Replace an experiment's configuration", **requires(P.AB_WRITE)
)
def update(experiment_id: PathKey, spec: ExperimentSpec) -> Json:
    return service(app).update(experiment_id, spec)


@app.post("/ab/experiments/<experiment_id>/start", summary="Start", **requires(P.AB_WRITE))
def start(experiment_id: PathKey) -> Json:
    return service(app).act(experiment_id, "start")


@app.post(
    "/ab/experiments/<experiment_id>/pause", summary="Pause (no new enrolments)", **requires(P.AB_WRITE)
)
def pause(experiment_id: PathKey) -> Json:
    return service(app).act(experiment_id, "pause")


@app.post("/ab/experiments/<experiment_id>/resume", summary="Resume", **requires(P.AB_WRITE))
def resume(experiment_id: PathKey) -> Json:
    return service(app).act(experiment_id, "resume")


@app.post(
    "/ab/experiments/<experiment_id>/conclude",
    summary="Conclude, naming the winner",
    **requires(P.AB_CONCLUDE),
)
def conclude(experiment_id: PathKey, body: Conclusion) -> Json:
    return service(app).act(experiment_id, "conclude", winner=body.winner)


@app.put("/ab/holdout", summary="The tenant's global holdout fraction", **requires(P.AB_WRITE))
def holdout(body: Holdout) -> Json:
    service(app).set_holdout(body.fraction)
    return {"fraction": body.fraction}


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
