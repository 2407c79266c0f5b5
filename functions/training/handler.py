"""Training jobs: submit (checked up front, counted against training_jobs_concurrent), status with
progress and metrics so far, the log lines of every host, list and stop. The work runs in the training
state machine."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query

from maestro.core.api import PathKey, create_app, current_auth, decode_cursor, encode_cursor, requires
from maestro.core.api_docs import answers
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.core.settings import get_settings
from maestro.tenants.admission import admit
from maestro.training.service import TrainingService
from maestro.training.spec import TrainingJobRequest
from maestro.training.store import TrainingStore
from maestro.training.sweep_service import SweepService
from maestro.training.sweep_store import SweepStore
from maestro.training.sweeps import SweepRequest

app = create_app("training", admission=admit)
Json = dict


def sweeps() -> SweepService:
    auth, settings = current_auth(app), get_settings()
    return SweepService(SweepStore(settings.training_table, auth.tenant), auth, settings, app.request_id)


def service() -> TrainingService:
    auth, settings = current_auth(app), get_settings()
    return TrainingService(
        TrainingStore(settings.training_table, auth.tenant), auth, settings, app.request_id
    )


@app.post("/training/jobs", summary="Submit a training job", **requires(P.TRAINING_SUBMIT), **answers(201))
def submit(request: TrainingJobRequest) -> Response[Json]:
    return Response(201, content_types.APPLICATION_JSON, service().submit(request))


@app.get(
    "/training/jobs", summary="The tenant's training jobs, newest first (paged)", **requires(P.TRAINING_READ)
)
def list_jobs(
    status: Annotated[str | None, Query(pattern="^(SUBMITTED|RUNNING|SUCCEEDED|FAILED|STOPPED)$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Json:
    jobs, next_key = service().list(status, limit, decode_cursor(cursor))
    return {"jobs": jobs, "next_cursor": encode_cursor(next_key)}


@app.get(
    "/training/jobs/<job_id>",
    summary="A job's status, progress, metrics so far, model and failure reason",
    **requires(P.TRAINING_READ),
)
def get(job_id: PathKey) -> Json:
    return service().get(job_id)


@app.get(
    "/training/jobs/<job_id>/logs", summary="The job's log lines from every host", **requires(P.TRAINING_READ)
)
def logs(
    job_id: PathKey,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    token: Annotated[
        str | None, Query(max_length=2048, description="next_token of the previous page")
    ] = None,
) -> Json:
    return service().logs(job_id, token, limit)


@app.post("/training/jobs/<job_id>/stop", summary="Stop a job (it ends STOPPED)", **requires(P.TRAINING_STOP))
def stop(job_id: PathKey) -> Json:
    return service().stop(job_id)


@app.post(
    "/training/sweeps", summary="Submit a grid or random sweep", **requires(P.TRAINING_SUBMIT), **answers(201)
)
def submit_sweep(request: SweepRequest) -> Response[Json]:
    return Response(201, content_types.APPLICATION_JSON, sweeps().submit(request))


@app.get("/training/sweeps", summary="The tenant's sweeps, newest first (paged)", **requires(P.TRAINING_READ))
def list_sweeps(
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Json:
    found, next_key = sweeps().list(limit, decode_cursor(cursor))
    return {"sweeps": found, "next_cursor": encode_cursor(next_key)}


@app.get("/training/sweeps/<sweep_id>", summary="A sweep's trials and its best", **requires(P.TRAINING_READ))
def get_sweep(sweep_id: PathKey) -> Json:
    return sweeps().get(sweep_id)


@app.post(
    "/training/sweeps/<sweep_id>/stop", summary="Stop a sweep and its trials", **requires(P.TRAINING_STOP)
)
def stop_sweep(sweep_id: PathKey) -> Json:
    return sweeps().stop(sweep_id)


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
