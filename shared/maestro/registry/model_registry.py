"""Registered models, versions, stages and aliases as MLflow's model registry defines them, plus lineage
(version -> logged model -> run -> experiment). Must never leave an alias pointing at a missing version."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import NotFound, ValidationError
from maestro.registry import search
from maestro.registry.artifacts import PROXY_SCHEME, ArtifactStore
from maestro.registry.events import RegistryEvents
from maestro.registry.store import RegistryStore, now_ms
from maestro.registry.tracking import Tracking, limit, tags_dict, tags_list
from maestro.tenants.store import Counter

STAGES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}
ALIAS = re.compile(r"^[\w\-]+$")
RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
MODEL_URI = re.compile(r"^models:/(?P<model_id>m-[0-9a-f]{32})/?$")


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


@dataclass
class ModelRegistry:
    store: RegistryStore
    auth: AuthContext
    tracking: Tracking
    events: RegistryEvents
    artifacts: ArtifactStore | None = None  # present: versions record their model files' checksums

    # -- shaping ---------------------------------------------------------------------------------------
    def version_json(
        self, name: str, v: dict[str, Any], aliases: dict[str, int] | None = None
    ) -> dict[str, Any]:
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

    def model_json(self, m: dict[str, Any], versions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        aliases = {a: int(n) for a, n in (m.get("aliases") or {}).items()}
        latest: dict[str, dict[str, Any]] = {}
        for v in versions if versions is not None else self.store.versions_of(m["uid"]):
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
                self.version_json(m["name"], v, aliases)
                for v in sorted(latest.values(), key=lambda v: v["version"])
            ],
        }

    # -- registered models -----------------------------------------------------------------------------
    def create_registered_model(
        self, name: str, description: str | None, tags: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
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
        self.store.create_registered_model(model, Counter.of(self.auth, "registered_models"))
        self.events.emit("RegisteredModelCreated", name=name)
        return self.model_json(model, [])

    def get_registered_model(self, name: str) -> dict[str, Any]:
        return self.model_json(self.store.require_registered_model(name))

    def rename_registered_model(self, name: str, new_name: str) -> dict[str, Any]:
        new_name = (new_name or "").strip()
        if not new_name:
            raise ValidationError("new_name", "Registered model name cannot be empty.")
        model = self.store.rename_registered_model(name, new_name, now_ms())
        self.events.emit("RegisteredModelRenamed", old_name=name, name=new_name)
        return self.model_json(model)

    def update_registered_model(self, name: str, description: str | None) -> dict[str, Any]:
        model = self.store.update_registered_model(
            name,
            "SET description = :d, last_updated_timestamp = :t",
            values={"d": description or "", "t": now_ms()},
        )
        self.events.emit("RegisteredModelUpdated", name=name)
        return self.model_json(model)

    def delete_registered_model(self, name: str) -> None:
        model = self.store.delete_registered_model(name, Counter.of(self.auth, "registered_models"))
        self.events.emit("RegisteredModelDeleted", name=name, aliases=sorted(model.get("aliases") or {}))

    def set_registered_model_tag(self, name: str, key: str, value: str | None) -> None:
        tags_dict([{"key": key, "value": value}], "key")
        if value is None:
            self.store.require_registered_model(name)
            self.store.update_registered_model(
                name,
                "REMOVE tags.#k SET last_updated_timestamp = :t",
                names={"#k": key},
                values={"t": now_ms()},
            )
        else:
            self.store.update_registered_model(
                name,
                "SET tags.#k = :v, last_updated_timestamp = :t",
                names={"#k": key},
                values={"v": str(value), "t": now_ms()},
            )
        self.events.emit(
            "RegisteredModelTagSet" if value is not None else "RegisteredModelTagDeleted", name=name, key=key
        )

    def search_registered_models(
        self,
        filter_string: str | None,
        max_results: int | None,
        order_by: list[str] | None,
        page_token: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        chunk, token = search.select(
            self.store.list_registered_models(),
            search.parse_filter(filter_string),
            search.parse_order_by(order_by) or [search.OrderBy("attributes", "name", True)],
            _model_lookup,
            lambda m: m["name"],
            page_token,
            limit(max_results, 100, 1000),
        )
        return [self.model_json(m) for m in chunk], token

    def get_latest_versions(self, name: str, stages: list[str] | None) -> list[dict[str, Any]]:
        model = self.store.require_registered_model(name)
        latest = self.model_json(model)["latest_versions"]
        wanted = {stage(s, "stages") for s in stages or []}
        return [v for v in latest if not wanted or v["current_stage"] in wanted]

    # -- versions --------------------------------------------------------------------------------------
    def _version(self, name: str, version: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        model = self.store.require_registered_model(name)
        number = version_number(version)
        found = self.store.get_version(model["uid"], number)
        if found is None:
            raise NotFound(f"Model Version (name={name}, version={number}) not found")
        return model, found

    def create_model_version(
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
            self.tracking.get_run(run_id)
        if model_id:
            self.tracking.get_logged_model(model_id)
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
        model, version = self.store.create_version(name, fields)
        self.events.emit(
            "ModelVersionCreated",
            name=name,
            version=version["version"],
            source=source,
            run_id=run_id,
            model_id=model_id,
        )
        return self.version_json(name, version, model.get("aliases"))

    def get_model_version(self, name: str, version: Any) -> dict[str, Any]:
        model, found = self._version(name, version)
        return self.version_json(name, found, model.get("aliases"))

    def update_model_version(self, name: str, version: Any, description: str | None) -> dict[str, Any]:
        model, found = self._version(name, version)
        updated = self.store.update_version(
            model["uid"],
            found["version"],
            "SET description = :d, last_updated_timestamp = :t",
            values={"d": description or "", "t": now_ms()},
        )
        self.events.emit("ModelVersionUpdated", name=name, version=found["version"])
        return self.version_json(name, updated, model.get("aliases"))

    def transition_stage(
        self, name: str, version: Any, new_stage: str, archive_existing: bool
    ) -> dict[str, Any]:
        target = stage(new_stage)
        model, found = self._version(name, version)
        when = now_ms()
        updated = self.store.update_version(
            model["uid"],
            found["version"],
            "SET current_stage = :s, last_updated_timestamp = :t",
            values={"s": target, "t": when},
        )
        archived = []
        if archive_existing and target in ("Staging", "Production"):
            for other in self.store.versions_of(model["uid"]):
                if other["version"] != found["version"] and other.get("current_stage") == target:
                    self.store.update_version(
                        model["uid"],
                        other["version"],
                        "SET current_stage = :s, last_updated_timestamp = :t",
                        values={"s": "Archived", "t": when},
                    )
                    archived.append(other["version"])
        self.events.emit(
            "ModelVersionStageTransitioned",
            name=name,
            version=found["version"],
            stage=target,
            previous_stage=found.get("current_stage", "None"),
            archived_versions=archived,
        )
        return self.version_json(name, updated, model.get("aliases"))

    def delete_model_version(self, name: str, version: Any) -> None:
        model, found = self._version(name, version)
        self.store.delete_version(model, found["version"])
        removed = sorted(a for a, n in (model.get("aliases") or {}).items() if int(n) == found["version"])
        self.events.emit("ModelVersionDeleted", name=name, version=found["version"], removed_aliases=removed)

    def set_model_version_tag(self, name: str, version: Any, key: str, value: str | None) -> None:
        model, found = self._version(name, version)
        tags_dict([{"key": key, "value": value}], "key")
        if value is None:
            self.store.update_version(model["uid"], found["version"], "REMOVE tags.#k", names={"#k": key})
        else:
            self.store.update_version(
                model["uid"],
                found["version"],
                "SET tags.#k = :v",
                names={"#k": key},
                values={"v": str(value)},
            )
        self.events.emit(
            "ModelVersionTagSet" if value is not None else "ModelVersionTagDeleted",
            name=name,
            version=found["version"],
            key=key,
        )

    def search_model_versions(
        self,
        filter_string: str | None,
        max_results: int | None,
        order_by: list[str] | None,
        page_token: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        clauses = search.parse_filter(filter_string)
        models = {m["uid"]: m for m in self.store.list_registered_models()}
        names = [c.value for c in clauses if c.kind == "attributes" and c.key == "name" and c.op == "="]
        if names:  # the common case: one model's versions, one query
            model = next((m for m in models.values() if m["name"] == names[0]), None)
            candidates = self.store.versions_of(model["uid"]) if model else []
        else:
            candidates = self.store.all_versions()
        rows = [(models[v["uid"]], v) for v in candidates if v["uid"] in models]
        order = search.parse_order_by(order_by) or [
            search.OrderBy("attributes", "name", True),
            search.OrderBy("attributes", "version_number", False),
        ]
        chunk, token = search.select(
            rows,
            clauses,
            order,
            _version_lookup,
            lambda r: (r[0]["name"], r[1]["version"]),
            page_token,
            limit(max_results, 10000, 200000),
        )
        return [self.version_json(m["name"], v, m.get("aliases")) for m, v in chunk], token

    def _checksums(self, source: str) -> dict[str, str]:
        """The SHA-256 of each file of a proxied model directory as registered: explanation jobs load a model
        file only if its bytes still match. Sources outside the proxied artifacts record none."""
        match = MODEL_URI.match(source)
        location = (
            self.tracking.get_logged_model(match.group("model_id"))["info"]["artifact_uri"]
            if match
            else source
        )
        if self.artifacts is None or not location.startswith(PROXY_SCHEME):
            return {}
        return self.artifacts.checksums(location[len(PROXY_SCHEME) :].lstrip("/"))

    def download_uri(self, name: str, version: Any) -> str:
        """MLflow 3 registers `models:/m-<id>` sources: the download URI is the logged model's location."""
        _, found = self._version(name, version)
        source = found.get("source", "")
        match = MODEL_URI.match(source)
        if match:
            return self.tracking.get_logged_model(match.group("model_id"))["info"]["artifact_uri"]
        return source

    # -- aliases ---------------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: Any) -> None:
        if not ALIAS.match(alias or "") or RESERVED_ALIAS.match(alias):
            raise ValidationError(
                "alias",
                f"{alias!r} must be letters, digits, '_' or '-', and not 'latest' or a version such as 'v1'",
            )
        model = self.store.require_registered_model(name)
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
        model = self.store.require_registered_model(name)
        if alias not in (model.get("aliases") or {}):
            raise NotFound(f"Registered model alias {alias} not found.")
        self.store.update_registered_model(
            name,
            "REMOVE aliases.#a SET last_updated_timestamp = :t",
            names={"#a": alias},
            values={"t": now_ms()},
        )
        self.events.emit("ModelVersionAliasDeleted", name=name, alias=alias, version=model["aliases"][alias])

    def version_by_alias(self, name: str, alias: str) -> dict[str, Any]:
        model = self.store.require_registered_model(name)
        number = (model.get("aliases") or {}).get(alias)
        if number is None:
            raise NotFound(f"Registered model alias {alias} not found.")
        return self.get_model_version(name, number)

    # -- lineage ---------------------------------------------------------------------------------------
    def lineage(self, name: str, version: Any) -> dict[str, Any]:
        """version -> logged model -> run -> experiment, with the run's datasets and params."""
        model_version = self.get_model_version(name, version)
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
            out["logged_model"] = self.tracking.get_logged_model(model_id)
            run_id = run_id or out["logged_model"]["info"].get("source_run_id")
        if run_id:
            run = self.tracking.get_run(run_id)
            out["run"] = {
                "info": run["info"],
                "params": run["data"]["params"],
                "datasets": [d["dataset"] for d in run["inputs"]["dataset_inputs"]],
            }
            out["experiment"] = self.tracking.get_experiment(run["info"]["experiment_id"])
        return out


IS_PROMPT_TAG = "mlflow.prompt.is_prompt"


def _tag(tags: dict[str, str] | None, key: str) -> str | None:
    # The mlflow client adds `tags.`mlflow.prompt.is_prompt` != 'true'` to every model search; like MLflow's
    # own store (SearchModelUtils), a model without the tag is not a prompt.
    return (tags or {}).get(key, "false" if key == IS_PROMPT_TAG else None)


def _model_lookup(m: dict[str, Any], c: Any) -> Any:
    if c.kind == "tags":
        return _tag(m.get("tags"), c.key)
    return m.get({"timestamp": "last_updated_timestamp"}.get(c.key, c.key))


def _version_lookup(row: tuple[dict[str, Any], dict[str, Any]], c: Any) -> Any:
    model, v = row
    if c.kind == "tags":
        return _tag(v.get("tags"), c.key)
    if c.key == "name":
        return model["name"]
    if c.key in ("version_number", "version"):
        return v["version"]
    if c.key == "source_path":
        return v.get("source")
    return v.get(c.key)
