"""Experiment tracking as MLflow defines it: experiments, runs, params, metrics, tags, inputs/outputs and
logged models, shaped as MLflow's REST replies. Must never let a param change value once logged."""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.aws import error_code
from maestro.core.errors import Conflict, NotFound, ValidationError
from maestro.core.fields import PARAM_VALUE_CHARS, TAG_KEY_CHARS, TAG_VALUE_CHARS
from maestro.registry import search
from maestro.registry.artifacts import check_location, default_experiment_location
from maestro.registry.events import RegistryEvents
from maestro.registry.store import RegistryStore, now_ms

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
ACTIVE, DELETED = "active", "deleted"
RUN_STATUSES = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"}
LOGGED_MODEL_STATUSES = {"LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"}
VIEW_TYPES = {"ACTIVE_ONLY": {ACTIVE}, "DELETED_ONLY": {DELETED}, "ALL": {ACTIVE, DELETED}}
RUN_NAME_TAG = "mlflow.runName"
# MLflow's limits, defined once with the stores' others
MAX_KEY_LENGTH, MAX_PARAM_LENGTH, MAX_TAG_LENGTH = TAG_KEY_CHARS, PARAM_VALUE_CHARS, TAG_VALUE_CHARS
_ADJECTIVES = [
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
    "merry",
    "nimble",
    "placid",
    "quiet",
    "rapid",
    "serene",
    "tidy",
    "vivid",
    "wise",
    "zesty",
]
_NOUNS = [
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
    "newt",
    "owl",
    "quail",
    "raven",
    "seal",
    "tapir",
    "vole",
    "wren",
    "yak",
]


def tags_list(tags: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted((tags or {}).items())]


def tags_dict(tags: list[dict[str, Any]] | None, field: str = "tags") -> dict[str, str]:
    out: dict[str, str] = {}
    for i, tag in enumerate(tags or []):
        key = str(tag.get("key") or "")
        validate_key(key, f"{field}[{i}].key")
        value = "" if tag.get("value") is None else str(tag["value"])
        if len(value) > MAX_TAG_LENGTH:
            raise ValidationError(f"{field}[{i}].value", f"longer than {MAX_TAG_LENGTH} characters")
        out[key] = value
    return out


def validate_key(key: str, field: str) -> None:
    if not key:
        raise ValidationError(field, "must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(field, f"longer than {MAX_KEY_LENGTH} characters")
    if "#" in key or key.startswith("/") or ".." in key.split("/"):
        raise ValidationError(field, f"{key!r} may not contain '#', start with '/' or hold '..'")


def metric_value(value: Any, field: str) -> str:
    """Stored as text so NaN and ±inf survive (DynamoDB numbers cannot hold them)."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, f"{value!r} is not a number") from exc
    return repr(number)


def metric_json(key: str, value: str, timestamp: int, step: int) -> dict[str, Any]:
    number = float(value)
    shown: Any = (
        number
        if math.isfinite(number)
        else ("NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity"))
    )
    return {"key": key, "value": shown, "timestamp": timestamp, "step": step}


@dataclass
class Tracking:
    store: RegistryStore
    auth: AuthContext
    bucket: str
    events: RegistryEvents

    # -- experiments -----------------------------------------------------------------------------------
    def _ensure_default(self) -> None:
        if self.store.get_experiment(DEFAULT_EXPERIMENT_ID) is None:
            try:
                when = now_ms()
                self.store.create_experiment(
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

    def _experiment(self, experiment_id: str) -> dict[str, Any]:
        experiment_id = str(experiment_id or "")
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            self._ensure_default()
        experiment = self.store.get_experiment(experiment_id) if experiment_id.isdigit() else None
        if experiment is None:
            raise NotFound(f"No Experiment with id={experiment_id} exists")
        return experiment

    @staticmethod
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

    def create_experiment(
        self, name: str, artifact_location: str | None, tags: list[dict[str, Any]] | None
    ) -> str:
        name = (name or "").strip()
        if not name:
            raise ValidationError("name", "experiment name must be a non-empty string")
        self._ensure_default()
        existing = self.store.experiment_id_by_name(name)
        if existing is not None:
            stage = (self.store.get_experiment(existing) or {}).get("lifecycle_stage", ACTIVE)
            suffix = " in deleted state" if stage == DELETED else ""
            raise Conflict(f"Experiment(name={name}) already exists{suffix}.")
        experiment_id = self.store.next_experiment_id()
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
        self.store.create_experiment(experiment)
        self.events.emit(
            "ExperimentCreated", experiment_id=experiment_id, name=name, artifact_location=location
        )
        return experiment_id

    def get_experiment(self, experiment_id: str) -> dict[str, Any]:
        return self.experiment_json(self._experiment(experiment_id))

    def get_experiment_by_name(self, name: str) -> dict[str, Any]:
        if name == DEFAULT_EXPERIMENT_NAME:
            self._ensure_default()
        experiment_id = self.store.experiment_id_by_name(name)
        experiment = self.store.get_experiment(experiment_id) if experiment_id else None
        if experiment is None:
            raise NotFound(f"Could not find experiment with name '{name}'")
        return self.experiment_json(experiment)

    def search_experiments(
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
            (e for e in self.store.list_experiments() if e["lifecycle_stage"] in stages),
            search.parse_filter(filter_string),
            search.parse_order_by(order_by) or [search.OrderBy("attributes", "creation_time", False)],
            _experiment_lookup,
            lambda e: int(e["experiment_id"]),
            page_token,
            limit(max_results, 1000, 50000),
        )
        return [self.experiment_json(e) for e in chunk], token

    def update_experiment(self, experiment_id: str, new_name: str) -> None:
        experiment = self._experiment(experiment_id)
        new_name = (new_name or "").strip()
        if not new_name:
            raise ValidationError("new_name", "must be a non-empty string")
        if experiment["lifecycle_stage"] != ACTIVE:
            raise ValidationError("experiment_id", "cannot rename a non-active experiment")
        if new_name != experiment["name"]:
            self.store.rename_experiment(experiment["experiment_id"], experiment["name"], new_name, now_ms())
            self.events.emit(
                "ExperimentRenamed", experiment_id=experiment_id, old_name=experiment["name"], name=new_name
            )

    def set_experiment_lifecycle(self, experiment_id: str, stage: str) -> None:
        experiment = self._experiment(experiment_id)
        if experiment_id == DEFAULT_EXPERIMENT_ID and stage == DELETED:
            raise ValidationError("experiment_id", "the Default experiment cannot be deleted")
        self.store.update_experiment(
            experiment["experiment_id"],
            "SET lifecycle_stage = :s, last_update_time = :t",
            values={"s": stage, "t": now_ms()},
        )
        self.events.emit(
            "ExperimentDeleted" if stage == DELETED else "ExperimentRestored", experiment_id=experiment_id
        )

    def set_experiment_tag(self, experiment_id: str, key: str, value: str | None) -> None:
        experiment = self._experiment(experiment_id)
        validate_key(key, "key")
        if value is None:
            self.store.update_experiment(
                experiment["experiment_id"],
                "REMOVE tags.#k SET last_update_time = :t",
                names={"#k": key},
                values={"t": now_ms()},
            )
        else:
            self.store.update_experiment(
                experiment["experiment_id"],
                "SET tags.#k = :v, last_update_time = :t",
                names={"#k": key},
                values={"v": str(value), "t": now_ms()},
            )
        self.events.emit(
            "ExperimentTagSet" if value is not None else "ExperimentTagDeleted",
            experiment_id=experiment_id,
            key=key,
        )

    # -- runs ------------------------------------------------------------------------------------------
    def _run(self, run_id: str) -> dict[str, Any]:
        run = self.store.get_run(run_id or "") if run_id else None
        if run is None:
            raise NotFound(f"Run with id={run_id} not found")
        return run

    def _active_run(self, run_id: str) -> dict[str, Any]:
        run = self._run(run_id)
        if run["lifecycle_stage"] != ACTIVE:
            raise ValidationError(
                "run_id",
                f"The run {run_id} must be in the 'active' state. Current state is {run['lifecycle_stage']}.",
            )
        return run

    @staticmethod
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

    def run_json(self, r: dict[str, Any]) -> dict[str, Any]:
        metrics = [
            metric_json(k, m["value"], m["timestamp"], m["step"]) for k, m in sorted(r["metrics"].items())
        ]
        return {
            "info": self.run_info_json(r),
            "data": {
                "metrics": metrics,
                "params": tags_list(r.get("params")),
                "tags": tags_list(r.get("tags")),
            },
            "inputs": {
                "dataset_inputs": r.get("dataset_inputs", []),
                "model_inputs": [{"model_id": m} for m in r.get("model_inputs", [])],
            },
            "outputs": {"model_outputs": r.get("model_outputs", [])},
        }

    def create_run(
        self,
        *,
        experiment_id: str,
        user_id: str | None,
        run_name: str | None,
        start_time: int | None,
        tags: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        experiment = self._experiment(experiment_id or DEFAULT_EXPERIMENT_ID)
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
        self.store.put_run(run)
        self.events.emit("RunCreated", run_id=run_id, experiment_id=run["experiment_id"], run_name=name)
        return self.run_json(run)

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self.run_json(self._run(run_id))

    def update_run(
        self, run_id: str, status: str | None, end_time: int | None, run_name: str | None
    ) -> dict[str, Any]:
        self._run(run_id)
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
            return self.run_info_json(self._run(run_id))
        updated = self.store.update_run(run_id, "SET " + ", ".join(sets), names=names or None, values=values)
        self.events.emit(
            "RunUpdated", run_id=run_id, status=updated["status"], end_time=updated.get("end_time")
        )
        return self.run_info_json(updated)

    def set_run_lifecycle(self, run_id: str, stage: str) -> None:
        self._run(run_id)
        self.store.update_run(run_id, "SET lifecycle_stage = :s", values={"s": stage})
        self.events.emit("RunDeleted" if stage == DELETED else "RunRestored", run_id=run_id)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: list[dict[str, Any]] | None = None,
        params: list[dict[str, Any]] | None = None,
        tags: list[dict[str, Any]] | None = None,
        event: str = "RunDataLogged",
    ) -> None:
        """MLflow's LogBatch limits: 1000 metrics, 100 params, 100 tags; params may be re-logged only with the
        same value. Params and tags land in one conditional update; metrics in history plus the latest."""
        metrics, params, tags = metrics or [], params or [], tags or []
        if len(metrics) > 1000 or len(params) > 100 or len(tags) > 100:
            raise ValidationError("log_batch", "at most 1000 metrics, 100 params and 100 tags per request")
        run = self._active_run(run_id)
        param_map: dict[str, str] = {}
        for i, p in enumerate(params):
            key, value = str(p.get("key") or ""), "" if p.get("value") is None else str(p["value"])
            validate_key(key, f"params[{i}].key")
            if len(value) > MAX_PARAM_LENGTH:
                raise ValidationError(f"params[{i}].value", f"longer than {MAX_PARAM_LENGTH} characters")
            logged = run["params"].get(key, param_map.get(key))
            if logged is not None and logged != value:
                raise ValidationError(
                    f"params[{i}].value",
                    (
                        f"Changing param values is not allowed. Param with key='{key}' was already logged "
                        f"with "
                        f"value='{logged}' for run ID='{run_id}'. Attempted logging new value '{value}'."
                    ),
                )
            param_map[key] = value
        tag_map = tags_dict(tags)
        rows = []
        for i, m in enumerate(metrics):
            key = str(m.get("key") or "")
            validate_key(key, f"metrics[{i}].key")
            rows.append(
                {
                    "key": key,
                    "value": metric_value(m.get("value"), f"metrics[{i}].value"),
                    "timestamp": int(m.get("timestamp") or now_ms()),
                    "step": int(m.get("step") or 0),
                    **({"model_id": m["model_id"]} if m.get("model_id") else {}),
                }
            )
        if param_map or tag_map:
            names, values, sets, conds = {}, {}, [], []
            for i, (k, v) in enumerate(param_map.items()):
                names[f"#p{i}"], values[f"p{i}"] = k, v
                sets.append(f"params.#p{i} = :p{i}")
                conds.append(f"(attribute_not_exists(params.#p{i}) OR params.#p{i} = :p{i})")
            for i, (k, v) in enumerate(tag_map.items()):
                names[f"#t{i}"], values[f"t{i}"] = k, v
                sets.append(f"tags.#t{i} = :t{i}")
            values["active"] = ACTIVE
            try:
                self.store.update_run(
                    run_id,
                    "SET " + ", ".join(sets),
                    names=names,
                    values=values,
                    condition=" AND ".join(["lifecycle_stage = :active", *conds]),
                )
            except Exception as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    raise ValidationError(
                        "params", "a param was logged concurrently with another value"
                    ) from exc
                raise
        if rows:
            self.store.put_metric_history(run_id, rows)
            latest: dict[str, dict[str, Any]] = {}
            for row in rows:  # MLflow's latest value: the greatest (step, timestamp)
                best = latest.get(row["key"])
                if best is None or (row["step"], row["timestamp"]) >= (best["step"], best["timestamp"]):
                    latest[row["key"]] = row
            for key, row in latest.items():
                self._set_latest_metric(run_id, key, row)
            self._link_model_metrics(rows)
        if rows or param_map or tag_map:
            self.events.emit(
                event,
                run_id=run_id,
                metrics=sorted({r["key"] for r in rows}),
                params=sorted(param_map),
                tags=sorted(tag_map),
            )

    def _set_latest_metric(self, run_id: str, key: str, row: dict[str, Any]) -> None:
        value = {"value": row["value"], "timestamp": row["timestamp"], "step": row["step"]}
        try:  # "metrics" and "timestamp" are DynamoDB reserved words: placeholders throughout
            self.store.update_run(
                run_id,
                "SET #m.#k = :m",
                names={"#m": "metrics", "#k": key, "#ts": "timestamp"},
                values={"m": value, "s": row["step"], "ts": row["timestamp"]},
                condition="attribute_not_exists(#m.#k) OR #m.#k.step < :s "
                "OR (#m.#k.step = :s AND #m.#k.#ts <= :ts)",
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise  # a newer value is already the latest: history holds this one

    def _link_model_metrics(self, rows: list[dict[str, Any]]) -> None:
        """Metrics logged with a model_id belong to that logged model too (MLflow 3)."""
        by_model: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row.get("model_id"):
                by_model.setdefault(row["model_id"], []).append(row)
        for model_id, model_rows in by_model.items():
            model = self._logged_model(model_id)
            seen = {(m["key"], m["step"], m["timestamp"], m["value"]) for m in model.get("metrics", [])}
            new = [
                {k: r[k] for k in ("key", "value", "timestamp", "step")}
                for r in model_rows
                if (r["key"], r["step"], r["timestamp"], r["value"]) not in seen
            ]
            if new:
                self.store.update_logged_model(
                    model_id, "SET #m = list_append(#m, :new)", names={"#m": "metrics"}, values={"new": new}
                )

    def delete_tag(self, run_id: str, key: str) -> None:
        run = self._active_run(run_id)
        if key not in run["tags"]:
            raise NotFound(f"No tag with name: {key} in run with id {run_id}")
        self.store.update_run(run_id, "REMOVE tags.#k", names={"#k": key})
        self.events.emit("RunTagDeleted", run_id=run_id, key=key)

    def log_inputs(
        self, run_id: str, datasets: list[dict[str, Any]] | None, models: list[dict[str, Any]] | None
    ) -> None:
        run = self._active_run(run_id)
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
            self._logged_model(model_id)
        if new or model_ids:
            self.store.update_run(
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
        self._active_run(run_id)
        outputs = []
        for i, m in enumerate(models or []):
            if not m.get("model_id"):
                raise ValidationError(f"models[{i}].model_id", "is required")
            self._logged_model(m["model_id"])
            outputs.append({"model_id": m["model_id"], "step": int(m.get("step") or 0)})
        if outputs:
            self.store.update_run(
                run_id, "SET model_outputs = list_append(model_outputs, :o)", values={"o": outputs}
            )
            self.events.emit("RunOutputsLogged", run_id=run_id, model_ids=[o["model_id"] for o in outputs])

    def search_runs(
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
                r for r in self.store.runs_of_experiment(str(experiment_id)) if r["lifecycle_stage"] in stages
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
        return [self.run_json(r) for r in chunk], token

    def metric_history(
        self, run_id: str, key: str, max_results: int | None, page_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        self._run(run_id)
        if not key:
            raise ValidationError("metric_key", "is required")
        rows = self.store.metric_history(run_id, key)
        rows.sort(key=lambda r: (r["step"], r["timestamp"]))
        chunk, token = search.page(rows, page_token, limit(max_results, 25000, 25000))
        return [metric_json(r["key"], r["value"], r["timestamp"], r["step"]) for r in chunk], token

    # -- logged models (MLflow 3) ----------------------------------------------------------------------
    def _logged_model(self, model_id: str) -> dict[str, Any]:
        model = self.store.get_logged_model(model_id) if model_id else None
        if model is None:
            raise NotFound(f"Logged model with ID '{model_id}' not found.")
        return model

    def logged_model_json(self, m: dict[str, Any]) -> dict[str, Any]:
        info = {
            key: m[key]
            for key in (
                "model_id",
                "experiment_id",
                "name",
                "creation_timestamp_ms",
                "last_updated_timestamp_ms",
                "status",
            )
            if m.get(key) is not None
        }
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

    def create_logged_model(
        self,
        *,
        experiment_id: str,
        name: str | None,
        model_type: str | None,
        source_run_id: str | None,
        params: list[dict[str, Any]] | None,
        tags: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        experiment = self._experiment(experiment_id)
        if source_run_id:
            self._run(source_run_id)
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
        self.store.put_logged_model(model)
        self.events.emit(
            "LoggedModelCreated",
            model_id=model_id,
            experiment_id=model["experiment_id"],
            source_run_id=source_run_id,
            name=model["name"],
        )
        return self.logged_model_json(model)

    def get_logged_model(self, model_id: str) -> dict[str, Any]:
        return self.logged_model_json(self._logged_model(model_id))

    def finalize_logged_model(self, model_id: str, status: str) -> dict[str, Any]:
        if status not in LOGGED_MODEL_STATUSES:
            raise ValidationError("status", f"must be one of {sorted(LOGGED_MODEL_STATUSES)}")
        model = self.store.update_logged_model(
            model_id,
            "SET #s = :s, last_updated_timestamp_ms = :t",
            names={"#s": "status"},
            values={"s": status, "t": now_ms()},
        )
        self.events.emit("LoggedModelFinalized", model_id=model_id, status=status)
        return self.logged_model_json(model)

    def set_logged_model_tags(self, model_id: str, tags: list[dict[str, Any]] | None) -> None:
        tag_map = tags_dict(tags)
        if not tag_map:
            return
        names = {f"#t{i}": k for i, k in enumerate(tag_map)}
        values = {f"t{i}": v for i, v in enumerate(tag_map.values())} | {"now": now_ms()}
        sets = ", ".join(f"tags.#t{i} = :t{i}" for i in range(len(tag_map)))
        self.store.update_logged_model(
            model_id, f"SET {sets}, last_updated_timestamp_ms = :now", names=names, values=values
        )
        self.events.emit("LoggedModelTagsSet", model_id=model_id, keys=sorted(tag_map))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        model = self._logged_model(model_id)
        if key not in model.get("tags", {}):
            raise NotFound(f"No tag with key {key!r} on logged model {model_id}")
        self.store.update_logged_model(model_id, "REMOVE tags.#k", names={"#k": key})
        self.events.emit("LoggedModelTagDeleted", model_id=model_id, key=key)

    def log_logged_model_params(self, model_id: str, params: list[dict[str, Any]] | None) -> None:
        param_map = tags_dict(params, "params")
        if not param_map:
            return
        names = {f"#p{i}": k for i, k in enumerate(param_map)}
        values = {f"p{i}": v for i, v in enumerate(param_map.values())}
        sets = ", ".join(f"params.#p{i} = :p{i}" for i in range(len(param_map)))
        self.store.update_logged_model(model_id, f"SET {sets}", names=names, values=values)
        self.events.emit("LoggedModelParamsLogged", model_id=model_id, keys=sorted(param_map))

    def delete_logged_model(self, model_id: str) -> None:
        self._logged_model(model_id)
        self.store.delete_logged_model(model_id)
        self.events.emit("LoggedModelDeleted", model_id=model_id)

    def search_logged_models(
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
            models += list(self.store.logged_models_of_experiment(str(experiment_id)))
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
        return [self.logged_model_json(m) for m in chunk], token


def limit(requested: int | None, default: int, maximum: int) -> int:
    if requested is None or int(requested) == 0:
        return default
    if not 1 <= int(requested) <= maximum:
        raise ValidationError("max_results", f"must be between 1 and {maximum}")
    return int(requested)


def _experiment_lookup(e: dict[str, Any], c: Any) -> Any:
    if c.kind == "tags":
        return (e.get("tags") or {}).get(c.key)
    return e.get({"id": "experiment_id"}.get(c.key, c.key))


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


def _logged_model_lookup(m: dict[str, Any], c: Any) -> Any:
    if c.kind == "tags":
        return (m.get("tags") or {}).get(c.key)
    if c.kind == "params":
        return (m.get("params") or {}).get(c.key)
    return m.get(c.key)
