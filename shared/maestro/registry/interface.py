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

__all__ = ["MODEL_URI", "PROXY_SCHEME", "History", "ModelLookup", "point_alias", "recorder", "safe_path"]


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


class History:
    """A tenant's runs and registered versions in the shapes MLflow's REST API returns them (run_json,
    experiment_json, version_json), deleted runs included: what the insights graph reads, from an event
    or a backfill alike."""

    def __init__(self, tenant: str, table: str | None = None) -> None:
        from maestro.registry.stores.experiments import ExperimentStore

        table = table or get_settings().registry_table
        self._experiments, self._runs = ExperimentStore(table, tenant), RunStore(table, tenant)
        self._models, self._versions = ModelStore(table, tenant), VersionStore(table, tenant)
        self._experiment_cache: dict[str, dict[str, Any] | None] = {}

    def experiment_ids(self) -> list[str]:
        return sorted((e["experiment_id"] for e in self._experiments.all()), key=lambda i: (len(i), i))

    def experiment(self, experiment_id: str) -> dict[str, Any] | None:
        from maestro.registry.experiments import experiment_json

        if experiment_id not in self._experiment_cache:
            found = self._experiments.get(experiment_id)
            self._experiment_cache[experiment_id] = experiment_json(found) if found else None
        return self._experiment_cache[experiment_id]

    def run(self, run_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The run and its experiment; None when either is gone."""
        from maestro.registry.runs import run_json

        found = self._runs.get(run_id)
        experiment = self.experiment(found["experiment_id"]) if found else None
        return (run_json(found), experiment) if found and experiment else None

    def runs_of(self, experiment_id: str) -> list[dict[str, Any]]:
        from maestro.registry.runs import run_json

        return [run_json(r) for r in self._runs.of_experiment(experiment_id)]

    def versions(self) -> list[dict[str, Any]]:
        """Every version of the tenant's live registered models."""
        from maestro.registry.model_versions import version_json

        names = {m["uid"]: m for m in self._models.all()}
        return [
            version_json(names[v["uid"]]["name"], v, names[v["uid"]].get("aliases"))
            for v in self._versions.all()
            if v.get("uid") in names
        ]

    def version(self, name: str, version: int) -> dict[str, Any] | None:
        from maestro.registry.model_versions import version_json

        model = self._models.get(name)
        found = self._versions.get((model["uid"], version)) if model else None
        return version_json(name, found, model.get("aliases")) if model and found else None


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
