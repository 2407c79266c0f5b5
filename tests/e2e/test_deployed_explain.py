"""An explanation job on a deployed stack: opt-in, like the rest of the e2e tier. It proves what local mode
cannot: the worker's layers import and fit in Lambda, the real Step Functions service runs the definition,
and the worker's session reaches S3 and DynamoDB with the runtime's boto3.

Set MAESTRO_E2E_URL and MAESTRO_E2E_TOKEN (a user with the ml-engineer role). The model is registered
through the unmodified mlflow client and the rows are sent inline, so no AWS credentials are needed."""

from __future__ import annotations

import os
import time
import uuid

import numpy as np
import pytest
import requests

URL = os.environ.get("MAESTRO_E2E_URL", "").rstrip("/")
TOKEN = os.environ.get("MAESTRO_E2E_TOKEN", "")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not URL, reason="MAESTRO_E2E_URL is not set: no deployed stack to test"),
    pytest.mark.skipif(not TOKEN, reason="MAESTRO_E2E_TOKEN is not set"),
]


def test_a_registered_model_is_explained_by_the_deployed_workflow(monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    import shap
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    mlflow.set_tracking_uri(URL)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    name = f"e2e-explain-{uuid.uuid4().hex[:8]}"
    model = LogisticRegression().fit(X, y)
    with mlflow.start_run():
        mlflow.sklearn.log_model(model, name="model", input_example=X[:2], registered_model_name=name)

    headers = {"Authorization": f"Bearer {TOKEN}"}
    request = {
        "model": {"name": name, "version": 1},
        "dataset": {"rows": X.tolist()},
        "background": {"size": 20},
        "shards": 2,
    }
    job = requests.post(f"{URL}/explanations", json=request, headers=headers, timeout=30).json()
    deadline = time.monotonic() + 600
    while job["status"] not in ("SUCCEEDED", "FAILED") and time.monotonic() < deadline:
        time.sleep(5)
        job = requests.get(f"{URL}/explanations/{job['job_id']}", headers=headers, timeout=30).json()
    assert job["status"] == "SUCCEEDED", job
    links = requests.get(f"{URL}/explanations/{job['job_id']}/results", headers=headers, timeout=30).json()
    lines = requests.get(links["files"]["shap_values"], timeout=60).text.splitlines()
    stored = np.array([[float(v) for v in line.split(",")[3:]] for line in lines[1:]])
    expected = shap.LinearExplainer(model, shap.utils.sample(X, 20, random_state=0)).shap_values(X)
    np.testing.assert_allclose(stored, expected, atol=1e-6)
