"""MLflow's experiment routes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from maestro.core.api import MaestroResolver, requires
from maestro.core.fields import Key, TagKey, TagValue, Text
from maestro.core.rbac import Permission as P
from maestro.registry.fields import ACTIVE, DELETED
from maestro.registry.protocol import services
from maestro.registry.routes.common import (
    MAX_ORDER_BY,
    MAX_TAGS,
    MLFLOW,
    Json,
    KeyValue,
    Page,
    dumps,
    paged,
)


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


class SearchExperiments(Page):
    order_by: list[Text] = Field(default=[], max_length=MAX_ORDER_BY)
    view_type: Text | None = None


def register(router: MaestroResolver) -> None:
    @router.post(
        MLFLOW + "/experiments/create", summary="Create an experiment", **requires(P.EXPERIMENT_WRITE)
    )
    def create_experiment(body: CreateExperiment) -> Json:
        experiment_id = services(router).experiments.create(
            body.name, body.artifact_location, dumps(body.tags)
        )
        return {"experiment_id": experiment_id}

    @router.get(MLFLOW + "/experiments/get", summary="Get an experiment", **requires(P.EXPERIMENT_READ))
    def get_experiment(experiment_id: Annotated[Key, Query()]) -> Json:
        return {"experiment": services(router).experiments.get(experiment_id)}

    @router.get(
        MLFLOW + "/experiments/get-by-name",
        summary="Get an experiment by name",
        **requires(P.EXPERIMENT_READ),
    )
    def get_experiment_by_name(experiment_name: Annotated[Key, Query()]) -> Json:
        return {"experiment": services(router).experiments.get_by_name(experiment_name)}

    @router.post(MLFLOW + "/experiments/search", summary="Search experiments", **requires(P.EXPERIMENT_READ))
    def search_experiments(body: SearchExperiments) -> Json:
        experiments, token = services(router).experiments.search(
            view_type=body.view_type,
            filter_string=body.filter,
            order_by=body.order_by,
            max_results=body.max_results,
            page_token=body.page_token,
        )
        return paged("experiments", experiments, token)

    @router.post(
        MLFLOW + "/experiments/update", summary="Rename an experiment", **requires(P.EXPERIMENT_WRITE)
    )
    def update_experiment(body: UpdateExperiment) -> Json:
        services(router).experiments.rename(body.experiment_id, body.new_name)
        return {}

    @router.post(
        MLFLOW + "/experiments/delete", summary="Delete an experiment", **requires(P.EXPERIMENT_DELETE)
    )
    def delete_experiment(body: ExperimentId) -> Json:
        services(router).experiments.set_lifecycle(body.experiment_id, DELETED)
        return {}

    @router.post(
        MLFLOW + "/experiments/restore", summary="Restore an experiment", **requires(P.EXPERIMENT_DELETE)
    )
    def restore_experiment(body: ExperimentId) -> Json:
        services(router).experiments.set_lifecycle(body.experiment_id, ACTIVE)
        return {}

    @router.post(
        MLFLOW + "/experiments/set-experiment-tag",
        summary="Tag an experiment",
        **requires(P.EXPERIMENT_WRITE),
    )
    def set_experiment_tag(body: ExperimentTag) -> Json:
        services(router).experiments.set_tag(body.experiment_id, body.key, body.value or "")
        return {}

    @router.post(
        MLFLOW + "/experiments/delete-experiment-tag",
        summary="Untag an experiment",
        **requires(P.EXPERIMENT_WRITE),
    )
    def delete_experiment_tag(body: ExperimentTag) -> Json:
        services(router).experiments.set_tag(body.experiment_id, body.key, None)
        return {}
