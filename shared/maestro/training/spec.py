"""What a training job asks for: the code (an entry point in a source bundle), the image, hyperparameters,
input channels, the instances and their limits, the metrics its log prints, where its run is logged and the
model to register on success, behind an optional metric gate. Must never accept a spec SageMaker would
refuse later, nor a gate on a metric the job does not collect."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_IMAGE = "683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1"
MAX_HYPERPARAMETERS = 100  # SageMaker's limit
MAX_CHANNELS = 8
MAX_METRICS = 40  # SageMaker's limit on metric definitions
GATE = re.compile(
    r"^\s*(?P<metric>[A-Za-z0-9_.:/-]{1,255})\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>-?\d+(\.\d+)?([eE][-+]?\d+)?)\s*$"
)
NAME = r"^[A-Za-z0-9_.:/-]{1,255}$"
CHANNEL = r"^[A-Za-z0-9.\-_]{1,64}$"
HYPERPARAMETER = r"^[A-Za-z0-9_.:/-]{1,256}$"
IMAGE = r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})?$"
# relative, every segment starting with a letter, digit, _ or - (so no `..` and no hidden folders)
ENTRY_POINT = r"^([A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}/){0,8}[A-Za-z0-9_-][A-Za-z0-9_.-]{0,60}\.py$"


class Strict(BaseModel):
    # `register` is a field here; pydantic's metaclass (an ABCMeta) has a `register` method it would shadow,
    # so the attribute is `registration` and the API's name its alias.
    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class Channel(Strict):
    s3_uri: str = Field(
        min_length=1,
        max_length=1024,
        description="s3://<artifacts bucket>/tenants/<tenant>/<prefix or object>, or mlflow-artifacts:/",
    )
    distribution: Literal["FullyReplicated", "ShardedByS3Key"] = Field(
        "FullyReplicated", description="every instance gets every object, or a share of the objects"
    )


class MetricDefinition(Strict):
    name: str = Field(pattern=NAME)
    regex: str | None = Field(
        None, min_length=1, max_length=500, description="one capture group; default: `<name>=<number>`"
    )

    @field_validator("regex")
    @classmethod
    def _one_group(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        if compiled.groups != 1:
            raise ValueError(f"needs exactly one capture group (the value), found {compiled.groups}")
        return value

    def pattern(self) -> str:
        return self.regex or rf"{re.escape(self.name)}\s*[=:]\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


class ModelFiles(Strict):
    flavor: Literal["mlflow", "xgboost"] = Field(
        "mlflow",
        description="mlflow: the model folder holds an MLmodel file already; xgboost: Maestro writes one for "
        "`file` (a Booster saved by the script)",
    )
    file: str = Field("model.ubj", pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="for flavor xgboost")


class Registration(Strict):
    model: str = Field(min_length=1, max_length=256, description="registered model (created if missing)")
    gate: str | None = Field(
        None, max_length=300, description="register only if the final metric passes, e.g. `val_auc >= 0.8`"
    )

    @field_validator("gate")
    @classmethod
    def _gate(cls, value: str | None) -> str | None:
        if value is not None and not GATE.match(value):
            raise ValueError("must read `<metric> <op> <number>` with op one of >=, >, <=, <, ==")
        return value


class TrainingJobRequest(Strict):
    entry_point: str = Field(pattern=ENTRY_POINT, description="the script in the bundle, e.g. train.py")
    source: str = Field(
        min_length=1,
        max_length=1024,
        description="a .tar.gz: s3://<artifacts bucket>/tenants/<tenant>/... or mlflow-artifacts:/...",
    )
    image: str | None = Field(
        None, max_length=255, pattern=IMAGE, description="a framework image (default: SageMaker's XGBoost)"
    )
    hyperparameters: dict[str, str | int | float | bool] = Field(
        default_factory=dict, max_length=MAX_HYPERPARAMETERS
    )
    channels: dict[str, Channel] = Field(min_length=1, max_length=MAX_CHANNELS)
    instance_type: str = Field("ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    instance_count: int = Field(1, ge=1, le=20)
    volume_gb: int = Field(30, ge=1, le=16384)
    spot: bool = Field(False, description="managed spot training (then max_wait_s is required)")
    max_wait_s: int | None = Field(None, ge=1, le=2_419_200)
    max_runtime_s: int = Field(3600, ge=1, le=432_000)
    metrics: list[MetricDefinition] = Field(default_factory=list, max_length=MAX_METRICS)
    experiment: str = Field("training", min_length=1, max_length=500)
    run_name: str | None = Field(None, min_length=1, max_length=250)
    model: ModelFiles = Field(default_factory=ModelFiles)
    registration: Registration | None = Field(None, alias="register")

    @field_validator("hyperparameters")
    @classmethod
    def _hyperparameters(
        cls, value: dict[str, str | int | float | bool]
    ) -> dict[str, str | int | float | bool]:
        for key, item in value.items():
            if not re.match(HYPERPARAMETER, key) or key.startswith("sagemaker_"):
                raise ValueError(
                    f"{key!r}: names are letters, digits and _.:/- (sagemaker_* are SageMaker's)"
                )
            if len(str(item)) > 2500:
                raise ValueError(f"{key!r}: values are at most 2,500 characters")
        return value

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: dict[str, Channel]) -> dict[str, Channel]:
        for name in value:
            if not re.match(CHANNEL, name):
                raise ValueError(f"{name!r}: channel names are 1-64 of letters, digits and .-_")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainingJobRequest:
        if self.spot and (self.max_wait_s is None or self.max_wait_s < self.max_runtime_s):
            raise ValueError("spot training needs max_wait_s, at least max_runtime_s")
        if not self.spot and self.max_wait_s is not None:
            raise ValueError("max_wait_s applies to spot training only")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metrics: each name once")
        if self.registration and self.registration.gate:
            metric = gate_of(self.registration.gate)[0]
            if metric not in names:
                raise ValueError(f"register.gate: {metric!r} is not one of the job's metrics {names}")
        return self


def gate_of(gate: str) -> tuple[str, str, float]:
    found = GATE.match(gate)
    assert found, gate
    return found["metric"], found["op"], float(found["value"])


def passes(gate: str | None, metrics: dict[str, float]) -> tuple[bool, str]:
    """(whether the final metrics pass the gate, why), a job without a gate always passes."""
    if not gate:
        return True, "no gate"
    metric, op, threshold = gate_of(gate)
    if metric not in metrics:
        return False, f"the job reported no {metric}"
    value = metrics[metric]
    ok = {
        ">=": value >= threshold,
        ">": value > threshold,
        "<=": value <= threshold,
        "<": value < threshold,
        "==": value == threshold,
    }[op]
    return ok, f"{metric} = {value:g} {'passes' if ok else 'fails'} {op} {threshold:g}"
