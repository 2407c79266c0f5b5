"""Experiments as MLflow defines them: create, read, search, rename, delete and restore, tags; the Default
experiment (id 0) exists from the first use. Must never let two experiments share a name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict, NotFound, ValidationError
from maestro.registry import search
from maestro.registry.artifacts import check_location, default_experiment_location
from maestro.registry.events import RegistryEvents
from maestro.registry.fields import ACTIVE, DELETED, VIEW_TYPES, limit, tags_dict, tags_list, validate_key
from maestro.registry.stores import now_ms
from maestro.registry.stores.experiments import ExperimentStore

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


def experiment_json(e: dict[str, Any]) -> dict[str, Any]:
    return {
        "experiment_id": e["experiment_id"],
        "name": e["name"],
        "artifact_location": e["artifact_location"],
        "lifecycle_stage": e["lifecycle_stage"],
        "last_update_time": e["last_update_time"],
        "creation_time": e["creation_time"],
        "tags": tags_list(e.get("tags")),
    }


@dataclass
class Experiments:
    store: ExperimentStore
    auth: AuthContext
    bucket: str
    events: RegistryEvents

    def _ensure_default(self) -> None:
        if self.store.get(DEFAULT_EXPERIMENT_ID) is None:
            try:
                when = now_ms()
                self.store.create(
                    {
                        "experiment_id": DEFAULT_EXPERIMENT_ID,
                        "name": DEFAULT_EXPERIMENT_NAME,
                        "artifact_location": default_experiment_location(DEFAULT_EXPERIMENT_ID),
                        "lifecycle_stage": ACTIVE,
                        "creation_time": when,
                        "last_update_time": when,
                        "tags": {},
                    }
                )
            except Conflict:
                pass  # created concurrently

    def require(self, experiment_id: str) -> dict[str, Any]:
        """The experiment as stored (the Default one is created on first use); NotFound if there is none."""
        experiment_id = str(experiment_id or "")
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            self._ensure_default()
        experiment = self.store.get(experiment_id) if experiment_id.isdigit() else None
        if experiment is None:
            raise NotFound(self.store.missing(experiment_id))
        return experiment

    def create(self, name: str, artifact_location: str | None, tags: list[dict[str, Any]] | None) -> str:
        name = (name or "").strip()
        if not name:
            raise ValidationError("name", "experiment name must be a non-empty string")
        self._ensure_default()
        existing = self.store.id_by_name(name)
        if existing is not None:
            stage = (self.store.get(existing) or {}).get("lifecycle_stage", ACTIVE)
            suffix = " in deleted state" if stage == DELETED else ""
            raise Conflict(f"Experiment(name={name}) already exists{suffix}.")
        experiment_id = self.store.next_id()
        location = (
            check_location(artifact_location, self.bucket, self.auth.tenant)
            if artifact_location
            else default_experiment_location(experiment_id)
        )
        when = now_ms()
        experiment = {
            "experiment_id": experiment_id,
            "name": name,
            "artifact_location": location,
            "lifecycle_stage": ACTIVE,
            "creation_time": when,
            "last_update_time": when,
            "tags": tags_dict(tags),
        }
        self.store.create(experiment)
        self.events.emit(
            "ExperimentCreated", experiment_id=experiment_id, name=name, artifact_location=location
        )
        return experiment_id

    def get(self, experiment_id: str) -> dict[str, Any]:
        return experiment_json(self.require(experiment_id))

    def get_by_name(self, name: str) -> dict[str, Any]:
        if name == DEFAULT_EXPERIMENT_NAME:
            self._ensure_default()
        experiment_id = self.store.id_by_name(name)
        experiment = self.store.get(experiment_id) if experiment_id else None
        if experiment is None:
            raise NotFound(f"Could not find experiment with name '{name}'")
        return experiment_json(experiment)

    def search(
        self,
        *,
        view_type: str | None,
        filter_string: str | None,
        order_by: list[str] | None,
        max_results: int | None,
        page_token: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        self._ensure_default()
        stages = VIEW_TYPES.get(view_type or "ACTIVE_ONLY")
        if stages is None:
            raise ValidationError("view_type", f"must be one of {sorted(VIEW_TYPES)}")
        chunk, token = search.select(
            (e for e in self.store.all() if e["lifecycle_stage"] in stages),
            search.parse_filter(filter_string),
            search.parse_order_by(order_by) or [search.OrderBy("attributes", "creation_time", False)],
            _experiment_lookup,
            lambda e: int(e["experiment_id"]),
            page_token,
            limit(max_results, 1000, 50000),
        )
        return [experiment_json(e) for e in chunk], token

    def rename(self, experiment_id: str, new_name: str) -> None:
        experiment = self.require(experiment_id)
        new_name = (new_name or "").strip()
        if not new_name:
            raise ValidationError("new_name", "must be a non-empty string")
        if experiment["lifecycle_stage"] != ACTIVE:
            raise ValidationError("experiment_id", "cannot rename a non-active experiment")
        if new_name != experiment["name"]:
            self.store.rename(experiment["experiment_id"], experiment["name"], new_name, now_ms())
            self.events.emit(
                "ExperimentRenamed", experiment_id=experiment_id, old_name=experiment["name"], name=new_name
            )

    def set_lifecycle(self, experiment_id: str, stage: str) -> None:
        experiment = self.require(experiment_id)
        if experiment_id == DEFAULT_EXPERIMENT_ID and stage == DELETED:
            raise ValidationError("experiment_id", "the Default experiment cannot be deleted")
        self.store.change(
            experiment["experiment_id"],
            "SET lifecycle_stage = :s, last_update_time = :t",
            values={"s": stage, "t": now_ms()},
        )
        self.events.emit(
            "ExperimentDeleted" if stage == DELETED else "ExperimentRestored", experiment_id=experiment_id
        )

    def set_tag(self, experiment_id: str, key: str, value: str | None) -> None:
        experiment = self.require(experiment_id)
        validate_key(key, "key")
        values: dict[str, Any]
        if value is None:
            expression, values = "REMOVE tags.#k SET last_update_time = :t", {"t": now_ms()}
        else:
            expression, values = "SET tags.#k = :v, last_update_time = :t", {"v": str(value), "t": now_ms()}
        self.store.change(experiment["experiment_id"], expression, names={"#k": key}, values=values)
        self.events.emit(
            "ExperimentTagSet" if value is not None else "ExperimentTagDeleted",
            experiment_id=experiment_id,
            key=key,
        )


_experiment_lookup = search.record_lookup({"id": "experiment_id"})
