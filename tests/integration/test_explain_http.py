"""Explanation jobs over real HTTP against the local platform (as `make serve` runs it): models registered
with the unmodified mlflow client, jobs run by the real state machine definition from the template, and the
stored SHAP values compared with shap's own output on the same model, data and background."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests

from tests.support import RunningPlatform, start_platform, wait_for

TENANT = "acme"
BUCKET = "maestro-artifacts"
FEATURES = ["age", "income", "tenure", "visits", "score"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("explain-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def bucket(platform: RunningPlatform) -> str:
    return platform.artifacts_bucket()


@pytest.fixture(scope="module")
def token(platform: RunningPlatform) -> str:
    return platform.token(TENANT, ["ml-engineer"], subject="alice")


def data(rows: int = 240, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES)
    y = ((X["age"] + 0.5 * X["income"] - X["tenure"] * X["visits"] + rng.normal(0, 0.3, rows)) > 0).astype(
        int
    )
    return X, y.to_numpy()


@pytest.fixture(scope="module")
def registered(platform: RunningPlatform, token: str) -> dict[str, Any]:
    """A gradient-boosting classifier and a logistic regression, registered by the mlflow client."""
    exports = platform.mlflow_env(TENANT)
    script = """
import mlflow
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from tests.integration.test_explain_http import data
X, y = data()
mlflow.set_experiment("explain")
with mlflow.start_run():
    gbm = GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0).fit(X, y)
    # skops (MLflow's default format) loads tree internals only when the logger trusts them
    # pip_requirements given: inferring them loads each model again in a subprocess (seconds each)
    mlflow.sklearn.log_model(gbm, name="gbm", input_example=X[:3], registered_model_name="churn-gbm",
                             skops_trusted_types=["sklearn.tree._tree.Tree"],
                             pip_requirements=["scikit-learn"])
    mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="lr", input_example=X[:3],
                             registered_model_name="churn-lr", pip_requirements=["scikit-learn"])
    from lightgbm import LGBMClassifier
    from xgboost import XGBClassifier
    mlflow.xgboost.log_model(XGBClassifier(n_estimators=20, max_depth=3).fit(X, y), name="xgb",
                             input_example=X[:3], registered_model_name="churn-xgb",
                             pip_requirements=["xgboost"])
    mlflow.lightgbm.log_model(LGBMClassifier(n_estimators=20, verbose=-1).fit(X, y), name="lgbm",
                              input_example=X[:3], registered_model_name="churn-lgbm",
                              pip_requirements=["lightgbm"])
"""
    platform.run_python(script, exports)
    return exports


def put_dataset(platform: RunningPlatform, bucket: str, key: str, frame: pd.DataFrame) -> str:
    platform.aws("s3").put_object(Bucket=bucket, Key=key, Body=frame.to_csv(index=False).encode())
    return f"s3://{bucket}/{key}"


def call(platform: RunningPlatform, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{platform.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60, **kwargs
    )


def wait_job(platform: RunningPlatform, token: str, job_id: str, timeout_s: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = call(platform, "GET", f"/explanations/{job_id}", token).json()
        if job["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout_s} s: {job}")


def read_s3(platform: RunningPlatform, uri: str) -> bytes:
    bucket, _, key = uri[5:].partition("/")
    return platform.aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def load_registered(exports: dict[str, str], name: str, flavor: str) -> Any:
    """The registered model as the mlflow client loads it: the reference side of the comparison."""
    import os

    import mlflow

    saved = dict(os.environ)
    os.environ.update(exports)
    try:
        mlflow.set_tracking_uri(exports["MLFLOW_TRACKING_URI"])
        return getattr(mlflow, flavor).load_model(f"models:/{name}/1")
    finally:
        os.environ.clear()
        os.environ.update(saved)
        mlflow.set_tracking_uri(None)


@pytest.mark.parametrize(
    ("model_name", "flavor", "method"),
    [
        ("churn-gbm", "sklearn", "tree"),
        ("churn-lr", "sklearn", "linear"),
        ("churn-xgb", "xgboost", "tree"),
        ("churn-lgbm", "lightgbm", "tree"),
    ],
)
def test_stored_shap_values_equal_shaps_own(
    platform: RunningPlatform,
    bucket: str,
    token: str,
    registered: dict[str, str],
    model_name: str,
    flavor: str,
    method: str,
) -> None:
    import shap

    X, _ = data()
    uri = put_dataset(platform, bucket, f"tenants/{TENANT}/datasets/churn.csv", X)
    request = {
        "model": {"name": model_name, "version": 1},
        "dataset": {"s3_uri": uri},
        "background": {"strategy": "sample", "size": 50},
        "shards": 3,
        "seed": 11,
    }
    submitted = call(platform, "POST", "/explanations", token, json=request)
    assert submitted.status_code == 201, submitted.text
    job = wait_job(platform, token, submitted.json()["job_id"])
    assert job["status"] == "SUCCEEDED", job.get("error")
    assert job["method_used"] == method
    assert job["progress"] == {"rows_done": 240, "rows_total": 240, "shards_total": 3, "percent": 100.0}

    model = load_registered(registered, model_name, flavor)
    background = shap.utils.sample(X.to_numpy(), 50, random_state=11)
    explainer = (
        shap.TreeExplainer(model, data=background)
        if method == "tree"
        else shap.LinearExplainer(model, background)
    )
    expected_values = explainer.shap_values(X.to_numpy())
    stored = pd.read_csv(io.BytesIO(read_s3(platform, job["results"]["shap_values"])))
    assert list(stored.columns) == ["row", "output", "expected_value", *FEATURES]
    assert stored["row"].tolist() == list(range(240))
    np.testing.assert_allclose(stored[FEATURES].to_numpy(), expected_values, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        stored["expected_value"], float(np.ravel(explainer.expected_value)[0]), atol=1e-6
    )

    importance = json.loads(read_s3(platform, job["results"]["global_importance"]))
    ranked = importance["outputs"][0]["features"]
    np.testing.assert_allclose(
        [f["mean_abs"] for f in ranked], sorted(np.abs(expected_values).mean(axis=0), reverse=True), atol=1e-6
    )
    report = read_s3(platform, job["results"]["report"]).decode()
    assert report.count("data:image/png;base64,") >= 3 and model_name in report

    again = call(platform, "POST", "/explanations", token, json=request)  # same request: same job, no new run
    assert again.status_code == 200 and again.json()["job_id"] == job["job_id"]
    assert again.json()["attempt"] == 1


def test_a_job_with_a_broken_dataset_ends_failed_with_its_reason(
    platform: RunningPlatform, bucket: str, token: str, registered: dict[str, str]
) -> None:
    tap = platform.tap(
        "explain-failed", {"source": ["maestro.explain"], "detail-type": ["ExplanationFailed"]}
    )
    X, _ = data(40)
    broken = X.astype(object)
    broken.loc[17, "income"] = "twelve"
    uri = put_dataset(platform, bucket, f"tenants/{TENANT}/datasets/broken.csv", broken)
    submitted = call(
        platform,
        "POST",
        "/explanations",
        token,
        json={"model": {"name": "churn-gbm", "alias": None, "version": 1}, "dataset": {"s3_uri": uri}},
    )
    assert submitted.status_code == 201, submitted.text
    job = wait_job(platform, token, submitted.json()["job_id"])
    assert job["status"] == "FAILED"
    assert job["error"]["error"] == "ExplainError"
    assert "column 'income' is not numeric (row 17: 'twelve')" in job["error"]["reason"]
    assert "Traceback" not in json.dumps(job)
    events = wait_for(lambda: platform.drain(tap), timeout_s=20)
    assert [e["detail"]["job_id"] for e in events] == [job["job_id"]]


def test_a_failed_shard_is_retried_and_the_job_completes(
    platform: RunningPlatform, bucket: str, token: str, registered: dict[str, str]
) -> None:
    X, _ = data(90, seed=3)
    uri = put_dataset(platform, bucket, f"tenants/{TENANT}/datasets/retry.csv", X)
    fault = requests.post(
        f"{platform.url}/_local/faults",
        params={
            "function": "explain_worker",
            "error": "Sandbox.Timedout",
            "step": "shard",
            "shard.index": "1",
        },
        timeout=10,
    )
    assert fault.status_code == 201
    submitted = call(
        platform,
        "POST",
        "/explanations",
        token,
        json={"model": {"name": "churn-gbm", "version": 1}, "dataset": {"s3_uri": uri}, "shards": 3},
    )
    job = wait_job(platform, token, submitted.json()["job_id"])
    faults = requests.get(f"{platform.url}/_local/faults", timeout=10).json()["faults"]
    requests.delete(f"{platform.url}/_local/faults", timeout=10)
    assert [f["fired"] for f in faults] == [1]  # shard 1's first attempt timed out ...
    assert job["status"] == "SUCCEEDED", job  # ... and its retry completed the job
    stored = pd.read_csv(io.BytesIO(read_s3(platform, job["results"]["shap_values"])))
    assert stored["row"].tolist() == list(range(90))


def test_bad_submissions_get_the_field_and_the_reason(
    platform: RunningPlatform, bucket: str, token: str, registered: dict[str, str]
) -> None:
    X, _ = data(20)
    uri = put_dataset(platform, bucket, f"tenants/{TENANT}/datasets/small.csv", X)

    def error(body: dict[str, Any], status: int = 422) -> dict[str, Any]:
        response = call(platform, "POST", "/explanations", token, json=body)
        assert response.status_code == status, response.text
        return response.json()["error"]

    unknown = error({"model": {"name": "nope", "version": 1}, "dataset": {"s3_uri": uri}})
    assert unknown["fields"] == [{"field": "model.name", "reason": "no registered model is named 'nope'"}]
    missing = error({"model": {"name": "churn-gbm", "version": 1}, "dataset": {"s3_uri": uri + ".gone"}})
    assert (
        missing["fields"][0]["field"] == "dataset.s3_uri"
        and "cannot be read" in missing["fields"][0]["reason"]
    )
    elsewhere = error(
        {
            "model": {"name": "churn-gbm", "version": 1},
            "dataset": {"s3_uri": f"s3://{bucket}/tenants/globex/d.csv"},
        }
    )
    assert elsewhere["fields"][0]["field"] == "dataset.s3_uri"
    mismatch = put_dataset(
        platform, bucket, f"tenants/{TENANT}/datasets/mismatch.csv", X.drop(columns=["tenure"])
    )
    columns = error({"model": {"name": "churn-gbm", "version": 1}, "dataset": {"s3_uri": mismatch}})
    assert columns["fields"] == [
        {"field": "dataset", "reason": "the model needs columns ['tenure'] that the dataset lacks"}
    ]
    both = error(
        {"model": {"name": "churn-gbm", "version": 1, "alias": "champion"}, "dataset": {"s3_uri": uri}}
    )
    assert both["fields"][0] == {
        "field": "body.model",
        "reason": "Value error, give exactly one of version or alias",
    }
    inline = error(
        {
            "model": {"name": "churn-gbm", "version": 1},
            "dataset": {"rows": [[1.0, 2.0]], "columns": ["a", "b"]},
        }
    )
    assert "the model needs columns" in inline["fields"][0]["reason"]

    viewer = platform.token(TENANT, ["viewer"])
    assert call(platform, "POST", "/explanations", viewer, json={}).status_code == 403


def test_a_model_file_changed_after_registration_is_never_loaded(
    platform: RunningPlatform, bucket: str, token: str, registered: dict[str, str]
) -> None:
    s3 = platform.aws("s3")
    uri = call(
        platform,
        "GET",
        "/api/2.0/mlflow/model-versions/get-download-uri",
        token,
        params={"name": "churn-lr", "version": "1"},
    ).json()["artifact_uri"]
    key = f"tenants/{TENANT}/artifacts/{uri.removeprefix('mlflow-artifacts:').strip('/')}/model.skops"
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    X, _ = data(20)
    request = {
        "model": {"name": "churn-lr", "version": 1},
        "dataset": {"s3_uri": put_dataset(platform, bucket, f"tenants/{TENANT}/datasets/t.csv", X)},
    }
    # Someone with write access to the bucket swaps the model, with a valid checksum of the new bytes.
    s3.put_object(
        Bucket=bucket, Key=key, Body=b"cos\nsystem\n(S'echo pwned'\ntR.", ChecksumAlgorithm="SHA256"
    )
    try:
        refused = call(platform, "POST", "/explanations", token, json=request)
        assert refused.status_code == 422
        assert refused.json()["error"]["fields"] == [
            {
                "field": "model",
                "reason": "model.skops of version 1 of 'churn-lr' changed after it was registered; "
                "it will not be loaded",
            }
        ]
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=original, ChecksumAlgorithm="SHA256")
    assert call(platform, "POST", "/explanations", token, json=request).status_code == 201


def test_inline_rows_progress_listing_isolation_and_links(
    platform: RunningPlatform, token: str, registered: dict[str, str]
) -> None:
    X, y = data(30, seed=5)
    request = {
        "model": {"name": "churn-gbm", "version": 1},
        "dataset": {
            "rows": np.column_stack([X.to_numpy(), y]).tolist(),
            "columns": [*FEATURES, "label"],
            "target": "label",
        },
        "method": "kernel",
        "nsamples": 64,
        "background": {"strategy": "kmeans", "size": 5},
        "lime_rows": [0],
        "waterfall_rows": [0, 1],
    }
    submitted = call(platform, "POST", "/explanations", token, json=request)
    assert submitted.status_code == 201, submitted.text
    job = wait_job(platform, token, submitted.json()["job_id"])
    assert job["status"] == "SUCCEEDED", job.get("error")
    assert set(job["results"]) == {
        "shap_values",
        "global_importance",
        "lime",
        "permutation_importance",
        "report",
    }
    importance = json.loads(read_s3(platform, job["results"]["permutation_importance"]))
    assert importance["repeats"] == 10 and {f["feature"] for f in importance["features"]} == set(FEATURES)
    stored = pd.read_csv(io.BytesIO(read_s3(platform, job["results"]["shap_values"])))
    assert sorted(set(stored["output"])) == [0, 1]  # kernel explains predict_proba: both classes

    listed = call(platform, "GET", "/explanations", token, params={"limit": 100}).json()
    assert job["job_id"] in [j["job_id"] for j in listed["jobs"]]
    links = call(platform, "GET", f"/explanations/{job['job_id']}/results", token).json()
    page = requests.get(links["files"]["report"], timeout=30)
    assert page.status_code == 200 and "<h2>LIME</h2>" in page.text

    # The summary the console shows: the stored global importance, and a row's SHAP values from the CSV.
    summary = call(platform, "GET", f"/explanations/{job['job_id']}/summary", token, params={"row": 3}).json()
    assert summary["global_importance"] == json.loads(read_s3(platform, job["results"]["global_importance"]))
    assert summary["outputs"] == [0, 1] and summary["rows"] == list(range(30))
    local = summary["local"]
    (line,) = stored[(stored["row"] == 3) & (stored["output"] == 1)].to_dict("records")
    assert local["expected_value"] == pytest.approx(line["expected_value"])
    assert {c["feature"]: c["shap"] for c in local["contributions"]} == pytest.approx(
        {f: line[f] for f in FEATURES}
    )
    assert [abs(c["shap"]) for c in local["contributions"]] == sorted(
        (abs(line[f]) for f in FEATURES), reverse=True
    )
    assert local["output_value"] == pytest.approx(line["expected_value"] + sum(line[f] for f in FEATURES))
    unexplained = call(platform, "GET", f"/explanations/{job['job_id']}/summary", token, params={"row": 99})
    assert unexplained.status_code == 422 and unexplained.json()["error"]["fields"][0]["field"] == "row"

    # the insights graph records what was explained (from the bus: ExplanationSubmitted)
    def explained() -> set[str]:
        node = {"node": "model_version:churn-gbm/1"}
        found = call(platform, "GET", "/insights/neighbourhood", token, params=node).json().get("edges", [])
        return {e["node"]["id"] for e in found if e["relation"] == "explained"}

    wait_for(lambda: f"explanation:{job['job_id']}" in explained(), timeout_s=30)

    other = platform.token("globex", ["admin"])
    assert call(platform, "GET", f"/explanations/{job['job_id']}", other).status_code == 404
    assert job["job_id"] not in [
        j["job_id"] for j in call(platform, "GET", "/explanations", other).json()["jobs"]
    ]


def start_slow_job(
    platform: RunningPlatform, bucket: str, token: str, name: str, rows: int, seed: int, nsamples: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(request, job) of a kernel job in one shard, slow enough to act on while it runs: back once RUNNING."""
    X, _ = data(rows, seed=seed)
    uri = put_dataset(platform, bucket, f"tenants/{TENANT}/datasets/{name}", X)
    request = {
        "model": {"name": "churn-gbm", "version": 1},
        "dataset": {"s3_uri": uri},
        "method": "kernel",
        "nsamples": nsamples,
        "shards": 1,
    }
    job = call(platform, "POST", "/explanations", token, json=request).json()
    wait_for(
        lambda: call(platform, "GET", f"/explanations/{job['job_id']}", token).json()["status"] == "RUNNING",
        60,
    )
    return request, job


def test_cancel_stops_a_job_and_submitting_it_again_starts_a_new_attempt(
    platform: RunningPlatform, bucket: str, token: str, registered: dict[str, str]
) -> None:
    slow, job = start_slow_job(platform, bucket, token, "slow.csv", rows=200, seed=9, nsamples=4000)
    engineer_only = call(
        platform, "POST", f"/explanations/{job['job_id']}/cancel", platform.token(TENANT, ["data-scientist"])
    )
    assert engineer_only.status_code == 403
    cancelled = call(platform, "POST", f"/explanations/{job['job_id']}/cancel", token)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    again = call(platform, "POST", f"/explanations/{job['job_id']}/cancel", token)
    assert again.status_code == 409
    time.sleep(2)
    assert call(platform, "GET", f"/explanations/{job['job_id']}", token).json()["status"] == "CANCELLED"
    unfinished = call(platform, "GET", f"/explanations/{job['job_id']}/summary", token)
    assert unfinished.status_code == 409 and "CANCELLED" in unfinished.text

    restarted = call(platform, "POST", "/explanations", token, json=slow)
    assert restarted.status_code == 201 and restarted.json()["job_id"] == job["job_id"]
    assert restarted.json()["attempt"] == 2
    assert (
        call(platform, "POST", f"/explanations/{job['job_id']}/cancel", token).json()["status"] == "CANCELLED"
    )


def test_the_cli_submits_follows_with_a_progress_bar_and_saves_the_report(
    platform: RunningPlatform, bucket: str, token: str, registered: dict[str, str], tmp_path: Path
) -> None:
    X, _ = data(60, seed=4)
    uri = put_dataset(platform, bucket, f"tenants/{TENANT}/datasets/cli.csv", X)
    submitted = platform.cli(
        "explain",
        "submit",
        "--model",
        "churn-lr:1",
        "--dataset",
        uri,
        "--shards",
        "2",
        "--wait",
        "--interval",
        "0.2",
        token=token,
    )
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.splitlines()[0]
    assert f"{job_id}  SUCCEEDED  churn-lr v1" in submitted.stdout
    assert "100.0%  60/60 rows  SUCCEEDED" in submitted.stderr  # the progress bar's last state
    status = platform.cli("explain", "status", job_id, "--json", token=token)
    assert json.loads(status.stdout)["method_used"] == "linear"
    report = tmp_path / "report.html"
    saved = platform.cli("explain", "report", job_id, "--save", str(report), token=token)
    assert saved.returncode == 0, saved.stderr
    assert report.read_text().startswith("<!doctype html>") and "churn-lr" in report.read_text()
    unknown_model = platform.cli("explain", "submit", "--model", "nope:1", "--dataset", uri, token=token)
    assert unknown_model.returncode != 0 and "model.name" in unknown_model.stderr


def test_a_parquet_dataset_with_a_separate_background_is_explained_like_shap_does(
    platform: RunningPlatform, bucket: str, token: str, registered: dict[str, str], tmp_path: Path
) -> None:
    import fastparquet
    import shap

    X, _ = data(50, seed=12)
    baseline, _ = data(80, seed=13)
    s3 = platform.aws("s3")
    for name, frame in (("eval.parquet", X), ("baseline.parquet", baseline)):
        fastparquet.write(str(tmp_path / name), frame, write_index=False)
        s3.put_object(
            Bucket=bucket, Key=f"tenants/{TENANT}/datasets/{name}", Body=(tmp_path / name).read_bytes()
        )
    request = {
        "model": {"name": "churn-gbm", "version": 1},
        "dataset": {"s3_uri": f"s3://{bucket}/tenants/{TENANT}/datasets/eval.parquet"},
        "background": {"s3_uri": f"s3://{bucket}/tenants/{TENANT}/datasets/baseline.parquet", "size": 30},
        "rows": {"indices": [3, 1, 4, 1, 5]},
    }
    submitted = call(platform, "POST", "/explanations", token, json=request)
    assert submitted.status_code == 201, submitted.text
    job = wait_job(platform, token, submitted.json()["job_id"])
    assert job["status"] == "SUCCEEDED", job.get("error")
    stored = pd.read_csv(io.BytesIO(read_s3(platform, job["results"]["shap_values"])))
    assert stored["row"].tolist() == [
        1,
        1,
        3,
        4,
        5,
    ]  # sorted by row; a row asked for twice is explained twice
    model = load_registered(registered, "churn-gbm", "sklearn")
    explainer = shap.TreeExplainer(model, data=shap.utils.sample(baseline.to_numpy(), 30, random_state=0))
    expected = explainer.shap_values(X.to_numpy()[[1, 1, 3, 4, 5]])
    np.testing.assert_allclose(stored[FEATURES].to_numpy(), expected, atol=1e-6)


def test_a_job_whose_execution_was_stopped_outside_the_workflow_is_reported_failed(
    platform: RunningPlatform, bucket: str, token: str, registered: dict[str, str]
) -> None:
    _, job = start_slow_job(platform, bucket, token, "stopped.csv", rows=60, seed=21, nsamples=1000)
    # An operator stops the execution in the console: the workflow's own fail step never runs.
    sfn = platform.aws("stepfunctions")
    (execution,) = [
        e
        for m in sfn.list_state_machines()["stateMachines"]
        for e in sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
        if e["name"] == f"{job['job_id']}-1"
    ]
    sfn.stop_execution(executionArn=execution["executionArn"], cause="stopped by an operator")
    # moto's engine ends a stopped execution once its running task returns: ABORTED, or FAILED when the task's
    # result reaches an execution that is no longer running. Either way the workflow's fail step never ran.
    shown = wait_for(
        lambda: (
            (j := call(platform, "GET", f"/explanations/{job['job_id']}", token).json())["status"]
            != "RUNNING"
            and j
        ),
        120,
    )
    assert shown["status"] == "FAILED"
    assert shown["error"]["error"] in ("ExecutionAborted", "ExecutionFailed")
    assert shown["error"]["reason"]  # AWS gives the stop's cause; moto keeps none, so the status is named


def test_explained_rows_count_against_the_tenants_daily_quota_before_any_work(
    platform: RunningPlatform, token: str, registered: dict[str, str], bucket: str
) -> None:
    operator = platform.token("platform", ["admin"], subject="op")
    used = call(platform, "GET", f"/tenants/{TENANT}", token).json()["quotas"]["explanation_rows_per_day"][
        "used"
    ]
    narrowed = call(
        platform,
        "PATCH",
        f"/tenants/{TENANT}",
        operator,
        json={"quotas": {"explanation_rows_per_day": used + 12}},
    )
    assert narrowed.status_code == 200, narrowed.text
    time.sleep(1.5)  # the explain function's environment re-reads the tenant's limits within a second
    X, _ = data(40, seed=9)
    try:
        inline = {"model": {"name": "churn-gbm", "version": 1}, "method": "tree"}
        refused = call(
            platform,
            "POST",
            "/explanations",
            token,
            json={**inline, "dataset": {"rows": X.to_numpy()[:30].tolist(), "columns": FEATURES}},
        )
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert (error["code"], error["limit"], error["used"], error["requested"]) == (
            "QUOTA_EXCEEDED",
            "explanation_rows_per_day",
            used,
            30,
        )
        assert error["resets_at"].endswith("T00:00:00Z")

        fits = call(
            platform,
            "POST",
            "/explanations",
            token,
            json={**inline, "dataset": {"rows": X.to_numpy()[:10].tolist(), "columns": FEATURES}},
        )
        assert fits.status_code == 201, fits.text
        assert wait_job(platform, token, fits.json()["job_id"])["status"] == "SUCCEEDED"
        quota = call(platform, "GET", f"/tenants/{TENANT}", token).json()["quotas"][
            "explanation_rows_per_day"
        ]
        assert quota["used"] == used + 10

        # A whole dataset's rows are counted when the job selects them, before any is explained.
        uri = put_dataset(platform, bucket, f"tenants/{TENANT}/datasets/quota.csv", X)
        whole = call(platform, "POST", "/explanations", token, json={**inline, "dataset": {"s3_uri": uri}})
        assert whole.status_code == 201, whole.text
        failed = wait_job(platform, token, whole.json()["job_id"])
        assert failed["status"] == "FAILED" and failed["progress"]["rows_done"] == 0
        assert (
            "explanation_rows_per_day" in failed["error"]["reason"]
            and "40 more requested" in failed["error"]["reason"]
        )
        quota = call(platform, "GET", f"/tenants/{TENANT}", token).json()["quotas"][
            "explanation_rows_per_day"
        ]
        assert quota["used"] == used + 10  # nothing reserved for the refused job

        auditor = platform.token(TENANT, ["auditor"])

        def explained() -> int:
            requests.post(platform.url + "/_local/logs/flush", timeout=30)
            day = call(platform, "GET", f"/tenants/{TENANT}/usage", auditor).json()["days"][-1]
            return day["rows_explained"] if day["compute_seconds"]["explain"] > 0 else 0

        assert wait_for(explained, timeout_s=30) >= 10
    finally:
        call(platform, "PATCH", f"/tenants/{TENANT}", operator, json={"quotas": {}})
