"""MLflow tracking routes: experiments, runs, metrics, inputs/outputs, logged models."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from maestro.core.api import MaestroResolver, requires
from maestro.core.errors import ValidationError
from maestro.core.fields import Key, ParamValue, TagKey, TagValue, Text
from maestro.core.rbac import Permission as P
from maestro.registry.protocol import services
from maestro.registry.tracking import ACTIVE, DELETED

Json = dict[str, Any]
MLFLOW = "/api/2.0/mlflow"
MAX_TAGS = 100  # tags, params or datasets in one request (MLflow's batch limit)
MAX_ORDER_BY = 10
MaxResults = Annotated[int, Field(ge=1, le=50_000)]  # MLflow's search limit
Timestamp = Annotated[int, Field(ge=0, le=2**63 - 1)]  # milliseconds, stored as a DynamoDB number
Step = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]  # MLflow's steps are int64


class KeyValue(BaseModel):
    key: TagKey
    value: TagValue | None = None


class CreateExperiment(BaseModel):
    name: Key
    artifact_location: Text | None = None
    tags: list[KeyValue] = Field(default=[], max_length=MAX_TAGS)


class ExperimentId(BaseModel):
    experiment_id: Key


class UpdateExperiment(BaseModel):
    experiment_id: Key
    new_name: Key


class ExperimentTag(BaseModel):
    experiment_id: Key
    key: TagKey
    value: TagValue | None = None


class SearchExperiments(BaseModel):
    max_results: MaxResults | None = None
    page_token: Text | None = None
    filter: Text | None = None
    order_by: list[Text] = Field(default=[], max_length=MAX_ORDER_BY)
    view_type: Text | None = None


class CreateRun(BaseModel):
    experiment_id: Key = "0"
    user_id: Text | None = None
    run_name: Key | None = None
    start_time: Timestamp | None = None
    tags: list[KeyValue] = Field(default=[], max_length=MAX_TAGS)


class RunRef(BaseModel):
    run_id: Key | None = None
    run_uuid: Key | None = None

    @property
    def id(self) -> str:
        if not (self.run_id or self.run_uuid):
            raise ValidationError("run_id", "is required")
        return str(self.run_id or self.run_uuid)


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


class Param(BaseModel):
    key: TagKey
    value: ParamValue | None = None


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


class SearchRuns(BaseModel):
    experiment_ids: list[Key] = Field(default=[], max_length=MAX_TAGS)
    filter: Text | None = None
    run_view_type: Text | None = None
    max_results: MaxResults | None = None
    order_by: list[Text] = Field(default=[], max_length=MAX_ORDER_BY)
    page_token: Text | None = None


class CreateLoggedModel(BaseModel):
    experiment_id: Key
    name: Key | None = None
    model_type: Text | None = None
    source_run_id: Key | None = None
    params: list[Param] = Field(default=[], max_length=MAX_TAGS)
    tags: list[KeyValue] = Field(default=[], max_length=MAX_TAGS)


class FinalizeLoggedModel(BaseModel):
    status: Text


class LoggedModelTags(BaseModel):
    tags: list[KeyValue] = Field(default=[], max_length=MAX_TAGS)


class LoggedModelParams(BaseModel):
    params: list[Param] = Field(default=[], max_length=MAX_TAGS)


class SearchLoggedModels(BaseModel):
    experiment_ids: list[Key] = Field(default=[], max_length=MAX_TAGS)
    filter: Text | None = None
    order_by: list[dict[str, Any]] = Field(default=[], max_length=MAX_ORDER_BY)
    max_results: MaxResults | None = None
    page_token: Text | None = None


def dumps(items: list[KeyValue] | list[Param]) -> list[dict[str, Any]]:
    return [i.model_dump() for i in items]


# -- experiments -----------------------------------------------------------------------------------------


def register(router: MaestroResolver) -> None:
    """Defines the routes on `app` itself: a shared module-level Router would be rebound by every app
    that includes it, and the local runtime hosts several apps (environments) in one process."""

    @router.post(
        MLFLOW + "/experiments/create", summary="Create an experiment", **requires(P.EXPERIMENT_WRITE)
    )
    def create_experiment(body: CreateExperiment) -> Json:
        experiment_id = services(router).tracking.create_experiment(
            body.name, body.artifact_location, dumps(body.tags)
        )
        return {"experiment_id": experiment_id}

    @router.get(MLFLOW + "/experiments/get", summary="Get an experiment", **requires(P.EXPERIMENT_READ))
    def get_experiment(experiment_id: Annotated[Key, Query()]) -> Json:
        return {"experiment": services(router).tracking.get_experiment(experiment_id)}

    @router.get(
        MLFLOW + "/experiments/get-by-name",
        summary="Get an experiment by name",
        **requires(P.EXPERIMENT_READ),
    )
    def get_experiment_by_name(experiment_name: Annotated[Key, Query()]) -> Json:
        return {"experiment": services(router).tracking.get_experiment_by_name(experiment_name)}

    @router.post(MLFLOW + "/experiments/search", summary="Search experiments", **requires(P.EXPERIMENT_READ))
    def search_experiments(body: SearchExperiments) -> Json:
        experiments, token = services(router).tracking.search_experiments(
            view_type=body.view_type,
            filter_string=body.filter,
            order_by=body.order_by,
            max_results=body.max_results,
            page_token=body.page_token,
        )
        return {"experiments": experiments, **({"next_page_token": token} if token else {})}

    @router.post(
        MLFLOW + "/experiments/update", summary="Rename an experiment", **requires(P.EXPERIMENT_WRITE)
    )
    def update_experiment(body: UpdateExperiment) -> Json:
        services(router).tracking.update_experiment(body.experiment_id, body.new_name)
        return {}

    @router.post(
        MLFLOW + "/experiments/delete", summary="Delete an experiment", **requires(P.EXPERIMENT_DELETE)
    )
    def delete_experiment(body: ExperimentId) -> Json:
        services(router).tracking.set_experiment_lifecycle(body.experiment_id, DELETED)
        return {}

    @router.post(
        MLFLOW + "/experiments/restore", summary="Restore an experiment", **requires(P.EXPERIMENT_DELETE)
    )
    def restore_experiment(body: ExperimentId) -> Json:
        services(router).tracking.set_experiment_lifecycle(body.experiment_id, ACTIVE)
        return {}

    @router.post(
        MLFLOW + "/experiments/set-experiment-tag",
        summary="Tag an experiment",
        **requires(P.EXPERIMENT_WRITE),
    )
    def set_experiment_tag(body: ExperimentTag) -> Json:
        services(router).tracking.set_experiment_tag(body.experiment_id, body.key, body.value or "")
        return {}

    @router.post(
        MLFLOW + "/experiments/delete-experiment-tag",
        summary="Untag an experiment",
        **requires(P.EXPERIMENT_WRITE),
    )
    def delete_experiment_tag(body: ExperimentTag) -> Json:
        services(router).tracking.set_experiment_tag(body.experiment_id, body.key, None)
        return {}

    # -- runs ------------------------------------------------------------------------------------------------
    @router.post(MLFLOW + "/runs/create", summary="Create a run", **requires(P.EXPERIMENT_WRITE))
    def create_run(body: CreateRun) -> Json:
        run = services(router).tracking.create_run(
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
        return {"run": services(router).tracking.get_run(RunRef(run_id=run_id, run_uuid=run_uuid).id)}

    @router.post(
        MLFLOW + "/runs/update",
        summary="Update a run's status, end time or name",
        **requires(P.EXPERIMENT_WRITE),
    )
    def update_run(body: UpdateRun) -> Json:
        return {
            "run_info": services(router).tracking.update_run(
                body.id, body.status, body.end_time, body.run_name
            )
        }

    @router.post(MLFLOW + "/runs/delete", summary="Delete a run", **requires(P.EXPERIMENT_DELETE))
    def delete_run(body: RunRef) -> Json:
        services(router).tracking.set_run_lifecycle(body.id, DELETED)
        return {}

    @router.post(MLFLOW + "/runs/restore", summary="Restore a run", **requires(P.EXPERIMENT_DELETE))
    def restore_run(body: RunRef) -> Json:
        services(router).tracking.set_run_lifecycle(body.id, ACTIVE)
        return {}

    @router.post(MLFLOW + "/runs/log-metric", summary="Log a metric", **requires(P.EXPERIMENT_WRITE))
    def log_metric(body: LogMetric) -> Json:
        metric = Metric.model_validate(body.model_dump()).model_dump()
        services(router).tracking.log_batch(body.id, metrics=[metric])
        return {}

    @router.post(MLFLOW + "/runs/log-parameter", summary="Log a parameter", **requires(P.EXPERIMENT_WRITE))
    def log_param(body: LogParam) -> Json:
        services(router).tracking.log_batch(body.id, params=[{"key": body.key, "value": body.value}])
        return {}

    @router.post(MLFLOW + "/runs/set-tag", summary="Tag a run", **requires(P.EXPERIMENT_WRITE))
    def set_tag(body: SetTag) -> Json:
        services(router).tracking.log_batch(body.id, tags=[{"key": body.key, "value": body.value}])
        return {}

    @router.post(MLFLOW + "/runs/delete-tag", summary="Untag a run", **requires(P.EXPERIMENT_WRITE))
    def delete_tag(body: DeleteTag) -> Json:
        services(router).tracking.delete_tag(body.id, body.key)
        return {}

    @router.post(
        MLFLOW + "/runs/log-batch",
        summary="Log metrics, params and tags at once",
        **requires(P.EXPERIMENT_WRITE),
    )
    def log_batch(body: LogBatch) -> Json:
        services(router).tracking.log_batch(
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
        services(router).tracking.log_inputs(body.id, body.datasets, body.models)
        return {}

    @router.post(
        MLFLOW + "/runs/outputs", summary="Log a run's output models", **requires(P.EXPERIMENT_WRITE)
    )
    def log_outputs(body: LogOutputs) -> Json:
        services(router).tracking.log_outputs(body.id, body.models)
        return {}

    @router.post(MLFLOW + "/runs/search", summary="Search runs", **requires(P.EXPERIMENT_READ))
    def search_runs(body: SearchRuns) -> Json:
        runs, token = services(router).tracking.search_runs(
            experiment_ids=body.experiment_ids,
            filter_string=body.filter,
            run_view_type=body.run_view_type,
            max_results=body.max_results,
            order_by=body.order_by,
            page_token=body.page_token,
        )
        return {"runs": runs, **({"next_page_token": token} if token else {})}

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
        metrics, token = services(router).tracking.metric_history(
            RunRef(run_id=run_id, run_uuid=run_uuid).id, metric_key, max_results, page_token
        )
        return {"metrics": metrics, **({"next_page_token": token} if token else {})}

    # -- logged models (MLflow 3) ----------------------------------------------------------------------------
    @router.post(MLFLOW + "/logged-models", summary="Create a logged model", **requires(P.EXPERIMENT_WRITE))
    def create_logged_model(body: CreateLoggedModel) -> Json:
        model = services(router).tracking.create_logged_model(
            experiment_id=body.experiment_id,
            name=body.name,
            model_type=body.model_type,
            source_run_id=body.source_run_id,
            params=dumps(body.params),
            tags=dumps(body.tags),
        )
        return {"model": model}

    @router.post(
        MLFLOW + "/logged-models/search", summary="Search logged models", **requires(P.EXPERIMENT_READ)
    )
    def search_logged_models(body: SearchLoggedModels) -> Json:
        models, token = services(router).tracking.search_logged_models(
            experiment_ids=body.experiment_ids,
            filter_string=body.filter,
            order_by=body.order_by,
            max_results=body.max_results,
            page_token=body.page_token,
        )
        return {"models": models, **({"next_page_token": token} if token else {})}

    @router.get(
        MLFLOW + "/logged-models/<model_id>", summary="Get a logged model", **requires(P.EXPERIMENT_READ)
    )
    def get_logged_model(model_id: Annotated[Key, Path()]) -> Json:
        return {"model": services(router).tracking.get_logged_model(model_id)}

    @router.patch(
        MLFLOW + "/logged-models/<model_id>",
        summary="Finalize a logged model",
        **requires(P.EXPERIMENT_WRITE),
    )
    def finalize_logged_model(model_id: Annotated[Key, Path()], body: FinalizeLoggedModel) -> Json:
        return {"model": services(router).tracking.finalize_logged_model(model_id, body.status)}

    @router.delete(
        MLFLOW + "/logged-models/<model_id>", summary="Delete a logged model", **requires(P.EXPERIMENT_DELETE)
    )
    def delete_logged_model(model_id: Annotated[Key, Path()]) -> Json:
        services(router).tracking.delete_logged_model(model_id)
        return {}

    @router.patch(
        MLFLOW + "/logged-models/<model_id>/tags",
        summary="Tag a logged model",
        **requires(P.EXPERIMENT_WRITE),
    )
    def set_logged_model_tags(model_id: Annotated[Key, Path()], body: LoggedModelTags) -> Json:
        services(router).tracking.set_logged_model_tags(model_id, dumps(body.tags))
        return {}

    @router.delete(
        MLFLOW + "/logged-models/<model_id>/tags/<tag_key>",
        summary="Untag a logged model",
        **requires(P.EXPERIMENT_WRITE),
    )
    def delete_logged_model_tag(model_id: Annotated[Key, Path()], tag_key: Annotated[TagKey, Path()]) -> Json:
        services(router).tracking.delete_logged_model_tag(model_id, tag_key)
        return {}

    @router.post(
        MLFLOW + "/logged-models/<model_id>/params",
        summary="Log a logged model's params",
        **requires(P.EXPERIMENT_WRITE),
    )
    def log_logged_model_params(model_id: Annotated[Key, Path()], body: LoggedModelParams) -> Json:
        services(router).tracking.log_logged_model_params(model_id, dumps(body.params))
        return {}
