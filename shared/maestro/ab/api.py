"""What the A/B functions share on the HTTP side: the per-request service and the API models.
Must never build a service without the caller's verified tenant."""

from __future__ import annotations

from pydantic import BaseModel, Field

from maestro.ab.ingest import Event
from maestro.ab.service import AbService
from maestro.ab.store import AbStore
from maestro.core.api import MaestroResolver, current_auth
from maestro.core.fields import Key
from maestro.core.settings import get_settings

MAX_BATCH_UNITS = 10_000
MAX_EVENTS = 5_000


def service(app: MaestroResolver) -> AbService:
    auth = current_auth(app)
    return AbService(AbStore(get_settings().ab_table, auth.tenant), auth, app.request_id)


class AssignRequest(BaseModel):
    experiment_id: Key
    unit_id: Key


class BatchAssignRequest(BaseModel):
    experiment_id: Key
    unit_ids: list[Key] = Field(min_length=1, max_length=MAX_BATCH_UNITS)


class EventsRequest(BaseModel):
    experiment_id: Key
    events: list[Event] = Field(min_length=1, max_length=MAX_EVENTS)


class Conclusion(BaseModel):
    winner: Key | None = None


class Holdout(BaseModel):
    fraction: float = Field(ge=0, lt=1)
