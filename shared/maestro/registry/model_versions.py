"""Model versions as MLflow's model registry defines them: create (with the checksums of a proxied model's
files), read, update, stage transitions, delete, tags, search, aliases, the download URI, and lineage
(version -> logged model -> run -> experiment). Must never leave an alias pointing at a missing version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import NotFound, ValidationError
from maestro.registry import search
from maestro.registry.artifacts import PROXY_SCHEME
from maestro.registry.events import RegistryEvents
from maestro.registry.experiments import Experiments
from maestro.registry.fields import MODEL_URI, limit, tag_or_default, tags_dict, tags_list
from maestro.registry.logged_models import LoggedModels
from maestro.registry.runs import Runs
from maestro.registry.stores import now_ms
from maestro.registry.stores.artifacts import ArtifactStore
from maestro.registry.stores.models import ModelStore
from maestro.registry.stores.versions import VersionStore

STAGES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}
ALIAS = re.compile(r"^[\w\-]+$")
RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


def stage(value: str | None, field: str = "stage") -> str:
    canonical = STAGES.get((value or "").strip().lower())
    if canonical is None:
        raise ValidationError(field, f"{value!r} is not one of {sorted(STAGES.values())}")
    return canonical


def version_number(value: Any, field: str = "version") -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, f"{value!r} is not a version number") from exc
    if number < 1:
        raise ValidationError(field, "version numbers start at 1")
    return number


def version_json(name: str, v: dict[str, Any], aliases: dict[str, int] | None = None) -> dict[str, Any]:
    out = {
        "name": name,
        "version": str(v["version"]),
        "creation_timestamp": v["creation_timestamp"],
        "last_updated_timestamp": v["last_updated_timestamp"],
        "user_id": v.get("user_id", ""),
        "current_stage": v.get("current_stage", "None"),
        "description": v.get("description", ""),
        "source": v.get("source", ""),
        "run_id": v.get("run_id", ""),
        "status": v.get("status", "READY"),
        "tags": tags_list(v.get("tags")),
        "aliases": sorted(a for a, n in (aliases or {}).items() if int(n) == v["version"]),
    }
    for optional in ("run_link", "status_message", "model_id"):
        if v.get(optional):
            out[optional] = v[optional]
    return out


@dataclass
class ModelVersions:
    models: ModelStore
    store: VersionStore
    experiments: Experiments
    runs: Runs
    logged_models: LoggedModels
    auth: AuthContext
    events: RegistryEvents
    artifacts: ArtifactStore | None = None  # present: versions record their model files' checksums

    def _version(self, name: str, version: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        model = self.models.require(name)
        number = version_number(version)
        found = self.store.get((model["uid"], number))
        if found is None:
            raise NotFound(f"Model Version (name={name}, version={number}) not found")
        return model, found

    def create(
        self,
        *,
        name: str,
        source: str,
        run_id: str | None,
        tags: list[dict[str, Any]] | None,
        run_link: str | None,
        description: str | None,
        model_id: str | None,
    ) -> dict[str, Any]:
        if not source:
            raise ValidationError("source", "is required")
        if run_id:
            self.runs.require(run_id)
        if model_id:
            self.logged_models.store.require(model_id)
        fields = {
            "user_id": self.auth.principal,
            "current_stage": "None",
            "description": description or "",
            "source": source,
            "run_id": run_id or "",
            "run_link": run_link or "",
            "status": "READY",
            "tags": tags_dict(tags),
            "model_id": model_id or "",
            "checksums": self._checksums(source),
        }
        model, version = self.store.create(name, fields)
        self.events.emit(
            "ModelVersionCreated",
            name=name,
            version=version["version"],
            source=source,
            run_id=run_id,
            model_id=model_id,
        )
        return version_json(name, version, model.get("aliases"))

    def get(self, name: str, version: Any) -> dict[str, Any]:
        model, found = self._version(name, version)
        return version_json(name, found, model.get("aliases"))

    def _set(self, model: dict[str, Any], version: int, expression: str, **values: Any) -> dict[str, Any]:
        return self.store.change((model["uid"], version), expression, values=values)

    def update(self, name: str, version: Any, description: str | None) -> dict[str, Any]:
        model, found = self._version(name, version)
        expression = "SET description = :d, last_updated_timestamp = :t"
        updated = self._set(model, found["version"], expression, d=description or "", t=now_ms())
        self.events.emit("ModelVersionUpdated", name=name, version=found["version"])
        return version_json(name, updated, model.get("aliases"))

    def transition_stage(
        self, name: str, version: Any, new_stage: str, archive_existing: bool
    ) -> dict[str, Any]:
        target = stage(new_stage)
        model, found = self._version(name, version)
        when, expression = now_ms(), "SET current_stage = :s, last_updated_timestamp = :t"
        updated = self._set(model, found["version"], expression, s=target, t=when)
        archived = []
        if archive_existing and target in ("Staging", "Production"):
            for other in self.store.of_model(model["uid"]):
                if other["version"] != found["version"] and other.get("current_stage") == target:
                    self._set(model, other["version"], expression, s="Archived", t=when)
                    archived.append(other["version"])
        self.events.emit(
            "ModelVersionStageTransitioned",
            name=name,
            version=found["version"],
            stage=target,
            previous_stage=found.get("current_stage", "None"),
            archived_versions=archived,
        )
        return version_json(name, updated, model.get("aliases"))

    def delete(self, name: str, version: Any) -> None:
        model, found = self._version(name, version)
        self.store.delete(model, found["version"])
        removed = sorted(a for a, n in (model.get("aliases") or {}).items() if int(n) == found["version"])
        self.events.emit("ModelVersionDeleted", name=name, version=found["version"], removed_aliases=removed)

    def set_tag(self, name: str, version: Any, key: str, value: str | None) -> None:
        model, found = self._version(name, version)
        tags_dict([{"key": key, "value": value}], "key")
        ident = (model["uid"], found["version"])
        if value is None:
            self.store.change(ident, "REMOVE tags.#k", names={"#k": key})
        else:
            self.store.change(ident, "SET tags.#k = :v", names={"#k": key}, values={"v": str(value)})
        self.events.emit(
            "ModelVersionTagSet" if value is not None else "ModelVersionTagDeleted",
            name=name,
            version=found["version"],
            key=key,
        )

    def search(self, request: search.Request) -> tuple[list[dict[str, Any]], str | None]:
        clauses = search.parse_filter(request.filter_string)
        models = {m["uid"]: m for m in self.models.all()}
        names = [c.value for c in clauses if c.kind == "attributes" and c.key == "name" and c.op == "="]
        if names:  # the common case: one model's versions, one query
            model = next((m for m in models.values() if m["name"] == names[0]), None)
            candidates = self.store.of_model(model["uid"]) if model else []
        else:
            candidates = self.store.all()
        rows = [(models[v["uid"]], v) for v in candidates if v["uid"] in models]
        order = search.parse_order_by(request.order_by) or [
            search.OrderBy("attributes", "name", True),
            search.OrderBy("attributes", "version_number", False),
        ]
        chunk, token = search.select(
            rows,
            clauses,
            order,
            _version_lookup,
            lambda r: (r[0]["name"], r[1]["version"]),
            request.page_token,
            limit(request.max_results, 10000, 200000),
        )
        return [version_json(m["name"], v, m.get("aliases")) for m, v in chunk], token

    def _logged_model_location(self, source: str) -> str:
        """A `models:/m-<id>` source (MLflow 3) stands for its logged model's artifact location."""
        match = MODEL_URI.match(source)
        return self.logged_models.get(match.group("model_id"))["info"]["artifact_uri"] if match else source

    def _checksums(self, source: str) -> dict[str, str]:
        """The SHA-256 of each file of a proxied model directory as registered: explanation jobs load a model
        file only if its bytes still match. Sources outside the proxied artifacts record none."""
        location = self._logged_model_location(source)
        if self.artifacts is None or not location.startswith(PROXY_SCHEME):
            return {}
        return self.artifacts.checksums(location[len(PROXY_SCHEME) :].lstrip("/"))

    def download_uri(self, name: str, version: Any) -> str:
        _, found = self._version(name, version)
        return self._logged_model_location(found.get("source", ""))

    # -- aliases ---------------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: Any) -> None:
        if not ALIAS.match(alias or "") or RESERVED_ALIAS.match(alias):
            raise ValidationError(
                "alias",
                f"{alias!r} must be letters, digits, '_' or '-', and not 'latest' or a version such as 'v1'",
            )
        model = self.models.require(name)
        number = version_number(version)
        self.store.set_alias(model, alias, number)
        self.events.emit(
            "ModelVersionAliasSet",
            name=name,
            alias=alias,
            version=number,
            previous_version=(model.get("aliases") or {}).get(alias),
        )

    def delete_alias(self, name: str, alias: str) -> None:
        model = self.models.require(name)
        if alias not in (model.get("aliases") or {}):
            raise NotFound(f"Registered model alias {alias} not found.")
        self.models.change(
            name,
            "REMOVE aliases.#a SET last_updated_timestamp = :t",
            names={"#a": alias},
            values={"t": now_ms()},
        )
        self.events.emit("ModelVersionAliasDeleted", name=name, alias=alias, version=model["aliases"][alias])

    def by_alias(self, name: str, alias: str) -> dict[str, Any]:
        model = self.models.require(name)
        number = (model.get("aliases") or {}).get(alias)
        if number is None:
            raise NotFound(f"Registered model alias {alias} not found.")
        return self.get(name, number)

    def lineage(self, name: str, version: Any) -> dict[str, Any]:
        """version -> logged model -> run -> experiment, with the run's datasets and params."""
        model_version = self.get(name, version)
        out: dict[str, Any] = {
            "model_version": model_version,
            "logged_model": None,
            "run": None,
            "experiment": None,
        }
        source_model = MODEL_URI.match(model_version["source"])
        model_id = model_version.get("model_id") or (source_model.group("model_id") if source_model else None)
        run_id = model_version.get("run_id")
        if model_id:
            out["logged_model"] = self.logged_models.get(model_id)
            run_id = run_id or out["logged_model"]["info"].get("source_run_id")
        if run_id:
            run = self.runs.get(run_id)
            out["run"] = {
                "info": run["info"],
                "params": run["data"]["params"],
                "datasets": [d["dataset"] for d in run["inputs"]["dataset_inputs"]],
            }
            out["experiment"] = self.experiments.get(run["info"]["experiment_id"])
        return out


def _version_lookup(row: tuple[dict[str, Any], dict[str, Any]], c: Any) -> Any:
    model, v = row
    if c.kind == "tags":
        return tag_or_default(v.get("tags"), c.key)
    if c.key == "name":
        return model["name"]
    if c.key in ("version_number", "version"):
        return v["version"]
    if c.key == "source_path":
        return v.get("source")
    return v.get(c.key)
