"""Model monitoring for one tenant: monitors, baselines, serving records and checks, with events
(`DriftDetected`, `DataQualityFailed`) for what a check finds. Must never check a window against another
model version's baseline, nor test a window with fewer records than its monitor asks for."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.object_store import Objects
from maestro.core.rbac import Permission
from maestro.core.submissions import identity, submitter
from maestro.core.tenancy import tenant_prefix
from maestro.monitoring.distribution import Distribution
from maestro.monitoring.profile import fold, profile, rows_from_csv
from maestro.monitoring.spec import MonitorSpec, RecordBatch, Reference
from maestro.monitoring.store import MonitoringStore, now_ms
from maestro.tenants.counters import DailyRecords

HOUR_S = 3600
REPORT_LINK_SECONDS = 3600
ARTIFACT_SCHEME = "mlflow-artifacts:/"


def summary_of(columns: dict[str, Distribution]) -> dict[str, Any]:
    """What a baseline or a window holds per column, for people: kind, counts, range or top categories."""
    out: dict[str, Any] = {}
    for name, c in columns.items():
        brief: dict[str, Any] = {"kind": c.kind, "count": c.count, "missing_rate": c.missing_rate}
        if c.kind == "numeric" and c.count:
            brief |= {"min": c.low, "max": c.high, "mean": c.total / c.count, "std": c.std}
        else:
            top = sorted(c.categories.items(), key=lambda kv: -kv[1])[:10]
            brief["top"] = [{"value": v, "count": n} for v, n in top]
        out[name] = brief
    return out


@dataclass
class MonitoringService:
    store: MonitoringStore
    auth: AuthContext
    bucket: str
    correlation_id: str | None = None

    def emit(self, detail_type: str, **detail: Any) -> None:
        publish_safely(DomainEvent.by(self.auth, "monitoring", detail_type, detail, self.correlation_id))

    # -- monitors -------------------------------------------------------------------------------------------
    def create(self, spec: MonitorSpec) -> dict[str, Any]:
        monitor = {
            "monitor_id": f"mon-{uuid.uuid4().hex[:12]}",
            "spec": spec.model_dump(mode="json"),
            "created_at": now_ms(),
            "created_by": self.auth.principal,
            "status": {"state": "unchecked"},
        }
        if spec.retrain is not None:
            # Retraining submits jobs as the monitor's creator: they must be allowed to, now and then.
            if not self.auth.can(Permission.TRAINING_SUBMIT):
                raise Forbidden(
                    f"retrain: permission '{Permission.TRAINING_SUBMIT}' is required to retrain on drift",
                    details={"permission": str(Permission.TRAINING_SUBMIT)},
                )
            monitor["retrain_as"] = identity(self.auth)
        self.store.put_monitor(monitor)
        self.emit("MonitorCreated", monitor_id=monitor["monitor_id"], model=spec.model.model_dump())
        return monitor

    def get(self, monitor_id: str) -> dict[str, Any]:
        return self.store.get_monitor(monitor_id)

    def all(self) -> list[dict[str, Any]]:
        return sorted(self.store.monitors(), key=lambda m: m["created_at"])

    def delete(self, monitor_id: str) -> None:
        self.store.delete_monitor(monitor_id)
        self.emit("MonitorDeleted", monitor_id=monitor_id)

    def history(self, monitor_id: str, limit: int) -> list[dict[str, Any]]:
        self.store.get_monitor(monitor_id)
        return self.store.checks(monitor_id, limit)

    # -- baselines ------------------------------------------------------------------------------------------
    def put_baseline(self, reference: Reference, source: str = "request") -> dict[str, Any]:
        if reference.rows is not None:
            rows = [dict(r) for r in reference.rows]
        else:
            rows = rows_from_csv(self._artifact(str(reference.artifact)), "artifact")
        columns = profile(rows)
        if reference.prediction and reference.prediction not in columns:
            raise ValidationError("prediction", f"the reference has no column {reference.prediction!r}")
        summary = {
            "model": reference.model.model_dump(),
            "rows": len(rows),
            "columns": sorted(columns),
            "kinds": {c: d.kind for c, d in columns.items()},
            "prediction": reference.prediction,
            "source": source if reference.rows is not None else reference.artifact,
            "computed_at": now_ms(),
        }
        self.store.put_baseline(reference.model.name, reference.model.version, summary, columns)
        self.emit("BaselineComputed", model=summary["model"], rows=len(rows), columns=summary["columns"])
        return summary | {"profile": summary_of(columns)}

    def _artifact(self, uri: str) -> bytes:
        from maestro.registry.interface import safe_path  # the registry's rule for artifact paths

        path = safe_path(uri[len(ARTIFACT_SCHEME) :], "artifact")
        objects = Objects.of_tenant(self.bucket, self.auth.tenant)
        key = f"{tenant_prefix(self.auth.tenant)}artifacts/{path}"
        if not objects.exists(key):
            raise ValidationError("artifact", f"{uri} is not among the tenant's artifacts")
        return objects.get(key)

    def baseline(self, model: str, version: int) -> dict[str, Any]:
        found = self.store.baseline(model, version)
        if found is None:
            raise ValidationError("model", f"version {version} of {model!r} has no baseline yet")
        summary, columns = found
        return summary | {"profile": summary_of(columns)}

    # -- serving records ------------------------------------------------------------------------------------
    def record(self, batch: RecordBatch, now: float | None = None) -> dict[str, Any]:
        summary = self.store.baseline_summary(batch.model.name, batch.model.version)
        if summary is None:
            raise Conflict(
                f"version {batch.model.version} of {batch.model.name!r} has no baseline: post one to "
                "/monitoring/baselines first (records are kept as distributions of the baseline's columns)"
            )
        columns = fold(batch.records, summary["kinds"], summary.get("prediction"))
        batch_id = batch.batch_id or hashlib.sha256(batch.model_dump_json().encode()).hexdigest()[:32]
        hour = int((time.time() if now is None else now) // HOUR_S)
        quota = DailyRecords.of(self.auth)
        model = batch.model
        recorded = self.store.record(
            model.name, model.version, batch_id, hour, columns, quota, len(batch.records)
        )
        return {
            "batch_id": batch_id,
            "accepted": len(batch.records) if recorded else 0,
            "duplicate": not recorded,
        }

    # -- checks ---------------------------------------------------------------------------------------------
    def check(self, monitor_id: str, now: float | None = None) -> dict[str, Any]:
        monitor = self.store.get_monitor(monitor_id)
        spec = MonitorSpec.model_validate(monitor["spec"])
        now = time.time() if now is None else now
        last_hour = int(now // HOUR_S)
        first_hour = last_hour - spec.window_hours + 1
        result: dict[str, Any] = {
            "monitor_id": monitor_id,
            "model": spec.model.model_dump(),
            "checked_at": int(now * 1000),
            "window": {"from": first_hour * HOUR_S, "to": (last_hour + 1) * HOUR_S},
        }
        found = self.store.baseline(spec.model.name, spec.model.version)
        if found is None:
            return self._finish(monitor, result | {"state": "no_baseline"})
        summary, reference = found
        wanted = [*(spec.features or [c for c in summary["columns"] if c != spec.prediction])]
        if spec.prediction and spec.prediction in reference:
            wanted.append(spec.prediction)
        current = self.store.window(spec.model.name, spec.model.version, first_hour, last_hour)
        records = max((c.count + c.missing + c.invalid for c in current.values()), default=0)
        result["records"] = records
        if records < spec.min_records:
            return self._finish(monitor, result | {"state": "insufficient_data"})
        empty = {c: Distribution(reference[c].kind) for c in wanted if c in reference}
        pairs = {c: (reference[c], current.get(c, empty[c])) for c in wanted if c in reference}
        from maestro.monitoring import drift, quality  # deferred: numpy and scipy, for checks only

        options = drift.Options(**spec.drift.model_dump())
        result["drift"] = drift.dataset_drift(pairs, options)
        result["quality"] = [
            f for c, (r, k) in pairs.items() for f in quality.failures(c, r, k, spec.quality)
        ]
        result["unknown_columns"] = sorted(set(wanted) - set(reference))
        drifted, failed = result["drift"]["drifted_columns"], result["quality"]
        state = "drift" if drifted else "quality" if failed else "ok"
        return self._finish(monitor, result | {"state": state})

    def _finish(self, monitor: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        self.store.put_check(monitor["monitor_id"], result)
        status: dict[str, Any] = {k: result[k] for k in ("state", "checked_at") if k in result}
        if "drift" in result:
            status |= {
                "drifted_columns": result["drift"]["drifted_columns"],
                "dataset_drift": result["drift"]["dataset_drift"],
            }
            status["quality_failures"] = len(result["quality"])
        retrain = self._retrain(monitor, result)
        if retrain:
            result["retrain"] = retrain
            if retrain.get("job_id"):
                monitor = {**monitor, "retrain_job_id": retrain["job_id"]}
        self.store.put_monitor({**monitor, "status": status})
        ids = {"monitor_id": monitor["monitor_id"], "model": result["model"]}
        if result.get("drift", {}).get("drifted_columns"):
            columns = result["drift"]["drifted_columns"]
            self.emit("DriftDetected", **ids, columns=columns, dataset_drift=result["drift"]["dataset_drift"])
        if result.get("quality"):
            failed = [{k: f[k] for k in ("column", "check")} for f in result["quality"]][:50]
            self.emit("DataQualityFailed", **ids, failures=failed)
        if retrain.get("job_id"):
            self.emit("RetrainingStarted", **ids, job_id=retrain["job_id"])
        elif retrain.get("error"):
            self.emit("RetrainingNotStarted", **ids, reason=retrain["error"])
        return json.loads(json.dumps(result))  # plain JSON types throughout

    def _retrain(self, monitor: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        """A training job started for a drifting model (one at a time per monitor), as the monitor's creator
        with the roles they had: {job_id}, {skipped: why} or {error: why}; {} when nothing was asked."""
        spec, found = MonitorSpec.model_validate(monitor["spec"]), result.get("drift") or {}
        if spec.retrain is None:
            return {}
        wanted = (
            found.get("drifted_columns") if spec.retrain.on == "any_drift" else found.get("dataset_drift")
        )
        if not wanted:
            return {}
        from maestro.training.interface import LIVE, job_status, submit_job  # deferred: on drift only

        previous = monitor.get("retrain_job_id")
        if previous and job_status(self.auth.tenant, previous) in LIVE:
            return {"skipped": f"retraining job {previous} is still running"}
        # (monitors made before identities carried their tenant are the caller's tenant's all the same)
        creator = submitter(
            {"principal": "", **(monitor.get("retrain_as") or {}), "tenant": self.auth.tenant}
        )
        if not creator.can(Permission.TRAINING_SUBMIT):
            return {"error": f"{creator.principal} may no longer submit training jobs"}
        try:
            job = submit_job(creator, spec.retrain.job, self.correlation_id)
        except DomainError as exc:
            return {"error": str(exc)}
        return {"job_id": job["job_id"]}

    # -- reports --------------------------------------------------------------------------------------------
    def report(self, monitor_id: str, checked_at: int | None = None) -> dict[str, Any]:
        """The check's report (the latest, or the one at `checked_at`) as HTML and a PNG per column, written
        under the tenant's prefix; links that read them for an hour."""
        from maestro.monitoring.report import render  # deferred: matplotlib, in the report function only

        if checked_at is None:
            latest = self.history(monitor_id, 1)
            if not latest:
                raise NotFound(f"monitor {monitor_id} has not been checked yet: POST its /check first")
            result = latest[0]
        else:
            result = self.store.check(monitor_id, checked_at)
        model = result["model"]
        found = self.store.baseline(model["name"], int(model["version"]))
        if found is None or "drift" not in result:
            raise Conflict(
                f"the check at {result['checked_at']} tested nothing ({result['state']}): no report"
            )
        first, last = result["window"]["from"] // HOUR_S, result["window"]["to"] // HOUR_S - 1
        current = self.store.window(model["name"], int(model["version"]), first, last)
        page, images = render(result, found[1], current)
        objects = Objects.of_tenant(self.bucket, self.auth.tenant)
        base = f"{tenant_prefix(self.auth.tenant)}monitoring/reports/{monitor_id}/{result['checked_at']}/"
        objects.put(base + "report.html", page.encode(), "text/html; charset=utf-8", checksum=True)
        links = {}
        for column, image in images.items():
            objects.put(f"{base}{column}.png", image, "image/png", checksum=True)
            links[column] = objects.presigned_get(f"{base}{column}.png", REPORT_LINK_SECONDS)
        return {
            "monitor_id": monitor_id,
            "checked_at": result["checked_at"],
            "state": result["state"],
            "html": {
                "key": base + "report.html",
                "url": objects.presigned_get(base + "report.html", REPORT_LINK_SECONDS),
            },
            "images": links,
        }
