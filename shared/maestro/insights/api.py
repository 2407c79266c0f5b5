"""What the insights function takes in and shares on the HTTP side: a recommendation request and the
per-request service, built for the caller's tenant. Must never build a service without the caller's verified
tenant."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from maestro.core.api import MaestroResolver, current_auth
from maestro.core.fields import Key, Moment
from maestro.core.settings import get_settings
from maestro.insights.advice import Ask, Kind
from maestro.insights.forecast import Definition
from maestro.insights.forecasting import Forecasting
from maestro.insights.graph import KINDS
from maestro.insights.service import InsightsService
from maestro.insights.store import InsightsStore

NODE_CHARS = 2048  # a dataset's id names its source, which may be a long URI (the store keys it by digest)
NodeId = Annotated[
    str, Field(min_length=3, max_length=NODE_CHARS, pattern=rf"^({'|'.join(KINDS)}):[^\x00-\x1f]+$")
]


class RecommendationRequest(BaseModel):
    """A project in the graph (the rest is read from it), or a new one described by its task and team; the
    artifacts it already uses are never recommended."""

    model_config = ConfigDict(extra="forbid")

    project: Annotated[str, Field(min_length=9, max_length=NODE_CHARS, pattern=r"^project:.+$")] | None = None
    task: Key | None = None
    team: list[Key] = Field(default_factory=list, max_length=100, description="principals on the project")
    known: list[NodeId] = Field(default_factory=list, max_length=200, description="artifacts it uses (ids)")
    kind: Kind = Field("dataset", description="what to recommend: datasets, feature sets or base models")
    limit: int = Field(10, ge=1, le=100)
    as_of: Moment | None = Field(None, description="recommend from what was known then (default: now)")

    def ask(self) -> Ask:
        as_of = None if self.as_of is None else int(self.as_of.timestamp() * 1000)
        return Ask(self.project, self.task, tuple(self.team), tuple(self.known), self.kind, self.limit, as_of)


def service(app: MaestroResolver) -> InsightsService:
    auth = current_auth(app)
    return InsightsService(InsightsStore(get_settings().insights_table, auth.tenant), auth, app.request_id)


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="success: within this many days of its registration, a version the project produced "
        "reached one of success_aliases or won an A/B test; a project's outcome is known this long after "
        "its start",
    )
    success_aliases: list[Key] = Field(
        default_factory=lambda: ["production"],
        max_length=20,
        description="the registry aliases that count as success (e.g. production, champion)",
    )
    ab_wins: bool = Field(True, description="a version that won an A/B test counts as success")
    observe_days: int = Field(
        14, ge=0, le=365, description="process features: what a project did in its first this many days"
    )

    @model_validator(mode="after")
    def _some_success(self) -> TrainRequest:
        if not self.success_aliases and not self.ab_wins:
            raise ValueError(
                "success_aliases: give an alias, or count A/B wins (ab_wins), or nothing is success"
            )
        return self

    def definition(self) -> Definition:
        return Definition(
            self.success_days, tuple(dict.fromkeys(self.success_aliases)), self.ab_wins, self.observe_days
        )


class TeamRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(4, ge=1, le=50, description="the largest team to suggest")
    keep: list[Key] = Field(default_factory=list, max_length=50, description="principals who stay on it")


def forecasting(app: MaestroResolver) -> Forecasting:
    auth = current_auth(app)
    return Forecasting(InsightsStore(get_settings().insights_table, auth.tenant), auth, app.request_id)
