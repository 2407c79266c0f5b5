"""Model monitoring over real HTTP against the local platform: a model version's baseline, serving records
with a planted shift in two of eight features, a check on demand and from the hourly schedule that names
exactly those features (DriftDetected), an unshifted version that raises nothing, data-quality failures,
idempotent batches, bad input, roles and tenants."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests

from tests.support import RunningPlatform, ab_experiment_won_by_v2, start_platform, wait_for

FEATURES = [f"f{i}" for i in range(8)]
SHIFTED = ["f2", "f5"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("monitoring-state"))
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


def api(
    platform: RunningPlatform, method: str, path: str, token: str | None = None, **kw: Any
) -> requests.Response:
    token = token or platform.token("acme", ["ml-engineer"])
    return requests.request(
        method, platform.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=120, **kw
    )


def rows(rng: np.random.Generator, n: int, shifted: list[str]) -> list[dict[str, Any]]:
    data = {f: rng.normal(i, 1.0, n) + (1.0 if f in shifted else 0.0) for i, f in enumerate(FEATURES)}
    score = 1 / (1 + np.exp(-(data["f0"] - data["f1"])))
    return [{**{f: float(data[f][j]) for f in FEATURES}, "prediction": float(score[j])} for j in range(n)]


def records(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"features": {f: r[f] for f in FEATURES}, "prediction": r["prediction"]} for r in batch]


def monitor(platform: RunningPlatform, version: int) -> str:
    spec = {
        "name": f"churn v{version}",
        "model": {"name": "churn", "version": version},
        # nine columns tested at 5% each: without a correction one false alarm in three checks is expected
        "drift": {"correction": "holm"},
        "min_records": 500,
    }
    created = api(platform, "POST", "/monitoring/monitors", json=spec)
    assert created.status_code == 201, created.text
    return str(created.json()["monitor_id"])


def test_two_shifted_features_of_eight_are_named_and_an_unshifted_version_raises_nothing(
    platform: RunningPlatform,
) -> None:
    tap = platform.tap("monitoring-tap", {"source": ["maestro.monitoring"]})
    rng = np.random.default_rng(17)
    for version in (1, 2):
        baseline = api(
            platform,
            "POST",
            "/monitoring/baselines",
            json={"model": {"name": "churn", "version": version}, "rows": rows(rng, 800, [])},
        )
        assert baseline.status_code == 201, baseline.text
        assert baseline.json()["columns"] == [*FEATURES, "prediction"]
        assert baseline.json()["profile"]["f3"]["mean"] == pytest.approx(3.0, abs=0.15)
    drifting, steady = monitor(platform, 1), monitor(platform, 2)

    for version, shifted in ((1, SHIFTED), (2, [])):
        for batch in range(2):
            body = {
                "model": {"name": "churn", "version": version},
                "batch_id": f"v{version}-{batch}",
                "records": records(rows(rng, 1000, shifted)),
            }
            posted = api(platform, "POST", "/monitoring/records", json=body)
            assert posted.json() == {"batch_id": f"v{version}-{batch}", "accepted": 1000, "duplicate": False}
    again = api(platform, "POST", "/monitoring/records", json=body)
    assert again.json()["duplicate"] is True and again.json()["accepted"] == 0

    checked = api(platform, "POST", f"/monitoring/monitors/{drifting}/check")
    assert checked.status_code == 200, checked.text
    result = checked.json()
    assert result["state"] == "drift" and result["records"] == 2000
    assert result["drift"]["drifted_columns"] == SHIFTED
    assert result["drift"]["dataset_drift"] is False  # 2 of 9 columns
    assert {c["method"] for c in result["drift"]["columns"].values()} == {"ks"}
    assert api(platform, "POST", f"/monitoring/monitors/{steady}/check").json()["state"] == "ok"

    report = api(platform, "POST", f"/monitoring/monitors/{drifting}/report")
    assert report.status_code == 200, report.text
    page = requests.get(report.json()["html"]["url"], timeout=30)
    assert page.ok and "Drift in f2, f5" in page.text and page.text.count("<img") == 9
    image = requests.get(report.json()["images"]["f2"], timeout=30)
    assert image.content.startswith(b"\x89PNG") and len(image.content) > 5_000

    schedules = requests.get(platform.url + "/_local/schedules", timeout=10).json()["schedules"]
    (rule,) = [name for name in schedules if "Monitoring" in name and "Hourly" in name]
    assert requests.post(platform.url + "/_local/schedules/fire", params={"rule": rule}, timeout=120).ok

    seen: list[dict[str, Any]] = []

    def drift_events() -> list[dict[str, Any]]:
        seen.extend(platform.drain(tap))
        return [e for e in seen if e["detail-type"] == "DriftDetected"]

    events = wait_for(lambda: len(drift_events()) >= 2 and drift_events(), timeout_s=60)
    assert {e["detail"]["monitor_id"] for e in events} == {drifting}  # the unshifted version raised nothing
    assert all(e["detail"]["columns"] == SHIFTED for e in events)
    status = api(platform, "GET", f"/monitoring/monitors/{drifting}").json()["status"]
    assert status["state"] == "drift" and status["drifted_columns"] == SHIFTED
    history = api(platform, "GET", f"/monitoring/monitors/{drifting}/checks", params={"limit": 5}).json()
    assert [c["state"] for c in history["checks"]] == ["drift", "drift"]


def test_data_quality_failures_are_named(platform: RunningPlatform) -> None:
    tap = platform.tap(
        "quality-tap", {"source": ["maestro.monitoring"], "detail-type": ["DataQualityFailed"]}
    )
    rng = np.random.default_rng(23)
    reference = [
        {"age": float(a), "plan": p}
        for a, p in zip(rng.uniform(18, 80, 600), rng.choice(["basic", "pro"], 600), strict=True)
    ]
    body = {"model": {"name": "plans", "version": 1}, "rows": reference, "prediction": None}
    assert api(platform, "POST", "/monitoring/baselines", json=body).status_code == 201
    spec = {"name": "plans", "model": {"name": "plans", "version": 1}, "prediction": None, "min_records": 100}
    monitor_id = api(platform, "POST", "/monitoring/monitors", json=spec).json()["monitor_id"]
    serving = [
        {"features": {"age": None if i % 3 == 0 else ("n/a" if i % 7 == 0 else 95.0), "plan": "enterprise"}}
        for i in range(300)
    ]
    posted = api(
        platform,
        "POST",
        "/monitoring/records",
        json={"model": {"name": "plans", "version": 1}, "records": serving},
    )
    assert posted.status_code == 200, posted.text
    result = api(platform, "POST", f"/monitoring/monitors/{monitor_id}/check").json()
    failed = {(f["column"], f["check"]) for f in result["quality"]}
    assert failed == {
        ("age", "missing_increase"),
        ("age", "invalid_type"),
        ("age", "out_of_range"),
        ("plan", "new_categories"),
    }
    event = wait_for(lambda: platform.drain(tap), timeout_s=30)[0]
    assert {(f["column"], f["check"]) for f in event["detail"]["failures"]} == failed


def test_bad_input_names_the_field_and_roles_and_tenants_are_enforced(platform: RunningPlatform) -> None:
    no_baseline = {"model": {"name": "ghost", "version": 3}, "records": [{"features": {"a": 1.0}}]}
    assert api(platform, "POST", "/monitoring/records", json=no_baseline).status_code == 409
    bad_column = {"model": {"name": "ghost", "version": 3}, "records": [{"features": {"a b": 1.0}}]}
    refused = api(platform, "POST", "/monitoring/records", json=bad_column)
    assert refused.status_code == 422 and "features" in refused.json()["error"]["fields"][0]["field"]
    zero = api(
        platform, "POST", "/monitoring/monitors", json={"name": "x", "model": {"name": "m", "version": 0}}
    )
    assert zero.status_code == 422 and zero.json()["error"]["fields"][0]["field"] == "body.model.version"
    both = {"model": {"name": "m", "version": 1}, "rows": [{"a": 1}], "artifact": "mlflow-artifacts:/x.csv"}
    assert api(platform, "POST", "/monitoring/baselines", json=both).status_code == 422
    missing = {"model": {"name": "m", "version": 1}, "artifact": "mlflow-artifacts:/nowhere/ref.csv"}
    gone = api(platform, "POST", "/monitoring/baselines", json=missing)
    assert gone.status_code == 422 and gone.json()["error"]["fields"][0]["field"] == "artifact"
    assert api(platform, "GET", "/monitoring/monitors/mon-nothing").status_code == 404

    viewer = platform.token("acme", ["viewer"])
    assert api(platform, "POST", "/monitoring/records", token=viewer, json=no_baseline).status_code == 403
    assert api(platform, "GET", "/monitoring/monitors", token=viewer).status_code == 200
    mine = api(
        platform, "POST", "/monitoring/monitors", json={"name": "x", "model": {"name": "m", "version": 1}}
    ).json()
    other = platform.token("globex", ["ml-engineer"])
    assert api(platform, "GET", f"/monitoring/monitors/{mine['monitor_id']}", token=other).status_code == 404
    assert mine["monitor_id"] not in str(api(platform, "GET", "/monitoring/monitors", token=other).json())


ML, ART = "/api/2.0/mlflow", "/api/2.0/mlflow-artifacts"


def test_a_registered_version_gets_its_baseline_from_its_run_s_training_data(
    platform: RunningPlatform,
) -> None:
    tap = platform.tap("baseline-tap", {"source": ["maestro.monitoring"]})
    experiment = api(platform, "POST", f"{ML}/experiments/create", json={"name": "fraud"}).json()[
        "experiment_id"
    ]
    run = api(platform, "POST", f"{ML}/runs/create", json={"experiment_id": experiment}).json()["run"]["info"]
    rng = np.random.default_rng(31)
    lines = ["amount,country,prediction"] + [
        f"{rng.lognormal(3, 1):.4f},{rng.choice(['de', 'fr', 'us'])},{rng.random():.4f}" for _ in range(500)
    ]
    path = f"experiments/{experiment}/data/train.csv"
    assert api(platform, "PUT", f"{ART}/artifacts/{path}", data="\n".join(lines).encode()).ok
    dataset = {
        "name": "train",
        "digest": "d1",
        "source_type": "http",
        "source": json.dumps({"uri": f"mlflow-artifacts:/{path}"}),
    }
    logged = api(
        platform,
        "POST",
        f"{ML}/runs/log-inputs",
        json={
            "run_id": run["run_id"],
            "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}], "dataset": dataset}],
        },
    )
    assert logged.ok, logged.text
    assert api(platform, "POST", f"{ML}/registered-models/create", json={"name": "fraud"}).ok
    for body in ({"run_id": run["run_id"]}, {}):  # version 1 from the run, version 2 with nothing to profile
        created = api(
            platform,
            "POST",
            f"{ML}/model-versions/create",
            json={"name": "fraud", "source": "s3://b/k", **body},
        )
        assert created.ok, created.text

    seen: list[dict[str, Any]] = []

    def outcomes() -> list[dict[str, Any]]:
        seen.extend(e for e in platform.drain(tap) if e["detail"].get("model", {}).get("name") == "fraud")
        return seen if len(seen) >= 2 else []

    events = {e["detail"]["model"]["version"]: e for e in wait_for(outcomes, timeout_s=60)}
    assert events[1]["detail-type"] == "BaselineComputed" and events[1]["detail"]["rows"] == 500
    assert events[2]["detail-type"] == "BaselineNotComputed"
    assert "no run" in events[2]["detail"]["reason"]
    baseline = api(platform, "GET", "/monitoring/baselines/fraud/1").json()
    assert baseline["source"] == f"mlflow-artifacts:/{path}"
    assert baseline["kinds"] == {"amount": "numeric", "country": "categorical", "prediction": "numeric"}
    assert api(platform, "GET", "/monitoring/baselines/fraud/2").status_code == 422


def test_a_drifting_candidate_holds_back_the_a_b_promotion(platform: RunningPlatform) -> None:
    tap = platform.tap("promotion-tap", {"source": ["maestro.ab"]})
    assert api(platform, "POST", f"{ML}/registered-models/create", json={"name": "ranker"}).ok
    for _ in range(2):
        assert api(
            platform, "POST", f"{ML}/model-versions/create", json={"name": "ranker", "source": "s3://b/k"}
        ).ok
    rng = np.random.default_rng(41)
    body = {"model": {"name": "ranker", "version": 2}, "rows": rows(rng, 800, [])}
    assert api(platform, "POST", "/monitoring/baselines", json=body).status_code == 201
    spec = {"name": "ranker v2", "model": {"name": "ranker", "version": 2}, "drift": {"correction": "holm"}}
    monitor_id = api(platform, "POST", "/monitoring/monitors", json=spec).json()["monitor_id"]
    shifted = {"model": {"name": "ranker", "version": 2}, "records": records(rows(rng, 1000, SHIFTED))}
    assert api(platform, "POST", "/monitoring/records", json=shifted).ok
    assert api(platform, "POST", f"/monitoring/monitors/{monitor_id}/check").json()["state"] == "drift"

    token = platform.token("acme", ["ml-engineer"])
    experiment_id = ab_experiment_won_by_v2(platform, token, "ranker-v2", "ranker", seed=41)

    seen: list[dict[str, Any]] = []

    def held() -> list[dict[str, Any]]:
        seen.extend(platform.drain(tap))
        return [e for e in seen if e["detail-type"] == "ExperimentPromotionHeld"]

    (event,) = wait_for(held, timeout_s=60)
    assert event["detail"]["winner"] == "v2" and event["detail"]["version"] == 2
    assert (
        event["detail"]["drift"]["monitor_id"] == monitor_id
        and event["detail"]["drift"]["columns"] == SHIFTED
    )
    alias = api(
        platform, "GET", f"{ML}/registered-models/alias", params={"name": "ranker", "alias": "production"}
    )
    assert alias.status_code == 404  # the alias was never pointed at the drifting candidate
    experiment = api(platform, "GET", f"/ab/experiments/{experiment_id}").json()
    assert experiment["status"] == "concluded"
    held_back = experiment["history"][-1]  # the experiment's own history says why nothing was promoted
    assert held_back["event"] == "promotion_held" and held_back["drift"]["columns"] == SHIFTED


def test_the_cli_monitors_a_model_end_to_end(platform: RunningPlatform, tmp_path: Any) -> None:
    token = platform.token("acme", ["ml-engineer"])

    def maestro(*args: str) -> str:
        result = platform.cli("monitor", *args, token=token)
        assert result.returncode == 0, result.stderr
        return result.stdout

    rng = np.random.default_rng(53)
    header = ",".join([*FEATURES, "prediction"])
    for name, shifted, n in (("reference.csv", [], 700), ("serving.csv", ["f7"], 1500)):
        lines = [header] + [
            ",".join(str(r[c]) for c in [*FEATURES, "prediction"]) for r in rows(rng, n, shifted)
        ]
        (tmp_path / name).write_text("\n".join(lines))
    baseline = json.loads(
        maestro("baseline", "--model", "cli", "--version", "1", "--file", str(tmp_path / "reference.csv"))
    )
    assert baseline["rows"] == 700 and baseline["kinds"]["f7"] == "numeric"
    spec = {"name": "cli", "model": {"name": "cli", "version": 1}, "drift": {"correction": "holm"}}
    (tmp_path / "monitor.json").write_text(json.dumps(spec))
    monitor_id = json.loads(maestro("create", "--file", str(tmp_path / "monitor.json")))["monitor_id"]
    posted = json.loads(
        maestro("records", "--model", "cli", "--version", "1", "--file", str(tmp_path / "serving.csv"))
    )
    assert posted == {"accepted": 1500, "duplicates": 0}
    table = maestro("check", monitor_id)
    assert "DRIFT" in table.splitlines()[0]
    drifted = [line.split()[0] for line in table.splitlines() if " YES " in line]
    assert drifted == ["f7"]
    assert f"{monitor_id}\tcli v1\tdrift\tf7" in maestro("status")
    maestro("report", monitor_id, "--out", str(tmp_path / "report"))
    assert (tmp_path / "report" / "f7.png").read_bytes().startswith(b"\x89PNG")
    assert "Drift in f7" in (tmp_path / "report" / "report.html").read_text()


def test_records_are_held_to_the_tenant_s_daily_quota(platform: RunningPlatform) -> None:
    operator = platform.token("platform", ["admin"], subject="op")
    tenant = {"tenant_id": "capped", "name": "capped", "quotas": {"monitoring_records_per_day": 1500}}
    assert platform.api("POST", "/tenants", operator, json=tenant).status_code == 201
    token = platform.token("capped", ["ml-engineer"], register=False)
    rng = np.random.default_rng(61)
    model = {"name": "capped", "version": 1}
    body = {"model": model, "rows": rows(rng, 200, [])}
    assert api(platform, "POST", "/monitoring/baselines", token=token, json=body).status_code == 201
    first = {"model": model, "batch_id": "one", "records": records(rows(rng, 1000, []))}
    assert api(platform, "POST", "/monitoring/records", token=token, json=first).json()["accepted"] == 1000
    second = {"model": model, "batch_id": "two", "records": records(rows(rng, 1000, []))}
    refused = api(platform, "POST", "/monitoring/records", token=token, json=second)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "QUOTA_EXCEEDED", refused.text
    assert refused.json()["error"]["limit"] == "monitoring_records_per_day"
    spec = {"name": "capped", "model": model, "min_records": 1}
    monitor_id = api(platform, "POST", "/monitoring/monitors", token=token, json=spec).json()["monitor_id"]
    checked = api(platform, "POST", f"/monitoring/monitors/{monitor_id}/check", token=token).json()
    assert checked["records"] == 1000  # nothing of the refused batch was folded
    usage = platform.api("GET", "/tenants/capped", operator).json()["quotas"]["monitoring_records_per_day"]
    assert usage["used"] == 1000 and usage["limit"] == 1500


def test_a_b_exposures_carry_serving_records_to_their_variant_s_model_version(
    platform: RunningPlatform,
) -> None:
    rng = np.random.default_rng(29)
    for version in (1, 2):
        body = {"model": {"name": "served", "version": version}, "rows": rows(rng, 800, [])}
        assert api(platform, "POST", "/monitoring/baselines", json=body).status_code == 201
    spec = {
        "name": "served-by-variant",
        "variants": [
            {"key": "control", "weight": 0.5, "model": {"name": "served", "version": "1"}},
            {"key": "candidate", "weight": 0.5, "model": {"name": "served", "version": "2"}},
        ],
        "metrics": [{"name": "converted", "kind": "binomial", "event": "purchase", "role": "primary"}],
        # Forced, so each variant's sample is the same every run: with hashed assignment (seeded by the
        # new experiment's id) the control's unshifted sample changed, and Holm's 5% family-wise error
        # named a column now and then.
        "overrides": {f"u{i}": "control" if i % 2 == 0 else "candidate" for i in range(600)},
    }
    experiment_id = api(platform, "POST", "/ab/experiments", json=spec).json()["experiment_id"]
    assert api(platform, "POST", f"/ab/experiments/{experiment_id}/start").ok
    units = [f"u{i}" for i in range(600)]
    assigned = api(
        platform, "POST", "/ab/assign/batch", json={"experiment_id": experiment_id, "unit_ids": units}
    ).json()["assignments"]
    variant = {a["unit_id"]: a["variant"] for a in assigned}
    events = []
    for unit in units:  # the candidate's traffic has the shift planted in f2 and f5
        (served,) = records(rows(rng, 1, SHIFTED if variant[unit] == "candidate" else []))
        events.append({"event_id": f"x-{unit}", "unit_id": unit, "type": "exposure", "serving": served})
    body = {"experiment_id": experiment_id, "events": events}
    ingested = api(platform, "POST", "/ab/events", json=body)
    assert ingested.status_code == 200, ingested.text
    assert ingested.json()["serving"] == {"recorded": 600, "skipped": []}
    again = api(platform, "POST", "/ab/events", json=body).json()  # resent: recorded once
    assert again["serving"] == {"recorded": 0, "skipped": []} and again["duplicates"] == 600

    def served_monitor(version: int) -> str:
        spec = {
            "name": f"served v{version}",
            "model": {"name": "served", "version": version},
            "min_records": 100,
        }
        return str(
            api(
                platform, "POST", "/monitoring/monitors", json=spec | {"drift": {"correction": "holm"}}
            ).json()["monitor_id"]
        )

    candidate, control = served_monitor(2), served_monitor(1)
    checked = {
        m: api(platform, "POST", f"/monitoring/monitors/{m}/check").json() for m in (candidate, control)
    }
    assert checked[candidate]["records"] == sum(v == "candidate" for v in variant.values())
    assert sorted(checked[candidate]["drift"]["drifted_columns"]) == SHIFTED
    assert checked[control]["drift"]["drifted_columns"] == []

    metric = {"event_id": "m-1", "unit_id": "u1", "type": "metric", "name": "purchase", "serving": served}
    refused = api(platform, "POST", "/ab/events", json={"experiment_id": experiment_id, "events": [metric]})
    assert refused.status_code == 422 and "serving" in refused.text, refused.text
