"""The unmodified mlflow client against the local platform (started as `make serve` starts it): the whole
tracking and registry workflow, both artifact modes, atomic version numbers, tenancy and permissions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from tests.support import RunningPlatform, start_platform

API = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("registry-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


@pytest.fixture
def client_env(platform: RunningPlatform, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The exports `maestro local env` prints, for tenant acme as an ml-engineer."""
    exports = platform.mlflow_env("acme")
    for key, value in exports.items():
        monkeypatch.setenv(key, value)
    import mlflow

    mlflow.set_tracking_uri(exports["MLFLOW_TRACKING_URI"])
    yield exports
    mlflow.set_tracking_uri(None)


def call(platform: RunningPlatform, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{platform.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs
    )


def test_env_prints_what_the_client_needs(client_env: dict[str, str], platform: RunningPlatform) -> None:
    assert client_env["MLFLOW_TRACKING_URI"] == platform.url
    assert client_env["MLFLOW_S3_ENDPOINT_URL"] == platform.aws_endpoint
    assert client_env["MLFLOW_TRACKING_TOKEN"].count(".") == 2


def test_the_mlflow_workflow_end_to_end(client_env: dict[str, str], tmp_path: Path) -> None:
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    client = MlflowClient()
    rng = np.random.RandomState(0)
    X = rng.rand(80, 3)
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    model = LogisticRegression().fit(X, y)

    experiment = mlflow.set_experiment("churn")
    assert experiment.artifact_location.startswith("mlflow-artifacts:/experiments/")
    with mlflow.start_run(run_name="baseline") as run:
        run_id = run.info.run_id
        mlflow.log_param("C", 1.0)
        mlflow.log_params({"solver": "lbfgs", "max_iter": 100})
        for step, loss in enumerate([0.9, 0.5, 0.3]):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.set_tag("team", "ml")
        mlflow.set_tags({"stage": "dev", "owner": "alice"})
        client.log_batch(
            run_id,
            metrics=[mlflow.entities.Metric("auc", 0.91, 0, 0)],
            params=[mlflow.entities.Param("penalty", "l2")],
            tags=[mlflow.entities.RunTag("k", "v")],
        )
        mlflow.log_text("drift looks fine", "notes/summary.txt")
        mlflow.log_input(mlflow.data.from_numpy(X, targets=y, name="train"), context="training")
        logged = mlflow.sklearn.log_model(model, name="model", input_example=X[:2])
        mlflow.sklearn.log_model(model, name="model2", registered_model_name="churn-model")  # version 1

    fetched = client.get_run(run_id)
    assert fetched.info.status == "FINISHED"
    assert fetched.info.run_name == "baseline"
    assert fetched.data.params == {"C": "1.0", "solver": "lbfgs", "max_iter": "100", "penalty": "l2"}
    assert fetched.data.metrics["loss"] == 0.3
    assert fetched.data.metrics["auc"] == 0.91
    assert {"team": "ml", "stage": "dev", "owner": "alice", "k": "v"}.items() <= fetched.data.tags.items()
    assert [d.dataset.name for d in fetched.inputs.dataset_inputs] == ["train"]
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [
        (0, 0.9),
        (1, 0.5),
        (2, 0.3),
    ]

    found = mlflow.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string="metrics.auc > 0.9 and params.solver = 'lbfgs' and tags.team = 'ml'",
        output_format="list",
    )
    assert [r.info.run_id for r in found] == [run_id]
    assert (
        mlflow.search_runs(
            experiment_ids=[experiment.experiment_id],
            filter_string="metrics.auc > 0.95",
            output_format="list",
        )
        == []
    )

    assert "notes" in [f.path for f in client.list_artifacts(run_id)]
    text = Path(
        mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="notes/summary.txt", dst_path=str(tmp_path)
        )
    )
    assert text.read_text() == "drift looks fine"

    from_model_uri = mlflow.register_model(logged.model_uri, "churn-model")
    from_run_uri = mlflow.register_model(f"runs:/{run_id}/model", "churn-model")
    assert (from_model_uri.version, from_run_uri.version) == ("2", "3")
    # Registered from models:/m-<id>: the download URI is that logged model's real artifact location.
    assert client.get_model_version("churn-model", "2").source == f"models:/{logged.model_id}"
    assert client.get_model_version_download_uri("churn-model", "2") == (
        f"{experiment.artifact_location}/models/{logged.model_id}/artifacts"
    )

    client.set_registered_model_alias("churn-model", "champion", "2")
    assert client.get_model_version_by_alias("churn-model", "champion").version == "2"
    client.set_registered_model_tag("churn-model", "domain", "retention")
    client.set_model_version_tag("churn-model", "2", "validated", "yes")
    client.update_registered_model("churn-model", description="predicts churn")
    client.update_model_version("churn-model", "2", description="first good one")
    client.transition_model_version_stage("churn-model", "2", "Production")
    registered = client.get_registered_model("churn-model")
    assert registered.description == "predicts churn"
    assert registered.tags == {"domain": "retention"}
    assert registered.aliases == {"champion": "2"}
    version = client.get_model_version("churn-model", "2")
    assert (version.current_stage, version.description, version.tags) == (
        "Production",
        "first good one",
        {"validated": "yes"},
    )
    assert [m.name for m in client.search_registered_models(filter_string="name LIKE 'churn%'")] == [
        "churn-model"
    ]
    versions = client.search_model_versions("name = 'churn-model'")
    assert sorted(int(v.version) for v in versions) == [1, 2, 3]

    loaded = mlflow.pyfunc.load_model("models:/churn-model@champion")
    assert list(loaded.predict(X[:5])) == list(model.predict(X[:5]))

    client.delete_registered_model_alias("churn-model", "champion")
    assert client.get_registered_model("churn-model").aliases == {}


def test_s3_artifact_locations_are_written_by_the_client_itself(
    client_env: dict[str, str], platform: RunningPlatform
) -> None:
    import mlflow

    bucket = platform.artifacts_bucket()
    experiment_id = mlflow.create_experiment(
        "direct-s3", artifact_location=f"s3://{bucket}/tenants/acme/direct"
    )
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_text("via boto3", "report.txt")
    key = f"tenants/acme/direct/{run.info.run_id}/artifacts/report.txt"
    assert platform.aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"via boto3"
    # Another tenant's prefix in our bucket is refused.
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="tenants/acme/"):
        mlflow.create_experiment("sneaky", artifact_location=f"s3://{bucket}/tenants/globex/x")


def test_large_proxied_artifacts_go_to_s3_in_presigned_parts(
    client_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    big = tmp_path / "weights.bin"
    big.write_bytes(np.random.RandomState(1).bytes(12 * 1024 * 1024))  # over Lambda's 6 MB payload limit
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * 1024 * 1024))
    mlflow.set_experiment("big-artifacts")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big))
    back = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="weights.bin", dst_path=str(tmp_path / "down")
    )
    assert Path(back).read_bytes() == big.read_bytes()


def test_fifty_concurrent_registrations_get_versions_1_to_50_once_each(platform: RunningPlatform) -> None:
    token = platform.token("acme", ["ml-engineer"])
    assert (
        call(platform, "POST", f"{API}/registered-models/create", token, json={"name": "race"}).status_code
        == 200
    )

    def register(i: int) -> str:
        response = call(
            platform,
            "POST",
            f"{API}/model-versions/create",
            token,
            json={"name": "race", "source": f"mlflow-artifacts:/x/{i}"},
        )
        assert response.status_code == 200, response.text
        return response.json()["model_version"]["version"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        versions = list(pool.map(register, range(50)))
    assert sorted(int(v) for v in versions) == list(range(1, 51))
    listed = call(platform, "GET", f"{API}/model-versions/search", token, params={"filter": "name = 'race'"})
    assert sorted(int(v["version"]) for v in listed.json()["model_versions"]) == list(range(1, 51))


def test_deleting_a_version_removes_its_aliases(platform: RunningPlatform) -> None:
    token = platform.token("acme", ["ml-engineer"])
    call(platform, "POST", f"{API}/registered-models/create", token, json={"name": "aliased"})
    for _ in range(2):
        call(
            platform,
            "POST",
            f"{API}/model-versions/create",
            token,
            json={"name": "aliased", "source": "s3://b/k"},
        )
    for alias, version in (("champion", "1"), ("challenger", "2")):
        call(
            platform,
            "POST",
            f"{API}/registered-models/alias",
            token,
            json={"name": "aliased", "alias": alias, "version": version},
        )
    assert (
        call(
            platform,
            "DELETE",
            f"{API}/model-versions/delete",
            token,
            json={"name": "aliased", "version": "1"},
        ).status_code
        == 200
    )
    model = call(platform, "GET", f"{API}/registered-models/get", token, params={"name": "aliased"}).json()
    assert model["registered_model"]["aliases"] == [{"alias": "challenger", "version": "2"}]
    missing = call(
        platform,
        "GET",
        f"{API}/registered-models/alias",
        token,
        params={"name": "aliased", "alias": "champion"},
    )
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    # An alias cannot point at a version that does not exist.
    bad = call(
        platform,
        "POST",
        f"{API}/registered-models/alias",
        token,
        json={"name": "aliased", "alias": "x", "version": "9"},
    )
    assert bad.status_code == 404


def test_tenants_never_see_each_others_registry(platform: RunningPlatform) -> None:
    acme, globex = platform.token("acme", ["ml-engineer"]), platform.token("globex", ["admin"])
    experiment_id = call(
        platform, "POST", f"{API}/experiments/create", acme, json={"name": "acme-secret"}
    ).json()["experiment_id"]
    run_id = call(platform, "POST", f"{API}/runs/create", acme, json={"experiment_id": experiment_id}).json()[
        "run"
    ]["info"]["run_id"]
    call(platform, "POST", f"{API}/registered-models/create", acme, json={"name": "acme-model"})
    # Guessing ids and names from another tenant finds nothing.
    assert call(platform, "GET", f"{API}/runs/get", globex, params={"run_id": run_id}).status_code == 404
    assert (
        call(
            platform,
            "GET",
            f"{API}/experiments/get-by-name",
            globex,
            params={"experiment_name": "acme-secret"},
        ).status_code
        == 404
    )
    assert (
        call(
            platform, "GET", f"{API}/registered-models/get", globex, params={"name": "acme-model"}
        ).status_code
        == 404
    )
    names = [
        e["name"]
        for e in call(platform, "POST", f"{API}/experiments/search", globex, json={}).json()["experiments"]
    ]
    assert "acme-secret" not in names
    searched = call(platform, "POST", f"{API}/runs/search", globex, json={"experiment_ids": [experiment_id]})
    assert searched.json().get("runs", []) == []
    # The same name is free in another tenant.
    assert (
        call(
            platform, "POST", f"{API}/registered-models/create", globex, json={"name": "acme-model"}
        ).status_code
        == 200
    )


def test_permissions_are_enforced_with_mlflow_shaped_errors(platform: RunningPlatform) -> None:
    viewer = platform.token("acme", ["viewer"])
    denied = call(platform, "POST", f"{API}/registered-models/create", viewer, json={"name": "nope"})
    assert denied.status_code == 403
    assert denied.json()["error_code"] == "PERMISSION_DENIED"
    assert "registry:write" in denied.json()["message"]
    assert call(platform, "GET", f"{API}/registered-models/search", viewer).status_code == 200
    scientist = platform.token("acme", ["data-scientist"])
    call(platform, "POST", f"{API}/registered-models/create", scientist, json={"name": "keep"})
    assert (
        call(
            platform, "DELETE", f"{API}/registered-models/delete", scientist, json={"name": "keep"}
        ).status_code
        == 403
    )


def test_errors_are_mlflows(platform: RunningPlatform) -> None:
    token = platform.token("acme", ["ml-engineer"])
    call(platform, "POST", f"{API}/registered-models/create", token, json={"name": "dup"})
    again = call(platform, "POST", f"{API}/registered-models/create", token, json={"name": "dup"})
    assert (again.status_code, again.json()["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    bad = call(
        platform,
        "POST",
        f"{API}/runs/search",
        token,
        json={"experiment_ids": ["0"], "filter": "metrics.x ~ 1"},
    )
    assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    missing_field = call(platform, "POST", f"{API}/experiments/create", token, json={})
    assert (missing_field.status_code, missing_field.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "name" in missing_field.json()["message"]
    run = call(platform, "POST", f"{API}/runs/create", token, json={}).json()["run"]["info"]["run_id"]
    call(
        platform,
        "POST",
        f"{API}/runs/log-parameter",
        token,
        json={"run_id": run, "key": "lr", "value": "0.1"},
    )
    changed = call(
        platform,
        "POST",
        f"{API}/runs/log-parameter",
        token,
        json={"run_id": run, "key": "lr", "value": "0.2"},
    )
    assert changed.status_code == 400
    assert "Changing param values is not allowed" in changed.json()["message"]


def test_lineage_walks_version_to_model_to_run_to_experiment(
    client_env: dict[str, str], platform: RunningPlatform
) -> None:
    import mlflow
    from sklearn.linear_model import LogisticRegression

    X, y = np.arange(20).reshape(10, 2), np.array([0, 1] * 5)
    mlflow.set_experiment("lineage")
    with mlflow.start_run() as run:
        mlflow.log_param("depth", 2)
        mlflow.log_input(mlflow.data.from_numpy(X, targets=y, name="lineage-train"), context="training")
        mlflow.sklearn.log_model(
            LogisticRegression().fit(X, y), name="clf", registered_model_name="lineage-model"
        )
    lineage = call(
        platform,
        "GET",
        f"{API}/maestro/lineage",
        client_env["MLFLOW_TRACKING_TOKEN"],
        params={"name": "lineage-model", "version": "1"},
    ).json()
    assert lineage["logged_model"]["info"]["source_run_id"] == run.info.run_id
    assert lineage["run"]["info"]["run_id"] == run.info.run_id
    assert {"key": "depth", "value": "2"} in lineage["run"]["params"]
    assert [d["name"] for d in lineage["run"]["datasets"]] == ["lineage-train"]
    assert lineage["experiment"]["name"] == "lineage"
    json.dumps(lineage)
