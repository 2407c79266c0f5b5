"""The isolation matrix over real HTTP against the local platform: for every route of the API (read from the
generated OpenAPI document) and every role, a caller of tenant A either succeeds as the permission catalogue
says or gets a 403 naming the permission; A's requests aimed at tenant B's resources find nothing of B's;
and B's items and objects are exactly as they were."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from maestro.core.rbac import ROLES, Permission, permissions_for
from tests.support import REPO, RunningPlatform, start_platform, wait_for

A, B, SCRATCH = "matrix-a", "matrix-b", "matrix-c"
ML, ART = "/api/2.0/mlflow", "/api/2.0/mlflow-artifacts"
AB_SPEC = {
    "name": "checkout",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "new", "weight": 0.5}],
    "metrics": [{"name": "converted", "kind": "binomial", "event": "purchase", "role": "primary"}],
}
SLO = {"name": "api", "service": "svc", "objectives": [{"kind": "availability", "target": 99.0}]}
MODEL = {"name": "scored", "version": 1}
MONITOR = {"name": "scored", "model": MODEL, "min_records": 1}
# Routes no role of a fixture tenant can complete, and why: they are authorized (never 403) and are
# exercised to success elsewhere.
NO_SUCCESS_HERE = {
    ("POST", "/explanations"): "needs an explainable model: test_explain_http submits real jobs",
    ("GET", "/explanations/{job_id}"): "no job exists in the fixture tenant",
    ("GET", "/explanations/{job_id}/results"): "no job exists in the fixture tenant",
    ("GET", "/explanations/{job_id}/summary"): "no job exists in the fixture tenant",
    ("POST", "/explanations/{job_id}/cancel"): "no job exists in the fixture tenant",
    ("POST", "/training/jobs"): "needs a source bundle and data: test_training_http submits real jobs",
    ("POST", "/insights/forecast/train"): "the fixture tenant has too few finished projects to learn from",
    ("GET", "/insights/forecast"): "no forecast model is trained in the fixture tenant",
    ("GET", "/insights/projects/{project_id}/forecast"): "no forecast model is trained in the fixture tenant",
    ("POST", "/insights/projects/{project_id}/team"): "no forecast model is trained in the fixture tenant",
    ("GET", "/training/jobs/{job_id}"): "no training job exists in the fixture tenant",
    ("GET", "/training/jobs/{job_id}/logs"): "no training job exists in the fixture tenant",
    ("POST", "/training/jobs/{job_id}/stop"): "no training job exists in the fixture tenant",
    ("POST", "/training/sweeps"): "needs a source bundle and data: test_training_http runs a real sweep",
    ("GET", "/training/sweeps/{sweep_id}"): "no sweep exists in the fixture tenant",
    ("POST", "/training/sweeps/{sweep_id}/stop"): "no sweep exists in the fixture tenant",
}
NO_JOB = "exp-" + "0" * 24
NO_TRAINING_JOB, NO_SWEEP = "tj-" + "0" * 24, "sw-" + "0" * 24
TRAINING_SPEC = {
    "entry_point": "train.py",
    "source": "mlflow-artifacts:/training/missing.tar.gz",  # refused (422) once authorized
    "channels": {"train": {"s3_uri": "mlflow-artifacts:/training/data/"}},
}


@dataclass
class Resources:
    """One tenant's fixture resources, made through the API by its admin."""

    tenant: str
    names: str  # prefix of every name, so B's are told apart from A's
    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


Request = tuple[str, dict[str, Any]]  # (path, requests keyword arguments)
ROLLOUT_STEPS = [{"percent": 10, "hold": "1h"}, {"percent": 100}]
ROUTES: dict[tuple[str, str], Callable[[Resources], Request]] = {
    # -- reads --------------------------------------------------------------------------------------------
    ("GET", "/whoami"): lambda r: ("/whoami", {}),
    ("POST", "/whoami/check"): lambda r: ("/whoami/check", {"json": {"permissions": ["registry:read"]}}),
    ("GET", "/tenants/{tenant_id}"): lambda r: (f"/tenants/{r.tenant}", {}),
    ("GET", "/tenants/{tenant_id}/usage"): lambda r: (f"/tenants/{r.tenant}/usage", {}),
    ("GET", "/tenants/{tenant_id}/users"): lambda r: (f"/tenants/{r.tenant}/users", {}),
    ("GET", "/tenants/{tenant_id}/users/{principal}"): lambda r: (f"/tenants/{r.tenant}/users/bob", {}),
    ("GET", "/ab/experiments"): lambda r: ("/ab/experiments", {}),
    ("GET", "/ab/experiments/{experiment_id}"): lambda r: (f"/ab/experiments/{r['ab']}", {}),
    ("GET", "/ab/experiments/{experiment_id}/analysis"): lambda r: (
        f"/ab/experiments/{r['ab']}/analysis",
        {},
    ),
    ("POST", "/ab/assign"): lambda r: ("/ab/assign", {"json": {"experiment_id": r["ab"], "unit_id": "u1"}}),
    ("POST", "/ab/assign/batch"): lambda r: (
        "/ab/assign/batch",
        {"json": {"experiment_id": r["ab"], "unit_ids": ["u1", "u2"]}},
    ),
    ("GET", "/sla/slos"): lambda r: ("/sla/slos", {}),
    ("GET", "/sla/slos/{slo_id}"): lambda r: (f"/sla/slos/{r['slo']}", {}),
    ("GET", "/sla/slos/{slo_id}/status"): lambda r: (f"/sla/slos/{r['slo']}/status", {}),
    ("GET", "/sla/slos/{slo_id}/report"): lambda r: (f"/sla/slos/{r['slo']}/report", {}),
    ("GET", "/monitoring/monitors"): lambda r: ("/monitoring/monitors", {}),
    ("GET", "/training/jobs"): lambda r: ("/training/jobs", {}),
    ("GET", "/deployments"): lambda r: ("/deployments", {}),
    ("GET", "/platform/drills"): lambda r: ("/platform/drills", {}),
    ("GET", "/platform/drills/{drill_id}"): lambda r: (
        f"/platform/drills/{r.ids.get('drill', 'drill-000000000000')}",  # the operators' own drill
        {},
    ),
    ("GET", "/deployments/{rollout_id}"): lambda r: (f"/deployments/{r['rollout']}", {}),
    ("POST", "/deployments/route"): lambda r: (
        "/deployments/route",
        {"json": {"model": f"{r.names}-m", "alias": "champion", "units": ["u1", "u2"]}},
    ),
    ("GET", "/training/sweeps"): lambda r: ("/training/sweeps", {}),
    ("GET", "/training/sweeps/{sweep_id}"): lambda r: (f"/training/sweeps/{NO_SWEEP}", {}),
    ("GET", "/training/jobs/{job_id}"): lambda r: (f"/training/jobs/{NO_TRAINING_JOB}", {}),
    ("GET", "/training/jobs/{job_id}/logs"): lambda r: (f"/training/jobs/{NO_TRAINING_JOB}/logs", {}),
    ("GET", "/monitoring/monitors/{monitor_id}"): lambda r: (f"/monitoring/monitors/{r['monitor']}", {}),
    ("GET", "/monitoring/monitors/{monitor_id}/checks"): lambda r: (
        f"/monitoring/monitors/{r['monitor']}/checks",
        {},
    ),
    ("GET", "/monitoring/baselines/{model}/{version}"): lambda r: ("/monitoring/baselines/scored/1", {}),
    # the version the fixture's admin promoted: a node of the tenant's own graph (B's is unknown to A)
    ("GET", "/insights/neighbourhood"): lambda r: (
        "/insights/neighbourhood",
        {"params": {"node": f"model_version:{r.names}-m/1"}},
    ),
    ("GET", "/insights/reuse"): lambda r: ("/insights/reuse", {}),
    ("GET", "/insights/reuse/timeline"): lambda r: (
        "/insights/reuse/timeline",
        {"params": {"period": "day"}},
    ),
    ("POST", "/insights/recommendations"): lambda r: (
        "/insights/recommendations",
        {"json": {"task": "churn", "team": ["root"]}},
    ),
    ("POST", "/insights/backfills"): lambda r: ("/insights/backfills", {}),
    ("GET", "/insights/backfills"): lambda r: ("/insights/backfills", {}),
    ("GET", "/insights/backfills/{backfill_id}"): lambda r: (f"/insights/backfills/{r['backfill']}", {}),
    ("POST", "/insights/forecast/train"): lambda r: ("/insights/forecast/train", {"json": {}}),
    ("GET", "/insights/forecast"): lambda r: ("/insights/forecast", {}),
    ("GET", "/insights/projects/{project_id}/forecast"): lambda r: (
        f"/insights/projects/experiment:{r['exp']}/forecast",
        {},
    ),
    ("POST", "/insights/projects/{project_id}/team"): lambda r: (
        f"/insights/projects/experiment:{r['exp']}/team",
        {"json": {"size": 3}},
    ),
    ("GET", "/audit/events"): lambda r: ("/audit/events", {}),
    ("GET", "/audit/verify"): lambda r: ("/audit/verify", {}),
    ("GET", "/audit/settings"): lambda r: ("/audit/settings", {}),
    ("GET", "/explanations"): lambda r: ("/explanations", {}),
    ("GET", "/explanations/{job_id}"): lambda r: (f"/explanations/{NO_JOB}", {}),
    ("GET", "/explanations/{job_id}/results"): lambda r: (f"/explanations/{NO_JOB}/results", {}),
    ("GET", "/explanations/{job_id}/summary"): lambda r: (f"/explanations/{NO_JOB}/summary", {}),
    ("GET", f"{ML}/experiments/get"): lambda r: (
        f"{ML}/experiments/get",
        {"params": {"experiment_id": r["exp"]}},
    ),
    ("GET", f"{ML}/experiments/get-by-name"): lambda r: (
        f"{ML}/experiments/get-by-name",
        {"params": {"experiment_name": f"{r.names}-exp"}},
    ),
    ("POST", f"{ML}/experiments/search"): lambda r: (f"{ML}/experiments/search", {"json": {}}),
    ("GET", f"{ML}/runs/get"): lambda r: (f"{ML}/runs/get", {"params": {"run_id": r["run"]}}),
    ("POST", f"{ML}/runs/search"): lambda r: (f"{ML}/runs/search", {"json": {"experiment_ids": [r["exp"]]}}),
    ("GET", f"{ML}/metrics/get-history"): lambda r: (
        f"{ML}/metrics/get-history",
        {"params": {"run_id": r["run"], "metric_key": "loss"}},
    ),
    ("GET", f"{ML}/logged-models/{{model_id}}"): lambda r: (f"{ML}/logged-models/{r['logged']}", {}),
    ("POST", f"{ML}/logged-models/search"): lambda r: (
        f"{ML}/logged-models/search",
        {"json": {"experiment_ids": [r["exp"]]}},
    ),
    ("GET", f"{ML}/registered-models/get"): lambda r: (
        f"{ML}/registered-models/get",
        {"params": {"name": f"{r.names}-m"}},
    ),
    ("GET", f"{ML}/registered-models/search"): lambda r: (f"{ML}/registered-models/search", {}),
    ("POST", f"{ML}/registered-models/get-latest-versions"): lambda r: (
        f"{ML}/registered-models/get-latest-versions",
        {"json": {"name": f"{r.names}-m"}},
    ),
    ("GET", f"{ML}/registered-models/alias"): lambda r: (
        f"{ML}/registered-models/alias",
        {"params": {"name": f"{r.names}-m", "alias": "champion"}},
    ),
    ("GET", f"{ML}/model-versions/get"): lambda r: (
        f"{ML}/model-versions/get",
        {"params": {"name": f"{r.names}-m", "version": "1"}},
    ),
    ("GET", f"{ML}/model-versions/search"): lambda r: (f"{ML}/model-versions/search", {}),
    ("GET", f"{ML}/model-versions/get-download-uri"): lambda r: (
        f"{ML}/model-versions/get-download-uri",
        {"params": {"name": f"{r.names}-m", "version": "1"}},
    ),
    ("GET", f"{ML}/maestro/lineage"): lambda r: (
        f"{ML}/maestro/lineage",
        {"params": {"name": f"{r.names}-m", "version": "1"}},
    ),
    ("GET", f"{ART}/artifacts"): lambda r: (f"{ART}/artifacts", {"params": {"path": "experiments"}}),
    ("GET", f"{ART}/artifacts/{{artifact_path}}"): lambda r: (
        f"{ART}/artifacts/experiments/fixture/model.bin",
        {"allow_redirects": False},
    ),
    ("GET", f"{ART}/presigned/{{artifact_path}}"): lambda r: (
        f"{ART}/presigned/experiments/fixture/model.bin",
        {},
    ),
    # -- writes -------------------------------------------------------------------------------------------
    ("POST", "/ab/events"): lambda r: (
        "/ab/events",
        {
            "json": {
                "experiment_id": r["ab"],
                "events": [{"event_id": "e1", "unit_id": "u1", "type": "exposure"}],
            }
        },
    ),
    ("POST", "/ab/experiments"): lambda r: ("/ab/experiments", {"json": AB_SPEC}),
    ("PUT", "/ab/experiments/{experiment_id}"): lambda r: (
        f"/ab/experiments/{r['ab_draft']}",
        {"json": AB_SPEC},
    ),
    ("POST", "/ab/experiments/{experiment_id}/start"): lambda r: (
        f"/ab/experiments/{r['ab_draft']}/start",
        {},
    ),
    ("POST", "/ab/experiments/{experiment_id}/pause"): lambda r: (f"/ab/experiments/{r['ab']}/pause", {}),
    ("POST", "/ab/experiments/{experiment_id}/resume"): lambda r: (f"/ab/experiments/{r['ab']}/resume", {}),
    ("POST", "/ab/experiments/{experiment_id}/conclude"): lambda r: (
        f"/ab/experiments/{r['ab']}/conclude",
        {"json": {}},
    ),
    ("PUT", "/ab/holdout"): lambda r: ("/ab/holdout", {"json": {"fraction": 0.0}}),
    ("POST", "/sla/slos"): lambda r: ("/sla/slos", {"json": SLO}),
    ("PUT", "/sla/slos/{slo_id}"): lambda r: (f"/sla/slos/{r['slo']}", {"json": SLO}),
    ("POST", "/sla/observations"): lambda r: (
        "/sla/observations",
        {
            "json": {
                "observations": [{"service": "svc", "timestamp": r["now"], "latency_ms": 5, "status": 200}]
            }
        },
    ),
    ("POST", "/monitoring/monitors"): lambda r: ("/monitoring/monitors", {"json": MONITOR}),
    ("POST", "/training/jobs"): lambda r: ("/training/jobs", {"json": TRAINING_SPEC}),
    ("POST", "/platform/drills"): lambda r: ("/platform/drills", {}),
    # the first role allowed starts a rollout of the staging alias; the others find it running (409)
    ("POST", "/deployments"): lambda r: (
        "/deployments",
        {"json": {"model": f"{r.names}-m", "alias": "staging", "to_version": 2, "steps": ROLLOUT_STEPS}},
    ),
    ("POST", "/deployments/{rollout_id}/abort"): lambda r: (f"/deployments/{r['rollout']}/abort", {}),
    ("POST", "/training/jobs/{job_id}/stop"): lambda r: (f"/training/jobs/{NO_TRAINING_JOB}/stop", {}),
    ("POST", "/training/sweeps"): lambda r: (
        "/training/sweeps",
        {
            "json": {
                "job": TRAINING_SPEC | {"metrics": [{"name": "auc"}]},
                "parameters": {"eta": {"values": [0.1]}},
                "objective": {"metric": "auc"},
            }
        },
    ),
    ("POST", "/training/sweeps/{sweep_id}/stop"): lambda r: (f"/training/sweeps/{NO_SWEEP}/stop", {}),
    ("POST", "/monitoring/monitors/{monitor_id}/check"): lambda r: (
        f"/monitoring/monitors/{r['monitor']}/check",
        {},
    ),
    ("POST", "/monitoring/monitors/{monitor_id}/report"): lambda r: (
        f"/monitoring/monitors/{r['monitor']}/report",
        {},
    ),
    ("POST", "/monitoring/baselines"): lambda r: (
        "/monitoring/baselines",
        {"json": {"model": MODEL, "rows": [{"x": 1.0, "prediction": 0.5}, {"x": 2.0, "prediction": 0.7}]}},
    ),
    ("POST", "/monitoring/records"): lambda r: (
        "/monitoring/records",
        {"json": {"model": MODEL, "records": [{"features": {"x": 1.5}, "prediction": 0.6}]}},
    ),
    ("POST", "/audit/records"): lambda r: (
        "/audit/records",
        {"json": {"records": [{"principal": "app", "action": "app:Scored", "resource": "x"}]}},
    ),
    ("POST", "/audit/digests"): lambda r: ("/audit/digests", {}),
    ("POST", "/audit/reports"): lambda r: ("/audit/reports", {"json": {"type": "soc2"}}),
    ("PUT", "/audit/settings"): lambda r: ("/audit/settings", {"json": {}}),
    ("POST", "/explanations"): lambda r: (
        "/explanations",
        {
            "json": {
                "model": {"name": f"{r.names}-m", "version": 1},
                "dataset": {"rows": [[1.0]], "columns": ["x"]},
            }
        },
    ),
    ("POST", "/explanations/{job_id}/cancel"): lambda r: (f"/explanations/{NO_JOB}/cancel", {}),
    ("PUT", "/tenants/{tenant_id}/users/{principal}"): lambda r: (
        f"/tenants/{r.tenant}/users/carol",
        {"json": {"roles": ["viewer"]}},
    ),
    ("POST", f"{ML}/experiments/create"): lambda r: (
        f"{ML}/experiments/create",
        {"json": {"name": f"{r.names}-new"}},
    ),
    ("POST", f"{ML}/experiments/update"): lambda r: (
        f"{ML}/experiments/update",
        {"json": {"experiment_id": r["exp"], "new_name": f"{r.names}-exp"}},
    ),
    ("POST", f"{ML}/experiments/set-experiment-tag"): lambda r: (
        f"{ML}/experiments/set-experiment-tag",
        {"json": {"experiment_id": r["exp"], "key": "k", "value": "v"}},
    ),
    ("POST", f"{ML}/experiments/delete-experiment-tag"): lambda r: (
        f"{ML}/experiments/delete-experiment-tag",
        {"json": {"experiment_id": r["exp"], "key": "k"}},
    ),
    ("POST", f"{ML}/runs/create"): lambda r: (f"{ML}/runs/create", {"json": {"experiment_id": r["exp"]}}),
    ("POST", f"{ML}/runs/update"): lambda r: (
        f"{ML}/runs/update",
        {"json": {"run_id": r["run"], "status": "RUNNING"}},
    ),
    ("POST", f"{ML}/runs/log-metric"): lambda r: (
        f"{ML}/runs/log-metric",
        {"json": {"run_id": r["run"], "key": "loss", "value": 0.5, "timestamp": 1, "step": 0}},
    ),
    ("POST", f"{ML}/runs/log-parameter"): lambda r: (
        f"{ML}/runs/log-parameter",
        {"json": {"run_id": r["run"], "key": "p", "value": "1"}},
    ),
    ("POST", f"{ML}/runs/log-batch"): lambda r: (
        f"{ML}/runs/log-batch",
        {"json": {"run_id": r["run"], "metrics": [{"key": "acc", "value": 1, "timestamp": 1}]}},
    ),
    ("POST", f"{ML}/runs/log-inputs"): lambda r: (
        f"{ML}/runs/log-inputs",
        {"json": {"run_id": r["run"], "datasets": []}},
    ),
    ("POST", f"{ML}/runs/outputs"): lambda r: (
        f"{ML}/runs/outputs",
        {"json": {"run_id": r["run"], "models": []}},
    ),
    ("POST", f"{ML}/runs/set-tag"): lambda r: (
        f"{ML}/runs/set-tag",
        {"json": {"run_id": r["run"], "key": "t", "value": "v"}},
    ),
    ("POST", f"{ML}/runs/delete-tag"): lambda r: (
        f"{ML}/runs/delete-tag",
        {"json": {"run_id": r["run"], "key": "t"}},
    ),
    ("POST", f"{ML}/logged-models"): lambda r: (
        f"{ML}/logged-models",
        {"json": {"experiment_id": r["exp"], "name": "lm2"}},
    ),
    ("PATCH", f"{ML}/logged-models/{{model_id}}"): lambda r: (
        f"{ML}/logged-models/{r['logged']}",
        {"json": {"status": "LOGGED_MODEL_READY"}},
    ),
    ("PATCH", f"{ML}/logged-models/{{model_id}}/tags"): lambda r: (
        f"{ML}/logged-models/{r['logged']}/tags",
        {"json": {"tags": [{"key": "t", "value": "v"}]}},
    ),
    ("POST", f"{ML}/logged-models/{{model_id}}/params"): lambda r: (
        f"{ML}/logged-models/{r['logged']}/params",
        {"json": {"params": [{"key": "p", "value": "1"}]}},
    ),
    ("DELETE", f"{ML}/logged-models/{{model_id}}/tags/{{tag_key}}"): lambda r: (
        f"{ML}/logged-models/{r['logged']}/tags/t",
        {},
    ),
    ("POST", f"{ML}/registered-models/create"): lambda r: (
        f"{ML}/registered-models/create",
        {"json": {"name": f"{r.names}-new"}},
    ),
    ("PATCH", f"{ML}/registered-models/update"): lambda r: (
        f"{ML}/registered-models/update",
        {"json": {"name": f"{r.names}-m", "description": "d"}},
    ),
    ("POST", f"{ML}/registered-models/set-tag"): lambda r: (
        f"{ML}/registered-models/set-tag",
        {"json": {"name": f"{r.names}-m", "key": "k", "value": "v"}},
    ),
    ("DELETE", f"{ML}/registered-models/delete-tag"): lambda r: (
        f"{ML}/registered-models/delete-tag",
        {"json": {"name": f"{r.names}-m", "key": "k"}},
    ),
    ("POST", f"{ML}/registered-models/alias"): lambda r: (
        f"{ML}/registered-models/alias",
        {"json": {"name": f"{r.names}-m", "alias": "challenger", "version": "1"}},
    ),
    ("DELETE", f"{ML}/registered-models/alias"): lambda r: (
        f"{ML}/registered-models/alias",
        {"json": {"name": f"{r.names}-m", "alias": "challenger"}},
    ),
    ("POST", f"{ML}/registered-models/rename"): lambda r: (
        f"{ML}/registered-models/rename",
        {"json": {"name": f"{r.names}-rename", "new_name": f"{r.names}-renamed"}},
    ),
    ("POST", f"{ML}/model-versions/create"): lambda r: (
        f"{ML}/model-versions/create",
        {"json": {"name": f"{r.names}-m", "source": f"mlflow-artifacts:/experiments/{r['exp']}/model"}},
    ),
    ("PATCH", f"{ML}/model-versions/update"): lambda r: (
        f"{ML}/model-versions/update",
        {"json": {"name": f"{r.names}-m", "version": "1", "description": "d"}},
    ),
    ("POST", f"{ML}/model-versions/set-tag"): lambda r: (
        f"{ML}/model-versions/set-tag",
        {"json": {"name": f"{r.names}-m", "version": "1", "key": "k", "value": "v"}},
    ),
    ("DELETE", f"{ML}/model-versions/delete-tag"): lambda r: (
        f"{ML}/model-versions/delete-tag",
        {"json": {"name": f"{r.names}-m", "version": "1", "key": "k"}},
    ),
    ("POST", f"{ML}/model-versions/transition-stage"): lambda r: (
        f"{ML}/model-versions/transition-stage",
        {"json": {"name": f"{r.names}-m", "version": "1", "stage": "Staging"}},
    ),
    ("PUT", f"{ART}/artifacts/{{artifact_path}}"): lambda r: (
        f"{ART}/artifacts/experiments/matrix/new.txt",
        {"data": b"hello"},
    ),
    ("POST", f"{ART}/mpu/create/{{artifact_path}}"): lambda r: (
        f"{ART}/mpu/create/experiments/matrix",
        {"json": {"path": "big.bin", "num_parts": 1}},
    ),
    ("POST", f"{ART}/mpu/complete/{{artifact_path}}"): lambda r: (
        f"{ART}/mpu/complete/experiments/fixture",
        {
            "json": {
                "path": "big.bin",
                "upload_id": r["upload"],
                "parts": [{"part_number": 1, "etag": r["etag"]}],
            }
        },
    ),
    ("POST", f"{ART}/mpu/abort/{{artifact_path}}"): lambda r: (
        f"{ART}/mpu/abort/experiments/fixture",
        {"json": {"path": "aborted.bin", "upload_id": r["abort_upload"]}},
    ),
    # -- deletions and restores, last -----------------------------------------------------------------------
    ("POST", f"{ML}/runs/delete"): lambda r: (f"{ML}/runs/delete", {"json": {"run_id": r["run_gone"]}}),
    ("POST", f"{ML}/runs/restore"): lambda r: (f"{ML}/runs/restore", {"json": {"run_id": r["run_gone"]}}),
    ("POST", f"{ML}/experiments/delete"): lambda r: (
        f"{ML}/experiments/delete",
        {"json": {"experiment_id": r["exp_gone"]}},
    ),
    ("POST", f"{ML}/experiments/restore"): lambda r: (
        f"{ML}/experiments/restore",
        {"json": {"experiment_id": r["exp_gone"]}},
    ),
    ("DELETE", f"{ML}/logged-models/{{model_id}}"): lambda r: (f"{ML}/logged-models/{r['logged_gone']}", {}),
    ("DELETE", f"{ML}/model-versions/delete"): lambda r: (
        f"{ML}/model-versions/delete",
        {"json": {"name": f"{r.names}-m", "version": "2"}},
    ),
    ("DELETE", f"{ML}/registered-models/delete"): lambda r: (
        f"{ML}/registered-models/delete",
        {"json": {"name": f"{r.names}-gone"}},
    ),
    ("DELETE", f"{ART}/artifacts/{{artifact_path}}"): lambda r: (
        f"{ART}/artifacts/experiments/fixture/gone.txt",
        {},
    ),
    ("DELETE", "/sla/slos/{slo_id}"): lambda r: (f"/sla/slos/{r['slo_gone']}", {}),
    ("DELETE", "/monitoring/monitors/{monitor_id}"): lambda r: (
        f"/monitoring/monitors/{r['monitor_gone']}",
        {},
    ),
    ("DELETE", "/tenants/{tenant_id}/users/{principal}"): lambda r: (f"/tenants/{r.tenant}/users/bob", {}),
    # -- the platform's operators only ----------------------------------------------------------------------
    ("GET", "/tenants"): lambda r: ("/tenants", {}),
    ("POST", "/tenants"): lambda r: ("/tenants", {"json": {"tenant_id": f"{r.tenant}-child", "name": "x"}}),
    ("POST", "/tenants/export"): lambda r: (
        "/tenants/export",
        {"json": {"start": "2026-01-01", "end": "2026-01-02"}},
    ),
    ("PATCH", "/tenants/{tenant_id}"): lambda r: (f"/tenants/{r.tenant}", {"json": {"plan": "team"}}),
    ("POST", "/tenants/{tenant_id}/suspend"): lambda r: (
        f"/tenants/{r.tenant}/suspend",
        {"json": {"reason": "matrix"}},
    ),
    ("POST", "/tenants/{tenant_id}/resume"): lambda r: (f"/tenants/{r.tenant}/resume", {}),
    ("GET", "/tenants/{tenant_id}/exports"): lambda r: (f"/tenants/{r.tenant}/exports", {}),
    ("GET", "/tenants/{tenant_id}/exports/{export_id}"): lambda r: (
        f"/tenants/{r.tenant}/exports/{r.ids.get('export', 'export-20260101-000000-000000')}",  # operators'
        {},
    ),
    ("POST", "/tenants/{tenant_id}/exports"): lambda r: (f"/tenants/{r.tenant}/exports", {}),
    ("DELETE", "/tenants/{tenant_id}"): lambda r: (f"/tenants/{r.tenant}", {}),
}


def operations() -> dict[tuple[str, str], str | None]:
    document = json.loads((REPO / "functions" / "openapi" / "openapi.json").read_text())
    return {
        (method.upper(), path): operation.get("x-maestro-permission")
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def setup(platform: RunningPlatform, tenant: str, names: str) -> Resources:
    """The tenant's fixture resources, made by its admin through the API."""
    admin = platform.token(tenant, ["admin"], subject="root", register=False)
    r = Resources(tenant, names)

    def call(method: str, path: str, **kw: Any) -> Any:
        reply = platform.api(method, path, admin, **kw)
        assert reply.ok, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else {}

    r.ids["now"] = str(int(time.time()))
    r.ids["exp"] = call("POST", f"{ML}/experiments/create", json={"name": f"{names}-exp"})["experiment_id"]
    r.ids["exp_gone"] = call("POST", f"{ML}/experiments/create", json={"name": f"{names}-exp-gone"})[
        "experiment_id"
    ]
    r.ids["run"] = call("POST", f"{ML}/runs/create", json={"experiment_id": r["exp"]})["run"]["info"][
        "run_id"
    ]
    r.ids["run_gone"] = call("POST", f"{ML}/runs/create", json={"experiment_id": r["exp"]})["run"]["info"][
        "run_id"
    ]
    for key in ("logged", "logged_gone"):
        r.ids[key] = call("POST", f"{ML}/logged-models", json={"experiment_id": r["exp"], "name": key})[
            "model"
        ]["info"]["model_id"]
    for name in ("m", "rename", "gone"):
        call("POST", f"{ML}/registered-models/create", json={"name": f"{names}-{name}"})
    source = f"mlflow-artifacts:/experiments/{r['exp']}/model"
    for _ in range(2):
        call("POST", f"{ML}/model-versions/create", json={"name": f"{names}-m", "source": source})
    call(
        "POST",
        f"{ML}/registered-models/alias",
        json={"name": f"{names}-m", "alias": "champion", "version": "1"},
    )
    call(
        "POST",
        f"{ML}/registered-models/alias",
        json={"name": f"{names}-m", "alias": "staging", "version": "1"},
    )
    rollout = {"model": f"{names}-m", "alias": "champion", "to_version": 2, "steps": ROLLOUT_STEPS}
    r.ids["rollout"] = call("POST", "/deployments", json=rollout)["rollout_id"]
    for path, body in (("model.bin", f"{names}-secret-weights".encode()), ("gone.txt", b"to delete")):
        assert platform.api("PUT", f"{ART}/artifacts/experiments/fixture/{path}", admin, data=body).ok
    upload = call("POST", f"{ART}/mpu/create/experiments/fixture", json={"path": "big.bin", "num_parts": 1})
    part = requests.put(upload["credentials"][0]["url"], data=b"part one", timeout=30)
    r.ids |= {"upload": upload["upload_id"], "etag": part.headers["ETag"]}
    aborted = call(
        "POST", f"{ART}/mpu/create/experiments/fixture", json={"path": "aborted.bin", "num_parts": 1}
    )
    r.ids["abort_upload"] = aborted["upload_id"]
    r.ids["ab"] = call("POST", "/ab/experiments", json=AB_SPEC)["experiment_id"]
    call("POST", f"/ab/experiments/{r['ab']}/start")
    r.ids["ab_draft"] = call("POST", "/ab/experiments", json=AB_SPEC)["experiment_id"]
    r.ids["slo"] = call("POST", "/sla/slos", json=SLO)["slo_id"]
    r.ids["slo_gone"] = call("POST", "/sla/slos", json=SLO)["slo_id"]
    call("POST", "/monitoring/baselines", json={"model": MODEL, "rows": [{"x": 1.0, "prediction": 0.5}]})
    r.ids["monitor"] = call("POST", "/monitoring/monitors", json=MONITOR)["monitor_id"]
    serving = [{"features": {"x": 1.5}, "prediction": 0.6}, {"features": {"x": 0.5}, "prediction": 0.4}]
    call("POST", "/monitoring/records", json={"model": MODEL, "records": serving})
    r.ids["monitor_gone"] = call("POST", "/monitoring/monitors", json=MONITOR)["monitor_id"]
    call("PUT", f"/tenants/{tenant}/users/bob", json={"roles": ["viewer"]})
    r.ids["backfill"] = call("POST", "/insights/backfills")["backfill_id"]
    return r


@dataclass
class Outcome:
    role: str
    status: int
    body: str


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("matrix-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


# What the platform's own schedules rewrite in every tenant's items whoever calls: the one-minute SLA check
# saves each SLO's alert state under a new version.
SCHEDULE_OWNED = {"Maestro-SlaSla": ("state", "version", "updated_at")}


def snapshot(platform: RunningPlatform, tenant: str) -> dict[str, Any]:
    """Every item led by the tenant's id in every table, and every object version under its prefix."""
    ddb, s3, out = platform.aws("dynamodb"), platform.aws("s3"), {}
    for table in ddb.list_tables()["TableNames"]:
        items = ddb.scan(
            TableName=table,
            FilterExpression="begins_with(pk, :t)",
            ExpressionAttributeValues={":t": {"S": tenant + "#"}},
        )["Items"]
        owned = next((fields for prefix, fields in SCHEDULE_OWNED.items() if table.startswith(prefix)), ())
        out[table] = sorted(
            json.dumps({k: v for k, v in i.items() if k not in owned}, sort_keys=True) for i in items
        )
    for bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        listed = s3.list_object_versions(Bucket=bucket, Prefix=f"tenants/{tenant}/")
        out[bucket] = sorted(
            f"{v['Key']}@{v['VersionId']}:{v.get('ETag')}" for v in listed.get("Versions", [])
        )
    return out


def settled(platform: RunningPlatform, tenant: str) -> dict[str, Any]:
    """A snapshot once queued work for the tenant (audit records, metering) has landed: two alike."""
    previous = None
    for _ in range(20):
        requests.post(platform.url + "/_local/logs/flush", timeout=30)
        time.sleep(1.5)
        current = snapshot(platform, tenant)
        if current == previous:
            return current
        previous = current
    raise AssertionError("the tenant's data kept changing")


def test_every_route_and_role_is_allowed_exactly_as_the_catalogue_says_and_b_is_never_touched(
    platform: RunningPlatform,
) -> None:
    catalogue = operations()
    routed = {k for k, permission in catalogue.items() if permission is not None}
    assert set(ROUTES) == routed, f"routes without a matrix request: {sorted(routed - set(ROUTES))}"

    operator = platform.token("platform", ["admin"], subject="op")
    for tenant in (A, B, SCRATCH):
        platform.api("POST", "/tenants", operator, json={"tenant_id": tenant, "name": tenant})
    a, b = setup(platform, A, "alpha"), setup(platform, B, "bsecret")
    # B's ids that A can neither guess nor make: none may reach A unless A's own request named it.
    markers = [v for k, v in b.ids.items() if k not in ("now", "exp", "exp_gone", "etag")] + [
        "bsecret-secret-weights"
    ]
    before = settled(platform, B)

    outcomes: dict[tuple[str, str], list[Outcome]] = {}
    tokens = {role: platform.token(A, [role], subject=f"{role}-user", register=False) for role in ROLES}
    # the roles' requests to one route go together, as concurrent users' do
    with ThreadPoolExecutor(4) as pool:
        for route, build in ROUTES.items():
            permission = Permission(catalogue[route])
            path, kw = build(a)
            replies = pool.map(lambda role: platform.api(route[0], path, tokens[role], **kw), ROLES)  # noqa: B023
            for role, reply in zip(ROLES, replies, strict=True):
                outcomes.setdefault(route, []).append(Outcome(role, reply.status_code, reply.text))
                granted = (
                    permission in permissions_for([role]) and permission is not Permission.PLATFORM_ADMIN
                )
                where = f"{route[0]} {route[1]} as {role}: {reply.status_code} {reply.text[:300]}"
                assert reply.status_code < 500, where
                if granted:
                    assert reply.status_code != 403, where
                else:
                    assert reply.status_code == 403, where
                    error = reply.json()
                    assert (error.get("error") or error).get("permission") == str(permission), where
                leaked = [
                    m for m in markers if m in reply.text and m not in json.dumps([path, kw], default=str)
                ]
                assert not leaked, f"{where}: B's {leaked}"
    for route, seen in outcomes.items():
        if route in NO_SUCCESS_HERE or Permission(catalogue[route]) is Permission.PLATFORM_ADMIN:
            continue
        assert any(200 <= o.status < 400 for o in seen), (
            f"no role succeeded at {route}: {[(o.role, o.status) for o in seen]}"
        )

    # A's admin aims every route at B's resources: nothing of B's comes back, nothing of B's changes.
    a_admin = platform.token(A, ["admin"], subject="intruder", register=False)
    for route, build in ROUTES.items():
        path, kw = build(b)
        reply = platform.api(route[0], path, a_admin, **kw)
        where = f"{route[0]} {path} from {A}: {reply.status_code} {reply.text[:300]}"
        assert reply.status_code < 500, where
        leaked = [m for m in markers if m in reply.text and m not in json.dumps([path, kw], default=str)]
        assert not leaked, f"{where}: B's {leaked}"
        if route[0] == "GET" and any(
            f"{{{p}}}" in route[1]
            for p in ("experiment_id", "slo_id", "model_id", "tenant_id", "backfill_id")
        ):
            assert reply.status_code in (403, 404), where
    traversal = platform.api(
        "GET", f"{ART}/artifacts/../../{B}/artifacts/experiments/fixture/model.bin", a_admin
    )
    assert traversal.status_code in (400, 404, 422) and "bsecret" not in traversal.text
    after = settled(platform, B)
    changed = {
        store: {
            "gone": sorted(set(before[store]) - set(after.get(store, []))),
            "new": sorted(set(after.get(store, [])) - set(before[store])),
        }
        for store in before
        if before[store] != after.get(store)
    }
    assert not changed, f"B's data changed: {json.dumps(changed, indent=1)[:4000]}"

    # The platform's operators hold platform:admin: each of its routes succeeds for them.
    scratch = Resources(SCRATCH, "scratch")
    started = platform.api("POST", "/platform/drills", operator)
    assert started.status_code == 202, started.text
    scratch.ids["drill"] = started.json()["drill_id"]
    exported = platform.api("POST", f"/tenants/{SCRATCH}/exports", operator)
    assert exported.status_code == 202, exported.text
    scratch.ids["export"] = exported.json()["export_id"]
    wait_for(  # one export of a tenant runs at a time: the matrix's own request starts the next
        lambda: (
            platform.api("GET", f"/tenants/{SCRATCH}/exports/{scratch['export']}", operator).json()["status"]
            != "RUNNING"
        ),
        timeout_s=60,
    )
    for route in [r for r in ROUTES if Permission(catalogue[r]) is Permission.PLATFORM_ADMIN]:
        path, kw = ROUTES[route](scratch)
        reply = platform.api(route[0], path, operator, **kw)
        assert 200 <= reply.status_code < 300, f"operator {route}: {reply.status_code} {reply.text[:300]}"
