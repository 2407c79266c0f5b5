"""Baselines at registration: when a model version is registered (the registry's ModelVersionCreated event),
its baseline is profiled from its reference data: the file its `maestro.monitoring.reference` tag names,
else the training dataset its run logged (MLflow's dataset input, context `training` first), when that file
is among the tenant's artifacts. What cannot be profiled is reported (BaselineNotComputed, with the reason),
never raised: the registration stands, and a baseline can still be posted by hand."""

from __future__ import annotations

import json
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import DomainError
from maestro.core.observability import logger
from maestro.core.settings import get_settings
from maestro.core.tenancy import tenant_prefix
from maestro.monitoring.service import ARTIFACT_SCHEME, MonitoringService
from maestro.monitoring.spec import ModelRef, Reference
from maestro.monitoring.store import MonitoringStore

REFERENCE_TAG = "maestro.monitoring.reference"
PREDICTION_TAG = "maestro.monitoring.prediction"
CONTEXT_TAG = "mlflow.data.context"
PROFILER = "maestro-monitoring-baseline"


def _uri(source: str) -> str:
    """A dataset source as MLflow logs it: JSON such as {"uri": "..."} or {"url": ...}, or the URI itself."""
    try:
        parsed = json.loads(source)
    except ValueError:
        return source
    return str(parsed.get("uri") or parsed.get("url") or "") if isinstance(parsed, dict) else source


def as_artifact(uri: str, bucket: str, tenant: str) -> str | None:
    """The URI as an `mlflow-artifacts:/` path when it is among the tenant's artifacts, else None."""
    if uri.startswith(ARTIFACT_SCHEME):
        return uri
    prefix = f"s3://{bucket}/{tenant_prefix(tenant)}artifacts/"
    return ARTIFACT_SCHEME + uri[len(prefix) :] if uri.startswith(prefix) else None


def reference_of(
    version: dict[str, Any], run: dict[str, Any] | None, bucket: str, tenant: str
) -> tuple[str | None, str]:
    """The reference file as an artifact path, or None and why there is none."""
    tagged = (version.get("tags") or {}).get(REFERENCE_TAG)
    if tagged:
        found = as_artifact(tagged, bucket, tenant)
        return (
            (found, "") if found else (None, f"its {REFERENCE_TAG} tag {tagged!r} is not among the artifacts")
        )
    if run is None:
        return None, f"it has no run and no {REFERENCE_TAG} tag"
    inputs = run.get("dataset_inputs") or []
    training = [d for d in inputs if {"key": CONTEXT_TAG, "value": "training"} in (d.get("tags") or [])]
    for dataset in training or inputs:
        uri = _uri(str(dataset["dataset"].get("source", "")))
        found = as_artifact(uri, bucket, tenant)
        if found:
            return found, ""
    if not inputs:
        return None, f"its run logged no dataset and it has no {REFERENCE_TAG} tag"
    return None, "its run's datasets are not among the tenant's artifacts"


def on_version_created(event: dict[str, Any]) -> dict[str, Any]:
    from maestro.registry.interface import ModelLookup  # the registered version and its run, as stored

    detail, settings = event["detail"], get_settings()
    tenant, name, number = detail["tenant"], detail["name"], int(detail["version"])
    auth = AuthContext.of(PROFILER, tenant, frozenset({"service"}))
    store = MonitoringStore(settings.monitoring_table, tenant)
    service = MonitoringService(store, auth, settings.artifacts_bucket, detail.get("correlation_id"))
    model = {"name": name, "version": number}
    lookup = ModelLookup(tenant)
    registered = lookup.registered_model(name)
    version = lookup.version(registered, number) if registered else None
    if version is None:
        return {"baseline": None, "reason": "the version is gone"}
    run = lookup.run(version["run_id"]) if version.get("run_id") else None
    uri, why = reference_of(version, run, settings.artifacts_bucket, tenant)
    if uri is None:
        service.emit("BaselineNotComputed", model=model, reason=f"version {number} of {name!r}: {why}")
        return {"baseline": None, "reason": why}
    prediction = (version.get("tags") or {}).get(PREDICTION_TAG)
    reference = Reference(model=ModelRef(name=name, version=number), artifact=uri, prediction=prediction)
    try:
        summary = service.put_baseline(reference, source="registration")
    except DomainError as exc:  # the file is not a usable reference: say so, the registration stands
        logger.warning(
            "no baseline at registration", extra={"tenant": tenant, "model": model, "why": exc.message}
        )
        service.emit("BaselineNotComputed", model=model, reason=f"{uri}: {exc.message}")
        return {"baseline": None, "reason": exc.message}
    return {"baseline": {"model": model, "rows": summary["rows"], "columns": summary["columns"]}}
