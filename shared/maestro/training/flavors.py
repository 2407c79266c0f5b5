"""The model a training job leaves behind, as an MLflow model: a folder that already holds an MLmodel file
is taken as it is; a bare XGBoost Booster file gets the MLmodel the mlflow client writes for one (the
`xgboost` flavor and the `python_function` flavor that loads through it), so `mlflow.pyfunc.load_model`
and `mlflow.xgboost.load_model` read it. Must never call a folder an MLflow model that lacks its file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import yaml

from maestro.training.errors import TrainingError

FORMATS = {"ubj": "ubj", "json": "json", "xgb": "xgb", "bin": "xgb", "model": "xgb"}


def model_files(
    flavor: str, file: str, files: dict[str, bytes], described: dict[str, Any]
) -> dict[str, bytes]:
    if flavor == "mlflow":
        if "MLmodel" not in files:
            raise _missing("an MLmodel file (model.flavor is mlflow)", files)
        return files
    if file not in files:
        raise _missing(f"{file} (model.file)", files)
    suffix = file.rsplit(".", 1)[-1].lower() if "." in file else "model"
    mlmodel = {
        "flavors": {
            "python_function": {"loader_module": "mlflow.xgboost", "data": file, "env": None},
            "xgboost": {
                "data": file,
                "model_class": "xgboost.core.Booster",
                "model_format": FORMATS.get(suffix, "xgb"),
                "code": None,
            },
        },
        "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "model_uuid": uuid.uuid4().hex,
        "metadata": {"maestro.training.sagemaker_job": described.get("TrainingJobName", "")},
    }
    return {**files, "MLmodel": yaml.safe_dump(mlmodel, sort_keys=True).encode()}


def _missing(what: str, files: dict[str, bytes]) -> TrainingError:
    listed = ", ".join(sorted(files)[:20]) or "nothing"
    return TrainingError(f"the job's model folder has no {what}; it holds {listed}")
