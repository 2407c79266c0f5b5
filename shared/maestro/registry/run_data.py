"""What a run logs as MLflow defines it: params (set once), tags and metrics (every value kept in the
history, the latest on the run; a metric logged with a model_id joins that logged model too). Must never let
a param change value once logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maestro.core.aws import error_code
from maestro.core.errors import ValidationError
from maestro.registry.events import RegistryEvents
from maestro.registry.fields import ACTIVE, MAX_PARAM_LENGTH, metric_value, tags_dict, validate_key
from maestro.registry.runs import Runs
from maestro.registry.stores import now_ms
from maestro.registry.stores.logged_models import LoggedModelStore

MAX_METRICS, MAX_PARAMS, MAX_TAGS = 1000, 100, 100  # MLflow's LogBatch limits


@dataclass
class RunData:
    runs: Runs
    logged_models: LoggedModelStore
    events: RegistryEvents

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: list[dict[str, Any]] | None = None,
        params: list[dict[str, Any]] | None = None,
        tags: list[dict[str, Any]] | None = None,
        event: str = "RunDataLogged",
    ) -> None:
        """MLflow's LogBatch: params may be re-logged only with the same value. Params and tags land in one
        conditional update; metrics in the history, then as the run's latest where they are."""
        metrics, params, tags = metrics or [], params or [], tags or []
        if len(metrics) > MAX_METRICS or len(params) > MAX_PARAMS or len(tags) > MAX_TAGS:
            raise ValidationError("log_batch", "at most 1000 metrics, 100 params and 100 tags per request")
        run = self.runs.require_active(run_id)
        param_map = self._params(run, params)
        tag_map = tags_dict(tags)
        rows = [self._metric_row(i, m) for i, m in enumerate(metrics)]
        if param_map or tag_map:
            self._set_params_and_tags(run_id, param_map, tag_map)
        if rows:
            self.runs.store.put_metric_history(run_id, rows)
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

    @staticmethod
    def _params(run: dict[str, Any], params: list[dict[str, Any]]) -> dict[str, str]:
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
                    f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                    f"value='{logged}' for run ID='{run['run_id']}'. Attempted logging new value '{value}'.",
                )
            param_map[key] = value
        return param_map

    @staticmethod
    def _metric_row(i: int, m: dict[str, Any]) -> dict[str, Any]:
        key = str(m.get("key") or "")
        validate_key(key, f"metrics[{i}].key")
        return {
            "key": key,
            "value": metric_value(m.get("value"), f"metrics[{i}].value"),
            "timestamp": int(m.get("timestamp") or now_ms()),
            "step": int(m.get("step") or 0),
            **({"model_id": m["model_id"]} if m.get("model_id") else {}),
        }

    def _set_params_and_tags(self, run_id: str, param_map: dict[str, str], tag_map: dict[str, str]) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {"active": ACTIVE}
        sets: list[str] = []
        conds: list[str] = []
        for i, (k, v) in enumerate(param_map.items()):
            names[f"#p{i}"], values[f"p{i}"] = k, v
            sets.append(f"params.#p{i} = :p{i}")
            conds.append(f"(attribute_not_exists(params.#p{i}) OR params.#p{i} = :p{i})")
        for i, (k, v) in enumerate(tag_map.items()):
            names[f"#t{i}"], values[f"t{i}"] = k, v
            sets.append(f"tags.#t{i} = :t{i}")
        try:
            self.runs.store.change(
                run_id,
                "SET " + ", ".join(sets),
                names=names,
                values=values,
                condition=" AND ".join(["lifecycle_stage = :active", *conds]),
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ValidationError("params", "a param was logged concurrently with another value") from exc
            raise

    def _set_latest_metric(self, run_id: str, key: str, row: dict[str, Any]) -> None:
        value = {"value": row["value"], "timestamp": row["timestamp"], "step": row["step"]}
        try:  # "metrics" and "timestamp" are DynamoDB reserved words: placeholders throughout
            self.runs.store.change(
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
            model = self.logged_models.require(model_id)
            seen = {(m["key"], m["step"], m["timestamp"], m["value"]) for m in model.get("metrics", [])}
            new = [
                {k: r[k] for k in ("key", "value", "timestamp", "step")}
                for r in model_rows
                if (r["key"], r["step"], r["timestamp"], r["value"]) not in seen
            ]
            if new:
                self.logged_models.change(
                    model_id, "SET #m = list_append(#m, :new)", names={"#m": "metrics"}, values={"new": new}
                )
