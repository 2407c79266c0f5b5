"""What other capabilities may ask of the registry; they never import its stores. Reads return the items as
stored (the shapes registry.stores documents); changes go through the registry's own rules and events."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from maestro.core.auth import AuthContext
from maestro.core.settings import get_settings
from maestro.registry.artifacts import PROXY_SCHEME, safe_path
from maestro.registry.fields import MODEL_URI
from maestro.registry.stores.logged_models import LoggedModelStore
from maestro.registry.stores.models import ModelStore
from maestro.registry.stores.runs import RunStore
from maestro.registry.stores.versions import VersionStore

if TYPE_CHECKING:
    from maestro.registry.recording import RunRecorder

__all__ = ["MODEL_URI", "PROXY_SCHEME", "ModelLookup", "point_alias", "recorder", "safe_path"]


class ModelLookup:
    """A tenant's registered models, versions, logged models and runs, read as stored (None: none such)."""

    def __init__(self, tenant: str, table: str | None = None) -> None:
        table = table or get_settings().registry_table
        self._models, self._versions = ModelStore(table, tenant), VersionStore(table, tenant)
        self._logged, self._runs = LoggedModelStore(table, tenant), RunStore(table, tenant)

    def registered_model(self, name: str) -> dict[str, Any] | None:
        return self._models.get(name)

    def version(self, model: dict[str, Any], version: int) -> dict[str, Any] | None:
        return self._versions.get((model["uid"], version))

    def logged_model(self, model_id: str) -> dict[str, Any] | None:
        return self._logged.get(model_id)

    def run(self, run_id: str) -> dict[str, Any] | None:
        return self._runs.get(run_id)

    def version_number(self, name: str, version: str | None, alias: str | None) -> int | None:
        """The version given, or the one `alias` points at now; None when the model or alias is gone."""
        if version:
            return int(version)
        model = self.registered_model(name)
        number = ((model or {}).get("aliases") or {}).get(alias or "")
        return None if number is None else int(number)


def point_alias(
    auth: AuthContext, correlation_id: str | None, name: str, alias: str, version: str | None, via: str | None
) -> str:
    """Point model `name`'s `alias` at `version` (or at the version alias `via` points at now), as the caller
    would through MLflow's API: the same checks, the same event. The version pointed at, as text (as
    MLflow's replies show versions)."""
    from maestro.registry.services import open_registry  # deferred: readers need none of the services

    registry = open_registry(auth, correlation_id)
    number: str = version or registry.versions.by_alias(name, via or "")["version"]
    registry.versions.set_alias(name, alias, number)
    return number


def recorder(auth: AuthContext, correlation_id: str | None) -> RunRecorder:
    """Records runs, metrics, logged models and versions for `auth`, as the mlflow client would."""
    from maestro.registry.recording import RunRecorder  # deferred: readers need none of the services

    return RunRecorder(auth, correlation_id)


def client_answers(tenant: str, table: str, limit: int = 200) -> dict[str, Any]:
    """What the mlflow client's everyday reads get from the registry held in `table` (a restored copy, say):
    the answers of the services behind search_registered_models, get_registered_model,
    get_latest_versions, get_model_version_by_alias, get_model_version and get_run, by request, for at most
    `limit` models; a request the registry refuses answers its error. Equal registries give equal answers."""
    from maestro.core.errors import DomainError
    from maestro.registry import search
    from maestro.registry.services import open_registry  # deferred: readers need none of the services

    registry = open_registry(AuthContext.of("maestro:restore-check", tenant, frozenset()), None, table=table)
    answers: dict[str, Any] = {}

    def ask(request: str, call: Callable[..., Any], *args: Any) -> Any:
        try:
            answers[request] = call(*args)
        except DomainError as exc:
            answers[request] = {"error": type(exc).__name__, "message": str(exc)}
        return answers[request]

    models, token = registry.models.search(search.Request(max_results=limit))
    answers["registered-models/search"] = {"registered_models": models, "next_page_token": token}
    for model in models:
        name = model["name"]
        ask(f"registered-models/get {name}", registry.models.get, name)
        ask(f"get-latest-versions {name}", registry.models.latest_versions, name, None)
        versions = {str(v["version"]) for v in model.get("latest_versions", [])}
        for alias in model.get("aliases", []):
            found = ask(f"alias {name} {alias['alias']}", registry.versions.by_alias, name, alias["alias"])
            versions.add(str(found.get("version")))
        for version in sorted(versions):
            found = ask(f"model-versions/get {name} {version}", registry.versions.get, name, version)
            if found.get("run_id"):
                ask(f"runs/get {found['run_id']}", registry.runs.get, found["run_id"])
    return answers
