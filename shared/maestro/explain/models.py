"""Loading MLflow-format models (sklearn, xgboost and lightgbm flavors) from the registry's artifacts
without the mlflow package. Must never deserialize bytes that were not resolved by sources.ModelResolver
and verified against their recorded SHA-256: a pickle is code."""

from __future__ import annotations

import importlib
import pickle
import tempfile
from pathlib import Path
from typing import Any

from maestro.explain.errors import ExplainError
from maestro.explain.sources import ResolvedModel, read_verified

# Classes the xgboost and lightgbm flavors may name in their MLmodel (never an arbitrary import).
BOOSTER_CLASSES = {
    "xgboost": ("xgboost.core.Booster", "xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor"),
    "lightgbm": (
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
    ),
}


def _flavor_conf(tenant: str, model: ResolvedModel) -> dict[str, Any]:
    import yaml

    mlmodel = yaml.safe_load(
        read_verified(tenant, model.files["MLmodel"])
    )  # the verified copy, not the job's
    return dict(mlmodel["flavors"][model.flavor])


def _class(flavor: str, name: str) -> Any:
    if name not in BOOSTER_CLASSES[flavor]:
        raise ExplainError(
            f"the {flavor} flavor names model class {name!r}, which is not one of ours to load"
        )
    module, _, cls = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        package = module.split(".")[0]
        raise ExplainError(
            f"the {flavor} flavor needs {package}, which this worker does not include"
        ) from exc


def _sklearn_format(conf: dict[str, Any], body: bytes) -> Any:
    """MLflow's sklearn serializations (also lightgbm's scikit-learn API models): skops, with the trusted
    types the MLmodel lists, or (cloud)pickle."""
    fmt = conf.get("serialization_format", "cloudpickle")
    if fmt == "skops":
        import skops.io

        return skops.io.loads(body, trusted=conf.get("skops_trusted_types") or None)
    if fmt in ("pickle", "cloudpickle"):
        return pickle.loads(body)  # noqa: S301 - the registry's own artifact, checksum-verified by the caller
    raise ExplainError(f"unknown sklearn serialization format {fmt!r}")


def load_model(tenant: str, model: ResolvedModel) -> Any:
    conf = _flavor_conf(tenant, model)
    body = read_verified(tenant, model.files["model"])
    if model.flavor == "sklearn":
        return _sklearn_format(conf, body)
    model_class = conf.get("model_class", BOOSTER_CLASSES[model.flavor][0])
    cls = _class(model.flavor, model_class)
    if model.flavor == "lightgbm":
        if model_class == "lightgbm.basic.Booster":
            return cls(model_str=body.decode())
        return _sklearn_format(conf, body)
    suffix = Path(model.files["model"].key).suffix or ".xgb"
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:  # xgboost loads from a path
        handle.write(body)
        handle.flush()
        loaded = cls()
        loaded.load_model(handle.name)
    return loaded
