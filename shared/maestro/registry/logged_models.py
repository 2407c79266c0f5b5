"""Logged models as MLflow 3 defines them: create, finalize, tags, params, delete and search, shaped as
MLflow's REST replies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import NotFound, ValidationError
from maestro.registry import search
from maestro.registry.events import RegistryEvents
from maestro.registry.experiments import Experiments
from maestro.registry.fields import LOGGED_MODEL_STATUSES, limit, metric_json, tags_dict, tags_list
from maestro.registry.stores import now_ms
from maestro.registry.stores.logged_models import LoggedModelStore
from maestro.registry.stores.runs import RunStore

INFO_FIELDS = (
    "model_id",
    "experiment_id",
    "name",
    "creation_timestamp_ms",
    "last_updated_timestamp_ms",
    "status",
)


def logged_model_json(m: dict[str, Any]) -> dict[str, Any]:
    info = {key: m[key] for key in INFO_FIELDS if m.get(key) is not None}
    # creator_id is an int64 in MLflow's proto; our principals are strings, kept in events instead.
    info |= {"artifact_uri": m["artifact_location"], "tags": tags_list(m.get("tags"))}
    for optional in ("model_type", "source_run_id", "status_message"):
        if m.get(optional):
            info[optional] = m[optional]
    metrics = [
        metric_json(x["key"], x["value"], x["timestamp"], x["step"]) | {"model_id": m["model_id"]}
        for x in m.get("metrics", [])
    ]
    return {"info": info, "data": {"params": tags_list(m.get("params")), "metrics": metrics}}


def _assignments(attribute: str, entries: dict[str, str]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """SET assignments of the map `attribute`'s `entries` (`tags.#tags0 = :tags0, ...`), names and values."""
    names = {f"#{attribute}{i}": k for i, k in enumerate(entries)}
    values = {f"{attribute}{i}": v for i, v in enumerate(entries.values())}
    sets = ", ".join(f"{attribute}.#{attribute}{i} = :{attribute}{i}" for i in range(len(entries)))
    return sets, names, values


@dataclass
class LoggedModels:
    store: LoggedModelStore
    experiments: Experiments
    runs: RunStore  # a model's source run must exist
    auth: AuthContext
    events: RegistryEvents

    def create(
        self,
        *,
        experiment_id: str,
        name: str | None,
        model_type: str | None,
        source_run_id: str | None,
        params: list[dict[str, Any]] | None,
        tags: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        experiment = self.experiments.require(experiment_id)
        if source_run_id:
            self.runs.require(source_run_id)
        model_id = f"m-{uuid.uuid4().hex}"
        when = now_ms()
        model = {
            "model_id": model_id,
            "experiment_id": experiment["experiment_id"],
            "name": name or f"model-{model_id[2:10]}",
            "model_type": model_type,
            "source_run_id": source_run_id,
            "artifact_location": f"{experiment['artifact_location']}/models/{model_id}/artifacts",
            "creation_timestamp_ms": when,
            "last_updated_timestamp_ms": when,
            "status": "LOGGED_MODEL_PENDING",
            "creator_id": self.auth.principal,
            "tags": tags_dict(tags),
            "params": tags_dict(params, "params"),
            "metrics": [],
        }
        self.store.put(model)
        self.events.emit(
            "LoggedModelCreated",
            model_id=model_id,
            experiment_id=model["experiment_id"],
            source_run_id=source_run_id,
            name=model["name"],
        )
        return logged_model_json(model)

    def get(self, model_id: str) -> dict[str, Any]:
        return logged_model_json(self.store.require(model_id))

    def finalize(self, model_id: str, status: str) -> dict[str, Any]:
        if status not in LOGGED_MODEL_STATUSES:
            raise ValidationError("status", f"must be one of {sorted(LOGGED_MODEL_STATUSES)}")
        model = self.store.change(
            model_id,
            "SET #s = :s, last_updated_timestamp_ms = :t",
            names={"#s": "status"},
            values={"s": status, "t": now_ms()},
        )
        self.events.emit("LoggedModelFinalized", model_id=model_id, status=status)
        return logged_model_json(model)

    def set_tags(self, model_id: str, tags: list[dict[str, Any]] | None) -> None:
        tag_map = tags_dict(tags)
        if not tag_map:
            return
        sets, names, values = _assignments("tags", tag_map)
        self.store.change(
            model_id,
            f"SET {sets}, last_updated_timestamp_ms = :now",
            names=names,
            values=values | {"now": now_ms()},
        )
        self.events.emit("LoggedModelTagsSet", model_id=model_id, keys=sorted(tag_map))

    def delete_tag(self, model_id: str, key: str) -> None:
        model = self.store.require(model_id)
        if key not in model.get("tags", {}):
            raise NotFound(f"No tag with key {key!r} on logged model {model_id}")
        self.store.change(model_id, "REMOVE tags.#k", names={"#k": key})
        self.events.emit("LoggedModelTagDeleted", model_id=model_id, key=key)

    def log_params(self, model_id: str, params: list[dict[str, Any]] | None) -> None:
        param_map = tags_dict(params, "params")
        if not param_map:
            return
        sets, names, values = _assignments("params", param_map)
        self.store.change(model_id, f"SET {sets}", names=names, values=values)
        self.events.emit("LoggedModelParamsLogged", model_id=model_id, keys=sorted(param_map))

    def delete(self, model_id: str) -> None:
        self.store.require(model_id)
        self.store.delete(model_id)
        self.events.emit("LoggedModelDeleted", model_id=model_id)

    def search(
        self,
        *,
        experiment_ids: list[str],
        filter_string: str | None,
        order_by: list[dict[str, Any]] | None,
        max_results: int | None,
        page_token: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        clauses = search.parse_filter(filter_string)
        models = []
        for experiment_id in experiment_ids or []:
            models += list(self.store.of_experiment(str(experiment_id)))
        order = [
            search.OrderBy("attributes", o["field_name"], o.get("ascending", True))
            for o in order_by or []
            if o.get("field_name")
        ] or [search.OrderBy("attributes", "creation_timestamp_ms", False)]
        chunk, token = search.select(
            models,
            clauses,
            order,
            _logged_model_lookup,
            lambda m: m["model_id"],
            page_token,
            limit(max_results, 100, 1000),
        )
        return [logged_model_json(m) for m in chunk], token


_logged_model_lookup = search.record_lookup()
