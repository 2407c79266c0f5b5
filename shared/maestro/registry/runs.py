"""Runs as MLflow defines them: create, read, update, delete and restore, inputs and outputs, search and
metric history (logging params, metrics and tags is run_data's). Must never change a deleted run."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import NotFound, ValidationError
from maestro.registry import search
from maestro.registry.events import RegistryEvents
from maestro.registry.experiments import DEFAULT_EXPERIMENT_ID, Experiments
from maestro.registry.fields import (
    ACTIVE,
    DELETED,
    RUN_NAME_TAG,
    RUN_STATUSES,
    VIEW_TYPES,
    limit,
    metric_json,
    tags_dict,
    tags_list,
)
from maestro.registry.stores import now_ms
from maestro.registry.stores.logged_models import LoggedModelStore
from maestro.registry.stores.runs import RunStore

_ADJECTIVES: tuple[str, ...] = (
    "amber",
    "bold",
    "calm",
    "deft",
    "eager",
    "fleet",
    "gentle",
    "honest",
    "keen",
    "lucid",
)
_ADJECTIVES += ("merry", "nimble", "placid", "quiet", "rapid", "serene", "tidy", "vivid", "wise", "zesty")
_NOUNS: tuple[str, ...] = (
    "otter",
    "heron",
    "lynx",
    "finch",
    "panda",
    "koala",
    "bison",
    "crane",
    "gecko",
    "ibis",
    "moth",
)
_NOUNS += ("newt", "owl", "quail", "raven", "seal", "tapir", "vole", "wren", "yak")
RUN_ATTRIBUTES = {
    "run_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "user_id",
    "artifact_uri",
    "lifecycle_stage",
    "experiment_id",
}


def run_info_json(r: dict[str, Any]) -> dict[str, Any]:
    info = {
        "run_id": r["run_id"],
        "run_uuid": r["run_id"],
        "run_name": r.get("run_name", ""),
        "experiment_id": r["experiment_id"],
        "user_id": r.get("user_id", ""),
        "status": r["status"],
        "start_time": r["start_time"],
        "artifact_uri": r["artifact_uri"],
        "lifecycle_stage": r["lifecycle_stage"],
    }
    if r.get("end_time") is not None:
        info["end_time"] = r["end_time"]
    return info


def run_json(r: dict[str, Any]) -> dict[str, Any]:
    metrics = [metric_json(k, m["value"], m["timestamp"], m["step"]) for k, m in sorted(r["metrics"].items())]
    return {
        "info": run_info_json(r),
        "data": {"metrics": metrics, "params": tags_list(r.get("params")), "tags": tags_list(r.get("tags"))},
        "inputs": {
            "dataset_inputs": r.get("dataset_inputs", []),
            "model_inputs": [{"model_id": m} for m in r.get("model_inputs", [])],
        },
        "outputs": {"model_outputs": r.get("model_outputs", [])},
    }


@dataclass
class Runs:
    store: RunStore
    experiments: Experiments
    logged_models: LoggedModelStore  # inputs and outputs name logged models: they must exist
    auth: AuthContext
    events: RegistryEvents

    def require(self, run_id: str) -> dict[str, Any]:
        return self.store.require(run_id)

    def require_active(self, run_id: str) -> dict[str, Any]:
        run = self.require(run_id)
        if run["lifecycle_stage"] != ACTIVE:
            raise ValidationError(
                "run_id",
                f"The run {run_id} must be in the 'active' state. Current state is {run['lifecycle_stage']}.",
            )
        return run

    def create(
        self,
        *,
        experiment_id: str,
        user_id: str | None,
        run_name: str | None,
        start_time: int | None,
        tags: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        experiment = self.experiments.require(experiment_id or DEFAULT_EXPERIMENT_ID)
        if experiment["lifecycle_stage"] != ACTIVE:
            raise ValidationError("experiment_id", f"experiment {experiment_id} is deleted: restore it first")
        tag_map = tags_dict(tags)
        name = (
            run_name
            or tag_map.get(RUN_NAME_TAG)
            or (f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{100 + secrets.randbelow(900)}")
        )
        tag_map[RUN_NAME_TAG] = name
        run_id = uuid.uuid4().hex
        run = {
            "run_id": run_id,
            "experiment_id": experiment["experiment_id"],
            "run_name": name,
            "user_id": user_id or self.auth.principal,
            "status": "RUNNING",
            "start_time": start_time or now_ms(),
            "artifact_uri": f"{experiment['artifact_location']}/{run_id}/artifacts",
            "lifecycle_stage": ACTIVE,
            "params": {},
            "tags": tag_map,
            "metrics": {},
            "dataset_inputs": [],
            "model_inputs": [],
            "model_outputs": [],
        }
        self.store.put(run)
        self.events.emit("RunCreated", run_id=run_id, experiment_id=run["experiment_id"], run_name=name)
        return run_json(run)

    def get(self, run_id: str) -> dict[str, Any]:
        return run_json(self.require(run_id))

    def update(
        self, run_id: str, status: str | None, end_time: int | None, run_name: str | None
    ) -> dict[str, Any]:
        self.require(run_id)
        sets: list[str] = []
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        if status:
            if status not in RUN_STATUSES:
                raise ValidationError("status", f"must be one of {sorted(RUN_STATUSES)}")
            sets.append("#st = :st")
            names["#st"], values["st"] = "status", status
        if end_time is not None:
            sets.append("end_time = :e")
            values["e"] = int(end_time)
        if run_name:
            sets += ["run_name = :n", "tags.#rn = :n"]
            names["#rn"], values["n"] = RUN_NAME_TAG, run_name
        if not sets:
            return run_info_json(self.require(run_id))
        updated = self.store.change(run_id, "SET " + ", ".join(sets), names=names or None, values=values)
        self.events.emit(
            "RunUpdated", run_id=run_id, status=updated["status"], end_time=updated.get("end_time")
        )
        return run_info_json(updated)

    def set_lifecycle(self, run_id: str, stage: str) -> None:
        self.require(run_id)
        self.store.change(run_id, "SET lifecycle_stage = :s", values={"s": stage})
        self.events.emit("RunDeleted" if stage == DELETED else "RunRestored", run_id=run_id)

    def delete_tag(self, run_id: str, key: str) -> None:
        run = self.require_active(run_id)
        if key not in run["tags"]:
            raise NotFound(f"No tag with name: {key} in run with id {run_id}")
        self.store.change(run_id, "REMOVE tags.#k", names={"#k": key})
        self.events.emit("RunTagDeleted", run_id=run_id, key=key)

    def log_inputs(
        self, run_id: str, datasets: list[dict[str, Any]] | None, models: list[dict[str, Any]] | None
    ) -> None:
        run = self.require_active(run_id)
        existing = {(d["dataset"]["name"], d["dataset"]["digest"]) for d in run.get("dataset_inputs", [])}
        new: list[dict[str, Any]] = []
        for i, d in enumerate(datasets or []):
            dataset = d.get("dataset") or {}
            for field in ("name", "digest", "source_type", "source"):
                if not dataset.get(field):
                    raise ValidationError(f"datasets[{i}].dataset.{field}", "is required")
            if (dataset["name"], dataset["digest"]) not in existing:
                new.append({"tags": d.get("tags") or [], "dataset": dataset})
                existing.add((dataset["name"], dataset["digest"]))
        model_ids = [m["model_id"] for m in models or [] if m.get("model_id")]
        for model_id in model_ids:
            self.logged_models.require(model_id)
        if new or model_ids:
            self.store.change(
                run_id,
                "SET dataset_inputs = list_append(dataset_inputs, :d), "
                "model_inputs = list_append(model_inputs, :m)",
                values={"d": new, "m": [m for m in model_ids if m not in run["model_inputs"]]},
            )
            self.events.emit(
                "RunInputsLogged",
                run_id=run_id,
                datasets=[{"name": d["dataset"]["name"], "digest": d["dataset"]["digest"]} for d in new],
                model_ids=model_ids,
            )

    def log_outputs(self, run_id: str, models: list[dict[str, Any]]) -> None:
        self.require_active(run_id)
        outputs = []
        for i, m in enumerate(models or []):
            if not m.get("model_id"):
                raise ValidationError(f"models[{i}].model_id", "is required")
            self.logged_models.require(m["model_id"])
            outputs.append({"model_id": m["model_id"], "step": int(m.get("step") or 0)})
        if outputs:
            self.store.change(
                run_id, "SET model_outputs = list_append(model_outputs, :o)", values={"o": outputs}
            )
            self.events.emit("RunOutputsLogged", run_id=run_id, model_ids=[o["model_id"] for o in outputs])

    def search(
        self,
        *,
        experiment_ids: list[str],
        filter_string: str | None,
        run_view_type: str | None,
        max_results: int | None,
        order_by: list[str] | None,
        page_token: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        stages = VIEW_TYPES.get(run_view_type or "ACTIVE_ONLY")
        if stages is None:
            raise ValidationError("run_view_type", f"must be one of {sorted(VIEW_TYPES)}")
        clauses = search.parse_filter(filter_string)
        runs = []
        for experiment_id in experiment_ids or []:
            if not str(experiment_id).isdigit():
                raise ValidationError("experiment_ids", f"{experiment_id!r} is not an experiment id")
            runs += [
                r for r in self.store.of_experiment(str(experiment_id)) if r["lifecycle_stage"] in stages
            ]
        order = search.parse_order_by(order_by) or [search.OrderBy("attributes", "start_time", False)]
        chunk, token = search.select(
            runs,
            clauses,
            order,
            _run_lookup,
            lambda r: r["run_id"],
            page_token,
            limit(max_results, 1000, 50000),
        )
        return [run_json(r) for r in chunk], token

    def metric_history(
        self, run_id: str, key: str, max_results: int | None, page_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        self.require(run_id)
        if not key:
            raise ValidationError("metric_key", "is required")
        rows = self.store.metric_history(run_id, key)
        rows.sort(key=lambda r: (r["step"], r["timestamp"]))
        chunk, token = search.page(rows, page_token, limit(max_results, 25000, 25000))
        return [metric_json(r["key"], r["value"], r["timestamp"], r["step"]) for r in chunk], token


def _run_lookup(r: dict[str, Any], c: Any) -> Any:
    if c.kind == "metrics":
        metric = r["metrics"].get(c.key)
        return float(metric["value"]) if metric else None
    if c.kind == "params":
        return r["params"].get(c.key)
    if c.kind == "tags":
        return r["tags"].get(c.key)
    if c.kind == "datasets":
        return next((d["dataset"].get(c.key) for d in r.get("dataset_inputs", [])), None)
    key = {"run_uuid": "run_id", "id": "run_id"}.get(c.key, c.key)
    if key not in RUN_ATTRIBUTES:
        raise ValidationError("filter", f"unknown run attribute {c.key!r}")
    return r.get(key)
