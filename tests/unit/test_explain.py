"""Explanation jobs' pure parts: request validation, the reasons a failed job shows, the per-row CSV, global
aggregation, method choice and the explainers against shap called directly."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from maestro.explain import compute
from maestro.explain.errors import ExplainError
from maestro.explain.sources import check_columns, dataset_format
from maestro.explain.spec import ExplanationRequest
from maestro.explain.steps import _values_csv, reason_of

MODEL = {"name": "churn", "version": 3}
DATA = {"s3_uri": "s3://artifacts/tenants/acme/d.csv"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": {"name": "churn"}, "dataset": DATA}, "give exactly one of version or alias"),
        ({"model": {"name": "churn", "version": 1, "alias": "a"}, "dataset": DATA}, "exactly one of version"),
        ({"model": MODEL, "dataset": {}}, "give exactly one of s3_uri or rows"),
        ({"model": MODEL, "dataset": {**DATA, "rows": [[1.0]]}}, "give exactly one of s3_uri or rows"),
        ({"model": MODEL, "dataset": {"rows": [[1.0, 2.0], [1.0]]}}, "same number of values"),
        ({"model": MODEL, "dataset": {"rows": [[1.0, 2.0]], "columns": ["a"]}}, "name every value"),
        ({"model": MODEL, "dataset": DATA, "method": "shapley"}, "Input should be"),
        ({"model": MODEL, "dataset": DATA, "background": {"size": 5000}}, "less than or equal to 1000"),
        ({"model": MODEL, "dataset": DATA, "shards": 101}, "less than or equal to 100"),
        ({"model": MODEL, "dataset": DATA, "colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_requests_that_would_be_ambiguous_or_too_big_are_refused(body: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ExplanationRequest.model_validate(body)


def test_defaults_are_what_a_user_expects() -> None:
    request = ExplanationRequest.model_validate({"model": MODEL, "dataset": DATA})
    assert request.method == "auto" and request.aggregation == "mean_abs"
    assert (request.background.strategy, request.background.size) == ("sample", 100)
    assert (request.rows.start, request.rows.stop, request.shard_rows, request.seed) == (0, None, 500, 0)


def test_columns_are_checked_by_name_or_by_width() -> None:
    check_columns(["a", "b"], ["b", "a", "label"], "label", "dataset")
    check_columns(2, ["a", "b", "label"], "label", "dataset")
    check_columns(None, ["x"], None, "dataset")
    with pytest.raises(Exception, match=r"needs columns \['c'\]"):
        check_columns(["a", "c"], ["a", "b"], None, "dataset")
    with pytest.raises(Exception, match="takes 3 features but the dataset has 2"):
        check_columns(3, ["a", "b", "label"], "label", "dataset")
    with pytest.raises(Exception, match="no column is named 'y'"):
        check_columns(None, ["a"], "y", "dataset")


def test_dataset_format_comes_from_the_name_unless_given() -> None:
    assert dataset_format("t/d.parquet", None) == "parquet"
    assert dataset_format("t/d.CSV", None) == "csv"
    assert dataset_format("t/d.bin", "csv") == "csv"
    with pytest.raises(Exception, match="cannot tell"):
        dataset_format("t/d.bin", None)


def test_a_failed_steps_reason_is_its_message_without_the_stack_trace() -> None:
    cause = json.dumps(
        {
            "errorType": "ExplainError",
            "errorMessage": "column 'x' is not numeric",
            "stackTrace": ["at line 1"],
        }
    )
    assert reason_of({"Error": "ExplainError", "Cause": cause}) == {
        "error": "ExplainError",
        "reason": "column 'x' is not numeric",
    }
    timed_out = reason_of({"Error": "States.Timeout", "Cause": "Task timed out"})
    assert timed_out == {"error": "States.Timeout", "reason": "States.Timeout: Task timed out"}
    assert "stackTrace" not in json.dumps(
        reason_of({"Error": "KeyError", "Cause": cause.replace("Explain", "Key")})
    )


def test_the_per_row_csv_adds_up_to_the_models_output() -> None:
    values = np.arange(12, dtype=float).reshape(2, 3, 2) / 10  # 2 rows, 3 features, 2 outputs
    csv = _values_csv(values, np.array([0.5, -0.5]), np.array([7, 9]), [0, 1], ["a", "b,c", "d"])
    table = pd.read_csv(io.BytesIO(csv))
    assert list(table.columns) == ["row", "output", "expected_value", "a", "b,c", "d"]
    assert table[["row", "output"]].values.tolist() == [[7, 0], [7, 1], [9, 0], [9, 1]]
    first = table.iloc[1]  # row 7, output 1
    assert first["expected_value"] == -0.5 and [first["a"], first["b,c"], first["d"]] == [0.1, 0.3, 0.5]


def test_global_importance_offers_clarifys_three_aggregations() -> None:
    values = np.array([[[1.0], [-3.0]], [[-1.0], [1.0]], [[2.0], [-1.0]]])
    summary = compute.global_importance(values, np.array([0.2]), ["a", "b"], "mean_abs")
    (output,) = summary["outputs"]
    assert [f["feature"] for f in output["features"]] == ["b", "a"]
    b, a = output["features"]
    assert (b["mean_abs"], b["median"], b["mean_sq"]) == pytest.approx((5 / 3, -1.0, 11 / 3))
    assert (a["mean_abs"], a["median"], a["mean_sq"]) == pytest.approx((4 / 3, 1.0, 2.0))
    by_median = compute.global_importance(values, np.array([0.2]), ["a", "b"], "median")
    assert [f["feature"] for f in by_median["outputs"][0]["features"]] == ["a", "b"]  # |1| == |-1|: stable


@pytest.fixture(scope="module")
def trained() -> tuple[np.ndarray, dict]:
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 4))
    y = X[:, 0] - 2 * X[:, 1] + rng.normal(0, 0.1, 120)
    labels = (y > 0).astype(int)
    return X, {
        "forest": RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y),
        "ridge": Ridge().fit(X, y),
        "logistic": LogisticRegression().fit(X, labels),
        "knn": KNeighborsClassifier().fit(X, labels),
    }


def test_auto_picks_tree_linear_or_permutation(trained: tuple[np.ndarray, dict]) -> None:
    _, models = trained
    assert compute.choose_method(models["forest"], "auto") == "tree"
    assert compute.choose_method(models["ridge"], "auto") == "linear"
    assert compute.choose_method(models["knn"], "auto") == "permutation"
    with pytest.raises(ExplainError, match="needs a tree ensemble"):
        compute.choose_method(models["ridge"], "tree")


@pytest.mark.parametrize("method", ["kernel", "permutation"])
def test_model_agnostic_methods_equal_shap_with_the_same_seed(
    trained: tuple[np.ndarray, dict], method: str
) -> None:
    import shap

    X, models = trained
    model = models["knn"]
    background, weights = compute.background(X, "sample", 20, seed=3)
    assert weights is None
    np.testing.assert_array_equal(background, shap.utils.sample(X, 20, random_state=3))
    ours, expected = compute.explain_rows(model, method, X[:5], background, seed=3, nsamples=100)
    if method == "kernel":
        np.random.seed(3)
        theirs = shap.KernelExplainer(model.predict_proba, background).shap_values(
            X[:5], nsamples=100, silent=True
        )
    else:
        masker = shap.maskers.Independent(background, max_samples=20)
        theirs = shap.PermutationExplainer(model.predict_proba, masker, seed=3)(
            X[:5], max_evals=100, silent=True
        ).values
    np.testing.assert_allclose(ours, np.asarray(theirs).reshape(ours.shape), atol=1e-12)
    # additivity: expected value + the row's values = the model's output, per class
    np.testing.assert_allclose(expected + ours.sum(axis=1), model.predict_proba(X[:5]), atol=1e-6)


def test_a_kmeans_background_weighs_its_centres_as_shap_does(trained: tuple[np.ndarray, dict]) -> None:
    import shap

    X, models = trained
    model = models["knn"]
    centres, weights = compute.background(X, "kmeans", 8, seed=0)
    assert weights is not None and weights.sum() == pytest.approx(1.0)
    ours, expected = compute.explain_rows(model, "kernel", X[:3], centres, 5, 64, weights)
    np.random.seed(5)
    reference = shap.KernelExplainer(model.predict_proba, shap.kmeans(X, 8))
    theirs = reference.shap_values(X[:3], nsamples=64, silent=True)
    np.testing.assert_allclose(ours, np.asarray(theirs).reshape(ours.shape), atol=1e-12)
    np.testing.assert_allclose(expected, reference.expected_value, atol=1e-12)
    with pytest.raises(ExplainError, match="more than the 120 rows"):
        compute.background(X, "kmeans", 500, seed=0)


def test_lime_explains_each_row_with_lime_and_reports_its_weights(trained: tuple[np.ndarray, dict]) -> None:
    X, models = trained
    values, intercepts = compute.explain_rows(models["ridge"], "lime", X[:2], X, seed=0, nsamples=500)
    assert values.shape == (2, 4, 1) and intercepts.shape == (1,)
    # the local linear model of a linear model recovers its dominant slopes' signs: +x0, -2 x1
    assert values[0, 0, 0] > 0 > values[0, 1, 0]
    report = compute.lime_report(models["logistic"], X, [1], X, ["a", "b", "c", "d"], seed=0, nsamples=500)
    assert [(r["row"], r["output"]) for r in report] == [(1, 0), (1, 1)]
    assert {w["feature"] for w in report[0]["weights"]} == {"a", "b", "c", "d"}


def test_permutation_importance_ranks_the_features_the_target_depends_on(
    trained: tuple[np.ndarray, dict],
) -> None:
    X, models = trained
    y = X[:, 0] - 2 * X[:, 1]
    result = compute.permutation_importance(models["ridge"], X, y, ["a", "b", "c", "d"], seed=0)
    assert [f["feature"] for f in result["features"][:2]] == ["b", "a"]
    assert result["scoring"] == "r2" and len(result["features"][0]["importances"]) == 10
    assert all(f["std"] >= 0 for f in result["features"])
