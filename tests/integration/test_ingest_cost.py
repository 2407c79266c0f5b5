"""What one ingestion batch costs must not grow with the data already stored: the same batch costs the same
DynamoDB requests and the same items copied by the local endpoint's transaction rollback, whether 100 or
10,000 events (or records) are stored before it. Counted, never timed."""

from __future__ import annotations

from typing import Any

import pytest

from maestro.ab.experiments import ExperimentSpec
from maestro.ab.ingest import Event
from maestro.ab.service import AbService
from maestro.ab.store import AbStore
from maestro.core.auth import AuthContext
from maestro.core.aws import client
from maestro.local import dynamodb_cost
from tests.support import create_table_with_gsi1

SPEC = {
    "name": "cost",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
    "metrics": [
        {"name": "converted", "kind": "binomial", "event": "purchase", "role": "primary"},
        {"name": "revenue", "kind": "mean", "event": "purchase", "cuped": True},
    ],
}


def _events(prefix: str, units: int) -> list[Event]:
    events = [Event(event_id=f"x-{prefix}{u}", unit_id=f"{prefix}{u}", type="exposure") for u in range(units)]
    return events + [
        Event(
            event_id=f"p-{prefix}{u}", unit_id=f"{prefix}{u}", type="metric", name="purchase", value=float(u)
        )
        for u in range(units)
    ]


class Cost:
    """DynamoDB requests and rollback copies made while the block runs."""

    def __init__(self) -> None:
        self.requests = 0
        client("dynamodb").meta.events.register("before-call.dynamodb.*", self._count)

    def _count(self, **_: Any) -> None:
        self.requests += 1

    def of(self, action: Any) -> tuple[int, int, int]:
        requests, copies = self.requests, dict(dynamodb_cost.copies)
        action()
        return (
            self.requests - requests,
            dynamodb_cost.copies["items"] - copies["items"],
            dynamodb_cost.copies["tables"] - copies["tables"],
        )


@pytest.fixture
def ab(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[AbService, str]:
    monkeypatch.setenv("MAESTRO_AB_TABLE", "ab")
    import boto3

    boto3.client("events").create_event_bus(Name="maestro")
    create_table_with_gsi1("ab")
    service = AbService(AbStore("ab", "acme"), AuthContext.of("t", "acme", frozenset({"ml-engineer"})))
    experiment_id = service.create(ExperimentSpec.model_validate(SPEC))["experiment_id"]
    service.act(experiment_id, "start")
    return service, experiment_id


def test_an_ab_batch_costs_the_same_with_100_or_10000_events_stored(ab: tuple[AbService, str]) -> None:
    service, experiment_id = ab
    cost = Cost()
    service.ingest(experiment_id, _events("warm", 50))  # caches warm, as in a warm container
    service.ingest(experiment_id, _events("early", 50))  # 200 events stored
    small = cost.of(lambda: service.ingest(experiment_id, _events("probe-a", 100)))
    for chunk in range(10):  # 10,000 more events stored
        service.ingest(experiment_id, _events(f"fill{chunk}-", 500))
    large = cost.of(lambda: service.ingest(experiment_id, _events("probe-b", 100)))
    assert large == small
    assert large[2] == 0  # no table copied by any rollback
