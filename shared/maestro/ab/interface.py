"""What other capabilities may ask of A/B testing; they never import its store: which registered model
versions an experiment's variants serve (the insights graph records what was A/B tested and what won)."""

from __future__ import annotations

from maestro.ab.store import AbStore
from maestro.core.errors import NotFound
from maestro.core.settings import get_settings

__all__ = ["served_versions"]


def served_versions(tenant: str, experiment_id: str) -> dict[str, tuple[str, str]] | None:
    """Per variant key, the (model name, version) it serves, for the variants that name a version (one named
    by an alias serves whatever the alias points at, so it names no version); None when there is no such
    experiment."""
    try:
        item = AbStore(get_settings().ab_table, tenant).get_experiment(experiment_id)
    except NotFound:
        return None
    served = {}
    for variant in item["spec"]["variants"]:
        model = variant.get("model") or {}
        if model.get("version") is not None:
            version = str(model["version"])
            served[variant["key"]] = (model["name"], str(int(version)) if version.isdigit() else version)
    return served
