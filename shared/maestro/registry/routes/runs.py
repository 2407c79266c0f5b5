"""MLflow's run routes: runs, what they log, their inputs and outputs, search and metric history."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from maestro.core.api import MaestroResolver, requires
from maestro.core.fields import Key, TagKey, Text
from maestro.core.rbac import Permission as P
from maestro.registry.fields import ACTIVE, DELETED
from maestro.registry.protocol import services
from maestro.registry.routes.common import (
    MAX_ORDER_BY,
    MAX_TAGS,
    MLFLOW,
    Json,
    KeyValue,
    MaxResults,
    PageOfExperiments,
    Param,
    RunRef,
    Step,
    Timestamp,
    dumps,
    paged,
)


class CreateRun(BaseModel):
    experiment_id: Key = "0"
    user_id: Text | None = None
    run_name: Key | None = None
    start_time: Timestamp | None = None
    tags: list[KeyValue] = Field(default=[], max_length=MAX_TAGS)


class UpdateRun(RunRef):
    status: Text | None = None
    end_time: Timestamp | None = None
    run_name: Key | None = None


class Metric(BaseModel):
    key: TagKey
    value: Any = None
    timestamp: Timestamp | None = None
    step: Step | None = 0
    model_id: Key | None = None


class LogMetric(RunRef, Metric):
    pass


class LogParam(RunRef, Param):
    pass


class SetTag(RunRef, KeyValue):
    pass


class DeleteTag(RunRef):
    key: TagKey


class LogBatch(RunRef):
    # MLflow's own batch limits: 1,000 metrics, 100 params, 100 tags.
    metrics: list[Metric] = Field(default=[], max_length=1000)
    params: list[Param] = Field(default=[], max_length=100)
    tags: list[KeyValue] = Field(default=[], max_length=100)


class LogInputs(RunRef):
    datasets: list[dict[str, Any]] = Field(default=[], max_length=MAX_TAGS)
    models: list[dict[str, Any]] = Field(default=[], max_length=MAX_TAGS)


class LogOutputs(RunRef):
    models: list[dict[str, Any]] = Field(default=[], max_length=MAX_TAGS)


class SearchRuns(PageOfExperiments):
    run_view_type: Text | None = None
    order_by: list[Text] = Field(default=[], max_length=MAX_ORDER_BY)


def register(router: MaestroResolver) -> None:
    @router.post(MLFLOW + "/runs/create", summary="Create a run", **requires(P.EXPERIMENT_WRITE))
    def create_run(body: CreateRun) -> Json:
        run = services(router).runs.create(
            experiment_id=body.experiment_id,
            user_id=body.user_id,
            run_name=body.run_name,
            start_time=body.start_time,
            tags=dumps(body.tags),
        )
        return {"run": run}

    @router.get(MLFLOW + "/runs/get", summary="Get a run", **requires(P.EXPERIMENT_READ))
    def get_run(
        run_id: Annotated[Key | None, Query()] = None, run_uuid: Annotated[Key | None, Query()] = None
    ) -> Json:
        return {"run": services(router).runs.get(RunRef(run_id=run_id, run_uuid=run_uuid).id)}

    @router.post(
        MLFLOW + "/runs/update",
        summary="Update a run's status, end time or name",
        **requires(P.EXPERIMENT_WRITE),
    )
    def update_run(body: UpdateRun) -> Json:
        return {"run_info": services(router).runs.update(body.id, body.status, body.end_time, body.run_name)}

    @router.post(MLFLOW + "/runs/delete", summary="Delete a run", **requires(P.EXPERIMENT_DELETE))
    def delete_run(body: RunRef) -> Json:
        services(router).runs.set_lifecycle(body.id, DELETED)
        return {}

    @router.post(MLFLOW + "/runs/restore", summary="Restore a run", **requires(P.EXPERIMENT_DELETE))
    def restore_run(body: RunRef) -> Json:
        services(router).runs.set_lifecycle(body.id, ACTIVE)
        return {}

    @router.post(MLFLOW + "/runs/log-metric", summary="Log a metric", **requires(P.EXPERIMENT_WRITE))
    def log_metric(body: LogMetric) -> Json:
        metric = Metric.model_validate(body.model_dump()).model_dump()
        services(router).run_data.log_batch(body.id, metrics=[metric])
        return {}

    @router.post(MLFLOW + "/runs/log-parameter", summary="Log a parameter", **requires(P.EXPERIMENT_WRITE))
    def log_param(body: LogParam) -> Json:
        services(router).run_data.log_batch(body.id, params=[{"key": body.key, "value": body.value}])
        return {}

    @router.post(MLFLOW + "/runs/set-tag", summary="Tag a run", **requires(P.EXPERIMENT_WRITE))
    def set_tag(body: SetTag) -> Json:
        services(router).run_data.log_batch(body.id, tags=[{"key": body.key, "value": body.value}])
        return {}

    @router.post(MLFLOW + "/runs/delete-tag", summary="Untag a run", **requires(P.EXPERIMENT_WRITE))
    def delete_tag(body: DeleteTag) -> Json:
        services(router).runs.delete_tag(body.id, body.key)
        return {}

    @router.post(
        MLFLOW + "/runs/log-batch",
        summary="Log metrics, params and tags at once",
        **requires(P.EXPERIMENT_WRITE),
    )
    def log_batch(body: LogBatch) -> Json:
        services(router).run_data.log_batch(
            body.id,
            metrics=[m.model_dump() for m in body.metrics],
            params=dumps(body.params),
            tags=dumps(body.tags),
        )
        return {}

    @router.post(
        MLFLOW + "/runs/log-inputs",
        summary="Log a run's datasets and input models",
        **requires(P.EXPERIMENT_WRITE),
    )
    def log_inputs(body: LogInputs) -> Json:
        services(router).runs.log_inputs(body.id, body.datasets, body.models)
        return {}

    @router.post(
        MLFLOW + "/runs/outputs", summary="Log a run's output models", **requires(P.EXPERIMENT_WRITE)
    )
    def log_outputs(body: LogOutputs) -> Json:
        services(router).runs.log_outputs(body.id, body.models)
        return {}

    @router.post(MLFLOW + "/runs/search", summary="Search runs", **requires(P.EXPERIMENT_READ))
    def search_runs(body: SearchRuns) -> Json:
        runs, token = services(router).runs.search(
            experiment_ids=body.experiment_ids,
            filter_string=body.filter,
            run_view_type=body.run_view_type,
            max_results=body.max_results,
            order_by=body.order_by,
            page_token=body.page_token,
        )
        return paged("runs", runs, token)

    @router.get(
        MLFLOW + "/metrics/get-history", summary="A metric's full history", **requires(P.EXPERIMENT_READ)
    )
    def get_metric_history(
        metric_key: Annotated[TagKey, Query()],
        run_id: Annotated[Key | None, Query()] = None,
        run_uuid: Annotated[Key | None, Query()] = None,
        max_results: Annotated[MaxResults | None, Query()] = None,
        page_token: Annotated[Text | None, Query()] = None,
    ) -> Json:
        metrics, token = services(router).runs.metric_history(
            RunRef(run_id=run_id, run_uuid=run_uuid).id, metric_key, max_results, page_token
        )
        return paged("metrics", metrics, token)
