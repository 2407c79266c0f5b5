"""Request outcomes as services report them, and their grouping into per-(service, minute) aggregates.
Must never accept an observation the windows cannot hold (too old for minute buckets, or from the future)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from maestro.core.errors import ValidationError
from maestro.core.fields import Moment
from maestro.sla.evaluate import Aggregate
from maestro.sla.slo import epoch_minute

MAX_OBSERVATIONS = 5_000
MAX_FUTURE_MINUTES = 5
# Minutes one batch may span: its minute buckets plus the hours they touch stay within the 99 buckets one
# DynamoDB transaction holds beside the batch marker.
MINUTES_PER_BATCH = 45
SERVICE_PATTERN = r"^[A-Za-z0-9_.:/\-]+$"


class Observation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str = Field(min_length=1, max_length=128, pattern=SERVICE_PATTERN)
    timestamp: Moment = Field(description="when the request was served (ISO 8601 or epoch seconds)")
    latency_ms: float = Field(ge=0, le=3_600_000)
    status: int | None = Field(None, ge=100, le=599, description="HTTP status; 5xx counts as an error")
    error: bool | None = Field(None, description="for non-HTTP services: whether the request failed")

    @property
    def failed(self) -> bool:
        return bool(self.error) or (self.status is not None and self.status >= 500)


class ObservationBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="makes a retried batch count once; by default a digest of the observations",
    )
    observations: list[Observation] = Field(min_length=1, max_length=MAX_OBSERVATIONS)

    def effective_batch_id(self) -> str:
        if self.batch_id:
            return self.batch_id
        canonical = json.dumps([o.model_dump(mode="json") for o in self.observations], separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def group(
    observations: Iterable[Observation], now_minute: int, oldest_minute: int
) -> dict[tuple[str, int], Aggregate]:
    groups: dict[tuple[str, int], Aggregate] = {}
    for index, observation in enumerate(observations):
        minute = epoch_minute(observation.timestamp)
        if minute > now_minute + MAX_FUTURE_MINUTES:
            raise ValidationError(f"observations.{index}.timestamp", "is in the future (check the clock)")
        if minute < oldest_minute:
            raise ValidationError(
                f"observations.{index}.timestamp", "is older than the minute buckets keep (8 days)"
            )
        aggregate = groups.setdefault((observation.service, minute), Aggregate())
        aggregate.count += 1
        aggregate.errors += observation.failed
        aggregate.sketch.add(observation.latency_ms)
    return groups
