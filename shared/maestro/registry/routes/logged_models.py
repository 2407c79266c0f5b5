"""MLflow 3's logged model routes."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from maestro.core.api import MaestroResolver, requires
from maestro.core.fields import Key, TagKey, Text
from maestro.core.rbac import Permission as P
from maestro.registry.protocol import services
from maestro.registry.routes.common import (
    MAX_ORDER_BY,
    MAX_TAGS,
    MLFLOW,
    Json,
    KeyValue,
    PageOfExperiments,
    Param,
    dumps,
    paged,
)


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


class SearchLoggedModels(PageOfExperiments):
    order_by: list[dict[str, Any]] = Field(default=[], max_length=MAX_ORDER_BY)


def register(router: MaestroResolver) -> None:
    @router.post(MLFLOW + "/logged-models", summary="Create a logged model", **requires(P.EXPERIMENT_WRITE))
    def create_logged_model(body: CreateLoggedModel) -> Json:
        model = services(router).logged_models.create(
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
        models, token = services(router).logged_models.search(
            experiment_ids=body.experiment_ids,
            filter_string=body.filter,
            order_by=body.order_by,
            max_results=body.max_results,
            page_token=body.page_token,
        )
        return paged("models", models, token)

    @router.get(
        MLFLOW + "/logged-models/<model_id>", summary="Get a logged model", **requires(P.EXPERIMENT_READ)
    )
    def get_logged_model(model_id: Annotated[Key, Path()]) -> Json:
        return {"model": services(router).logged_models.get(model_id)}

    @router.patch(
        MLFLOW + "/logged-models/<model_id>",
        summary="Finalize a logged model",
        **requires(P.EXPERIMENT_WRITE),
    )
    def finalize_logged_model(model_id: Annotated[Key, Path()], body: FinalizeLoggedModel) -> Json:
        return {"model": services(router).logged_models.finalize(model_id, body.status)}

    @router.delete(
        MLFLOW + "/logged-models/<model_id>", summary="Delete a logged model", **requires(P.EXPERIMENT_DELETE)
    )
    def delete_logged_model(model_id: Annotated[Key, Path()]) -> Json:
        services(router).logged_models.delete(model_id)
        return {}

    @router.patch(
        MLFLOW + "/logged-models/<model_id>/tags",
        summary="Tag a logged model",
        **requires(P.EXPERIMENT_WRITE),
    )
    def set_logged_model_tags(model_id: Annotated[Key, Path()], body: LoggedModelTags) -> Json:
        services(router).logged_models.set_tags(model_id, dumps(body.tags))
        return {}

    @router.delete(
        MLFLOW + "/logged-models/<model_id>/tags/<tag_key>",
        summary="Untag a logged model",
        **requires(P.EXPERIMENT_WRITE),
    )
    def delete_logged_model_tag(model_id: Annotated[Key, Path()], tag_key: Annotated[TagKey, Path()]) -> Json:
        services(router).logged_models.delete_tag(model_id, tag_key)
        return {}

    @router.post(
        MLFLOW + "/logged-models/<model_id>/params",
        summary="Log a logged model's params",
        **requires(P.EXPERIMENT_WRITE),
    )
    def log_logged_model_params(model_id: Annotated[Key, Path()], body: LoggedModelParams) -> Json:
        services(router).logged_models.log_params(model_id, dumps(body.params))
        return {}
