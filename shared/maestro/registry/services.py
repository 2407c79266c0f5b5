"""The registry's entities for one caller, wired together: what the HTTP routes use, and (through
registry.interface) what other capabilities may ask of the registry. Must never wire a service without the
caller's identity: every store is scoped to its tenant."""

from __future__ import annotations

from dataclasses import dataclass

from maestro.core.auth import AuthContext
from maestro.core.settings import get_settings
from maestro.registry.events import RegistryEvents
from maestro.registry.experiments import Experiments
from maestro.registry.logged_models import LoggedModels
from maestro.registry.model_versions import ModelVersions
from maestro.registry.registered_models import RegisteredModels
from maestro.registry.run_data import RunData
from maestro.registry.runs import Runs
from maestro.registry.stores.artifacts import ArtifactStore
from maestro.registry.stores.experiments import ExperimentStore
from maestro.registry.stores.logged_models import LoggedModelStore
from maestro.registry.stores.models import ModelStore
from maestro.registry.stores.runs import RunStore
from maestro.registry.stores.versions import VersionStore
from maestro.tenants.counters import Counter


@dataclass
class Registry:
    experiments: Experiments
    runs: Runs
    run_data: RunData
    logged_models: LoggedModels
    models: RegisteredModels
    versions: ModelVersions
    artifacts: ArtifactStore


def open_registry(
    auth: AuthContext,
    correlation_id: str | None,
    *,
    table: str | None = None,
    bucket: str | None = None,
) -> Registry:
    """The caller's registry, on the configured table and bucket (or those given): uploads count against the
    tenant's storage quota, versions record their model files' checksums."""
    settings = get_settings()
    table, bucket = table or settings.registry_table, bucket or settings.artifacts_bucket
    events = RegistryEvents(auth, correlation_id)
    artifacts = ArtifactStore(bucket, auth.tenant, Counter.of(auth, "storage_bytes"))
    experiment_store, run_store = ExperimentStore(table, auth.tenant), RunStore(table, auth.tenant)
    logged_store, model_store = LoggedModelStore(table, auth.tenant), ModelStore(table, auth.tenant)
    version_store = VersionStore(table, auth.tenant)
    experiments = Experiments(experiment_store, auth, bucket, events)
    runs = Runs(run_store, experiments, logged_store, auth, events)
    logged_models = LoggedModels(logged_store, experiments, run_store, auth, events)
    return Registry(
        experiments=experiments,
        runs=runs,
        run_data=RunData(runs, logged_store, events),
        logged_models=logged_models,
        models=RegisteredModels(model_store, version_store, auth, events),
        versions=ModelVersions(
            model_store, version_store, experiments, runs, logged_models, auth, events, artifacts
        ),
        artifacts=artifacts,
    )
