"""A run recorded on behalf of a caller, as the mlflow client would record it through our API: the
experiment (created by name when missing), the run with its params, tags and dataset inputs, metrics, a
logged model with its files, a registered version, the run's end. What other capabilities (training jobs)
use to land their results in the registry; every step goes through the registry's own rules and events.
Must never leave a logged model READY whose files did not all land."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict, NotFound
from maestro.registry.artifacts import PROXY_SCHEME
from maestro.registry.services import open_registry


def _pairs(values: dict[str, Any]) -> list[dict[str, str]]:
    return [{"key": str(k), "value": str(v)} for k, v in values.items()]


class RunRecorder:
    def __init__(self, auth: AuthContext, correlation_id: str | None) -> None:
        self.registry = open_registry(auth, correlation_id)

    def experiment_id(self, name: str) -> str:
        try:
            return str(self.registry.experiments.get_by_name(name)["experiment_id"])
        except NotFound:
            try:
                return self.registry.experiments.create(name, None, None)
            except Conflict:  # created meanwhile by another job
                return str(self.registry.experiments.get_by_name(name)["experiment_id"])

    def start_run(
        self,
        experiment: str,
        run_name: str | None,
        params: dict[str, Any],
        tags: dict[str, str],
        parent_run_id: str | None = None,
    ) -> tuple[str, str]:
        """(experiment id, run id) of a new RUNNING run with its params and tags."""
        experiment_id = self.experiment_id(experiment)
        if parent_run_id:
            tags = {**tags, "mlflow.parentRunId": parent_run_id}
        run = self.registry.runs.create(
            experiment_id=experiment_id, user_id=None, run_name=run_name, start_time=None, tags=_pairs(tags)
        )
        run_id = str(run["info"]["run_id"])
        if params:
            self.registry.run_data.log_batch(run_id, params=_pairs(params))
        return experiment_id, run_id

    def log_datasets(self, run_id: str, datasets: list[dict[str, Any]]) -> None:
        """Each {name, digest, source_type, source, context}: an mlflow dataset input with its context tag."""
        inputs = [
            {
                "tags": [{"key": "mlflow.data.context", "value": d["context"]}],
                "dataset": {k: d[k] for k in ("name", "digest", "source_type", "source")}
                | {"schema": "", "profile": ""},
            }
            for d in datasets
        ]
        self.registry.runs.log_inputs(run_id, inputs, None)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        if tags:
            self.registry.run_data.log_batch(run_id, tags=_pairs(tags))

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
        if metrics:
            when = int(time.time() * 1000)
            rows = [
                {"key": k, "value": float(v), "timestamp": when, "step": step} for k, v in metrics.items()
            ]
            self.registry.run_data.log_batch(run_id, metrics=rows)

    def log_model(
        self, run_id: str, name: str, files: dict[str, bytes], model_type: str | None
    ) -> tuple[str, str]:
        """(model id, its `models:/<id>` URI): a logged model of the run holding `files` (path -> bytes),
        READY once every file landed, FAILED if one did not."""
        run = self.registry.runs.get(run_id)["info"]
        model = self.registry.logged_models.create(
            experiment_id=run["experiment_id"],
            name=name,
            model_type=model_type,
            source_run_id=run_id,
            params=None,
            tags=None,
        )
        model_id, location = model["info"]["model_id"], model["info"]["artifact_uri"]
        root = location[len(PROXY_SCHEME) :].strip("/")
        try:
            for path, body in sorted(files.items()):
                self.registry.artifacts.put(f"{root}/{path}", body, None)
        except Exception:
            self.registry.logged_models.finalize(model_id, "LOGGED_MODEL_FAILED")
            raise
        self.registry.logged_models.finalize(model_id, "LOGGED_MODEL_READY")
        self.registry.runs.log_outputs(run_id, [{"model_id": model_id, "step": 0}])
        return model_id, f"models:/{model_id}"

    def register(self, name: str, source: str, run_id: str, model_id: str, tags: dict[str, str]) -> str:
        """The new version's number (the registered model is created first when missing)."""
        try:
            self.registry.models.get(name)
        except NotFound:
            with contextlib.suppress(Conflict):  # created meanwhile
                self.registry.models.create(name, None, None)
        version = self.registry.versions.create(
            name=name,
            source=source,
            run_id=run_id,
            tags=_pairs(tags),
            run_link=None,
            description=None,
            model_id=model_id,
        )
        return str(version["version"])

    def end_run(self, run_id: str, status: str) -> None:
        """FINISHED, FAILED or KILLED, now."""
        self.registry.runs.update(run_id, status, int(time.time() * 1000), None)
