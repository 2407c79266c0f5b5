"""Registered models as MLflow's model registry defines them: create, read, rename, update, delete, tags,
search and the latest version per stage, shaped as MLflow's REST replies. Must never count a model against
the tenant's quota apart from the write that creates or deletes it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import ValidationError
from maestro.registry import search
from maestro.registry.events import RegistryEvents
from maestro.registry.fields import limit, tag_or_default, tags_dict, tags_list
from maestro.registry.model_versions import stage, version_json
from maestro.registry.stores import now_ms
from maestro.registry.stores.models import ModelStore
from maestro.registry.stores.versions import VersionStore
from maestro.tenants.counters import Counter


@dataclass
class RegisteredModels:
    store: ModelStore
    versions: VersionStore
    auth: AuthContext
    events: RegistryEvents

    def model_json(self, m: dict[str, Any], versions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        aliases = {a: int(n) for a, n in (m.get("aliases") or {}).items()}
        latest: dict[str, dict[str, Any]] = {}
        for v in versions if versions is not None else self.versions.of_model(m["uid"]):
            current = v.get("current_stage", "None")
            if current not in latest or v["version"] > latest[current]["version"]:
                latest[current] = v
        return {
            "name": m["name"],
            "creation_timestamp": m["creation_timestamp"],
            "last_updated_timestamp": m["last_updated_timestamp"],
            "description": m.get("description", ""),
            "tags": tags_list(m.get("tags")),
            "aliases": [{"alias": a, "version": str(n)} for a, n in sorted(aliases.items())],
            "latest_versions": [
                version_json(m["name"], v, aliases)
                for v in sorted(latest.values(), key=lambda v: v["version"])
            ],
        }

    def create(self, name: str, description: str | None, tags: list[dict[str, Any]] | None) -> dict[str, Any]:
        name = (name or "").strip()
        if not name:
            raise ValidationError("name", "Registered model name cannot be empty.")
        when = now_ms()
        model = {
            "name": name,
            "uid": uuid.uuid4().hex,
            "creation_timestamp": when,
            "last_updated_timestamp": when,
            "description": description or "",
            "tags": tags_dict(tags),
            "aliases": {},
            "latest_version": 0,
        }
        self.store.create(model, Counter.of(self.auth, "registered_models"))
        self.events.emit("RegisteredModelCreated", name=name)
        return self.model_json(model, [])

    def get(self, name: str) -> dict[str, Any]:
        return self.model_json(self.store.require(name))

    def rename(self, name: str, new_name: str) -> dict[str, Any]:
        new_name = (new_name or "").strip()
        if not new_name:
            raise ValidationError("new_name", "Registered model name cannot be empty.")
        model = self.store.rename(name, new_name, now_ms())
        self.events.emit("RegisteredModelRenamed", old_name=name, name=new_name)
        return self.model_json(model)

    def update(self, name: str, description: str | None) -> dict[str, Any]:
        model = self.store.change(
            name,
            "SET description = :d, last_updated_timestamp = :t",
            values={"d": description or "", "t": now_ms()},
        )
        self.events.emit("RegisteredModelUpdated", name=name)
        return self.model_json(model)

    def delete(self, name: str) -> None:
        """The model (and its aliases) go in one transaction with its quota count; then its versions, which
        nothing reaches any more."""
        model = self.store.delete(name, Counter.of(self.auth, "registered_models"))
        self.versions.delete_all(model["uid"])
        self.events.emit("RegisteredModelDeleted", name=name, aliases=sorted(model.get("aliases") or {}))

    def set_tag(self, name: str, key: str, value: str | None) -> None:
        tags_dict([{"key": key, "value": value}], "key")
        values: dict[str, Any]
        if value is None:
            self.store.require(name)
            expression, values = "REMOVE tags.#k SET last_updated_timestamp = :t", {"t": now_ms()}
        else:
            expression, values = (
                "SET tags.#k = :v, last_updated_timestamp = :t",
                {"v": str(value), "t": now_ms()},
            )
        self.store.change(name, expression, names={"#k": key}, values=values)
        self.events.emit(
            "RegisteredModelTagSet" if value is not None else "RegisteredModelTagDeleted", name=name, key=key
        )

    def search(self, request: search.Request) -> tuple[list[dict[str, Any]], str | None]:
        chunk, token = search.select(
            self.store.all(),
            search.parse_filter(request.filter_string),
            search.parse_order_by(request.order_by) or [search.OrderBy("attributes", "name", True)],
            _model_lookup,
            lambda m: m["name"],
            request.page_token,
            limit(request.max_results, 100, 1000),
        )
        return [self.model_json(m) for m in chunk], token

    def latest_versions(self, name: str, stages: list[str] | None) -> list[dict[str, Any]]:
        latest = self.model_json(self.store.require(name))["latest_versions"]
        wanted = {stage(s, "stages") for s in stages or []}
        return [v for v in latest if not wanted or v["current_stage"] in wanted]


_model_lookup = search.record_lookup({"timestamp": "last_updated_timestamp"}, tag_or_default)
