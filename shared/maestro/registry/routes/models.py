"""MLflow model registry routes: registered models, versions, stages, aliases; and Maestro's lineage view."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from maestro.core.api import MaestroResolver, requires
from maestro.core.fields import Key, TagKey, TagValue, Text
from maestro.core.rbac import Permission as P
from maestro.registry import search
from maestro.registry.protocol import query, services
from maestro.registry.routes.common import MAX_ORDER_BY, MAX_TAGS, KeyValue, MaxResults, dumps, paged

FilterParam = Annotated[Text | None, Query()]
MaxResultsParam = Annotated[MaxResults | None, Query()]
PageTokenParam = Annotated[Text | None, Query()]

Json = dict[str, Any]
MLFLOW = "/api/2.0/mlflow"


class CreateRegisteredModel(BaseModel):
    name: Key
    tags: list[KeyValue] = Field(default=[], max_length=MAX_TAGS)
    description: Text | None = None


class ModelName(BaseModel):
    name: Key


class RenameModel(BaseModel):
    name: Key
    new_name: Key


class UpdateModel(BaseModel):
    name: Key
    description: Text | None = None


class ModelTag(BaseModel):
    name: Key
    key: TagKey
    value: TagValue | None = None


class LatestVersions(BaseModel):
    name: Key
    stages: list[Key] = Field(default=[], max_length=10)


class CreateVersion(BaseModel):
    name: Key
    source: Text = Field(min_length=1)
    run_id: Key | None = None
    tags: list[KeyValue] = Field(default=[], max_length=MAX_TAGS)
    run_link: Text | None = None
    description: Text | None = None
    model_id: Key | None = None


class VersionRef(BaseModel):
    name: Key
    version: Key


class UpdateVersion(VersionRef):
    description: Text | None = None


class VersionTag(VersionRef):
    key: TagKey
    value: TagValue | None = None


class TransitionStage(VersionRef):
    stage: Key
    archive_existing_versions: bool = False


class SetAlias(BaseModel):
    name: Key
    alias: Key
    version: Key


class AliasRef(BaseModel):
    name: Key
    alias: Key


def _searched(
    params: dict[str, list[str]], filter: str | None, max_results: int | None, page_token: str | None
) -> search.Request:
    """order_by may repeat, which API Gateway would join with commas: it is read from the raw query."""
    return search.Request(filter, max_results, params.get("order_by", [])[:MAX_ORDER_BY], page_token)


# -- registered models -----------------------------------------------------------------------------------


def register(router: MaestroResolver) -> None:
    @router.post(
        MLFLOW + "/registered-models/create",
        summary="Create a registered model",
        **requires(P.REGISTRY_WRITE),
    )
    def create_registered_model(body: CreateRegisteredModel) -> Json:
        model = services(router).models.create(body.name, body.description, dumps(body.tags))
        return {"registered_model": model}

    @router.get(
        MLFLOW + "/registered-models/get", summary="Get a registered model", **requires(P.REGISTRY_READ)
    )
    def get_registered_model(name: Annotated[Key, Query()]) -> Json:
        return {"registered_model": services(router).models.get(name)}

    @router.post(
        MLFLOW + "/registered-models/rename",
        summary="Rename a registered model",
        **requires(P.REGISTRY_WRITE),
    )
    def rename_registered_model(body: RenameModel) -> Json:
        return {"registered_model": services(router).models.rename(body.name, body.new_name)}

    @router.patch(
        MLFLOW + "/registered-models/update",
        summary="Update a model's description",
        **requires(P.REGISTRY_WRITE),
    )
    def update_registered_model(body: UpdateModel) -> Json:
        return {"registered_model": services(router).models.update(body.name, body.description)}

    @router.delete(
        MLFLOW + "/registered-models/delete",
        summary="Delete a model, its versions and aliases",
        **requires(P.REGISTRY_DELETE),
    )
    def delete_registered_model(body: ModelName) -> Json:
        services(router).models.delete(body.name)
        return {}

    @router.get(
        MLFLOW + "/registered-models/search", summary="Search registered models", **requires(P.REGISTRY_READ)
    )
    def search_registered_models(
        filter: FilterParam = None, max_results: MaxResultsParam = None, page_token: PageTokenParam = None
    ) -> Json:
        searched = _searched(query(router), filter, max_results, page_token)
        models, token = services(router).models.search(searched)
        return paged("registered_models", models, token)

    @router.post(
        MLFLOW + "/registered-models/set-tag", summary="Tag a registered model", **requires(P.REGISTRY_WRITE)
    )
    def set_registered_model_tag(body: ModelTag) -> Json:
        services(router).models.set_tag(body.name, body.key, body.value or "")
        return {}

    @router.delete(
        MLFLOW + "/registered-models/delete-tag",
        summary="Untag a registered model",
        **requires(P.REGISTRY_WRITE),
    )
    def delete_registered_model_tag(body: ModelTag) -> Json:
        services(router).models.set_tag(body.name, body.key, None)
        return {}

    @router.post(
        MLFLOW + "/registered-models/get-latest-versions",
        summary="Latest version per stage",
        **requires(P.REGISTRY_READ),
    )
    def get_latest_versions(body: LatestVersions) -> Json:
        return {"model_versions": services(router).models.latest_versions(body.name, body.stages)}

    @router.post(
        MLFLOW + "/registered-models/alias",
        summary="Point an alias at a version",
        **requires(P.REGISTRY_WRITE),
    )
    def set_alias(body: SetAlias) -> Json:
        services(router).versions.set_alias(body.name, body.alias, body.version)
        return {}

    @router.delete(
        MLFLOW + "/registered-models/alias", summary="Delete an alias", **requires(P.REGISTRY_WRITE)
    )
    def delete_alias(body: AliasRef) -> Json:
        services(router).versions.delete_alias(body.name, body.alias)
        return {}

    @router.get(
        MLFLOW + "/registered-models/alias",
        summary="The version an alias points at",
        **requires(P.REGISTRY_READ),
    )
    def get_version_by_alias(name: Annotated[Key, Query()], alias: Annotated[Key, Query()]) -> Json:
        return {"model_version": services(router).versions.by_alias(name, alias)}

    # -- model versions --------------------------------------------------------------------------------------
    @router.post(
        MLFLOW + "/model-versions/create", summary="Register a model version", **requires(P.REGISTRY_WRITE)
    )
    def create_model_version(body: CreateVersion) -> Json:
        version = services(router).versions.create(
            name=body.name,
            source=body.source,
            run_id=body.run_id,
            tags=dumps(body.tags),
            run_link=body.run_link,
            description=body.description,
            model_id=body.model_id,
        )
        return {"model_version": version}

    @router.get(MLFLOW + "/model-versions/get", summary="Get a model version", **requires(P.REGISTRY_READ))
    def get_model_version(name: Annotated[Key, Query()], version: Annotated[Key, Query()]) -> Json:
        return {"model_version": services(router).versions.get(name, version)}

    @router.patch(
        MLFLOW + "/model-versions/update",
        summary="Update a version's description",
        **requires(P.REGISTRY_WRITE),
    )
    def update_model_version(body: UpdateVersion) -> Json:
        return {"model_version": services(router).versions.update(body.name, body.version, body.description)}

    @router.delete(
        MLFLOW + "/model-versions/delete",
        summary="Delete a version and its aliases",
        **requires(P.REGISTRY_DELETE),
    )
    def delete_model_version(body: VersionRef) -> Json:
        services(router).versions.delete(body.name, body.version)
        return {}

    @router.get(
        MLFLOW + "/model-versions/search", summary="Search model versions", **requires(P.REGISTRY_READ)
    )
    def search_model_versions(
        filter: FilterParam = None, max_results: MaxResultsParam = None, page_token: PageTokenParam = None
    ) -> Json:
        searched = _searched(query(router), filter, max_results, page_token)
        versions, token = services(router).versions.search(searched)
        return paged("model_versions", versions, token)

    @router.post(
        MLFLOW + "/model-versions/set-tag", summary="Tag a model version", **requires(P.REGISTRY_WRITE)
    )
    def set_model_version_tag(body: VersionTag) -> Json:
        services(router).versions.set_tag(body.name, body.version, body.key, body.value or "")
        return {}

    @router.delete(
        MLFLOW + "/model-versions/delete-tag", summary="Untag a model version", **requires(P.REGISTRY_WRITE)
    )
    def delete_model_version_tag(body: VersionTag) -> Json:
        services(router).versions.set_tag(body.name, body.version, body.key, None)
        return {}

    @router.get(
        MLFLOW + "/model-versions/get-download-uri",
        summary="Where a version's artifacts are",
        **requires(P.REGISTRY_READ),
    )
    def get_download_uri(name: Annotated[Key, Query()], version: Annotated[Key, Query()]) -> Json:
        return {"artifact_uri": services(router).versions.download_uri(name, version)}

    @router.post(
        MLFLOW + "/model-versions/transition-stage",
        summary="Move a version to a stage (deprecated upstream)",
        **requires(P.REGISTRY_WRITE),
    )
    def transition_stage(body: TransitionStage) -> Json:
        version = services(router).versions.transition_stage(
            body.name, body.version, body.stage, body.archive_existing_versions
        )
        return {"model_version": version}

    @router.get(
        MLFLOW + "/maestro/lineage",
        summary="Lineage: version -> logged model -> run (datasets, params) -> experiment",
        **requires(P.REGISTRY_READ),
    )
    def lineage(name: Annotated[Key, Query()], version: Annotated[Key, Query()]) -> Json:
        return services(router).versions.lineage(name, version)
