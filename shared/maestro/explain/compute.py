"""The explanation arithmetic, all of it shap's (and lime's and scikit-learn's) own: choosing the explainer,
summarizing the background, explaining rows, LIME, permutation importance and global aggregation. Must
never compute a SHAP value itself: given the same model, rows, background and seed, the numbers must be
exactly what calling shap directly gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from maestro.explain.errors import ExplainError

TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm")
TREE_CLASSES = (
    "GradientBoosting",
    "HistGradientBoosting",
    "RandomForest",
    "ExtraTrees",
    "DecisionTree",
    "ExtraTree",
    "IsolationForest",
    "XGB",
    "Booster",
    "LGBM",
)
PERMUTATION_IMPORTANCE_MAX_ROWS = 10_000
PERMUTATION_IMPORTANCE_REPEATS = 10
LIME_SAMPLES = 5000  # lime's own default


def _kind(model: Any) -> tuple[str, str]:
    cls = type(model)
    return cls.__module__, cls.__name__


def is_tree(model: Any) -> bool:
    module, name = _kind(model)
    return module.startswith(TREE_MODULES) and name.startswith(TREE_CLASSES)


def is_linear(model: Any) -> bool:
    module, _ = _kind(model)
    return module.startswith("sklearn.linear_model") and hasattr(model, "coef_")


def is_classifier(model: Any) -> bool:
    return hasattr(model, "predict_proba") and hasattr(model, "classes_")


def choose_method(model: Any, requested: str) -> str:
    if requested != "auto":
        if requested == "tree" and not is_tree(model):
            raise ExplainError(f"method tree needs a tree ensemble; {_kind(model)[1]} is not one")
        if requested == "linear" and not is_linear(model):
            raise ExplainError(f"method linear needs a linear model; {_kind(model)[1]} is not one")
        return requested
    if is_tree(model):
        return "tree"
    if is_linear(model):
        return "linear"
    return "permutation"


def predictor(model: Any) -> Any:
    """What model-agnostic methods explain: class probabilities for classifiers, else predictions."""
    return model.predict_proba if is_classifier(model) else model.predict


def n_features(model: Any) -> int | None:
    count = getattr(model, "n_features_in_", None)
    if count is None and hasattr(model, "num_feature"):  # lightgbm / xgboost boosters
        count = model.num_feature() if callable(model.num_feature) else model.num_feature
    return int(count) if count is not None else None


def background(pool: np.ndarray, strategy: str, size: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(rows, weights): shap.utils.sample (rows without replacement, no weights) or shap.kmeans (cluster
    centres weighted by their clusters' sizes) of the pool."""
    import shap

    if strategy == "kmeans":
        if size > len(pool):
            raise ExplainError(f"background.size {size} is more than the {len(pool)} rows to cluster")
        summary = shap.kmeans(pool, size)
        return np.asarray(summary.data), np.asarray(summary.weights)
    return np.asarray(shap.utils.sample(pool, size, random_state=seed)), None


def _weighted(bg: np.ndarray, weights: np.ndarray | None) -> Any:
    """What shap.kmeans returned, for KernelExplainer, which weights the background's rows."""
    if weights is None:
        return bg
    from shap.utils._legacy import DenseData

    return DenseData(bg, [str(i) for i in range(bg.shape[1])], None, weights)


def _as_nfk(values: Any, rows: int, features: int) -> np.ndarray:
    """shap returns (n, f), (n, f, k) or a list of k (n, f) arrays: always (n, f, k)."""
    if isinstance(values, list):
        values = np.stack([np.asarray(v) for v in values], axis=-1)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:
        values = values[:, :, None]
    if values.shape[:2] != (rows, features):
        raise ExplainError(
            f"the explainer returned values of shape {values.shape} for {rows}x{features} rows"
        )
    return values


def _as_k(expected: Any, outputs: int) -> np.ndarray:
    base = np.atleast_1d(np.asarray(expected, dtype=np.float64))
    if base.ndim > 1:  # per-row base values (permutation): identical across rows for a fixed background
        base = base[0]
    return np.broadcast_to(base, (outputs,)).copy()


def explain_rows(
    model: Any,
    method: str,
    rows: np.ndarray,
    bg: np.ndarray,
    seed: int,
    nsamples: int | None,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(values (n, f, k), expected values (k,)) for `rows`, from shap's explainer for `method`. Only the
    kernel method weights a k-means background's rows, as shap does; the others take the centres as rows."""
    import shap

    n, f = rows.shape
    if method == "tree":
        explainer = shap.TreeExplainer(model, data=bg)
        values = explainer.shap_values(rows, check_additivity=False)
        expected = explainer.expected_value
    elif method == "linear":
        explainer = shap.LinearExplainer(model, bg)
        values, expected = explainer.shap_values(rows), explainer.expected_value
    elif method == "kernel":
        np.random.seed(seed)  # KernelExplainer samples coalitions with numpy's global generator
        explainer = shap.KernelExplainer(predictor(model), _weighted(bg, weights))
        values = explainer.shap_values(rows, nsamples=nsamples or "auto", silent=True)
        expected = explainer.expected_value
    elif method == "permutation":
        masker = shap.maskers.Independent(bg, max_samples=len(bg))
        explainer = shap.PermutationExplainer(predictor(model), masker, seed=seed)
        result = explainer(rows, max_evals=nsamples or 10 * (2 * f + 1), silent=True)
        values, expected = result.values, result.base_values
    elif method == "lime":
        return lime_rows(model, rows, bg, seed, nsamples)
    else:
        raise ExplainError(f"unknown method {method}")
    nfk = _as_nfk(values, n, f)
    return nfk, _as_k(expected, nfk.shape[2])


def _lime_explainer(model: Any, bg: np.ndarray, seed: int, names: list[str] | None = None) -> Any:
    from lime.lime_tabular import LimeTabularExplainer

    return LimeTabularExplainer(
        bg,
        feature_names=names,
        mode="classification" if is_classifier(model) else "regression",
        random_state=seed,
        discretize_continuous=False,  # weights per feature value, comparable with SHAP values
    )


def _labels(model: Any) -> list[int]:
    return list(range(len(model.classes_))) if is_classifier(model) else [0]


def _lime_each(
    model: Any,
    rows: np.ndarray,
    bg: np.ndarray,
    seed: int,
    nsamples: int | None,
    names: list[str] | None = None,
) -> Iterator[tuple[int, int, Any, int]]:
    """lime's explanation of each row, once per output: (row index, output, explanation, the output's key
    in the explanation: the class for a classifier, 1 for a regressor)."""
    explainer = _lime_explainer(model, bg, seed, names)
    labels = _labels(model)
    for i, row in enumerate(rows):
        exp = explainer.explain_instance(
            row,
            predictor(model),
            labels=labels,
            num_features=rows.shape[1],
            num_samples=nsamples or LIME_SAMPLES,
        )
        for k, label in enumerate(labels):
            yield i, k, exp, label if is_classifier(model) else 1


def lime_rows(
    model: Any, rows: np.ndarray, bg: np.ndarray, seed: int, nsamples: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """LIME as a per-row method: each row's local linear weights (n, f, k) and the mean intercept (k,)."""
    outputs = len(_labels(model))
    values = np.zeros((*rows.shape, outputs))
    intercepts = np.zeros((len(rows), outputs))
    for i, k, exp, key in _lime_each(model, rows, bg, seed, nsamples):
        for feature, weight in exp.local_exp[key]:
            values[i, feature, k] = weight
        intercepts[i, k] = exp.intercept[key]
    return values, intercepts.mean(axis=0)


def lime_report(
    model: Any,
    rows: np.ndarray,
    positions: list[int],
    bg: np.ndarray,
    names: list[str],
    seed: int,
    nsamples: int | None,
) -> list[dict[str, Any]]:
    """LIME explanations of chosen rows: per output, the intercept, the local prediction and each
    feature's weight, as lime reports them."""
    return [
        {
            "row": positions[i],
            "output": k,
            "intercept": float(exp.intercept[key]),
            "local_prediction": float(np.ravel(exp.local_pred)[0]) if exp.local_pred is not None else None,
            "score": float(exp.score if not isinstance(exp.score, dict) else exp.score[key]),
            "weights": [{"feature": names[f], "weight": float(w)} for f, w in exp.local_exp[key]],
        }
        for i, k, exp, key in _lime_each(model, rows[positions], bg, seed, nsamples, names)
    ]


def permutation_importance(
    model: Any, rows: np.ndarray, target: np.ndarray, names: list[str], seed: int
) -> dict[str, Any]:
    """scikit-learn's permutation importance with its spread over repeats (on at most 10,000 rows)."""
    from sklearn.inspection import permutation_importance as sk_permutation_importance

    take = min(len(rows), PERMUTATION_IMPORTANCE_MAX_ROWS)
    result = sk_permutation_importance(
        model, rows[:take], target[:take], n_repeats=PERMUTATION_IMPORTANCE_REPEATS, random_state=seed
    )
    order = np.argsort(-result.importances_mean)
    return {
        "rows": take,
        "repeats": PERMUTATION_IMPORTANCE_REPEATS,
        "scoring": "accuracy" if is_classifier(model) else "r2",
        "features": [
            {
                "feature": names[i],
                "mean": float(result.importances_mean[i]),
                "std": float(result.importances_std[i]),
                "importances": [float(v) for v in result.importances[i]],
            }
            for i in order
        ],
    }


def global_importance(
    values: np.ndarray, expected: np.ndarray, names: list[str], aggregation: str
) -> dict[str, Any]:
    """Per output, each feature's mean |SHAP|, median SHAP and mean squared SHAP (SageMaker Clarify's three
    aggregations), ranked by the chosen one."""
    outputs = []
    for k in range(values.shape[2]):
        v = values[:, :, k]
        stats = {
            "mean_abs": np.abs(v).mean(axis=0),
            "median": np.median(v, axis=0),
            "mean_sq": (v**2).mean(axis=0),
        }
        rank = np.abs(stats[aggregation]) if aggregation == "median" else stats[aggregation]
        order = np.argsort(-rank, kind="stable")
        outputs.append(
            {
                "output": k,
                "expected_value": float(expected[k]),
                "features": [
                    {"feature": names[i], **{name: float(s[i]) for name, s in stats.items()}} for i in order
                ],
            }
        )
    return {"aggregation": aggregation, "rows": int(values.shape[0]), "outputs": outputs}
