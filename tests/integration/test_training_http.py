"""Training jobs over real HTTP against the local platform, which runs SageMaker's training jobs as local
processes from the same template and state machine: the shipped XGBoost example trains data-parallel on
two instances, its model is registered (the unmodified mlflow client loads it and predicts) and its
accuracy equals a one-instance run of the same data within XGBoost's distributed sketch error; a failing
script ends FAILED with its last log lines; a stopped job ends STOPPED; bad specs, roles and tenants."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from maestro.training.examples.xgboost_distributed import data
from tests.support import RunningPlatform, start_platform, upload_training_example, wait_for

# XGBoost's distributed `hist` sums the hosts' gradient histograms exactly; the split candidates come from
# per-host quantile sketches merged with the sketch's own error, so a model trained on two hosts is not
# bit-identical to one trained on one. Seen here: |accuracy difference| <= 0.01 on 2,000 validation rows.
ACCURACY_TOLERANCE = 0.02


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("training-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def uploaded(platform: RunningPlatform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The example's bundle and data under acme's prefix: {source, train, validation} as s3:// URIs."""
    return upload_training_example(platform, "acme", data.write(tmp_path_factory.mktemp("example-data")))


def api(
    platform: RunningPlatform, method: str, path: str, token: str | None = None, **kw: Any
) -> requests.Response:
    token = token or platform.token("acme", ["ml-engineer"])
    return requests.request(
        method, platform.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=120, **kw
    )


def spec(uploaded: dict[str, str], **changes: Any) -> dict[str, Any]:
    return {
        "entry_point": "train.py",
        "source": uploaded["source"],
        "hyperparameters": {"num_round": 40, "max_depth": 4},
        "channels": {
            "train": {"s3_uri": uploaded["train"]},
            "validation": {"s3_uri": uploaded["validation"]},
        },
        "metrics": [{"name": "val_auc"}, {"name": "val_accuracy"}],
        "experiment": "churn-training",
        "model": {"flavor": "xgboost", "file": "model.xgb"},
        **changes,
    }


def run_to_end(platform: RunningPlatform, body: dict[str, Any], timeout_s: float = 240) -> dict[str, Any]:
    submitted = api(platform, "POST", "/training/jobs", json=body)
    assert submitted.status_code == 201, submitted.text
    job_id = submitted.json()["job_id"]

    def ended() -> dict[str, Any] | None:
        job = api(platform, "GET", f"/training/jobs/{job_id}").json()
        return job if job["status"] in ("SUCCEEDED", "FAILED", "STOPPED") else None

    found: dict[str, Any] = wait_for(ended, timeout_s=timeout_s, interval_s=1.0)
    return found


def test_a_two_instance_job_trains_data_parallel_and_registers_a_model_the_mlflow_client_loads(
    platform: RunningPlatform, uploaded: dict[str, str], tmp_path: Path
) -> None:
    tap = platform.tap("training-tap", {"source": ["maestro.training"]})
    gated = {"register": {"model": "churn-xgb", "gate": "val_auc >= 0.8"}}
    two = run_to_end(platform, spec(uploaded, instance_count=2, run_name="two-hosts", **gated))
    assert two["status"] == "SUCCEEDED", two.get("error")
    assert two["model"]["registration"]["passed"] is True
    assert two["model"]["registration"]["version"] == "1"
    assert two["progress"]["stage"] == "Completed"
    assert [t["status"] for t in two["progress"]["transitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]  # fmt: skip

    one = run_to_end(platform, spec(uploaded, instance_count=1, run_name="one-host"))
    assert one["status"] == "SUCCEEDED", one
    assert "registration" not in one["model"]  # no registration asked
    assert abs(two["metrics"]["val_accuracy"] - one["metrics"]["val_accuracy"]) <= ACCURACY_TOLERANCE
    assert two["metrics"]["val_auc"] > 0.8

    # Both hosts really trained: each logged its share of the rows.
    logs = api(platform, "GET", f"/training/jobs/{two['job_id']}/logs", params={"limit": 1000}).json()
    hosts = {line["host"] for line in logs["lines"]}
    assert hosts == {"algo-1", "algo-2"}, hosts
    assert any("rank 1 of 2): 3000 training rows" in line["message"] for line in logs["lines"])

    # The job ran with acme's own execution role: tagged tenant=acme, bounded by the tenant training policy.
    described = platform.aws("sagemaker").describe_training_job(TrainingJobName=two["sagemaker_job"])
    iam = platform.aws("iam")
    role = iam.get_role(RoleName=described["RoleArn"].rsplit("/", 1)[-1])["Role"]
    assert role["Tags"] == [{"Key": "tenant", "Value": "acme"}]
    (attached,) = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == attached["PolicyArn"]
    assert "TenantTrainingPolicy" in attached["PolicyArn"]

    events = {e["detail-type"]: e["detail"] for e in platform.drain(tap)}
    assert events["ModelRegistered"]["name"] == "churn-xgb"
    assert {"TrainingSubmitted", "TrainingStarted", "TrainingSucceeded"} <= set(events)

    # The unmodified mlflow client: the run's lineage, and the registered model loaded and predicting.
    x_val, y_val = data.rows(2000, 12)  # the validation rows data.write made
    rows = tmp_path / "validation.npz"
    np.savez(rows, x=x_val, y=y_val)
    platform.run_python(
        f"""
import mlflow, numpy as np, pandas as pd
from mlflow import MlflowClient
client = MlflowClient()
version = client.get_model_version("churn-xgb", "1")
run = client.get_run(version.run_id)
assert run.info.status == "FINISHED", run.info.status
assert run.data.params["num_round"] == "40", run.data.params
assert run.data.tags["maestro.training.instance_count"] == "2"
assert len(run.data.tags["maestro.training.code_digest"]) == 64
assert sorted(d.dataset.name for d in run.inputs.dataset_inputs) == ["train", "validation"]
assert abs(run.data.metrics["val_accuracy"] - {two["metrics"]["val_accuracy"]!r}) < 1e-9
model = mlflow.pyfunc.load_model("models:/churn-xgb/1")
rows = np.load({str(rows)!r})
predicted = np.asarray(model.predict(pd.DataFrame(rows["x"], columns={data.FEATURES!r}))) >= 0.5
accuracy = float((predicted == rows["y"]).mean())
assert abs(accuracy - {two["metrics"]["val_accuracy"]!r}) < 1e-6, accuracy
""",
        platform.mlflow_env("acme"),
    )


@pytest.fixture(scope="module")
def failed(platform: RunningPlatform, uploaded: dict[str, str]) -> dict[str, Any]:
    """A job whose script fails on purpose, run to its end."""
    return run_to_end(platform, spec(uploaded, hyperparameters={"fail": "yes"}))


def test_a_failing_script_ends_failed_with_its_last_log_lines(
    platform: RunningPlatform, failed: dict[str, Any]
) -> None:
    assert failed["status"] == "FAILED", failed
    assert "no label column named 'target'" in failed["error"]["reason"]
    assert any("loading the training data" in line for line in failed["error"]["log_tail"])
    assert "Traceback" not in failed["error"]["reason"].split("\n")[0]

    token = platform.token("acme", ["viewer"])
    status = platform.cli("train", "status", failed["job_id"], token=token)
    assert status.returncode == 1 and "no label column named 'target'" in status.stdout, status
    logs = platform.cli("train", "logs", failed["job_id"], token=token)
    assert logs.returncode == 0 and "[algo-1] loading the training data ..." in logs.stdout, logs


def test_a_stopped_job_ends_stopped(platform: RunningPlatform, uploaded: dict[str, str]) -> None:
    submitted = api(
        platform, "POST", "/training/jobs", json=spec(uploaded, hyperparameters={"num_round": 100000})
    )
    job_id = submitted.json()["job_id"]
    wait_for(
        lambda: (
            api(platform, "GET", f"/training/jobs/{job_id}").json()["progress"].get("stage") == "Training"
        ),
        timeout_s=60,
        interval_s=0.5,
    )
    stopped = api(platform, "POST", f"/training/jobs/{job_id}/stop")
    assert stopped.status_code == 200, stopped.text
    job = wait_for(
        lambda: (j := api(platform, "GET", f"/training/jobs/{job_id}").json())["status"] != "RUNNING" and j,
        timeout_s=60,
        interval_s=0.5,
    )
    assert job["status"] == "STOPPED", job
    again = api(platform, "POST", f"/training/jobs/{job_id}/stop")
    assert again.status_code == 409, again.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channels": {}}, "channels"),
        ({"entry_point": "../escape.py"}, "entry_point"),
        ({"instance_count": 0}, "instance_count"),
        ({"spot": True}, "max_wait_s"),
        ({"register": {"model": "m", "gate": "val_f1 >= 0.5"}}, "val_f1"),
        ({"register": {"model": "m", "gate": "auc is good"}}, "gate"),
        ({"metrics": [{"name": "x", "regex": "x=(\\d)(\\d)"}]}, "capture group"),
        ({"hyperparameters": {"sagemaker_program": "x"}}, "sagemaker_"),
    ],
)
def test_a_bad_spec_is_a_4xx_naming_the_field(
    platform: RunningPlatform, uploaded: dict[str, str], change: dict[str, Any], field: str
) -> None:
    refused = api(platform, "POST", "/training/jobs", json=spec(uploaded, **change))
    assert refused.status_code in (400, 422), refused.text
    assert field in refused.text


def test_locations_outside_the_tenant_and_missing_objects_are_refused(
    platform: RunningPlatform, uploaded: dict[str, str]
) -> None:
    other = uploaded["source"].replace("/tenants/acme/", "/tenants/globex/")
    refused = api(platform, "POST", "/training/jobs", json=spec(uploaded, source=other))
    assert refused.status_code == 422 and "source" in refused.text, refused.text
    missing = uploaded["train"] + "nothing-here/"
    body = spec(uploaded, channels={"train": {"s3_uri": missing}})
    refused = api(platform, "POST", "/training/jobs", json=body)
    assert refused.status_code == 422 and "channels.train.s3_uri" in refused.text, refused.text


def test_roles_and_tenants(
    platform: RunningPlatform, uploaded: dict[str, str], failed: dict[str, Any]
) -> None:
    viewer = platform.token("acme", ["viewer"])
    assert api(platform, "POST", "/training/jobs", viewer, json=spec(uploaded)).status_code == 403
    assert api(platform, "GET", "/training/jobs", viewer).status_code == 200
    job_id = failed["job_id"]
    assert job_id in [j["job_id"] for j in api(platform, "GET", "/training/jobs", viewer).json()["jobs"]]
    globex = platform.token("globex", ["ml-engineer"])
    for path in (f"/training/jobs/{job_id}", f"/training/jobs/{job_id}/logs"):
        assert api(platform, "GET", path, globex).status_code == 404
    assert api(platform, "POST", f"/training/jobs/{job_id}/stop", globex).status_code == 404
    assert api(platform, "GET", "/training/jobs", globex).json()["jobs"] == []


def test_a_four_trial_sweep_registers_its_best_trial_with_every_trial_a_child_run(
    platform: RunningPlatform, uploaded: dict[str, str], tmp_path: Path
) -> None:
    template = spec(uploaded, hyperparameters={"num_round": 10}, experiment="churn-sweep")
    body = {
        "job": template,
        "parameters": {"max_depth": {"values": [2, 6]}, "eta": {"values": [0.1, 0.3]}},
        "strategy": "grid",
        "max_parallel": 2,
        "objective": {"metric": "val_auc", "goal": "maximize"},
        "register": {"model": "churn-sweep"},
    }
    spec_file = tmp_path / "sweep.json"
    spec_file.write_text(json.dumps(body))
    submitted = platform.cli(
        "train", "sweep", "--file", str(spec_file), token=platform.token("acme", ["ml-engineer"])
    )
    assert submitted.returncode == 0, submitted.stderr
    sweep_id = submitted.stdout.strip()
    assert len(api(platform, "GET", f"/training/sweeps/{sweep_id}").json()["trials"]) == 4

    def ended() -> dict[str, Any] | None:
        sweep = api(platform, "GET", f"/training/sweeps/{sweep_id}").json()
        return sweep if sweep["status"] not in ("SUBMITTED", "RUNNING") else None

    sweep = wait_for(ended, timeout_s=420, interval_s=2.0)
    assert sweep["status"] == "SUCCEEDED", sweep.get("error")
    trials = sweep["trials"]
    assert [t["status"] for t in trials] == ["SUCCEEDED"] * 4, trials
    assert sorted((t["hyperparameters"]["max_depth"], t["hyperparameters"]["eta"]) for t in trials) == sorted(
        (d, e) for d in (2, 6) for e in (0.1, 0.3)
    )
    winner = max(trials, key=lambda t: t["metrics"]["val_auc"])
    assert sweep["best"]["trial"] == winner["trial"]
    assert sweep["best"]["registration"]["version"] == "1"

    # Never more than max_parallel trials trained at once: each trial's job, from creation to its end.
    jobs = [api(platform, "GET", f"/training/jobs/{t['job_id']}").json() for t in trials]
    edges = sorted([(j["created_at"], 1) for j in jobs] + [(j["finished_at"], -1) for j in jobs])
    running = [sum(delta for _, delta in edges[: i + 1]) for i in range(len(edges))]
    assert max(running) <= 2, edges

    platform.run_python(
        f"""
from mlflow import MlflowClient
client = MlflowClient()
version = client.get_model_version("churn-sweep", "1")
assert version.run_id == {winner["run_id"]!r}, version.run_id
parent = client.get_run(version.run_id).data.tags["mlflow.parentRunId"]
children = client.search_runs(
    [client.get_run(parent).info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{{parent}}'"
)
assert len(children) == 4, len(children)
assert client.get_run(parent).data.tags["maestro.training.best_trial"] == "{winner["trial"]}"
""",
        platform.mlflow_env("acme"),
    )


def test_a_monitor_configured_to_retrain_starts_one_training_job_on_drift(
    platform: RunningPlatform, uploaded: dict[str, str]
) -> None:
    tap = platform.tap(
        "retrain-tap", {"source": ["maestro.monitoring"], "detail-type": ["RetrainingStarted"]}
    )
    model = {"name": "churn-retrained", "version": 1}

    def rows(n: int, seed: int, shift: float) -> list[dict[str, float]]:
        x, _ = data.rows(n, seed)
        return [{f: float(x[i, j]) + shift for j, f in enumerate(data.FEATURES)} for i in range(n)]

    reference = {"model": model, "rows": rows(800, 31, 0.0), "prediction": None}
    baseline = api(platform, "POST", "/monitoring/baselines", json=reference)
    assert baseline.status_code == 201, baseline.text
    retrain = {"job": spec(uploaded, hyperparameters={"num_round": 5}), "on": "dataset_drift"}
    monitor = api(
        platform,
        "POST",
        "/monitoring/monitors",
        json={
            "name": "retrain-on-drift",
            "model": model,
            "prediction": None,
            "min_records": 300,
            "retrain": retrain,
        },
    )
    assert monitor.status_code == 201, monitor.text
    monitor_id = monitor.json()["monitor_id"]
    shifted = [{"features": r} for r in rows(600, 32, 1.5)]  # every feature moved by 1.5 sd
    assert (
        api(platform, "POST", "/monitoring/records", json={"model": model, "records": shifted}).status_code
        == 200
    )

    first = api(platform, "POST", f"/monitoring/monitors/{monitor_id}/check").json()
    assert first["drift"]["dataset_drift"] is True, first
    job_id = first["retrain"]["job_id"]
    second = api(platform, "POST", f"/monitoring/monitors/{monitor_id}/check").json()
    assert second["retrain"] == {"skipped": f"retraining job {job_id} is still running"}, second

    job = wait_for(
        lambda: (
            (j := api(platform, "GET", f"/training/jobs/{job_id}").json())["status"]
            not in ("SUBMITTED", "RUNNING")
            and j
        ),
        timeout_s=180,
        interval_s=1.0,
    )
    assert job["status"] == "SUCCEEDED", job.get("error")
    assert job["principal"] == "local-user@acme"  # the monitor's creator, not the checker
    (event,) = [e["detail"] for e in platform.drain(tap)]
    assert event["job_id"] == job_id and event["monitor_id"] == monitor_id
