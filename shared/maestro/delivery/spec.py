"""What a model rollout asks for: one registered model's alias moves from the version it points at to
another in traffic steps (5% -> 25% -> 100% by default), each held for a while and gated by guardrails: the
new version's drift monitors and SLOs of the serving path. Must never accept a plan that does not end at
100%, nor a step that lowers traffic."""

from __future__ import annotations

import re
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, field_validator

from maestro.core.fields import Key

DURATION = re.compile(r"^(?P<n>\d{1,6})(?P<unit>s|m|h|d)$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_STEPS = 20
MAX_HOLD_S = 7 * 86400  # the workflow's own limit is a year; a week a step is plenty
MAX_SLOS = 10
ALIAS = r"^[A-Za-z0-9_-]{1,100}$"
SLO_ID = r"^slo-[0-9a-f]{12}$"


def seconds(text: str) -> int:
    """'90s', '5m', '2h', '1d' as seconds (ValueError otherwise)."""
    match = DURATION.match(text)
    if not match:
        raise ValueError("must be a whole number and a unit: s, m, h or d (e.g. '30s', '10m', '1h')")
    return int(match["n"]) * UNIT_SECONDS[match["unit"]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Step(Strict):
    percent: float = Field(gt=0, le=100, description="share of the alias's traffic the new version serves")
    hold: str = Field("10m", description="how long the step is held, its guardrails checked all along")

    @field_validator("hold")
    @classmethod
    def _hold(cls, value: str) -> str:
        if seconds(value) > MAX_HOLD_S:
            raise ValueError(f"must be at most {MAX_HOLD_S // 86400} days")
        return value

    @property
    def hold_s(self) -> int:
        return seconds(self.hold)


class Guardrails(Strict):
    drift: bool = Field(True, description="roll back when a monitor of the new version shows drift")
    slos: list[str] = Field(
        default_factory=list,
        max_length=MAX_SLOS,
        description="SLOs of the serving path (ids): roll back when one of their burn-rate alerts fires or "
        "an objective's error budget is spent",
    )
    check_every: str = Field("1m", description="how often guardrails are checked while a step is held")

    @field_validator("slos")
    @classmethod
    def _slo_ids(cls, value: list[str]) -> list[str]:
        for slo in value:
            if not re.match(SLO_ID, slo):
                raise ValueError(f"{slo!r} is not an SLO id (slo-<12 hex digits>)")
        if len(set(value)) != len(value):
            raise ValueError("names an SLO twice")
        return value

    @field_validator("check_every")
    @classmethod
    def _interval(cls, value: str) -> str:
        if not 1 <= seconds(value) <= 3600:
            raise ValueError("must be from 1s to 1h")
        return value

    @property
    def check_every_s(self) -> int:
        return seconds(self.check_every)


def _default_steps() -> list[Step]:
    return [Step(percent=5), Step(percent=25), Step(percent=100, hold="0s")]


class RolloutRequest(Strict):
    model: Key = Field(description="the registered model")
    alias: str = Field(pattern=ALIAS, description="the alias whose traffic moves, e.g. champion")
    to_version: int = Field(ge=1, le=10**9, description="the version the alias moves to")
    from_version: int | None = Field(
        None, ge=1, le=10**9, description="the version the alias points at now (checked); default: that one"
    )
    steps: list[Step] = Field(default_factory=_default_steps, min_length=1, max_length=MAX_STEPS)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    description: str | None = Field(None, max_length=1000)

    @field_validator("steps")
    @classmethod
    def _plan(cls, steps: list[Step]) -> list[Step]:
        percents = [s.percent for s in steps]
        if any(b <= a for a, b in pairwise(percents)):
            raise ValueError("each step must serve the new version more traffic than the one before")
        if percents[-1] != 100:
            raise ValueError("the last step must be 100 (percent): a rollout ends with the new version")
        return steps
