"""What the insights function takes in and shares on the HTTP side: a recommendation request and the
per-request service, built for the caller's tenant. Must never build a service without the caller's verified
tenant."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from maestro.core.api import MaestroResolver, current_auth
from maestro.core.fields import Key, Moment
from maestro.core.settings import get_settings
from maestro.insights.advice import Ask
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
    kind: Literal["dataset", "model_version"] = "dataset"
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
        description="success: a produced version promoted within this many days of the start",
    )


class TeamRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(4, ge=1, le=50, description="the largest team to suggest")
    keep: list[Key] = Field(default_factory=list, max_length=50, description="principals who stay on it")


def forecasting(app: MaestroResolver) -> Forecasting:
    auth = current_auth(app)
    return Forecasting(InsightsStore(get_settings().insights_table, auth.tenant), auth, app.request_id)
