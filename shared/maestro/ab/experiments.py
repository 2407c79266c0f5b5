"""A/B experiment configuration and lifecycle: variants (optionally registry model versions or aliases),
weights, coverage, namespace, metrics, decision rule; draft -> running <-> paused -> concluded.
Must never let a running experiment's variants or weights change (that would re-bucket enrolled units)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from maestro.ab.assignment import AssignmentConfig, Variant
from maestro.core.errors import Conflict

Status = Literal["draft", "running", "paused", "concluded"]
TRANSITIONS: dict[str, dict[str, Status]] = {
    "start": {"draft": "running"},
    "pause": {"running": "paused"},
    "resume": {"paused": "running"},
    "conclude": {"running": "concluded", "paused": "concluded"},
}


class ModelRef(BaseModel):
    name: str = Field(min_length=1)
    version: str | None = None
    alias: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ModelRef:
        if (self.version is None) == (self.alias is None):
            raise ValueError("give exactly one of version or alias")
        return self


class VariantSpec(BaseModel):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    weight: float = Field(ge=0, le=1)
    model: ModelRef | None = None


class MetricSpec(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.]+$")
    kind: Literal["binomial", "mean", "ratio", "quantile"]
    event: str = Field(min_length=1, description="metric events with this name feed the metric")
    denominator_event: str | None = Field(None, description="ratio metrics: the denominator's events")
    quantile: float | None = Field(None, gt=0, lt=1, description="quantile metrics: e.g. 0.9")
    role: Literal["primary", "secondary", "guardrail"] = "secondary"
    direction: Literal["increase", "decrease"] = "increase"
    cuped: bool = Field(False, description="adjust with the unit's pre-period value of the same event")

    @model_validator(mode="after")
    def _kind_fields(self) -> MetricSpec:
        if self.kind == "ratio" and not self.denominator_event:
            raise ValueError("ratio metrics need denominator_event")
        if self.kind == "quantile" and self.quantile is None:
            raise ValueError("quantile metrics need quantile")
        if self.cuped and self.kind not in ("mean", "binomial"):
            raise ValueError("CUPED applies to mean and binomial metrics")
        return self


class DecisionRule(BaseModel):
    method: Literal["frequentist", "sequential", "bayesian"] = "frequentist"
    alpha: float = Field(0.05, gt=0, lt=0.5)
    n_star: int | None = Field(
        None, gt=0, description="sequential: the sample size the sequence is tuned for"
    )
    chance_to_win: float = Field(0.95, gt=0.5, lt=1, description="bayesian: the probability needed to ship")
    correction: Literal["holm", "benjamini-hochberg", "none"] = "holm"
    prior_sd: float | None = Field(
        None,
        gt=0,
        description="bayesian: sd of a normal prior on the relative effect centred on 0 (none: a flat prior)",
    )


class AutoConclude(BaseModel):
    enabled: bool = False
    alias: str | None = Field(None, description="registry alias to point at the winner's model version")


class ExperimentSpec(BaseModel):
    """The body of POST /ab/experiments (and of a draft's PATCH)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    variants: list[VariantSpec] = Field(min_length=2, max_length=20)
    coverage: float = Field(1.0, ge=0, le=1)
    namespace: str | None = None
    namespace_range: tuple[float, float] = (0.0, 1.0)
    overrides: dict[str, str] = {}
    metrics: list[MetricSpec] = Field(min_length=1, max_length=50)
    minimum_detectable_effect: float | None = Field(None, gt=0, description="relative, e.g. 0.02 for 2%")
    decision: DecisionRule = DecisionRule()
    auto_conclude: AutoConclude = AutoConclude()

    @field_validator("variants")
    @classmethod
    def _weights(cls, variants: list[VariantSpec]) -> list[VariantSpec]:
        total = sum(v.weight for v in variants)
        if abs(total - 1) > 1e-9:
            raise ValueError(f"variant weights must sum to 1 (they sum to {total:g})")
        keys = [v.key for v in variants]
        if len(set(keys)) != len(keys):
            raise ValueError("variant keys must be unique")
        return variants

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, metrics: list[MetricSpec]) -> list[MetricSpec]:
        names = [m.name for m in metrics]
        if len(set(names)) != len(names):
            raise ValueError("metric names must be unique")
        if sum(m.role == "primary" for m in metrics) != 1:
            raise ValueError("exactly one metric must have role 'primary'")
        return metrics

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, overrides: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        keys = {v.key for v in info.data.get("variants", [])}
        unknown = set(overrides.values()) - keys
        if keys and unknown:
            raise ValueError(f"overrides name unknown variants {sorted(unknown)}")
        return overrides

    @field_validator("namespace_range")
    @classmethod
    def _namespace_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] < value[1] <= 1:
            raise ValueError("namespace_range must satisfy 0 <= start < end <= 1")
        return value

    @field_validator("auto_conclude")
    @classmethod
    def _auto_conclude(cls, value: AutoConclude) -> AutoConclude:
        if value.enabled and not value.alias:
            raise ValueError("auto_conclude needs the registry alias to promote")
        return value

    @property
    def control(self) -> str:
        return self.variants[0].key


def assignment_config(
    experiment_id: str, spec: ExperimentSpec, holdout_fraction: float = 0.0
) -> AssignmentConfig:
    """The experiment id is the hash seed; the tenant's global holdout uses one seed for every experiment,
    so a held-out unit is out of all of them."""
    return AssignmentConfig(
        seed=experiment_id,
        variants=tuple(Variant(v.key, v.weight) for v in spec.variants),
        coverage=spec.coverage,
        namespace=spec.namespace,
        namespace_range=spec.namespace_range,
        overrides=spec.overrides,
        holdout_seed="global",
        holdout_fraction=holdout_fraction,
    )


def transition(current: str, action: str) -> Status:
    target = TRANSITIONS[action].get(current)
    if target is None:
        raise Conflict(
            f"cannot {action} an experiment that is {current}", details={"status": current, "action": action}
        )
    return target


def check_update(current: ExperimentSpec, new: ExperimentSpec, status: str) -> None:
    """Drafts change freely; once running, only coverage may grow, and metrics/decision may change."""
    if status == "draft":
        return
    if status == "concluded":
        raise Conflict("a concluded experiment cannot change")
    frozen = ("variants", "namespace", "namespace_range", "overrides")
    changed = [f for f in frozen if getattr(current, f) != getattr(new, f)]
    if changed:
        raise Conflict(
            f"cannot change {', '.join(changed)} of a {status} experiment: enrolled units would move",
            details={"fields": changed},
        )
    if new.coverage < current.coverage:
        raise Conflict(
            "coverage can only grow once an experiment has started (lowering it drops enrolled units)"
        )
