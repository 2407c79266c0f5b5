"""The web console in a real browser (Debian's headless Chromium through its chromedriver) against the local
platform: sign in, see a model the unmodified mlflow client registered with its lineage and download its
files, compare two runs (only what differs, then everything, one metric of both on one chart), see 120 runs
on parallel coordinates, open an A/B analysis with its promotion and an explanation, see an SLO burn, a
training job, a drifting monitor and a rollout, verify the audit trail, see the tenants as an operator, and
a role that opens no page is not offered it. Every assertion
reads what the browser rendered from the platform's answers; a screenshot of each page is written to the
test's output folder (MAESTRO_SCREENSHOTS to choose one). Skipped, saying why, where no Chromium is
installed (`make browser` installs it)."""

from __future__ import annotations

import math
import os
import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from maestro.training.examples.xgboost_distributed import data as training_data
from tests.support import (
    REPO,
    RunningPlatform,
    ab_experiment_won_by_v2,
    start_platform,
    upload_training_example,
    wait_for,
)

ML = "/api/2.0/mlflow"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="Debian's chromium and chromium-driver are not installed (make browser)"
)
BUILT = REPO / "shared" / "maestro" / "console" / "dist" / "index.html"

REGISTER = """
import mlflow
from mlflow import MlflowClient

mlflow.set_experiment("churn-study")
for name, lr in (("baseline", 0.1), ("tuned", 0.03)):
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params({"lr": lr, "seed": 7, "depth": 6})
        for step, auc in enumerate((0.70, 0.78, 0.81 if name == "baseline" else 0.86)):
            mlflow.log_metric("auc", auc, step=step)
client = MlflowClient()
client.create_registered_model("churn-console", description="predicts churn")
version = client.create_model_version("churn-console", "s3://bucket/churn/model", run_id=run.info.run_id)
client.set_registered_model_alias("churn-console", "champion", version.version)
client.set_registered_model_alias("churn-console", "stable", version.version)
client.create_model_version("churn-console", "s3://bucket/churn/model-2", run_id=run.info.run_id)

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(3)
X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["age", "income", "visits"])
y = (X["age"] - 2 * X["income"] + rng.normal(0, 0.3, 200) > 0).astype(int)
with mlflow.start_run(run_name="explainable"):
    mlflow.sklearn.log_model(
        LogisticRegression().fit(X, y), name="lr", input_example=X[:3], registered_model_name="churn-lr",
        pip_requirements=["scikit-learn"],
    )
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    assert BUILT.exists(), "the console is not built: make console"
    running = start_platform(tmp_path_factory.mktemp("console-state"))
    running.token("acme", ["admin"])  # registers the tenant
    written = training_data.write(tmp_path_factory.mktemp("training-data"))
    job_id = train(running, upload_training_example(running, "acme", written))  # trains meanwhile
    running.run_python(REGISTER, running.mlflow_env("acme"))
    explanation = explain(running)  # explains meanwhile
    many_runs(running)
    load_ab_and_slo(running)
    promote_and_roll_out(running)
    monitor_drift(running)
    explained(running, explanation)
    wait_for(lambda: training_ended(running, job_id), timeout_s=240, interval_s=1.0)
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


def many_runs(platform: RunningPlatform) -> None:
    """A hyperparameter search: 120 runs (more than a page of the console's table), auc rising by trial."""
    from concurrent.futures import ThreadPoolExecutor

    token = platform.token("acme", ["data-scientist"])
    search = platform.api("POST", f"{ML}/experiments/create", token, json={"name": "depth-search"})
    experiment_id = search.json()["experiment_id"]

    def trial(n: int) -> None:
        body = {
            "experiment_id": experiment_id,
            "run_name": f"trial-{n:03d}",
            "start_time": 1_700_000_000_000 + n,
        }
        run_id = platform.api("POST", f"{ML}/runs/create", token, json=body).json()["run"]["info"]["run_id"]
        batch = {
            "run_id": run_id,
            "metrics": [{"key": "auc", "value": 0.6 + 0.003 * n, "timestamp": 0, "step": 0}],
            "params": [
                {"key": "depth", "value": str(2 + n % 8)},
                {"key": "lr", "value": str(0.01 * (1 + n % 5))},
            ],
        }
        assert platform.api("POST", f"{ML}/runs/log-batch", token, json=batch).ok

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(trial, range(120)))


def load_ab_and_slo(platform: RunningPlatform) -> None:
    """An A/B experiment with exposures and purchases (the new variant converts more), and an SLO whose last
    minutes were mostly errors, through the API."""
    token = platform.token("acme", ["admin"])

    def call(method: str, path: str, body: Any = None) -> Any:
        reply = platform.api(method, path, token, json=body)
        assert reply.ok, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else {}

    spec = {
        "name": "checkout-button",
        "variants": [{"key": "control", "weight": 0.5}, {"key": "green", "weight": 0.5}],
        "metrics": [{"name": "converted", "kind": "binomial", "event": "purchase", "role": "primary"}],
    }
    experiment = call("POST", "/ab/experiments", spec)["experiment_id"]
    call("POST", f"/ab/experiments/{experiment}/start")
    units = [f"user-{n}" for n in range(2000)]
    assigned = call("POST", "/ab/assign/batch", {"experiment_id": experiment, "unit_ids": units})[
        "assignments"
    ]
    rng, events = random.Random(7), []
    for a in assigned:
        events.append({"event_id": f"x-{a['unit_id']}", "unit_id": a["unit_id"], "type": "exposure"})
        if rng.random() < (0.10 if a["variant"] == "control" else 0.16):
            events.append(
                {
                    "event_id": f"p-{a['unit_id']}",
                    "unit_id": a["unit_id"],
                    "type": "metric",
                    "name": "purchase",
                    "value": 1.0,
                }
            )
    call("POST", "/ab/events", {"experiment_id": experiment, "events": events})

    slo = {
        "name": "checkout-api",
        "service": "checkout",
        "objectives": [{"kind": "availability", "target": 99.0}],
    }
    call("POST", "/sla/slos", slo)
    burn(platform)


def burn(platform: RunningPlatform) -> None:
    """200 requests to checkout in the last 3.5 minutes, three in four failed: the budget burns fast. (A
    burn-rate alert's short window is minutes long: the test that reads the burn posts it again first.)"""
    now = datetime.now(UTC)
    observations = [
        {
            "service": "checkout",
            "timestamp": (now - timedelta(seconds=10 + n)).isoformat(),
            "latency_ms": 20.0,
            "status": 500 if n % 4 else 200,
        }
        for n in range(200)
    ]
    posted = platform.api(
        "POST", "/sla/observations", platform.token("acme", ["admin"]), json={"observations": observations}
    )
    assert posted.ok, posted.text


def explain(platform: RunningPlatform) -> str:
    """An explanation job over a few inline rows of the registered logistic regression: its id."""
    token = platform.token("acme", ["ml-engineer"])
    rows = [[0.5, -1.0, 0.2], [-1.2, 0.3, 1.1], [0.1, 0.9, -0.4], [1.5, -0.2, 0.0]]
    request = {
        "model": {"name": "churn-lr", "version": 1},
        "dataset": {"rows": rows, "columns": ["age", "income", "visits"]},
        "method": "linear",
    }
    submitted = platform.api("POST", "/explanations", token, json=request)
    assert submitted.status_code == 201, submitted.text
    return str(submitted.json()["job_id"])


def explained(platform: RunningPlatform, job_id: str) -> None:
    token = platform.token("acme", ["viewer"])
    job = wait_for(
        lambda: (
            (j := platform.api("GET", f"/explanations/{job_id}", token).json())["status"]
            in ("SUCCEEDED", "FAILED")
            and j
        ),
        timeout_s=240,
        interval_s=1.0,
    )
    assert job["status"] == "SUCCEEDED", job


def training_ended(platform: RunningPlatform, job_id: str) -> bool:
    job = platform.api("GET", f"/training/jobs/{job_id}", platform.token("acme", ["viewer"])).json()
    assert job["status"] in ("SUBMITTED", "RUNNING", "SUCCEEDED"), job
    return job["status"] == "SUCCEEDED"


def train(platform: RunningPlatform, uploaded: dict[str, str]) -> str:
    """The shipped XGBoost example as a job that registers churn-xgb: its id (it trains meanwhile)."""
    body = {
        "entry_point": "train.py",
        "source": uploaded["source"],
        "hyperparameters": {"num_round": 20, "max_depth": 3},
        "channels": {
            "train": {"s3_uri": uploaded["train"]},
            "validation": {"s3_uri": uploaded["validation"]},
        },
        "metrics": [{"name": "val_auc"}],
        "experiment": "churn-training",
        "model": {"flavor": "xgboost", "file": "model.xgb"},
        "register": {"model": "churn-xgb"},
    }
    submitted = platform.api("POST", "/training/jobs", platform.token("acme", ["ml-engineer"]), json=body)
    assert submitted.status_code == 201, submitted.text
    return str(submitted.json()["job_id"])


def promote_and_roll_out(platform: RunningPlatform) -> None:
    """An A/B test that version 2 of churn-console wins, promoted to `production` by the hourly analysis, and
    a rollout that moves `stable` from version 1 to 2 in two steps, both to their end."""
    token = platform.token("acme", ["ml-engineer"])
    won = ab_experiment_won_by_v2(platform, token, "churn-console-v2", "churn-console", seed=5)
    steps = [{"percent": 50, "hold": "1s"}, {"percent": 100, "hold": "0s"}]
    body = {"model": "churn-console", "alias": "stable", "to_version": 2, "steps": steps}
    started = platform.api("POST", "/deployments", token, json=body)
    assert started.status_code == 201, started.text
    rollout = started.json()["rollout_id"]
    for path, done in ((f"/ab/experiments/{won}", "promoted"), (f"/deployments/{rollout}", "completed")):
        wait_for(lambda: platform.api("GET", path, token).json()["history"][-1]["event"] == done, 60)  # noqa: B023


def monitor_drift(platform: RunningPlatform) -> None:
    """A monitor of churn-lr v1 whose serving window moved `income` by two standard deviations, checked."""
    token = platform.token("acme", ["ml-engineer"])
    rng = random.Random(11)

    def rows(shift: float) -> list[dict[str, float]]:
        return [
            {
                "age": rng.gauss(0, 1),
                "income": rng.gauss(shift, 1),
                "visits": rng.gauss(0, 1),
                "prediction": rng.random(),
            }
            for _ in range(400)
        ]

    model = {"name": "churn-lr", "version": 1}
    assert platform.api("POST", "/monitoring/baselines", token, json={"model": model, "rows": rows(0)}).ok
    spec = {"name": "churn-lr live", "model": model, "min_records": 100}
    monitor = platform.api("POST", "/monitoring/monitors", token, json=spec).json()["monitor_id"]
    records = [
        {"features": {k: r[k] for k in ("age", "income", "visits")}, "prediction": r["prediction"]}
        for r in rows(2)
    ]
    posted = platform.api(
        "POST", "/monitoring/records", token, json={"model": model, "batch_id": "b1", "records": records}
    )
    assert posted.ok, posted.text
    assert platform.api("POST", f"/monitoring/monitors/{monitor}/check", token).json()["state"] == "drift"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("MAESTRO_SCREENSHOTS") or tmp_path_factory.mktemp("console-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def text_of(browser: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return "\n".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, css))


def ab_experiment(platform: RunningPlatform, token: str, name: str) -> dict[str, Any]:
    """The one A/B experiment of acme's named `name`, as the API lists it."""
    (found,) = [
        e
        for e in platform.api("GET", "/ab/experiments", token).json()["experiments"]
        if e["spec"]["name"] == name
    ]
    return dict(found)


def shown(browser: Any, css: str, *words: str, timeout_s: float = 30) -> str:
    """The text under `css` once the browser renders every one of `words` there (else what it did render)."""
    last = {"text": ""}

    def rendered() -> str | None:
        last["text"] = text_of(browser, css)
        return last["text"] if last["text"] and all(w in last["text"] for w in words) else None

    try:
        return str(wait_for(rendered, timeout_s))
    except AssertionError:
        missing = [w for w in words if w not in last["text"]]
        raise AssertionError(f"{css} never showed {missing}; it showed:\n{last['text'][:3000]}") from None


def sign_in(browser: Any, platform: RunningPlatform, tenant: str, roles: list[str]) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{platform.url}/console/")
    field = wait_for(lambda: browser.find_elements(By.NAME, "tenant"), timeout_s=30)[0]
    field.clear()
    field.send_keys(tenant)
    for box in browser.find_elements(By.NAME, "roles"):
        if box.is_selected() != (box.get_attribute("value") in roles):
            box.click()
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    shown(browser, "header", tenant, *roles)


def test_sign_in_and_see_the_model_the_mlflow_client_registered(
    platform: RunningPlatform, browser: Any, shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{platform.url}/console/")
    shown(browser, "h1", "Maestro ML")
    browser.save_screenshot(str(shots / "sign-in.png"))
    sign_in(browser, platform, "acme", ["ml-engineer", "auditor"])
    browser.get(f"{platform.url}/console/#/models")
    table = shown(browser, "table", "churn-console", "champion → v1")
    assert "3 registered models" in table  # and churn-lr, which the explanation explains, and churn-xgb
    browser.save_screenshot(str(shots / "models.png"))
    browser.find_element(By.LINK_TEXT, "churn-console").click()
    detail = shown(browser, "main", "Model churn-console", "champion → version 1", "s3://bucket/churn/model")
    assert "predicts churn" in detail
    browser.save_screenshot(str(shots / "model.png"))


def test_compare_two_runs_showing_only_what_differs(
    platform: RunningPlatform, browser: Any, shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    token = platform.token("acme", ["data-scientist"])
    study = platform.api(
        "GET", f"{ML}/experiments/get-by-name", token, params={"experiment_name": "churn-study"}
    )
    sign_in(browser, platform, "acme", ["data-scientist"])
    browser.get(f"{platform.url}/console/#/runs/{study.json()['experiment']['experiment_id']}")
    shown(browser, "table", "baseline", "tuned", "auc", "param lr")
    # sorting by the metric puts the better run last, as the platform's values say
    browser.find_element(By.XPATH, "//th//button[text()='auc']").click()
    rows = [r.split()[0] for r in shown(browser, "tbody", "baseline").splitlines()]
    assert rows.index("baseline") < rows.index("tuned") == len(rows) - 1, rows  # (a run without auc first)
    for name in ("baseline", "tuned"):
        browser.find_element(By.CSS_SELECTOR, f"input[aria-label='compare {name}']").click()
    browser.find_element(By.XPATH, "//button[normalize-space(.)='Compare 2 runs']").click()
    differing = shown(browser, "section[aria-labelledby=comparison] tbody", "param lr", "0.1", "0.03")
    assert "seed" not in differing and "depth" not in differing  # equal in both runs
    assert "metric auc" in differing and "0.81" in differing and "0.86" in differing
    browser.save_screenshot(str(shots / "runs-compare.png"))
    browser.find_element(By.XPATH, "//label[contains(., 'Only what differs')]/input").click()
    shown(browser, "section[aria-labelledby=comparison] tbody", "param seed", "param depth")
    # both runs' auc over its steps on one chart, a line each with as many points as values logged
    chart = "section[aria-labelledby=metric-of-runs] svg"
    shown(browser, chart, "baseline", "tuned")
    lines = browser.find_elements(By.CSS_SELECTOR, f"{chart} polyline")
    assert [len(line.get_attribute("points").split()) for line in lines] == [3, 3]

    # one run: each metric over its steps, with its minimum, maximum and last value, on a log scale too
    browser.find_element(By.LINK_TEXT, "baseline").click()
    metrics = shown(browser, "main table", "Metrics: minimum, maximum and last value", "auc")
    assert "auc 0.7 0.81 0.81 3" in metrics  # logged 0.70, 0.78, 0.81 at steps 0-2
    line = browser.find_element(By.CSS_SELECTOR, "figure svg polyline").get_attribute("points")
    assert len(line.split()) == 3
    browser.find_element(By.XPATH, "//label[contains(., 'Log scale')]/input").click()
    shown(browser, "figure", "auc over steps", "1e-0.")  # the axis now reads in powers of ten
    browser.save_screenshot(str(shots / "run.png"))


def test_verify_the_audit_trail(platform: RunningPlatform, browser: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, platform, "acme", ["auditor"])
    browser.get(f"{platform.url}/console/#/audit")
    shown(browser, "table", "RegisteredModelCreated", timeout_s=60)  # the trail is written from events
    browser.find_element(By.XPATH, "//button[text()='Verify the trail']").click()
    verdict = shown(browser, "[role=status]", "The chain verifies")
    assert '"valid": true' in verdict
    browser.save_screenshot(str(shots / "audit.png"))


def test_open_an_a_b_analysis(platform: RunningPlatform, browser: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    token = platform.token("acme", ["data-scientist"])
    experiment = ab_experiment(platform, token, "checkout-button")
    analysis = platform.api("GET", f"/ab/experiments/{experiment['experiment_id']}/analysis", token).json()
    sign_in(browser, platform, "acme", ["data-scientist"])
    browser.get(f"{platform.url}/console/#/ab")
    shown(browser, "table", "checkout-button", "running")
    browser.find_element(By.LINK_TEXT, "checkout-button").click()
    (comparison,) = analysis["metrics"][0]["comparisons"]
    lift = f"{100 * comparison['relative']:.2f}%"
    low, high = (f"{100 * v:.2f}%" for v in comparison["relative_ci"])
    page = shown(browser, "main", "Exposed units per variant", lift, f"{low} to {high}")
    for variant, units in analysis["variants"].items():
        assert f"{variant} {units}" in page  # the table's row, as the platform counted it
    assert ("mismatch" if analysis["srm"]["mismatch"] else "as designed") in page
    assert browser.find_elements(By.CSS_SELECTOR, "svg[role=img] circle")  # the lift's interval plot
    browser.save_screenshot(str(shots / "ab-analysis.png"))


def test_see_an_slo_burn(platform: RunningPlatform, browser: Any, shots: Path) -> None:
    burn(platform)
    token = platform.token("acme", ["viewer"])
    (slo,) = platform.api("GET", "/sla/slos", token).json()["slos"]
    status = platform.api("GET", f"/sla/slos/{slo['slo_id']}/status", token).json()
    (objective,) = status["objectives"]
    firing = [a["alert"] for a in objective["alerts"] if a["firing"]]
    assert firing, objective  # three errors in four burn the 1% budget far past every threshold
    sign_in(browser, platform, "acme", ["viewer"])
    browser.get(f"{platform.url}/console/#/slos")
    page = shown(browser, "main", "checkout-api", *firing)
    left = objective["budget_remaining"]  # shown to one decimal (JavaScript rounds a tie up, Python to even)
    assert f"{math.floor(left * 10) / 10:.1f}" in page or f"{math.ceil(left * 10) / 10:.1f}" in page, page
    assert page.count("FIRING") == len(firing) and objective["level"] in page
    browser.save_screenshot(str(shots / "slos.png"))


def test_open_an_explanation_report(platform: RunningPlatform, browser: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    token = platform.token("acme", ["viewer"])
    (job,) = platform.api("GET", "/explanations", token).json()["jobs"]
    path = f"/explanations/{job['job_id']}/summary"
    first, third = (platform.api("GET", path, token, params={"row": r}).json() for r in (0, 2))
    sign_in(browser, platform, "acme", ["viewer"])
    browser.get(f"{platform.url}/console/#/explanations")
    shown(browser, "table", job["job_id"], "churn-lr v1", "SUCCEEDED", "100%")
    browser.find_element(By.LINK_TEXT, job["job_id"]).click()
    (top,) = [o for o in first["global_importance"]["outputs"] if o["output"] == first["local"]["output"]]
    ranked = [f["feature"] for f in top["features"]]
    page = shown(browser, "main", "Global importance", "Local explanation", "Row 0:")
    table = page[page.index("Global importance\nFeature") :]
    assert [line.split()[0] for line in table.splitlines()[2:5]] == ranked  # the platform's ranking, in order
    assert f"output {first['local']['output_value']:.4g}" in page
    browser.save_screenshot(str(shots / "explanation.png"))
    Select(
        browser.find_element(By.CSS_SELECTOR, "#local ~ label select, section[aria-labelledby=local] select")
    ).select_by_value("2")
    biggest = third["local"]["contributions"][0]
    page = shown(browser, "main", "Row 2:", "Contributions for row 2")
    contributions = page[page.index("Contributions for row 2") :].splitlines()
    assert contributions[2].split()[0] == biggest["feature"]  # the row's largest contribution leads
    report = browser.current_window_handle
    browser.find_element(By.XPATH, "//button[text()='Open the full report']").click()
    wait_for(lambda: len(browser.window_handles) == 2)
    browser.switch_to.window(next(h for h in browser.window_handles if h != report))
    shown(browser, "body", "churn-lr")  # the job's own HTML report, from its presigned link


def test_operators_see_tenants_their_quotas_usage_and_exports(
    platform: RunningPlatform, browser: Any, shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    operator = platform.token("platform", ["admin"], subject="op")
    started = platform.api("POST", "/tenants/acme/exports", operator).json()["export_id"]
    wait_for(
        lambda: (
            platform.api("GET", f"/tenants/acme/exports/{started}", operator).json()["status"] == "COMPLETED"
        ),
        timeout_s=60,
    )
    tenant = platform.api("GET", "/tenants/acme", operator).json()
    sign_in(browser, platform, "platform", ["admin"])
    browser.get(f"{platform.url}/console/#/tenants")
    shown(browser, "table", "acme", tenant["plan"], "active")
    browser.find_element(By.LINK_TEXT, "acme").click()
    page = shown(browser, "main", "Quotas", "Usage per day", started, "COMPLETED")
    used = tenant["quotas"]["registered_models"]
    assert used["used"] == 3 and f"registered_models 3 {used['limit']}" in page  # as the platform counts them
    browser.save_screenshot(str(shots / "tenant.png"))


def test_what_a_role_may_not_open_is_not_offered(platform: RunningPlatform, browser: Any) -> None:
    sign_in(browser, platform, "acme", ["viewer"])
    nav = shown(browser, "nav", "Models")
    assert "Audit" not in nav  # a viewer holds no audit:read
    browser.get(f"{platform.url}/console/#/audit")
    shown(browser, "[role=alert]", "your roles do not open it")


def test_more_than_a_hundred_runs_on_parallel_coordinates(
    platform: RunningPlatform, browser: Any, shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    token = platform.token("acme", ["viewer"])
    search = platform.api(
        "GET", f"{ML}/experiments/get-by-name", token, params={"experiment_name": "depth-search"}
    )
    sign_in(browser, platform, "acme", ["viewer"])
    browser.get(f"{platform.url}/console/#/runs/{search.json()['experiment']['experiment_id']}")
    shown(browser, "caption", "120 runs")
    figure = shown(browser, "figure", "120 runs across 3 axes")
    assert "depth" in figure and "lr" in figure and "auc" in figure
    lines = browser.find_elements(By.CSS_SELECTOR, "svg[aria-label^='Parallel coordinates'] polyline")
    assert len(lines) == 120
    # Each line crosses the three axes; on the auc axis (its last point) a higher auc is drawn higher up
    # (a smaller y), in the order of the values the platform answers.
    runs = platform.api(
        "POST",
        f"{ML}/runs/search",
        token,
        json={"experiment_ids": [search.json()["experiment"]["experiment_id"]], "max_results": 1000},
    ).json()["runs"]
    auc = {r["info"]["run_name"]: {m["key"]: m["value"] for m in r["data"]["metrics"]}["auc"] for r in runs}
    points = {line.get_attribute("data-run"): line.get_attribute("points").split() for line in lines}
    assert {run: len(p) for run, p in points.items()} == dict.fromkeys(auc, 3), points
    auc_y = {run: float(p[-1].split(",")[1]) for run, p in points.items()}
    by_value = sorted(auc, key=lambda run: -auc[run])
    assert sorted(auc_y, key=lambda run: auc_y[run]) == by_value, (auc_y, auc)
    assert by_value[0] == "trial-119" and by_value[-1] == "trial-000"  # auc rose with each trial
    browser.execute_script("arguments[0].scrollIntoView()", lines[0])
    browser.save_screenshot(str(shots / "runs-parallel.png"))


def test_a_model_s_lineage_graph_and_file_downloads(
    platform: RunningPlatform, browser: Any, shots: Path
) -> None:
    import requests
    from selenium.webdriver.common.by import By

    token = platform.token("acme", ["viewer"])
    (job,) = platform.api("GET", "/training/jobs", token).json()["jobs"]
    lineage = platform.api(
        "GET", f"{ML}/maestro/lineage", token, params={"name": "churn-xgb", "version": "1"}
    ).json()
    sign_in(browser, platform, "acme", ["viewer"])
    browser.get(f"{platform.url}/console/#/models/churn-xgb")
    datasets = [d["name"] for d in lineage["run"]["datasets"]]
    assert datasets, lineage  # the job's run logged its channels as inputs
    graph = shown(browser, "ul[aria-label$='as text']", job["job_id"], *datasets)
    run_name = lineage["run"]["info"]["run_name"]
    assert f"{job['job_id']} ran {run_name}" in graph
    assert f"churn-training holds run {run_name}" in graph
    logged = lineage["logged_model"]["info"]["name"]
    assert (
        f"{run_name} logged the model {logged}" in graph
        and f"{logged} was registered as churn-xgb v1" in graph
    )
    for dataset in datasets:
        assert f"{dataset} was used by run {run_name}" in graph
    assert browser.find_elements(By.CSS_SELECTOR, "svg.graph a[href='#/training/" + job["job_id"] + "']")
    links = wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=lineage] tbody a"), 30
    )
    files = {link.text: link.get_attribute("href") for link in links}
    assert "MLmodel" in files, files
    browser.save_screenshot(str(shots / "model-lineage.png"))
    # each link downloads the bytes the registry serves the mlflow client for that file
    uri = platform.api(
        "GET", f"{ML}/model-versions/get-download-uri", token, params={"name": "churn-xgb", "version": "1"}
    )
    root = uri.json()["artifact_uri"].split(":", 1)[1].lstrip("/")
    for name, href in files.items():
        served = platform.api("GET", f"/api/2.0/mlflow-artifacts/artifacts/{root}/{name}", token)
        assert served.ok and requests.get(href, timeout=30).content == served.content, name


def test_an_a_b_experiment_s_promotion_history(platform: RunningPlatform, browser: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    token = platform.token("acme", ["viewer"])
    won = ab_experiment(platform, token, "churn-console-v2")
    promoted = won["history"][-1]
    sign_in(browser, platform, "acme", ["viewer"])
    browser.get(f"{platform.url}/console/#/ab")
    shown(browser, "table", "churn-console-v2", "concluded")
    browser.find_element(By.LINK_TEXT, "churn-console-v2").click()
    history = shown(browser, "table", "History and promotions", "Promoted")
    assert f"Concluded {won['history'][-2]['by']} winner v2" in history
    assert f"alias production → churn-console v{promoted['version']}" in history
    browser.save_screenshot(str(shots / "ab-history.png"))


def test_a_training_job_a_drifting_monitor_and_a_rollout(
    platform: RunningPlatform, browser: Any, shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    token = platform.token("acme", ["viewer"])
    (job,) = platform.api("GET", "/training/jobs", token).json()["jobs"]
    logs = platform.api("GET", f"/training/jobs/{job['job_id']}/logs", token, params={"limit": 5}).json()
    (monitor,) = platform.api("GET", "/monitoring/monitors", token).json()["monitors"]
    (check,) = platform.api("GET", f"/monitoring/monitors/{monitor['monitor_id']}/checks", token).json()[
        "checks"
    ]
    (rollout,) = platform.api("GET", "/deployments", token).json()["rollouts"]
    sign_in(browser, platform, "acme", ["viewer"])

    browser.get(f"{platform.url}/console/#/training")
    auc = f"val_auc={job['metrics']['val_auc']:.4g}"
    shown(browser, "table", job["job_id"], "SUCCEEDED", auc, "churn-training")
    browser.find_element(By.LINK_TEXT, job["job_id"]).click()
    page = shown(browser, "main", "SUCCEEDED", "registered as", "churn-xgb v1", logs["lines"][0]["message"])
    assert all(t["message"] in page for t in job["progress"]["transitions"])
    browser.save_screenshot(str(shots / "training-job.png"))

    browser.get(f"{platform.url}/console/#/monitors")
    shown(browser, "table", "churn-lr live", "churn-lr v1", "DRIFT", "income")
    browser.find_element(By.LINK_TEXT, "churn-lr live").click()
    columns = shown(browser, "main table", "Drift per column", "income yes")
    statistic = check["drift"]["columns"]["income"]["statistic"]
    assert f"income yes ks {statistic:.3g}" in columns
    assert "age no" in columns and "visits no" in columns
    browser.save_screenshot(str(shots / "monitor.png"))

    browser.get(f"{platform.url}/console/#/rollouts")
    shown(browser, "table", rollout["rollout_id"], "churn-console @stable: v1 → v2", "COMPLETED", "100%")
    browser.find_element(By.LINK_TEXT, rollout["rollout_id"]).click()
    history = shown(browser, "main", "History", "completed")
    assert history.count("stepped") == len([h for h in rollout["history"] if h["event"] == "stepped"]) == 2
    browser.save_screenshot(str(shots / "rollout.png"))
