"""What the registry's MLflow routes share: the API prefix, MLflow's request limits, and the key/value and
run reference shapes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from maestro.core.errors import ValidationError
from maestro.core.fields import Key, ParamValue, TagKey, TagValue, Text

Json = dict[str, Any]
MLFLOW = "/api/2.0/mlflow"
MAX_TAGS = 100  # tags, params or datasets in one request (MLflow's batch limit)
MAX_ORDER_BY = 10
MaxResults = Annotated[int, Field(ge=1, le=50_000)]  # MLflow's search limit
Timestamp = Annotated[int, Field(ge=0, le=2**63 - 1)]  # milliseconds, stored as a DynamoDB number
Step = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]  # MLflow's steps are int64


class KeyValue(BaseModel):
    key: TagKey
    value: TagValue | None = None


class RunRef(BaseModel):
    run_id: Key | None = None
    run_uuid: Key | None = None

    @property
    def id(self) -> str:
        if not (self.run_id or self.run_uuid):
            raise ValidationError("run_id", "is required")
        return str(self.run_id or self.run_uuid)


class Param(BaseModel):
    key: TagKey
    value: ParamValue | None = None


class Page(BaseModel):
    """What every MLflow search body carries: a filter, a page size and the page to read."""

    filter: Text | None = None
    max_results: MaxResults | None = None
    page_token: Text | None = None


class PageOfExperiments(Page):
    experiment_ids: list[Key] = Field(default=[], max_length=MAX_TAGS)


def dumps(items: list[KeyValue] | list[Param]) -> list[dict[str, Any]]:
    return [i.model_dump() for i in items]


def paged(name: str, items: list[Json], token: str | None) -> Json:
    """A search reply as MLflow's: the items under `name`, and next_page_token when there is a next page."""
    return {name: items, **({"next_page_token": token} if token else {})}
