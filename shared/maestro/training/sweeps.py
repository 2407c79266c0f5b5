"""Hyperparameter sweeps: a grid or a random search over a training job's hyperparameters. Each trial is an
ordinary training job (its own workflow, run and model; a child run of the sweep's parent run), started by
the sweep workflow's Map at most `max_parallel` at a time and within the tenant's training_jobs_concurrent
quota (a trial the quota refuses waits and tries again). The best trial by the objective is registered.
Must never register a trial that did not succeed, nor choose by a metric a trial did not report."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any, Literal

from pydantic import Field, model_validator

from maestro.training.spec import NAME, Registration, Strict, TrainingJobRequest

MAX_TRIALS = 100
MAX_PARALLEL = 10


class Parameter(Strict):
    values: list[str | int | float | bool] | None = Field(None, min_length=1, max_length=100)
    min: float | None = None
    max: float | None = None
    scale: Literal["linear", "log"] = "linear"
    integer: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        ranged = self.min is not None or self.max is not None
        if (self.values is None) == (not ranged):
            raise ValueError("give either values, or min and max")
        if ranged:
            if self.min is None or self.max is None or not self.min < self.max:
                raise ValueError("a range needs min < max")
            if self.scale == "log" and self.min <= 0:
                raise ValueError("a log scale needs min > 0")
        return self

    def draw(self, rng: random.Random) -> str | int | float | bool:
        if self.values is not None:
            return rng.choice(self.values)
        assert self.min is not None
        assert self.max is not None
        if self.scale == "log":
            value = math.exp(rng.uniform(math.log(self.min), math.log(self.max)))
        else:
            value = rng.uniform(self.min, self.max)
        return round(value) if self.integer else value


class Objective(Strict):
    metric: str = Field(pattern=NAME)
    goal: Literal["maximize", "minimize"] = "maximize"


class SweepRequest(Strict):
    job: TrainingJobRequest = Field(description="the trials' template; its hyperparameters are the defaults")
    parameters: dict[str, Parameter] = Field(min_length=1, max_length=20)
    strategy: Literal["grid", "random"] = "grid"
    trials: int | None = Field(None, ge=1, le=MAX_TRIALS, description="random search: how many")
    max_parallel: int = Field(2, ge=1, le=MAX_PARALLEL)
    objective: Objective
    registration: Registration | None = Field(
        None, alias="register", description="register the best trial's model"
    )
    seed: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> SweepRequest:
        if self.job.registration is not None:
            raise ValueError("job.register: a sweep registers its best trial (give register at the top)")
        metrics = [m.name for m in self.job.metrics]
        if self.objective.metric not in metrics:
            raise ValueError(
                f"objective.metric: {self.objective.metric!r} is not one of job.metrics {metrics}"
            )
        gate = self.registration.gate if self.registration else None
        if gate and gate.split()[0] not in metrics:
            raise ValueError("register.gate: its metric is not one of job.metrics")
        if self.strategy == "grid":
            ranged = [n for n, p in self.parameters.items() if p.values is None]
            if ranged:
                raise ValueError(f"parameters: a grid needs values, not ranges ({ranged})")
            if self.trials is not None:
                raise ValueError("trials: a grid runs every combination (give trials for random search)")
            size = math.prod(len(p.values or []) for p in self.parameters.values())
            if size > MAX_TRIALS:
                raise ValueError(f"parameters: the grid has {size} combinations, more than {MAX_TRIALS}")
        elif self.trials is None:
            raise ValueError("trials: random search needs the number of trials")
        return self

    def combinations(self) -> list[dict[str, Any]]:
        """Each trial's hyperparameters (on top of the template's), in a stable order."""
        names = sorted(self.parameters)
        if self.strategy == "grid":
            grids = [self.parameters[n].values or [] for n in names]
            return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grids)]
        rng = random.Random(self.seed)  # noqa: S311 - a reproducible search, not a secret
        return [{n: self.parameters[n].draw(rng) for n in names} for _ in range(self.trials or 0)]


def best(trials: list[dict[str, Any]], objective: Objective) -> dict[str, Any] | None:
    """The succeeded trial with the best objective value (ties: the earlier trial), None if none has one."""
    scored = [
        t for t in trials if t.get("status") == "SUCCEEDED" and objective.metric in (t.get("metrics") or {})
    ]
    if not scored:
        return None
    sign = 1 if objective.goal == "maximize" else -1
    return max(scored, key=lambda t: (sign * float(t["metrics"][objective.metric]), -int(t["trial"])))
